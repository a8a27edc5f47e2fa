import { readFileSync } from 'node:fs';
import { contractRuleOf, severityToContract, type ContractRuleName } from './contract.js';
import { createEngine, deviationId, type Engine } from './engine.js';
import type { DeviationOutput, MeterView, Output, Reading, RegistryView, RuleName } from './model.js';
import { facilityCodeOf, timingWindows, type MeterStep } from './treatment.js';
import type { DeepPartial, EngineConfig } from './config.js';
import { HOUR, MIN, T0, config, energy, hourOfMinutes, realtime, registry } from '../test/testkit.js';

const P1: MeterView = { id: 'P1', enterpriseId: 'E1', role: 'production', ratedWindowKwh: 10 };
const T1: MeterView = {
  id: 'T1',
  enterpriseId: 'E1',
  role: 'treatment',
  servesMeterId: 'P1',
  ratedWindowKwh: 5,
  facilities: [{ siteId: 'OUT1', code: 'SB1' }],
};

function engine(reg: Partial<RegistryView> = {}, cfg: DeepPartial<EngineConfig> = {}): Engine {
  return createEngine(config(cfg), registry({ meters: [P1, T1], ...reg }));
}
const devs = (out: Output[], rule: RuleName) =>
  out.filter((o): o is DeviationOutput => o.type === 'deviation' && o.rule === rule);

/**
 * Meter readings every minute from T0 for `minutes`: `on(m)` says whether the meter runs in minute [m, m+1).
 * Production: 1 kWh/min running (rated 10 kWh per 15 min), 0.05 stopped. Treatment: 0.5 running (rated 5), 0.01 idle.
 */
function meters(minutes: number, prodOn: (m: number) => boolean, treatOn: (m: number) => boolean): Reading[] {
  const out: Reading[] = [];
  let p = 0;
  let t = 0;
  for (let k = 0; k <= minutes; k++) {
    out.push(
      energy('P1', T0 + k * MIN, Number(p.toFixed(3))),
      energy('T1', T0 + k * MIN, Number(t.toFixed(3))),
    );
    p += prodOn(k) ? 1 : 0.05;
    t += treatOn(k) ? 0.5 : 0.01;
  }
  return out;
}

/** Production shifts starting at the given minutes, `len` minutes long; treatment from `lag` after to `lead` before. */
function shifts(starts: number[], len: number, lag: number, lead: number, total: number): Reading[] {
  const inShift = (m: number, a: number, b: number) => starts.some((s) => m >= s + a && m < s + len - b);
  return meters(
    total,
    (m) => inShift(m, 0, 0),
    (m) => inShift(m, lag, lead),
  );
}

function run(e: Engine, readings: Reading[], until: number): Output[] {
  const out: Output[] = [];
  for (const r of [...readings].sort((a, b) => a.dataTime - b.dataTime)) out.push(...e.ingest(r));
  out.push(...e.advance(until));
  return out;
}

const RESUMING = { enterprises: [{ id: 'E1', resumptionDate: '2025-03-10' }] };

describe('treatment started late (treatment-late-start)', () => {
  it('treatment 15 min after production is on time, 20 min after is late (resumption window: 1 occurrence)', () => {
    const onTime = run(engine(RESUMING), shifts([60], 120, 15, 0, 240), T0 + 240 * MIN);
    expect(devs(onTime, 'treatment-late-start')).toEqual([]);
    const late = devs(
      run(engine(RESUMING), shifts([60], 120, 20, 0, 240), T0 + 240 * MIN),
      'treatment-late-start',
    );
    expect(late[0]).toMatchObject({
      state: 'opened',
      siteId: 'T1',
      subject: 'P1',
      windowStart: T0 + HOUR,
      severity: 'minor',
      inResumptionWindow: true,
      suspectedFalsification: false,
      evidence: {
        productionMeterId: 'P1',
        treatmentMeterId: 'T1',
        maxLagMinutes: 15,
        stepMinutes: 5,
        confirmWindows: 1,
        windows: [
          {
            start: T0 + HOUR,
            end: T0 + HOUR + 20 * MIN,
            productionStartAt: T0 + HOUR,
            treatmentStartAt: T0 + HOUR + 20 * MIN,
            lagMinutes: 20,
          },
        ],
      },
    });
  });

  it('outside the resumption window one late start is not enough, two consecutive ones open it', () => {
    expect(
      devs(run(engine(), shifts([60], 120, 20, 0, 240), T0 + 240 * MIN), 'treatment-late-start'),
    ).toEqual([]);
    const two = devs(
      run(engine(), shifts([60, 300], 120, 30, 0, 480), T0 + 480 * MIN),
      'treatment-late-start',
    );
    expect(two).toHaveLength(1);
    expect(two[0]).toMatchObject({
      state: 'opened',
      windowStart: T0 + HOUR,
      evidence: { confirmWindows: 2 },
    });
  });

  it('an on-time start clears it (clear 1 occurrence)', () => {
    const readings = meters(
      700,
      (m) => (m >= 60 && m < 180) || (m >= 300 && m < 420) || (m >= 540 && m < 660),
      (m) => (m >= 90 && m < 180) || (m >= 330 && m < 420) || (m >= 550 && m < 660),
    );
    const out = devs(run(engine(), readings, T0 + 700 * MIN), 'treatment-late-start');
    expect(out.map((d) => d.state)).toEqual(['opened', 'resolved']);
    expect(out[1]).toMatchObject({ windowStart: T0 + HOUR, windowEnd: T0 + 300 * MIN + 20 * MIN });
  });

  it('is not judged without the treatment meter (unknown), nor when production stops within the lag', () => {
    const noTreat = shifts([60, 300], 120, 30, 0, 480).filter((r) => r.siteId === 'P1');
    expect(devs(run(engine(), noTreat, T0 + 480 * MIN), 'treatment-late-start')).toEqual([]);
    const blips = devs(
      run(engine(RESUMING), shifts([60, 300], 10, 30, 0, 480), T0 + 480 * MIN),
      'treatment-late-start',
    );
    expect(blips).toEqual([]);
  });
});

