import { createEngine, deviationId, type Engine } from './engine.js';
import type { DeviationOutput, Output, RegistryView } from './model.js';
import {
  DAY,
  HOUR,
  MIN,
  T0,
  config,
  energy,
  hourOfMinutes,
  hourReading,
  lifecycleViolations,
  minute,
  realtime,
  registry,
} from '../test/testkit.js';
import type { DeepPartial, EngineConfig } from './config.js';

function engine(reg: Partial<RegistryView> = {}, cfg: DeepPartial<EngineConfig> = {}): Engine {
  return createEngine(config(cfg), registry(reg));
}
const devs = (out: Output[], rule?: string) =>
  out.filter((o): o is DeviationOutput => o.type === 'deviation' && (rule === undefined || o.rule === rule));
// Values vary around the given means (constant values would rightly be flatlines); every prefix of 5 keeps the mean.
const JITTER = [-1, 1, -2, 2, 0, 0];
const six = (so2: number, o2 = 9) =>
  JITTER.map((j) => ({ a21026: so2 + j * (so2 / 100), a19001: o2 + j / 10 }));

function run(e: Engine, readings: Parameters<Engine['ingest']>[0][], until: number): Output[] {
  const out: Output[] = [];
  for (const r of readings) out.push(...e.ingest(r));
  out.push(...e.advance(until));
  return out;
}

describe('exceedance (hourly converted mean against the permit limit)', () => {
  it('exactly at the limit is not an exceedance', () => {
    const out = run(engine(), hourOfMinutes(T0, six(35)), T0 + HOUR);
    expect(out.find((o) => o.type === 'aggregate' && o.factor === 'a21026')).toMatchObject({
      value: 35,
      convertedValue: 35,
      valid: true,
      flag: 'N',
      coverage: 1,
      start: T0,
      interval: 'hour',
    });
    expect(devs(out)).toEqual([]);
  });
  it('just above the limit opens a deviation with evidence and a deterministic id', () => {
    const out = devs(run(engine(), hourOfMinutes(T0, six(35.1)), T0 + HOUR), 'exceedance');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      state: 'opened',
      revision: 1,
      severity: 'minor',
      factor: 'a21026',
      siteId: 'OUT1',
      windowStart: T0,
      suspectedFalsification: false,
      inResumptionWindow: false,
      id: deviationId('E1', 'OUT1', 'exceedance', 'a21026', T0),
    });
    expect(out[0]!.evidence).toMatchObject({
      limit: 35,
      converted: true,
      windows: [{ start: T0, end: T0 + HOUR, value: 35.1 }],
    });
  });
  it('judges the converted value: 30 mg/m3 at 15 % O2 is 60 converted (ratio 1.71 → major)', () => {
    const out = devs(run(engine(), hourOfMinutes(T0, six(30, 15)), T0 + HOUR), 'exceedance');
    expect(out[0]).toMatchObject({ severity: 'major' });
  });
  it('severity critical at twice the limit', () => {
    expect(devs(run(engine(), hourOfMinutes(T0, six(70)), T0 + HOUR))[0]?.severity).toBe('critical');
  });
  it('O2 at the ceiling gives no converted value (anomaly) and so no exceedance', () => {
    const out = run(engine(), hourOfMinutes(T0, six(100, 19.5)), T0 + HOUR);
    expect(out.find((o) => o.type === 'aggregate' && o.factor === 'a21026')).toMatchObject({
      convertedValue: null,
      anomaly: 'o2-ceiling',
    });
    expect(devs(out, 'exceedance')).toEqual([]);
  });
  it('an hour covered by only 4 of 6 values is not judged', () => {
    const out = run(engine(), hourOfMinutes(T0, six(100).slice(0, 4)), T0 + HOUR);
    expect(devs(out, 'exceedance')).toEqual([]);
  });
  it('waits for the hour to close', () => {
    const e = engine();
    const out = run(e, hourOfMinutes(T0, six(100)), T0 + HOUR - 1);
    expect(out.filter((o) => o.type !== 'rejected')).toEqual([]);
    expect(devs(e.advance(T0 + HOUR), 'exceedance')).toHaveLength(1);
  });
});

