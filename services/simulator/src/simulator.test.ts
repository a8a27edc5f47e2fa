import { readFileSync } from 'node:fs';
import { createSm4EcbCipher, decodePacket, encodePacket } from '@offsite/hj212';
import { validateMeterEnergyV1 } from '@offsite/contracts';
import { validateRegistry } from '@offsite/store';
import { GAS_AUX, productionLoad } from './patterns.js';
import { parseRegistryText, planRun, withoutEnterprises } from './plan.js';
import { fitToDay, generateRegistry } from './registry-gen.js';
import { historyOutputs } from './history.js';
import { createSimulation, type Output } from './simulation.js';

const template = parseRegistryText(
  readFileSync(new URL('../../../registry/example.yaml', import.meta.url), 'utf8'),
  'x.yaml',
);
const HOUR = 3_600_000;
const day = Date.parse('2026-05-01T00:00:00+08:00');

function runDay(seed = 7, hours = 24) {
  const reg = fitToDay(generateRegistry(template, { count: 24 }), day);
  const plan = planRun(reg, 0, day, ['treatment-off', 'exceedance', 'flatline', 'offline', 'maintenance']);
  const sim = createSimulation({ fleet: plan.fleet, scenarios: plan.scenarios, seed, start: day });
  return { plan, out: sim.advanceTo(day + hours * HOUR) };
}

type Hj = Output & { kind: 'hj212' };
function decode(o: Hj, sm4Key: string | null) {
  const cipher = sm4Key ? createSm4EcbCipher(sm4Key) : undefined;
  const d = decodePacket(encodePacket(o.packet, cipher ? { cipher } : {}), { cipherFor: () => cipher });
  if (!d.ok) throw new Error(`${d.error.code}: ${d.error.message}`);
  // The registry's MNs are not all hex (as in the field) and 2005 loggers send no QN/Flag and old
  // codes; nothing else may be irregular — in particular never the CRC or the length.
  // Hourly/daily packets of gas outlets exceed the nominal 1024-byte segment as built here: the
  // logger's link sends them as PNUM/PNO parts (split.ts, tested in transport.test.ts).
  const allowed = ['mn-nonstandard', 'missing-qn', 'missing-flag', 'factor-code-2005', 'segment-oversize'];
  expect(d.packet.irregularities.filter((i) => !allowed.includes(i))).toEqual([]);
  return d.packet;
}
const value = (p: ReturnType<typeof decode>, code: string, stat: string) =>
  p.values.find((v) => v.code === code && v.stat === stat)?.value;

describe('patterns', () => {
  it('shift plants run low at night and high in the day; continuous plants never stop', () => {
    expect(productionLoad('day-shift', 3)).toBeLessThan(0.2);
    expect(productionLoad('day-shift', 10)).toBeGreaterThan(0.85);
    for (let h = 0; h < 24; h += 0.5) expect(productionLoad('continuous', h)).toBeGreaterThan(0.55);
  });
});

describe('registry generator', () => {
  it('clones the example into a valid registry with unique ids, MNs and credit codes', () => {
    const reg = fitToDay(generateRegistry(template, { count: 40 }), day);
    const check = validateRegistry(JSON.parse(JSON.stringify(reg)));
    expect(check.ok ? [] : check.issues).toEqual([]);
    expect(reg.enterprises).toHaveLength(40);
    const mns = reg.enterprises.flatMap((e) => e.outlets.flatMap((o) => o.devices.map((d) => d.mn)));
    expect(new Set(mns).size).toBe(mns.length);
    // A camera links to one outlet: the import refuses a (platform, id) pair listed twice.
    const cameras = reg.enterprises.flatMap((e) =>
      e.outlets.flatMap((o) => (o.cameras ?? []).map((c) => `${c.platform}/${c.id}`)),
    );
    expect(cameras.length).toBeGreaterThan(2);
    expect(new Set(cameras).size).toBe(cameras.length);
    expect(reg.enterprises.slice(0, 12).map((e) => e.id)).toEqual(template.enterprises.map((e) => e.id));
  });
});