describe('treatment stopped early (treatment-early-stop)', () => {
  it('stopping 15 min before production is on time, 20 min before is early', () => {
    expect(
      devs(run(engine(RESUMING), shifts([60], 120, 0, 15, 240), T0 + 240 * MIN), 'treatment-early-stop'),
    ).toEqual([]);
    const early = devs(
      run(engine(RESUMING), shifts([60], 120, 0, 20, 240), T0 + 240 * MIN),
      'treatment-early-stop',
    );
    expect(early[0]).toMatchObject({
      state: 'opened',
      windowStart: T0 + 180 * MIN - 20 * MIN,
      evidence: {
        windows: [
          {
            productionStopAt: T0 + 180 * MIN,
            treatmentStopAt: T0 + 160 * MIN,
            leadMinutes: 20,
          },
        ],
      },
    });
  });

  it('treatment that never ran in the run is late start / idle, not early stop', () => {
    const out = run(engine(RESUMING), shifts([60], 120, 200, 0, 240), T0 + 240 * MIN);
    expect(devs(out, 'treatment-early-stop')).toEqual([]);
    expect(devs(out, 'treatment-late-start')).toHaveLength(1);
    expect(devs(out, 'treatment-idle').length).toBeGreaterThan(0);
  });
});

describe('timing occurrences on steps', () => {
  const st = (i: number, prod: boolean | null, treat: boolean | null): MeterStep => ({
    start: i * 5 * MIN,
    end: (i + 1) * 5 * MIN,
    prod,
    treat,
  });
  it('waits until the last step of the lag closed before judging a start', () => {
    const steps = [st(0, false, false), st(1, true, false), st(2, true, false), st(3, true, false)];
    expect(timingWindows(steps, 5 * MIN, 15 * MIN).late).toEqual([]);
    const more = [...steps, st(4, true, false)];
    expect(timingWindows(more, 5 * MIN, 15 * MIN).late).toMatchObject([{ cond: true, start: 5 * MIN }]);
  });
  it('an unknown treatment step makes the start unknown unless treatment ran', () => {
    const steps = [
      st(0, false, false),
      st(1, true, false),
      st(2, true, null),
      st(3, true, false),
      st(4, true, false),
    ];
    expect(timingWindows(steps, 5 * MIN, 15 * MIN).late).toMatchObject([{ cond: null }]);
    steps[3] = st(3, true, true);
    expect(timingWindows(steps, 5 * MIN, 15 * MIN).late).toMatchObject([{ cond: false }]);
  });
});