describe('confirmation and clear periods', () => {
  const cfg = { rules: { exceedance: { confirmWindows: 2, clearWindows: 2 } } };
  const hours = (vals: number[]) => vals.flatMap((v, i) => hourOfMinutes(T0 + i * HOUR, six(v)));
  it('one exceeding hour does not open when two are required; two do', () => {
    expect(devs(run(engine({}, cfg), hours([50, 20]), T0 + 2 * HOUR))).toEqual([]);
    const out = devs(run(engine({}, cfg), hours([50, 50]), T0 + 2 * HOUR));
    expect(out.map((d) => [d.state, d.windowStart])).toEqual([['opened', T0]]);
  });
  it('resolves only after two clear hours; one clear hour between exceedances keeps it open', () => {
    const e = engine({}, cfg);
    const out: Output[] = [];
    const vals = [50, 50, 20, 50, 20, 20];
    vals.forEach((v, i) => out.push(...run(e, hourOfMinutes(T0 + i * HOUR, six(v)), T0 + (i + 1) * HOUR)));
    const d = devs(out, 'exceedance');
    expect(d.map((x) => [x.state, x.revision])).toEqual([
      ['opened', 1],
      ['updated', 2],
      ['resolved', 3],
    ]);
    expect(new Set(d.map((x) => x.id)).size).toBe(1);
    expect(d[2]).toMatchObject({ windowStart: T0, windowEnd: T0 + 4 * HOUR });
  });
});