describe('a simulated day', () => {
  const { plan, out } = runDay();
  const hj = out.filter((o): o is Output & { kind: 'hj212' } => o.kind === 'hj212');

  it('places every standard scenario on a distinct enterprise', () => {
    expect(plan.skipped).toEqual([]);
    expect(plan.scenarios.map((s) => s.kind).sort()).toEqual(
      ['exceedance', 'flatline', 'maintenance', 'offline', 'treatment-off'].sort(),
    );
    expect(new Set(plan.scenarios.map((s) => s.enterpriseId)).size).toBe(5);
  });

  it('sends 2011 every 30 s, 2051 per minute interval, 2061 hourly and one 2031, all decodable with a good CRC', () => {
    const l = plan.fleet.loggers.find(
      (x) =>
        x.realtimeIntervalS === 30 &&
        x.minuteIntervalS === 600 &&
        x.sm4Key === null &&
        x.protocolVersion === 2017,
    );
    if (!l) throw new Error('no standard logger');
    const mine = hj.filter((o) => o.mn === l.mn);
    const count = (cn: string) => mine.filter((o) => o.cn === cn).length;
    expect([count('2011'), count('2051'), count('2061'), count('2031')]).toEqual([2881, 144, 24, 1]);
    const sm4 = new Map(plan.fleet.loggers.map((x) => [x.mn, x.sm4Key]));
    // Every packet of the day, every version (2005, 2017, 2025 with SM4), passes the strict decoder.
    for (const o of hj) {
      const p = decode(o, sm4.get(o.mn) ?? null);
      expect(p.mn).toBe(o.mn);
      expect(p.values.length).toBe(o.values);
    }
    const first = decode(mine[0] as Hj, null);
    expect(first.ackRequested).toBe(true);
    expect(first.dataTimeUtc).toBe(new Date(day).toISOString());
  });

  const scenario = (kind: string) => {
    const s = plan.scenarios.find((x) => x.kind === kind);
    if (!s) throw new Error(kind);
    return s;
  };

  it('exceedance: the two scenario hours carry converted NOx means well above the limit, the others below', () => {
    const s = scenario('exceedance');
    const limit = plan.fleet.loggers.find((l) => l.mn === s.target)?.limits.a21002?.value ?? NaN;
    for (const o of hj.filter((x) => x.mn === s.target && x.cn === '2061')) {
      const zs = Number(value(decode(o, null), 'a21002', 'ZsAvg'));
      if (o.dataTime >= s.from && o.dataTime < s.to) expect(zs).toBeGreaterThan(limit * 1.6);
      else expect(zs).toBeLessThan(limit);
    }
  });

  it('flatline: SO2 real-time values are one value inside the window and vary outside it', () => {
    const s = scenario('flatline');
    const rtd = (inside: boolean) =>
      new Set(
        hj
          .filter(
            (x) =>
              x.mn === s.target && x.cn === '2011' && (x.dataTime >= s.from && x.dataTime < s.to) === inside,
          )
          .map((o) => value(decode(o, null), 'a21026', 'Rtd')),
      );
    expect(rtd(true).size).toBe(1);
    expect(rtd(false).size).toBeGreaterThan(50);
  });

  it('maintenance: data inside the declared window are flagged M, outside N', () => {
    const s = scenario('maintenance');
    for (const o of hj.filter((x) => x.mn === s.target && x.cn === '2011')) {
      const flags = new Set(Object.values(decode(o, null).flags));
      expect([...flags]).toEqual([o.dataTime >= s.from && o.dataTime < s.to ? 'M' : 'N']);
    }
  });

  it('treatment-off: the treatment meter idles below 10 % of rated while production runs above 20 %', () => {
    const s = scenario('treatment-off');
    const t = plan.fleet.meters.find((m) => m.meterId === s.target);
    const p = plan.fleet.meters.find((m) => m.meterId === t?.serves);
    if (!t || !p) throw new Error('meters');
    const at = (id: string, ts: number) =>
      out.find((o) => o.kind === 'meter' && o.meterId === id && o.sentAt === ts) as Output & {
        kind: 'meter';
      };
    for (let ts = s.from; ts < s.to; ts += 15 * 60_000) {
      expect(at(t.meterId, ts).payload.powerKw).toBeLessThan(t.ratedWindowKwh * 4 * 0.1);
      expect(at(t.meterId, ts).payload.status).toBe('stopped');
      expect(at(p.meterId, ts).payload.powerKw).toBeGreaterThan(p.ratedWindowKwh * 4 * 0.2);
    }
    expect(at(t.meterId, s.to + HOUR).payload.status).toBe('running');
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const again = runDay(7, 1).out;
    expect(JSON.stringify(again)).toBe(JSON.stringify(out.slice(0, again.length)));
    expect(JSON.stringify(runDay(8, 1).out)).not.toBe(JSON.stringify(again));
  });

  it('meter payloads satisfy meter-energy.v1 and registers never go backwards', () => {
    const meters = out.filter((o) => o.kind === 'meter');
    expect(meters.length).toBe(plan.fleet.meters.length * 1441);
    const last = new Map<string, number>();
    for (const m of meters) {
      if (m.kind !== 'meter') continue;
      if (m.sentAt % HOUR === 0) expect(validateMeterEnergyV1(m.payload).ok).toBe(true);
      expect(m.payload.energyKwh).toBeGreaterThanOrEqual(last.get(m.meterId) ?? 0);
      last.set(m.meterId, m.payload.energyKwh);
    }
  });
});