describe('facility status SBn-RS = 0 while production runs (treatment-idle)', () => {
  const status = (minutes: number, value: number, form: 'stat' | 'factor'): Reading[] =>
    Array.from({ length: minutes }, (_, k) => ({
      eventId: `s-${k}`,
      enterpriseId: 'E1',
      siteId: 'OUT1',
      deviceId: 'MN1',
      kind: 'status' as const,
      interval: 'realtime' as const,
      dataTime: T0 + HOUR + k * MIN,
      measurements: [
        form === 'stat' ? { factor: 'SB1', stat: 'RS', value } : { factor: 'SB1-RS', stat: 'Rtd', value },
      ],
    }));
  const running = () =>
    meters(
      150,
      () => true,
      () => true,
    );

  it.each(['stat', 'factor'] as const)(
    'RS = 0 for two windows opens it although the meter runs (%s form)',
    (form) => {
      const out = devs(
        run(engine(), [...running(), ...status(30, 0, form)], T0 + 150 * MIN),
        'treatment-idle',
      );
      // Over before the watermark: opened, then resolved after two clear windows.
      expect(out.map((d) => d.state)).toEqual(['opened', 'resolved']);
      expect(out[1]).toMatchObject({ windowEnd: T0 + HOUR + 30 * MIN });
      expect(out[0]).toMatchObject({
        state: 'opened',
        windowStart: T0 + HOUR,
        evidence: {
          facilities: ['OUT1/SB1'],
          windows: [
            { start: T0 + HOUR, producing: true, treatmentIdle: false, facilityOff: true },
            { start: T0 + HOUR + 15 * MIN, facilityOff: true },
          ],
        },
      });
    },
  );

  it('RS = 1, one off window, production stopped, or no mapping: no deviation', () => {
    expect(
      devs(run(engine(), [...running(), ...status(30, 1, 'stat')], T0 + 150 * MIN), 'treatment-idle'),
    ).toEqual([]);
    expect(
      devs(run(engine(), [...running(), ...status(15, 0, 'stat')], T0 + 150 * MIN), 'treatment-idle'),
    ).toEqual([]);
    const stopped = meters(
      150,
      () => false,
      () => true,
    );
    expect(
      devs(run(engine(), [...stopped, ...status(30, 0, 'stat')], T0 + 150 * MIN), 'treatment-idle'),
    ).toEqual([]);
    const unmapped = engine({ meters: [P1, { ...T1, facilities: [] }] });
    expect(
      devs(run(unmapped, [...running(), ...status(30, 0, 'stat')], T0 + 150 * MIN), 'treatment-idle'),
    ).toEqual([]);
  });

  it('reads the facility code from both forms and nothing else', () => {
    expect(facilityCodeOf({ factor: 'SB1', stat: 'RS' })).toBe('SB1');
    expect(facilityCodeOf({ factor: 'SB12-RS', stat: 'Rtd' })).toBe('SB12');
    expect(facilityCodeOf({ factor: 'SB1', stat: 'RT' })).toBeUndefined();
    expect(facilityCodeOf({ factor: 'a21026', stat: 'Rtd' })).toBeUndefined();
  });
});

describe('zero while production runs', () => {
  // Real-time SO2 = 0 every minute from 1 h, no flow factor reported.
  const zeros = (n: number) =>
    Array.from({ length: n }, (_, k) => realtime(T0 + HOUR + k * MIN, { a21026: 0, a19001: 9 }));

  it('29 minutes of zero while production runs are tolerated, 30 minutes open it', () => {
    const prod = meters(
      150,
      () => true,
      () => true,
    );
    expect(devs(run(engine(), [...prod, ...zeros(30)], T0 + 150 * MIN), 'zero-while-running')).toEqual([]);
    const out = devs(run(engine(), [...prod, ...zeros(31)], T0 + 150 * MIN), 'zero-while-running');
    expect(out[0]).toMatchObject({
      state: 'opened',
      factor: 'a21026',
      windowStart: T0 + HOUR,
      evidence: { confirmedAt: T0 + HOUR + 30 * MIN, productionMeterIds: ['P1'] },
    });
  });

  it('not while production is stopped, not when disabled, and only with the mapped production meters', () => {
    const stopped = meters(
      150,
      () => false,
      () => true,
    );
    expect(devs(run(engine(), [...stopped, ...zeros(40)], T0 + 150 * MIN), 'zero-while-running')).toEqual([]);
    const prod = meters(
      150,
      () => true,
      () => true,
    );
    const off = engine({}, { rules: { zeroWhileRunning: { duringProduction: false } } });
    expect(devs(run(off, [...prod, ...zeros(40)], T0 + 150 * MIN), 'zero-while-running')).toEqual([]);
    const other = engine({
      outlets: [{ id: 'OUT1', enterpriseId: 'E1', kind: 'gas', referenceO2: 9, productionMeterIds: ['P2'] }],
    });
    expect(devs(run(other, [...prod, ...zeros(40)], T0 + 150 * MIN), 'zero-while-running')).toEqual([]);
  });

  it('a late meter reading that shows production running turns earlier zeros into a deviation', () => {
    const prod = meters(
      150,
      () => true,
      () => true,
    );
    const e = engine();
    // Meter readings of the zero period arrive last (e.g. the meter gateway replayed its cache).
    const held = prod.filter(
      (r) => r.siteId === 'P1' && r.dataTime > T0 + HOUR && r.dataTime < T0 + 2 * HOUR,
    );
    const first = run(e, [...prod.filter((r) => !held.includes(r)), ...zeros(40)], T0 + 2 * HOUR);
    expect(devs(first, 'zero-while-running')).toEqual([]);
    // Replayed in order, each reading extends the known production: opened once 30 minutes are covered.
    const later = devs(run(e, held, T0 + 150 * MIN), 'zero-while-running');
    expect(later[0]).toMatchObject({
      state: 'opened',
      windowStart: T0 + HOUR,
      evidence: { confirmedAt: T0 + HOUR + 30 * MIN },
    });
    // Until the meter reading after a zero arrives, production at that zero is unknown and the run rule ends the run
    // there, so the deviation is resolved at the replay's frontier (91 min) and each replayed reading moves that end
    // (still resolved). Resolved is final: once the replay shows the run going on, a new deviation opens, following the
    // first, which is retracted. One deviation stands.
    const id = later[0]!.id;
    expect(
      later
        .filter((d) => d.id === id)
        .slice(1)
        .every((d) => d.state === 'resolved'),
    ).toBe(true);
    const latest = new Map(later.map((d) => [d.id, d]));
    expect(latest.size).toBe(2);
    expect(latest.get(id)).toMatchObject({ state: 'resolved', evidence: { retracted: true } });
    const standing = [...latest.values()].filter((d) => d.evidence.retracted !== true);
    expect(standing).toMatchObject([
      { state: 'opened', revision: 1, windowStart: T0 + HOUR, evidence: { follows: id } },
    ]);
    expect(standing[0]!.id).toBe(deviationId('E1', 'OUT1', 'zero-while-running', 'a21026', T0 + HOUR, 2));
  });
});