describe('late and out-of-order readings', () => {
  it('a late minute value updates the hourly aggregate and the exceedance (same id, higher revision)', () => {
    const e = engine();
    const first = run(e, hourOfMinutes(T0, six(40)).slice(0, 5), T0 + HOUR);
    const [opened] = devs(first, 'exceedance');
    expect(opened).toMatchObject({ state: 'opened', revision: 1 });
    const late = e.ingest(minute(T0 + 50 * MIN, { a21026: 100, a19001: 9 }));
    expect(late.find((o) => o.type === 'aggregate' && o.factor === 'a21026')).toMatchObject({
      value: 50,
      coverage: 1,
    });
    const d = devs(late, 'exceedance');
    expect(d).toEqual([expect.objectContaining({ id: opened!.id, state: 'updated', revision: 2 })]);
    expect(d[0]!.evidence).toMatchObject({ windows: [expect.objectContaining({ value: 50 })] });
  });
  it('a late value that brings the mean under the limit retracts the deviation', () => {
    const e = engine();
    const [opened] = devs(run(e, hourOfMinutes(T0, six(36)).slice(0, 5), T0 + HOUR));
    const d = devs(e.ingest(minute(T0 + 50 * MIN, { a21026: 20, a19001: 9 })));
    expect(d).toEqual([expect.objectContaining({ id: opened!.id, state: 'resolved', revision: 2 })]);
    expect(d[0]!.evidence.retracted).toBe(true);
  });
  it('a resolved series whose window moved before the horizon while its id names a later start stays until the horizon passes that start: the start exceeding again opens the next generation, not the id at revision 1', () => {
    const e = engine({}, { rules: { exceedance: { confirmWindows: 1, clearWindows: 1 } } });
    const D2 = T0 + DAY;
    const out: Output[] = [];
    // Hour D2 exceeds (5 of 6 values: judged), D2+1h is clear: opened with the id of D2, resolved at D2+1h.
    out.push(
      ...run(
        e,
        [...hourOfMinutes(D2, six(36)).slice(0, 5), ...hourOfMinutes(D2 + HOUR, six(20))],
        D2 + 2 * HOUR,
      ),
    );
    const id = deviationId('E1', 'OUT1', 'exceedance', 'a21026', D2);
    // Late: D2−2h exceeds and D2−1h too (5 values): one run from D2−2h, the same series (its id still that of D2).
    for (const r of [
      ...hourOfMinutes(D2 - 2 * HOUR, six(50)),
      ...hourOfMinutes(D2 - HOUR, six(36)).slice(0, 5),
    ])
      out.push(...e.ingest(r));
    // Later still: the sixth values of D2 and then D2−1h bring them under the limit. The series is [D2−2h, D2−1h) now.
    out.push(...e.ingest(minute(D2 + 50 * MIN, { a21026: 20, a19001: 9 })));
    out.push(...e.ingest(minute(D2 - HOUR + 50 * MIN, { a21026: 20, a19001: 9 })));
    expect(devs(out, 'exceedance').at(-1)).toMatchObject({
      id,
      state: 'resolved',
      windowStart: D2 - 2 * HOUR,
      windowEnd: D2 - HOUR,
    });
    // The horizon moves to D2 (the local day start 48 h before the watermark): the window ended before it, but a
    // series can still start at D2. A value arriving for hour D2 makes it exceed again.
    out.push(...e.advance(D2 + 2 * DAY + HOUR));
    expect(e.snapshot().deviations[id]).toMatchObject({ state: 'resolved', idStart: D2 });
    // Hour D2 exceeds again (D2+1h clear): an ended episode from D2, whose id names the resolved series: its next
    // revision, still resolved — not that id opened again at revision 1.
    out.push(...e.ingest(minute(D2 + 55 * MIN, { a21026: 300, a19001: 9 })));
    expect(devs(out, 'exceedance').at(-1)).toMatchObject({ id, state: 'resolved', revision: 7 });
    // D2+1h exceeds too: the run from D2 goes on, open. Resolved is final: the next generation, following it.
    out.push(...e.ingest(minute(D2 + HOUR + 55 * MIN, { a21026: 300, a19001: 9 })));
    const next = devs(out, 'exceedance').at(-1)!;
    expect(next).toMatchObject({
      id: deviationId('E1', 'OUT1', 'exceedance', 'a21026', D2, 2),
      state: 'opened',
      revision: 1,
      windowStart: D2,
    });
    expect(next.evidence.follows).toBe(id);
    expect(devs(out, 'exceedance').filter((d) => d.id === id && d.state === 'opened')).toHaveLength(1);
    expect(lifecycleViolations(out)).toEqual([]);
    // Once the horizon has passed D2 too, the record goes.
    e.advance(D2 + 3 * DAY + HOUR);
    expect(e.snapshot().deviations[id]).toBeUndefined();
  });
  it('a repeated event id is ignored', () => {
    const e = engine();
    const r = minute(T0, { a21026: 10 });
    e.ingest(r);
    expect(e.ingest(r)).toEqual([]);
  });
  it('a reading older than the lateness horizon is rejected with a reason, not dropped silently', () => {
    const e = engine();
    e.advance(T0 + 3 * DAY);
    const out = e.ingest(minute(T0, { a21026: 10 }));
    expect(out).toEqual([expect.objectContaining({ type: 'rejected', code: 'too-late' })]);
    expect(e.ingest(minute(T0 + 3 * DAY - 47 * HOUR, { a21026: 10 }))).not.toContainEqual(
      expect.objectContaining({ type: 'rejected' }),
    );
  });
});