describe('pollutant loads (Cou) in hourly data', () => {
  const { plan, out } = runDay(7, 3);
  const hourly = (mn: string) =>
    out.filter((o): o is Hj => o.kind === 'hj212' && o.mn === mn && o.cn === '2061');

  it('about half the loggers send each pollutant kg as mean × the flow volume of the hour; the others send none', () => {
    const gas = plan.fleet.loggers.filter((l) => l.kind === 'gas' && l.protocolVersion === 2017);
    const sending = gas.filter((l) => l.sendsLoadCou);
    expect(sending.length).toBeGreaterThan(0);
    expect(sending.length).toBeLessThan(gas.length);
    for (const l of sending.slice(0, 3)) {
      const pollutant = l.factors.find((f) => !GAS_AUX.includes(f as (typeof GAS_AUX)[number]))!;
      expect(hourly(l.mn).length).toBeGreaterThan(0);
      for (const o of hourly(l.mn)) {
        const p = decode(o, l.sm4Key);
        const flow = Number(value(p, 'a00000', 'Cou'));
        const mean = Number(value(p, pollutant, 'Avg'));
        // mg/m³ × m³ × 1e-6 = kg, within the rounding of the mean.
        expect(Number(value(p, pollutant, 'Cou'))).toBeCloseTo(mean * flow * 1e-6, 1);
        expect(value(p, 'a19001', 'Cou')).toBeUndefined();
      }
    }
    const silent = gas.find((l) => !l.sendsLoadCou)!;
    for (const o of hourly(silent.mn))
      expect(value(decode(o, silent.sm4Key), 'a21002', 'Cou')).toBeUndefined();
  });
});

describe('enterprises left disconnected', () => {
  const plan = planRun(template, 0, day, ['exceedance']);
  const taken = plan.scenarios[0]!.enterpriseId;
  const quiet = plan.fleet.enterprises.find((e) => e.id !== taken)!.id;

  it('sends nothing from their loggers and meters; the others run as planned', () => {
    const rest = withoutEnterprises(plan, [quiet]);
    const out = createSimulation({
      fleet: rest.fleet,
      scenarios: rest.scenarios,
      seed: 7,
      start: day,
    }).advanceTo(day + HOUR);
    expect(out.length).toBeGreaterThan(0);
    expect(out.filter((o) => o.enterpriseId === quiet)).toEqual([]);
    expect(rest.fleet.enterprises.map((e) => e.id)).toEqual(
      plan.fleet.enterprises.map((e) => e.id).filter((id) => id !== quiet),
    );
    expect(rest.scenarios).toEqual(plan.scenarios);
  });

  it('refuses an unknown enterprise and one with a scenario', () => {
    expect(() => withoutEnterprises(plan, ['ent-none'])).toThrow('enterprise ent-none is not in the fleet');
    expect(() => withoutEnterprises(plan, [taken])).toThrow(
      `enterprise ${taken} has the exceedance scenario`,
    );
  });
});

