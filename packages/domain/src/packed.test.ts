import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodePart, type StoredPart } from './checkpoint-format.js';
import { createEngine, deviationId } from './engine.js';
import type { Measurement, Reading, RegistryView } from './model.js';
import { Packer, unpack, type PackedReading } from './packed.js';
import { indexRegistry } from './registry.js';
import { Evaluator } from './rules.js';
import { buildSeries, Col, pointAt, SLOT_STAT, type FactorSeries, type Slot } from './series.js';
import { Workspace } from './workspace.js';
import { createNaiveEngine } from '../test/naive-engine.js';
import { DAY, HOUR, MIN, T0, config, lifecycleViolations, registry } from '../test/testkit.js';

// The compact buffer (packed readings, series as lists of rows read through a column) against the representation it
// replaces: plain reading objects and one point object per value. Same readings back, same values in every series.

const GAS = 'a21026 a21002 a34013 a19001 a00000 a01011 a01012 a01013 a01014 a21005'.split(' ');

/** A point as the former representation held it (one object per value, pointing at its reading). */
interface OldPoint {
  t: number;
  value: number;
  flag: string;
  periodSeconds: number;
  eventId: string;
}
type OldSeries = Record<Slot, OldPoint[]>;

/** The former series of a buffer ordered by (dataTime, eventId): one point per measurement, the later one per time. */
function oldSeries(readings: readonly Reading[], defaultPeriod: number): Map<string, Map<string, OldSeries>> {
  const bySite = new Map<string, Map<string, OldSeries>>();
  for (const r of readings) {
    if (r.kind !== 'emission') continue;
    let site = bySite.get(r.siteId);
    if (!site) bySite.set(r.siteId, (site = new Map()));
    for (const m of r.measurements) {
      let s = site.get(m.factor);
      if (!s) site.set(m.factor, (s = { realtime: [], minute: [], hourAvg: [], hourZs: [] }));
      const slot = slotOfMeasurement(r, m);
      if (slot === undefined) continue;
      const p: OldPoint = {
        t: r.dataTime,
        value: m.value,
        flag: m.flag ?? 'N',
        periodSeconds: r.interval === 'hour' ? 3600 : (r.periodSeconds ?? defaultPeriod),
        eventId: r.eventId,
      };
      const list = s[slot];
      const last = list[list.length - 1];
      if (last && last.t === p.t) list[list.length - 1] = p;
      else list.push(p);
    }
  }
  return bySite;
}

function slotOfMeasurement(r: Reading, m: Measurement): Slot | undefined {
  if (r.interval === 'realtime') return m.stat === 'Rtd' ? 'realtime' : undefined;
  if (r.interval === 'minute') return m.stat === 'Avg' ? 'minute' : undefined;
  if (r.interval === 'hour') return m.stat === 'Avg' ? 'hourAvg' : m.stat === 'ZsAvg' ? 'hourZs' : undefined;
  return undefined;
}

/** The new series as the former points, value for value. */
function asOld(factor: string, s: FactorSeries, cfg: ReturnType<typeof config>): OldSeries {
  const pts = (slot: Slot, rows: readonly PackedReading[]) => {
    const col = new Col(factor, SLOT_STAT[slot]);
    return rows.map((row) => {
      const p = pointAt(row, col.of(row), cfg);
      return { t: p.t, value: p.value, flag: p.flag, periodSeconds: p.periodSeconds, eventId: row.eventId };
    });
  };
  const byTime = (m: Map<number, PackedReading>) => [...m.values()].sort((a, b) => a.dataTime - b.dataTime);
  return {
    realtime: pts('realtime', s.realtime),
    minute: pts('minute', s.minute),
    hourAvg: pts('hourAvg', byTime(s.hourAvg)),
    hourZs: pts('hourZs', byTime(s.hourZs)),
  };
}

const reg: RegistryView = registry({
  devices: [
    { id: 'MN1', siteId: 'OUT1', cadenceSeconds: 30 },
    { id: 'MN2', siteId: 'OUT1', cadenceSeconds: 30 },
  ],
});