describe('flatline (恒值)', () => {
  const rtReg = { devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 30 }] };
  const flat = (minutes: number) => {
    const rs = [];
    for (let t = 0; t <= minutes * MIN; t += 30_000) rs.push(realtime(T0 + t, { a21026: 12.3 }));
    rs.push(realtime(T0 + minutes * MIN + 30_000, { a21026: 12.4 }));
    return rs;
  };
  it('59 minutes of the same real-time value is not a flatline, 60 minutes is (suspected falsification)', () => {
    expect(devs(run(engine(rtReg), flat(59), T0), 'flatline')).toEqual([]);
    const d = devs(run(engine(rtReg), flat(60), T0), 'flatline');
    expect(d.map((x) => x.state)).toEqual(['opened', 'resolved']);
    expect(d[0]).toMatchObject({ suspectedFalsification: true, windowStart: T0, factor: 'a21026' });
    expect(d[0]!.evidence).toMatchObject({ value: 12.3, confirmedAt: T0 + 60 * MIN, interval: 'realtime' });
    expect(d[1]).toMatchObject({ windowEnd: T0 + 60 * MIN + 30_000 });
  });
  it('5 equal minute means are not a flatline, 6 are', () => {
    const mins = (n: number) => Array.from({ length: n }, (_, i) => minute(T0 + i * 10 * MIN, { a21026: 7 }));
    expect(devs(run(engine(), mins(5), T0), 'flatline')).toEqual([]);
    expect(devs(run(engine(), mins(6), T0), 'flatline')).toEqual([
      expect.objectContaining({ state: 'opened' }),
    ]);
  });
  it('exempt factors (config or outlet) never flatline', () => {
    expect(
      devs(
        run(engine(rtReg, { rules: { flatline: { exemptFactors: ['a21026'] } } }), flat(90), T0),
        'flatline',
      ),
    ).toEqual([]);
    const outlets = [
      {
        id: 'OUT1',
        enterpriseId: 'E1',
        kind: 'gas' as const,
        referenceO2: 9,
        flatlineExemptFactors: ['a21026'],
      },
    ];
    expect(devs(run(engine({ ...rtReg, outlets }), flat(90), T0), 'flatline')).toEqual([]);
  });
  it('an offline gap breaks the run (inhibition): stale values across an outage are not a flatline', () => {
    const rs = [
      ...Array.from({ length: 61 }, (_, i) => realtime(T0 + i * 30_000, { a21026: 5 })),
      ...Array.from({ length: 61 }, (_, i) => realtime(T0 + 60 * MIN + i * 30_000, { a21026: 5 })),
    ];
    expect(devs(run(engine(rtReg), rs, T0), 'flatline')).toEqual([]);
  });
});

describe('offline (断线)', () => {
  const reg = (cadenceSeconds: number) => ({ devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds }] });
  it('at a 30 s cadence the threshold is the 10-minute floor', () => {
    const e = engine(reg(30));
    e.ingest(realtime(T0, { a21026: 1 }));
    expect(devs(e.advance(T0 + 10 * MIN - 1), 'offline')).toEqual([]);
    const [d] = devs(e.advance(T0 + 10 * MIN), 'offline');
    expect(d).toMatchObject({ state: 'opened', windowStart: T0, subject: 'MN1' });
    expect(d!.evidence).toMatchObject({ thresholdMs: 10 * MIN });
    expect(devs(e.ingest(realtime(T0 + 12 * MIN, { a21026: 1 })), 'offline')).toEqual([
      expect.objectContaining({ id: d!.id, state: 'resolved', windowEnd: T0 + 12 * MIN, revision: 2 }),
    ]);
  });
  it('at a 10-minute cadence the threshold is 3 × cadence = 30 minutes', () => {
    const e = engine(reg(600));
    e.ingest(realtime(T0, { a21026: 1 }));
    expect(devs(e.advance(T0 + 30 * MIN - 1), 'offline')).toEqual([]);
    expect(devs(e.advance(T0 + 30 * MIN), 'offline')).toHaveLength(1);
  });
  it('judges arrival: a 2 h outage whose cache is replayed afterwards resolves (not retracted), replay counted once settled', () => {
    const e = engine(reg(30));
    for (let t = T0; t <= T0 + HOUR; t += 30_000) {
      e.ingest(realtime(t, { a21026: 1 }));
      e.advance(t - 30_000);
    }
    const last = T0 + HOUR;
    // Nothing arrives for 2 h while the watermark moves on (other devices, the wall-clock tick).
    const all: Output[] = [];
    for (let w = last; w <= last + 2 * HOUR; w += MIN) all.push(...e.advance(w));
    const opened = devs(all, 'offline');
    expect(opened).toEqual([expect.objectContaining({ state: 'opened', windowStart: last, revision: 1 })]);
    // The logger reconnects: a current reading, then its 2 h cache (30 s data inside the gap).
    const arrival = last + 2 * HOUR;
    all.length = 0;
    all.push(...e.ingest(realtime(arrival + MIN, { a21026: 1 })));
    for (let t = last + 30_000; t < arrival; t += 30_000) all.push(...e.ingest(realtime(t, { a21026: 1 })));
    for (let w = arrival + 30_000; w <= arrival + 30 * MIN; w += 30_000) {
      all.push(...e.ingest(realtime(w + 2 * MIN, { a21026: 1 })));
      all.push(...e.advance(w));
    }
    const after = devs(all, 'offline');
    expect(after.every((d) => d.id === opened[0]!.id)).toBe(true);
    expect(after.some((d) => d.evidence.retracted === true)).toBe(false);
    // Resolved at the arrival, then once more when the replay settled (threshold after the arrival), with the count.
    expect(after.map((d) => [d.state, d.revision])).toEqual([
      ['resolved', 2],
      ['resolved', 3],
    ]);
    expect(after[0]).toMatchObject({ windowStart: last, windowEnd: arrival + MIN });
    expect(after[0]!.evidence).toMatchObject({ resumedBy: 'arrival', gapStart: last, gapEnd: arrival + MIN });
    expect(after[0]!.evidence.replayedReadings).toBeUndefined();
    expect(after[1]!.evidence).toMatchObject({
      replayedReadings: 239,
      gapStart: last,
      gapEnd: arrival + MIN,
    });
  });
  it('late readings trickling into an open outage close it once instead of moving it (no revision churn)', () => {
    const e = engine(reg(30));
    e.ingest(realtime(T0, { a21026: 1 }));
    const all: Output[] = [];
    for (let w = T0; w <= T0 + 3 * HOUR; w += 20_000) all.push(...e.advance(w));
    // Old readings arrive one by one while the watermark keeps moving.
    for (let i = 1; i <= 30; i++) {
      all.push(...e.ingest(realtime(T0 + i * MIN, { a21026: 1 })));
      all.push(...e.advance(T0 + 3 * HOUR + i * 20_000));
    }
    const offline = devs(all, 'offline');
    const revisions = new Map<string, number>();
    for (const d of offline) revisions.set(d.id, (revisions.get(d.id) ?? 0) + 1);
    // Opened, resolved at the first arrival, settled: three events for the outage, never an update per reading.
    expect(offline.filter((d) => d.state === 'updated')).toEqual([]);
    expect(offline.some((d) => d.evidence.retracted === true)).toBe(false);
    expect(offline[0]).toMatchObject({ state: 'opened', windowStart: T0 });
    expect(revisions.get(offline[0]!.id)).toBeLessThanOrEqual(3);
  });
  it('suppresses low capture in hours the device was offline', () => {
    const e = engine(reg(30));
    e.ingest(realtime(T0, { a21026: 1 }));
    const out = e.advance(T0 + 5 * HOUR);
    expect(devs(out, 'offline')).toHaveLength(1);
    expect(devs(out, 'low-capture')).toEqual([]);
  });
});