describe('emission-drop and the history before the run', () => {
  const reg = fitToDay(generateRegistry(template, { count: 24 }), day);
  const plan = planRun(reg, 0, day, ['emission-drop']);
  const s = plan.scenarios[0]!;
  const logger = plan.fleet.loggers.find((l) => l.mn === s.target)!;
  // The scenario's enterprise alone (the others do not change what it sends).
  const own = {
    enterprises: plan.fleet.enterprises.filter((e) => e.id === s.enterpriseId),
    loggers: plan.fleet.loggers.filter((l) => l.enterpriseId === s.enterpriseId),
    meters: plan.fleet.meters.filter((m) => m.enterpriseId === s.enterpriseId),
  };
  const hourlyFlows = (scenarios: typeof plan.scenarios) =>
    createSimulation({ fleet: own, scenarios, seed: 7, start: day })
      .advanceTo(day + 24 * HOUR)
      .filter((o): o is Hj => o.kind === 'hj212' && o.mn === s.target && o.cn === '2061')
      .map((o) => Number(value(decode(o, logger.sm4Key), s.factor!, 'Cou')));

  it('is placed for the whole day on a 2017 logger with a flow factor of an enterprise with production meters', () => {
    expect(s).toMatchObject({ kind: 'emission-drop', from: day, to: day + 24 * HOUR, ratio: 0.3 });
    expect(s.expect).toEqual(['production-emission']);
    expect(logger.protocolVersion).toBe(2017);
    expect(plan.fleet.meters.some((m) => m.enterpriseId === s.enterpriseId && m.role === 'production')).toBe(
      true,
    );
  });

  it('sends 30 % of the usual hourly flow volume (the same noise), while the meters draw as without it', () => {
    const dropped = hourlyFlows(plan.scenarios);
    const usual = hourlyFlows([]);
    expect(dropped).toHaveLength(24);
    dropped.forEach((v, i) => expect(v / usual[i]!).toBeCloseTo(0.3, 2));
    const power = (scenarios: typeof plan.scenarios) =>
      createSimulation({ fleet: own, scenarios, seed: 7, start: day })
        .advanceTo(day + 24 * HOUR)
        .filter((o) => o.kind === 'meter')
        .map((o) => (o.kind === 'meter' ? o.payload.powerKw : 0));
    expect(power(plan.scenarios)).toEqual(power([]));
  });

  it('history: only that enterprise, its hourly data and its production meters every 15 min, ending 2 days before', () => {
    const out = historyOutputs(plan.fleet, plan.scenarios, 7, day, {
      days: 3,
      gapDays: 2,
      meterIntervalS: 900,
    });
    const from = day - 5 * 24 * HOUR;
    const to = day - 2 * 24 * HOUR;
    expect(new Set(out.map((o) => o.enterpriseId))).toEqual(new Set([s.enterpriseId]));
    expect(out.every((o) => o.sentAt >= from && o.sentAt < to)).toBe(true);
    const loggers = plan.fleet.loggers.filter((l) => l.enterpriseId === s.enterpriseId);
    const meters = plan.fleet.meters.filter(
      (m) => m.enterpriseId === s.enterpriseId && m.role === 'production',
    );
    const hj = out.filter((o): o is Hj => o.kind === 'hj212');
    expect(hj.every((o) => o.cn === '2061')).toBe(true);
    // Hours [from, to − 1 h) close inside the history; the last one closes at `to`, the run's side of the gap.
    expect(hj).toHaveLength(loggers.length * (3 * 24 - 1));
    expect(out.filter((o) => o.kind === 'meter')).toHaveLength(meters.length * 3 * 96);
    const flows = hj
      .filter((o) => o.mn === s.target)
      .map((o) => Number(value(decode(o, logger.sm4Key), s.factor!, 'Cou')));
    // As usual, not dropped: the history's mean hourly volume is above the dropped day's largest.
    expect(flows.reduce((a, b) => a + b, 0) / flows.length).toBeGreaterThan(
      Math.max(...hourlyFlows(plan.scenarios)),
    );
    expect(historyOutputs(plan.fleet, [], 7, day, { days: 3, gapDays: 2, meterIntervalS: 900 })).toEqual([]);
  });
});