// A reading of E1's outlet OUT1, built in the key order of readingFromTelemetry (telemetry.ts) as the analyzer's
// readings are.
const reading = (
  eventId: string,
  deviceId: string,
  interval: Reading['interval'],
  dataTime: number,
  measurements: Measurement[],
  periodSeconds?: number,
): Reading => ({
  eventId,
  enterpriseId: 'E1',
  siteId: 'OUT1',
  deviceId,
  kind: 'emission',
  interval,
  ...(periodSeconds !== undefined ? { periodSeconds } : {}),
  dataTime,
  measurements,
});

/**
 * A fixture day of one gas outlet: a 10-factor logger every 30 s (flags now and then, a factor missing from every
 * 97th packet, a resend with a later event id every 211th), a second logger at the same outlet every 7 minutes with
 * three factors, 10-minute and hourly averages (hourly with ZsAvg), the values deterministic.
 */
function fixtureDay(): Reading[] {
  const out: Reading[] = [];
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const value = (f: string) => Number(((f === 'a19001' ? 9 : 30) * (0.8 + 0.5 * rnd())).toFixed(2));
  const ms = (stat: string, factors: readonly string[], k: number): Measurement[] =>
    factors.map((factor, i) => ({
      factor,
      stat,
      value: k % 53 === 0 && i === 2 ? 0 : value(factor),
      unit: 'mg/m3',
      ...(k % 89 === 0 ? { flag: i % 2 ? 'D' : 'T' } : k % 13 === 0 ? {} : { flag: 'N' }),
    }));
  for (let k = 0; k < 2880; k++) {
    const t = T0 + k * 30_000;
    const factors = k % 97 === 0 ? GAS.filter((f) => f !== 'a00000') : GAS;
    out.push(reading(`rt-${t}`, 'MN1', 'realtime', t, ms('Rtd', factors, k)));
    if (k % 211 === 0) out.push(reading(`rt-${t}-resend`, 'MN1', 'realtime', t, ms('Rtd', GAS, k)));
    if (k % 14 === 0) out.push(reading(`b-${t}`, 'MN2', 'realtime', t, ms('Rtd', GAS.slice(0, 3), k)));
    if (k % 20 === 19) out.push(reading(`m-${t}`, 'MN1', 'minute', t - 9.5 * MIN, ms('Avg', GAS, k), 600));
    if (k % 120 === 119)
      out.push(
        reading(`h-${t}`, 'MN1', 'hour', t - 59.5 * MIN, [
          ...ms('Avg', GAS, k),
          ...ms('ZsAvg', GAS.slice(0, 3), k),
        ]),
      );
  }
  return out;
}

const byBuffer = (a: Reading, b: Reading) =>
  a.dataTime - b.dataTime || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);