describe('treatment idle while producing (产治污不同步)', () => {
  const meters = [
    { id: 'P1', enterpriseId: 'E1', role: 'production' as const, ratedWindowKwh: 10 },
    { id: 'T1', enterpriseId: 'E1', role: 'treatment' as const, servesMeterId: 'P1', ratedWindowKwh: 5 },
  ];
  /** `windows` 15-minute windows from `start`, production energy per window `prod`, treatment `treat`. */
  const scenario = (start: number, windows: number, prod: number, treat: number) => {
    const rs = [];
    for (let m = 0; m <= windows * 15; m++) {
      rs.push(
        energy('P1', start + m * MIN, (prod / 15) * m),
        energy('T1', start + m * MIN, (treat / 15) * m),
      );
    }
    return rs;
  };
  it('production at 19.9 % of rated is "stopped" (suppressed), at 20 % it is producing', () => {
    expect(devs(run(engine({ meters }), scenario(T0, 2, 1.99, 0), T0 + 30 * MIN))).toEqual([]);
    const d = devs(run(engine({ meters }), scenario(T0, 2, 2, 0), T0 + 30 * MIN), 'treatment-idle');
    expect(d).toEqual([
      expect.objectContaining({ state: 'opened', windowStart: T0, siteId: 'T1', subject: 'P1' }),
    ]);
    expect(d[0]!.evidence).toMatchObject({
      confirmWindows: 2,
      windows: [{ start: T0 }, { start: T0 + 15 * MIN }],
    });
  });
  it('treatment at 10 % of its rated energy is running (no deviation), below 10 % idle', () => {
    expect(devs(run(engine({ meters }), scenario(T0, 2, 8, 0.5), T0 + 30 * MIN))).toEqual([]);
    expect(devs(run(engine({ meters }), scenario(T0, 2, 8, 0.49), T0 + 30 * MIN))).toHaveLength(1);
  });
  it('needs 2 consecutive windows outside the resumption window', () => {
    expect(devs(run(engine({ meters }), scenario(T0, 1, 8, 0), T0 + 30 * MIN))).toEqual([]);
  });
  it('in the resumption window (day 30) one window confirms; on day 31 it does not', () => {
    const enterprises = [{ id: 'E1', resumptionDate: '2025-02-08' }]; // T0 (2025-03-10) is day 31
    const day30 = T0 - DAY;
    const d = devs(run(engine({ meters, enterprises }), scenario(day30, 1, 8, 0), day30 + 30 * MIN));
    expect(d).toEqual([expect.objectContaining({ state: 'opened', inResumptionWindow: true })]);
    expect(d[0]!.evidence).toMatchObject({ confirmWindows: 1 });
    expect(devs(run(engine({ meters, enterprises }), scenario(T0, 1, 8, 0), T0 + 30 * MIN))).toEqual([]);
  });
  it('uses the status timeline when no explicit resumption date is set', () => {
    const enterprises = [
      {
        id: 'E1',
        statusTimeline: [
          { status: 'shutdown' as const, from: '2025-01-01' },
          { status: 'resuming' as const, from: '2025-03-01' },
        ],
      },
    ];
    expect(devs(run(engine({ meters, enterprises }), scenario(T0, 1, 8, 0), T0 + 30 * MIN))).toHaveLength(1);
  });
});