describe('contract mapping and aggregate precision', () => {
  const schema = JSON.parse(
    readFileSync(new URL('../../../schemas/deviation.v1.schema.json', import.meta.url), 'utf8'),
  ) as { properties: { rule: { enum: string[] }; severity: { enum: string[] } } };

  it('maps every domain rule onto the deviation.v1 rule enum, covering it', () => {
    const domain: RuleName[] = [
      'exceedance',
      'treatment-idle',
      'treatment-late-start',
      'treatment-early-stop',
      'flatline',
      'zero-while-running',
      'out-of-range',
      'offline',
      'low-capture',
      'fault-flag',
      'manual-flag',
      'maintenance-overrun',
      'o2-near-ambient',
      'clustered-below-limit',
      'inconsistent-aggregate',
      'annual-load',
      'production-emission',
      'peers',
      'cross-device',
      'remote-sensing',
      'discharge-outside-hours',
    ];
    const mapped = new Set<ContractRuleName>(domain.map(contractRuleOf));
    expect([...mapped].sort()).toEqual([...schema.properties.rule.enum].sort());
    expect(contractRuleOf('manual-flag')).toBe('abnormal-flag');
    expect(contractRuleOf('treatment-early-stop')).toBe('treatment-early-stop');
  });

  it('maps severities into the contract enum', () => {
    for (const s of Object.values(severityToContract)) expect(schema.properties.severity.enum).toContain(s);
    expect(severityToContract).toEqual({
      info: 'info',
      minor: 'medium',
      major: 'high',
      critical: 'critical',
    });
  });

  it('rounds aggregate values to 6 significant digits (no 12.299999999999999)', () => {
    const vals = [12.1, 12.2, 12.3, 12.4, 12.5, 12.3];
    expect(vals.reduce((a, b) => a + b, 0) / 6).not.toBe(12.3); // the float noise the rounding removes
    const out = run(
      engine(),
      hourOfMinutes(
        T0,
        vals.map((v) => ({ a21026: v, a19001: 9 })),
      ),
      T0 + HOUR,
    );
    const so2 = out.find((o) => o.type === 'aggregate' && o.factor === 'a21026');
    expect(so2).toMatchObject({ value: 12.3, convertedValue: 12.3, coverage: 1 });
    const thirds = run(
      engine(),
      hourOfMinutes(
        T0,
        [33.3, 33.3, 33.4, 33.3, 33.3, 33.3].map((v) => ({ a21026: v, a19001: 9 })),
      ),
      T0 + HOUR,
    );
    expect(thirds.find((o) => o.type === 'aggregate' && o.factor === 'a21026')).toMatchObject({
      value: 33.3167,
    });
  });
});