describe('packed readings', () => {
  const measurementArb = fc.record(
    {
      factor: fc.constantFrom('a21026', 'a19001', 'a00000', 'w01018'),
      stat: fc.constantFrom('Rtd', 'Avg', 'ZsAvg', 'Min', 'RS'),
      value: fc.double(),
      unit: fc.constantFrom('mg/m3', '%', 'm3/h'),
      flag: fc.constantFrom('N', 'T', 'D', 'Md'),
    },
    { requiredKeys: ['factor', 'stat', 'value'] },
  );
  const readingArb = fc.record(
    {
      eventId: fc.string(),
      enterpriseId: fc.constantFrom('E1', 'E2'),
      siteId: fc.constantFrom('OUT1', 'P1'),
      deviceId: fc.constantFrom('MN1', 'MN2'),
      kind: fc.constantFrom('emission', 'energy', 'status'),
      interval: fc.constantFrom('realtime', 'minute', 'hour', 'day'),
      periodSeconds: fc.constantFrom(60, 600, 3600),
      dataTime: fc.integer({ min: T0, max: T0 + DAY }),
      measurements: fc.array(measurementArb, { maxLength: 6 }),
    },
    { requiredKeys: ['eventId', 'enterpriseId', 'siteId', 'deviceId', 'kind', 'interval', 'dataTime', 'measurements'] },
  ) as fc.Arbitrary<Reading>; // prettier-ignore

  it('unpack gives back exactly the reading packed, also with fields the compact form does not know', () => {
    const packer = new Packer();
    fc.assert(
      fc.property(readingArb, fc.boolean(), (r, odd) => {
        const given: Reading = odd ? ({ ...r, source: 'upstream' } as Reading) : r;
        const packed = packer.pack(structuredClone(given));
        expect(unpack(packed)).toStrictEqual(structuredClone(given));
        for (const k of [
          'eventId',
          'siteId',
          'deviceId',
          'kind',
          'interval',
          'dataTime',
          'periodSeconds',
        ] as const)
          expect(packed[k]).toBe(given[k]);
      }),
      { numRuns: 400 },
    );
  });

  it('values of one stream come back exactly, whether kept as scaled integers or as doubles', () => {
    // Many readings of one stream fill chunks: a column's scale grows, a value that is no scaled integer (or -0,
    // NaN, a large or tiny one) turns its chunk to doubles; every value and time reads back the same (Object.is).
    const value = fc.oneof(
      fc
        .integer({ min: -2_000_000, max: 2_000_000 })
        .chain((n) => fc.integer({ min: 0, max: 6 }).map((k) => n / 10 ** k)),
      fc.constantFrom(0, -0, 0.1, 12.34, 2 ** 31, -(2 ** 31), 1e-12, 5e-324, NaN, Infinity),
      fc.double(),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, value, fc.integer({ min: T0, max: T0 + DAY })), {
          minLength: 1,
          maxLength: 300,
        }),
        (rows) => {
          const packer = new Packer();
          const given = rows.map(([a, b, t], i): Reading => ({
            eventId: `e${i}`,
            enterpriseId: 'E1',
            siteId: 'OUT1',
            deviceId: 'MN1',
            kind: 'emission',
            interval: 'realtime',
            dataTime: t,
            measurements: [
              { factor: 'a21026', stat: 'Rtd', value: a, flag: 'N' },
              { factor: 'a19001', stat: 'Rtd', value: b, flag: i % 7 === 0 ? 'T' : 'N' },
            ],
          }));
          const packed = given.map((r) => packer.pack(r));
          packed.forEach((p, i) => {
            expect(Object.is(p.val(0), rows[i]![0])).toBe(true);
            expect(Object.is(p.val(1), rows[i]![1])).toBe(true);
            expect(p.dataTime).toBe(rows[i]![2]);
            expect(unpack(p)).toStrictEqual(given[i]);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a checkpoint carries the same JSON as before packing (the telemetry mapping key order)', () => {
    const packer = new Packer();
    for (const r of fixtureDay().slice(0, 500))
      expect(JSON.stringify(unpack(packer.pack(structuredClone(r))))).toBe(JSON.stringify(r));
  });

  it('readings of one logger share the stream, its chunk and the flag vector: one object and the values each', () => {
    const packer = new Packer();
    const [a, b] = fixtureDay()
      .filter((r) => r.deviceId === 'MN1' && r.interval === 'realtime')
      .slice(2, 4)
      .map((r) => packer.pack(r));
    expect(a!.s).toBe(b!.s);
    expect(a!.c).toBe(b!.c);
    expect(a!.fl).toBe(b!.fl);
    expect(a!.v).toHaveLength(GAS.length + 1);
    // The fixture's values have at most a few decimals: the chunk holds them as scaled 32-bit integers.
    expect(a!.c.q).not.toBeNull();
  });
});

describe('the fixture day: columnar series = one point per value, value for value', () => {
  const cfg = config();
  const day = fixtureDay();
  const sorted = [...day].sort(byBuffer);
  const expected = oldSeries(sorted, cfg.gas.defaultMinutePeriodSeconds).get('OUT1')!;

  it('the batch series (Evaluator)', () => {
    const packer = new Packer();
    const got = buildSeries(sorted, (r) => packer.pack(r)).get('OUT1')!;
    expect([...got.keys()]).toEqual([...expected.keys()]);
    for (const [factor, s] of got) expect(asOld(factor, s, cfg)).toStrictEqual(expected.get(factor));
  });

  it('the workspace series, readings added out of order (late and resent ones)', () => {
    const packer = new Packer();
    const idx = indexRegistry(reg, cfg);
    const ws = new Workspace(cfg, idx, new Evaluator(cfg, idx), 'E1');
    // Every 5th reading arrives an hour late.
    const late = day.filter((_, i) => i % 5 === 0);
    const order = [...day.filter((_, i) => i % 5 !== 0), ...late];
    for (const r of order) ws.add(packer.pack(structuredClone(r)));
    const got = ws.seriesOf('OUT1')!;
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    let values = 0;
    for (const [factor, s] of got) {
      const old = expected.get(factor)!;
      expect(asOld(factor, s, cfg)).toStrictEqual(old);
      values += old.realtime.length + old.minute.length + old.hourAvg.length + old.hourZs.length;
    }
    expect(values).toBeGreaterThan(2880 * GAS.length);
  });

  it('the engine buffer gives back the readings (snapshot) and the same outputs as the naive engine', () => {
    const engine = createEngine(cfg, reg);
    const naive = createNaiveEngine(cfg, reg);
    const fast: unknown[] = [];
    const slow: unknown[] = [];
    const part = day.filter((r) => r.dataTime < T0 + 3 * HOUR);
    for (const r of part) {
      fast.push(...engine.ingest(structuredClone(r)));
      slow.push(...naive.ingest(structuredClone(r)));
    }
    fast.push(...engine.advance(T0 + 4 * HOUR));
    slow.push(...naive.advance(T0 + 4 * HOUR));
    expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
    expect(engine.snapshot().enterprises.E1!.readings).toStrictEqual([...part].sort(byBuffer));
  });
});

describe('the demo day (scripts/demo-day-fixture.ts): columnar series = one point per value, value for value', () => {
  // The simulator's demo day (registry/demo.yaml, 2026-11-28) at the loggers of its exceedance, flat-line and offline
  // scenarios, normalised as the hj212-gateway does.
  const cfg = config();
  const file = readFileSync(new URL('../test/fixtures/demo-day.json.gz', import.meta.url));
  const day = decodePart(JSON.parse(gunzipSync(file).toString('utf8')) as StoredPart);
  const sorted = [...day].sort(byBuffer);
  const sites = [...new Set(day.map((r) => r.siteId))];
  const demoReg: RegistryView = {
    enterprises: [...new Set(day.map((r) => r.enterpriseId))].map((id) => ({ id })),
    outlets: sites.map((id) => ({
      id,
      enterpriseId: day.find((r) => r.siteId === id)!.enterpriseId,
      kind: 'gas' as const,
      referenceO2: 9,
    })),
    limits: sites.flatMap((siteId) =>
      ['a21026', 'a21002', 'a34013'].map((factor) => ({
        siteId,
        factor,
        value: factor === 'a34013' ? 10 : 50,
        unit: 'mg/m3',
        basis: 'hourly' as const,
        converted: true,
      })),
    ),
    instrumentRanges: sites.map((siteId) => ({ siteId, factor: 'a21026', max: 500 })),
    devices: [...new Set(day.map((r) => `${r.deviceId}\n${r.siteId}`))].map((k) => {
      const [id, siteId] = k.split('\n') as [string, string];
      return { id, siteId, cadenceSeconds: 30 };
    }),
    meters: [],
    maintenanceWindows: [],
  };

  it('holds a day of three loggers, with the scenarios in it', () => {
    expect(sites).toHaveLength(3);
    expect(day.length).toBeGreaterThan(7_000);
    expect(Math.max(...day.map((r) => r.dataTime)) - Math.min(...day.map((r) => r.dataTime))).toBeGreaterThan(
      23 * HOUR,
    );
  });

  it('every site: the batch series and the workspace series (readings out of order) = the old series', () => {
    const old = oldSeries(sorted, cfg.gas.defaultMinutePeriodSeconds);
    const packer = new Packer();
    const batch = buildSeries(sorted, (r) => packer.pack(r));
    const idx = indexRegistry(demoReg, cfg);
    let values = 0;
    for (const siteId of sites) {
      const expected = old.get(siteId)!;
      for (const [factor, s] of batch.get(siteId)!)
        expect(asOld(factor, s, cfg)).toStrictEqual(expected.get(factor));
      const enterpriseId = day.find((r) => r.siteId === siteId)!.enterpriseId;
      const ws = new Workspace(cfg, idx, new Evaluator(cfg, idx), enterpriseId);
      const mine = day.filter((r) => r.siteId === siteId);
      // Every 5th reading arrives late, after all the others.
      for (const r of [...mine.filter((_, i) => i % 5 !== 0), ...mine.filter((_, i) => i % 5 === 0)])
        ws.add(packer.pack(structuredClone(r)));
      const got = ws.seriesOf(siteId)!;
      expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [factor, s] of got) {
        const o = expected.get(factor)!;
        expect(asOld(factor, s, cfg)).toStrictEqual(o);
        values += o.realtime.length + o.minute.length + o.hourAvg.length + o.hourZs.length;
      }
    }
    expect(values).toBeGreaterThan(50_000);
  });

  it('the engine gives the naive engine’s outputs over the first three hours, and its buffer the readings', () => {
    const engine = createEngine(cfg, demoReg);
    const naive = createNaiveEngine(cfg, demoReg);
    const t0 = Math.min(...day.map((r) => r.dataTime));
    const part = day.filter((r) => r.dataTime < t0 + 3 * HOUR);
    const fast: unknown[] = [];
    const slow: unknown[] = [];
    let wm = -Infinity;
    for (const [i, r] of part.entries()) {
      fast.push(...engine.ingest(structuredClone(r)));
      slow.push(...naive.ingest(structuredClone(r)));
      wm = Math.max(wm, r.dataTime);
      if (i % 50 === 49) {
        fast.push(...engine.advance(wm));
        slow.push(...naive.advance(wm));
      }
    }
    fast.push(...engine.advance(t0 + 5 * HOUR));
    slow.push(...naive.advance(t0 + 5 * HOUR));
    expect(fast.length).toBeGreaterThan(50);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
    const buffered = Object.values(engine.snapshot().enterprises).flatMap((e) => e.readings);
    expect(buffered.sort(byBuffer)).toStrictEqual([...part].sort(byBuffer));
  });
});

describe('real-time readings whose factors vary (the shared real-time list) = naive engine', () => {
  const cfg = config();
  const oracleReg: RegistryView = registry({
    devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 60 }],
    instrumentRanges: [{ siteId: 'OUT1', factor: 'a21026', max: 500 }],
  });
  const opArb = fc.record({
    slot: fc.integer({ min: 0, max: 90 }),
    factors: fc.subarray(['a21026', 'a19001', 'a00000', 'a34013'], { minLength: 0 }),
    dupFactor: fc.boolean(),
    otherStat: fc.boolean(),
    value: fc.constantFrom(0, 9, 20, 36, 600),
    flag: fc.constantFrom('N', 'N', 'T', 'D'),
    resend: fc.boolean(),
    advance: fc.boolean(),
  });

  it('a late point that splits a run: the first part keeps the record and resolves it, the second opens a new one', () => {
    // Out of range at +3 (600 > 500) opens a record at +3; a late T flag at +1 moves it to +1; a late normal value at +2
    // splits the run into [+1, +2) and [+3, …). The first part takes the record, which is resolved (revision 3). The
    // second part's own id is that record's (its start is +3): resolved is final, so the second part opens the next
    // generation of the id, following the resolved record. The reading at +0 (no values, no section of the factor
    // changes) then changes nothing in either engine: the pass at +2 was a fixed point.
    const rtd = (value: number, flag: string): Measurement[] => [
      { factor: 'a21026', stat: 'Rtd', value, flag },
    ];
    const steps: Reading[] = [
      reading('rt-3', 'MN1', 'realtime', T0 + 3 * MIN, rtd(600, 'N')),
      reading('rt-1', 'MN1', 'realtime', T0 + MIN, rtd(0, 'T')),
      reading('rt-2', 'MN1', 'realtime', T0 + 2 * MIN, rtd(0, 'N')),
      reading('rt-0', 'MN1', 'realtime', T0, []),
    ];
    const engine = createEngine(cfg, oracleReg);
    const naive = createNaiveEngine(cfg, oracleReg);
    const last: unknown[][] = [];
    for (const r of steps) {
      const got = engine.ingest(structuredClone(r));
      expect(got).toStrictEqual(naive.ingest(structuredClone(r)));
      last.push(got);
    }
    const first = deviationId('E1', 'OUT1', 'out-of-range', 'a21026', T0 + 3 * MIN);
    const second = deviationId('E1', 'OUT1', 'out-of-range', 'a21026', T0 + 3 * MIN, 2);
    expect(last[1]).toMatchObject([{ id: first, state: 'updated', revision: 2, windowStart: T0 + MIN }]);
    expect(last[2]).toMatchObject([
      { id: first, state: 'resolved', revision: 3, windowStart: T0 + MIN, windowEnd: T0 + 2 * MIN },
      { id: second, state: 'opened', revision: 1, windowStart: T0 + 3 * MIN, evidence: { follows: first } },
    ]);
    expect(last[3]).toStrictEqual([]);
    const closing = engine.advance(T0 + 3 * HOUR);
    expect(closing).toStrictEqual(naive.advance(T0 + 3 * HOUR));
    expect(closing.filter((o) => o.type === 'deviation' && o.id === first)).toStrictEqual([]);
    expect(lifecycleViolations([...last.flat(), ...closing])).toStrictEqual([]);
  });

  it('a late point that joins a resolved run to one going on: a new deviation follows it, the resolved one never reopens', () => {
    // Out of range at +1 opens, normal at +2 resolves [+1, +2). A later reading at +2 (same time,
    // later event id: it replaces the value) is out of range too: the run is [+1, …) and open. The resolved deviation
    // may not stand for an open run and its id is the run's own: the run opens generation 2 of that id, following it,
    // and the resolved one, no longer supported as ended at +2, is retracted (still resolved).
    const rtd = (value: number): Measurement[] => [{ factor: 'a21026', stat: 'Rtd', value, flag: 'N' }];
    const steps: Reading[] = [
      reading('rt-1', 'MN1', 'realtime', T0 + MIN, rtd(600)),
      reading('rt-2', 'MN1', 'realtime', T0 + 2 * MIN, rtd(0)),
      reading('rt-2b', 'MN1', 'realtime', T0 + 2 * MIN, rtd(600)),
    ];
    const engine = createEngine(cfg, oracleReg);
    const naive = createNaiveEngine(cfg, oracleReg);
    const outs = steps.map((r) => {
      const got = engine.ingest(structuredClone(r));
      expect(got).toStrictEqual(naive.ingest(structuredClone(r)));
      return got;
    });
    const first = deviationId('E1', 'OUT1', 'out-of-range', 'a21026', T0 + MIN);
    const next = deviationId('E1', 'OUT1', 'out-of-range', 'a21026', T0 + MIN, 2);
    expect(outs[0]).toMatchObject([{ id: first, state: 'opened', revision: 1 }]);
    expect(outs[1]).toMatchObject([{ id: first, state: 'resolved', revision: 2, windowEnd: T0 + 2 * MIN }]);
    expect(outs[2]).toMatchObject([
      { id: next, state: 'opened', revision: 1, windowStart: T0 + MIN, evidence: { follows: first } },
      { id: first, state: 'resolved', revision: 3, evidence: { retracted: true } },
    ]);
    const closing = engine.advance(T0 + 3 * HOUR);
    expect(closing).toStrictEqual(naive.advance(T0 + 3 * HOUR));
    expect(lifecycleViolations([...outs.flat(), ...closing])).toStrictEqual([]);
  });

  it('gives exactly the outputs of the naive engine', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 50 }), (ops) => {
        const engine = createEngine(cfg, oracleReg);
        const naive = createNaiveEngine(cfg, oracleReg);
        const fast: unknown[] = [];
        const slow: unknown[] = [];
        let wm = T0;
        ops.forEach((o, i) => {
          const t = T0 + o.slot * MIN;
          const ms: Measurement[] = o.factors.map((factor) => ({
            factor,
            stat: 'Rtd',
            value: factor === 'a19001' ? 9 : o.value,
            flag: o.flag,
          }));
          if (o.dupFactor && ms.length > 0) ms.push({ ...ms[0]!, value: ms[0]!.value + 1 });
          if (o.otherStat) ms.push({ factor: 'a21026', stat: 'Max', value: 1 });
          const r = reading(o.resend ? `rt-${t}-${i}` : `rt-${t}`, 'MN1', 'realtime', t, ms);
          fast.push(...engine.ingest(structuredClone(r)));
          slow.push(...naive.ingest(structuredClone(r)));
          if (o.advance) {
            wm = Math.max(wm, t + MIN);
            fast.push(...engine.advance(wm));
            slow.push(...naive.advance(wm));
          }
        });
        fast.push(...engine.advance(wm + 3 * HOUR));
        slow.push(...naive.advance(wm + 3 * HOUR));
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
        expect(lifecycleViolations(fast)).toStrictEqual([]);
      }),
      // A random seed each run; a failure prints its seed and path (fc.assert's report) to replay it.
      { numRuns: 150 },
    );
  });
});