describe('flags, range and recalculation', () => {
  it('any S flag on a monitored pollutant is suspected falsification', () => {
    const d = devs(run(engine(), [minute(T0, { a21026: [10, 'S'] })], T0), 'manual-flag');
    expect(d).toEqual([expect.objectContaining({ state: 'opened', suspectedFalsification: true })]);
  });
  it('flag T, a negative value and a value above the instrument range are out of range', () => {
    const rs = [
      minute(T0, { a21026: [10, 'T'] }),
      minute(T0 + 10 * MIN, { a21026: -1 }),
      minute(T0 + 20 * MIN, { a21026: 501 }),
    ];
    const d = devs(run(engine(), rs, T0), 'out-of-range');
    expect(d.map((x) => x.state)).toEqual(['opened']);
    expect(devs(run(engine(), [minute(T0, { a21026: 500 })], T0), 'out-of-range')).toEqual([]);
  });
  it('D flags for 59 minutes are tolerated, for 60 minutes a fault-flag deviation', () => {
    const rtReg = { devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 60 }] };
    const rs = (n: number) =>
      Array.from({ length: n + 1 }, (_, i) => realtime(T0 + i * MIN, { a21026: [1, 'D'] }));
    expect(devs(run(engine(rtReg), rs(59), T0), 'fault-flag')).toEqual([]);
    expect(devs(run(engine(rtReg), rs(60), T0), 'fault-flag')).toHaveLength(1);
  });
  it('M outside a declared maintenance window is an overrun, inside it is not', () => {
    const maintenanceWindows = [{ siteId: 'OUT1', start: T0, end: T0 + HOUR }];
    expect(
      devs(
        run(engine({ maintenanceWindows }), [minute(T0 + 50 * MIN, { a21026: [1, 'M'] })], T0),
        'maintenance-overrun',
      ),
    ).toEqual([]);
    expect(
      devs(
        run(engine({ maintenanceWindows }), [minute(T0 + HOUR, { a21026: [1, 'M'] })], T0),
        'maintenance-overrun',
      ),
    ).toHaveLength(1);
  });
  it('a reported hourly Avg more than 2 % off the recomputed mean is flagged, 2 % is not', () => {
    const hour = (avg: number) => [
      ...hourOfMinutes(T0, six(20)),
      hourReading(T0, { a21026: avg, a19001: 9 }),
    ];
    expect(devs(run(engine(), hour(20.4), T0 + HOUR), 'inconsistent-aggregate')).toEqual([]);
    const d = devs(run(engine(), hour(20.5), T0 + HOUR), 'inconsistent-aggregate');
    expect(d).toHaveLength(1);
    expect(d[0]!.evidence).toMatchObject({
      windows: [expect.objectContaining({ reportedAvg: 20.5, recomputedAvg: 20 })],
    });
  });
  it('a reported ZsAvg more than 2 % off the recomputed converted mean is flagged', () => {
    const rs = [...hourOfMinutes(T0, six(20, 15)), hourReading(T0, { a21026: 20 }, { a21026: 35 })]; // converted 40
    expect(devs(run(engine(), rs, T0 + HOUR), 'inconsistent-aggregate')).toHaveLength(1);
  });
  it('O2 ≥ 19.5 % for 30 minutes while pollutants are reported is suspected falsification', () => {
    const rtReg = { devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 60 }] };
    const rs = (n: number) =>
      Array.from({ length: n + 1 }, (_, i) => realtime(T0 + i * MIN, { a19001: 20.1, a21026: 10 + i }));
    expect(devs(run(engine(rtReg), rs(29), T0), 'o2-near-ambient')).toEqual([]);
    expect(devs(run(engine(rtReg), rs(30), T0), 'o2-near-ambient')).toEqual([
      expect.objectContaining({ suspectedFalsification: true }),
    ]);
  });
  it('zero for 30 minutes while flow > 0', () => {
    const rtReg = { devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 60 }] };
    const rs = (n: number) =>
      Array.from({ length: n + 1 }, (_, i) => realtime(T0 + i * MIN, { a21026: 0, a00000: 10 + i }));
    expect(devs(run(engine(rtReg), rs(29), T0), 'zero-while-running')).toEqual([]);
    expect(devs(run(engine(rtReg), rs(30), T0), 'zero-while-running')).toHaveLength(1);
    const none = Array.from({ length: 31 }, (_, i) => realtime(T0 + i * MIN, { a21026: 0, a00000: 0 }));
    expect(devs(run(engine(rtReg), none, T0), 'zero-while-running')).toEqual([]);
  });
});

describe('daily rules', () => {
  it('clustered below limit: ≥ 90 % of valid hours within 90–100 % of the limit (suspected)', () => {
    const rs = Array.from({ length: 24 }, (_, h) =>
      hourOfMinutes(T0 + h * HOUR, six(h < 22 ? 33 : 10)),
    ).flat();
    const out = run(engine(), rs, T0 + DAY);
    expect(
      out.find((o) => o.type === 'aggregate' && o.interval === 'day' && o.factor === 'a21026'),
    ).toMatchObject({ valid: true });
    expect(devs(out, 'clustered-below-limit')).toEqual([
      expect.objectContaining({ suspectedFalsification: true }),
    ]);
    const spread = Array.from({ length: 24 }, (_, h) =>
      hourOfMinutes(T0 + h * HOUR, six(h < 21 ? 33 : 10)),
    ).flat();
    expect(devs(run(engine(), spread, T0 + DAY), 'clustered-below-limit')).toEqual([]); // 87.5 %
  });
  it('wastewater: daily mean above the daily limit, flow-weighted', () => {
    const reg = {
      outlets: [{ id: 'OUT1', enterpriseId: 'E1', kind: 'water' as const }],
      limits: [{ siteId: 'OUT1', factor: 'w01018', value: 50, basis: 'daily' as const, converted: false }],
      instrumentRanges: [],
    };
    // 12 hours at 40 with flow 1, 12 hours at 70 with flow 3 → arithmetic 55, flow-weighted 62.5
    const rs = Array.from({ length: 24 }, (_, h) =>
      hourReading(T0 + h * HOUR, h < 12 ? { w01018: 40, w00000: 1 } : { w01018: 70, w00000: 3 }),
    );
    const out = run(engine(reg), rs, T0 + DAY);
    expect(
      out.find((o) => o.type === 'aggregate' && o.interval === 'day' && o.factor === 'w01018'),
    ).toMatchObject({
      value: 62.5,
      valid: true,
    });
    expect(devs(out, 'exceedance')).toEqual([expect.objectContaining({ windowStart: T0, factor: 'w01018' })]);
  });
});
