import fc from 'fast-check';
import { createEngine } from '../src/engine.js';
import type { Output, Reading, RegistryView } from '../src/model.js';
import { createNaiveEngine } from './naive-engine.js';
import {
  DAY,
  HOUR,
  MIN,
  T0,
  config,
  energy,
  hourReading,
  lifecycleViolations,
  minute,
  realtime,
  registry,
} from './testkit.js';

// The incremental engine must give exactly the outputs of the naive one (the whole buffer re-evaluated by the pure
// Evaluator on every change), whatever the order, lateness, duplicates and watermarks of the input.
const reg: RegistryView = registry({
  devices: [
    { id: 'MN1', siteId: 'OUT1', cadenceSeconds: 60 },
    { id: 'MN2', siteId: 'OUT2', cadenceSeconds: 600, cadenceInterval: 'minute' },
  ],
  outlets: [
    { id: 'OUT1', enterpriseId: 'E1', kind: 'gas', referenceO2: 9 },
    { id: 'OUT2', enterpriseId: 'E1', kind: 'water' },
  ],
  limits: [
    { siteId: 'OUT1', factor: 'a21026', value: 35, basis: 'hourly', converted: true },
    { siteId: 'OUT2', factor: 'w01018', value: 50, basis: 'daily', converted: false },
  ],
  meters: [
    { id: 'P1', enterpriseId: 'E1', role: 'production', ratedWindowKwh: 10 },
    {
      id: 'T1',
      enterpriseId: 'E1',
      role: 'treatment',
      servesMeterId: 'P1',
      ratedWindowKwh: 5,
      facilities: [{ siteId: 'OUT1', code: 'SB1' }],
    },
  ],
  maintenanceWindows: [{ siteId: 'OUT1', start: T0 + HOUR, end: T0 + 2 * HOUR }],
});

// One late start / early stop opens a deviation here, so the random streams reach those rules.
const cfg = config({ rules: { treatmentTiming: { confirmWindows: 1 } } });

type Op = { kind: 'ingest'; reading: Reading } | { kind: 'advance'; to: number };

const itemArb = fc.record({
  what: fc.constantFrom(
    'rt',
    'rt',
    'rt',
    'min',
    'min',
    'hour',
    'water',
    'energy',
    'energy',
    'burst',
    'meters',
    'shift',
    'shift',
    'status',
  ),
  lag: fc.constantFrom(0, 10, 15, 20, 40),
  lead: fc.constantFrom(0, 15, 20, 30),
  rs: fc.constantFrom(0, 0, 1, 2),
  len: fc.integer({ min: 5, max: 80 }),
  slot: fc.integer({ min: 0, max: 4 * 60 - 1 }), // minutes over 4 hours (plus day jumps below)
  day: fc.constantFrom(0, 0, 0, 0, 1, 3),
  so2: fc.constantFrom(0, 10, 20, 34, 35, 36, 50, 80, 600, -1),
  flag: fc.constantFrom('N', 'N', 'N', 'N', 'N', 'D', 'S', 'M', 'T'),
  o2: fc.constantFrom(8.5, 9, 9.5, 19.6, 20.5),
  flow: fc.constantFrom(0, 5),
  kwh: fc.constantFrom(0, 0.1, 1, 3),
  advance: fc.integer({ min: 0, max: 3 }),
  dup: fc.boolean(),
});

const opsArb = fc.array(itemArb, { minLength: 1, maxLength: 60 }).map((items) => {
  const ops: Op[] = [];
  let wm = T0;
  let cumP = 0;
  let cumT = 0;
  items.forEach((it, i) => {
    const t = T0 + it.day * DAY + it.slot * MIN;
    let r: Reading;
    if (it.what === 'shift') {
      // Production stopped 10 min, runs `len` min; treatment from `lag` after its start to `lead` before its end.
      for (let k = -10; k < it.len + 10; k++) {
        const tk = t + k * MIN;
        const prodOn = k >= 0 && k < it.len;
        const treatOn = k >= it.lag && k < it.len - it.lead;
        cumP += prodOn ? 1 : 0.05;
        cumT += treatOn ? 0.5 : 0.01;
        ops.push({ kind: 'ingest', reading: { ...energy('P1', tk, cumP), eventId: `sp-${i}-${k}` } });
        ops.push({ kind: 'ingest', reading: { ...energy('T1', tk, cumT), eventId: `st-${i}-${k}` } });
        if (k % 3 === 0) {
          // Zero SO2 without flow while production runs (zero while production runs).
          const z = realtime(tk, { a21026: it.so2 === 0 ? 0 : 12, a19001: 9, a00000: 0 });
          z.eventId = `sz-${i}-${k}`;
          ops.push({ kind: 'ingest', reading: z });
        }
      }
      if (it.advance > 0) {
        wm = Math.max(wm, t + (it.len + 10) * MIN);
        ops.push({ kind: 'advance', to: wm });
      }
      return;
    }
    if (it.what === 'status') {
      // Facility status of the treatment facility, as `SB1` stat `RS` or factor `SB1-RS`.
      for (let k = 0; k < it.len; k += 2) {
        const tk = t + k * MIN;
        ops.push({
          kind: 'ingest',
          reading: {
            eventId: `ss-${i}-${k}`,
            enterpriseId: 'E1',
            siteId: 'OUT1',
            deviceId: 'MN1',
            kind: 'status',
            interval: 'realtime',
            dataTime: tk,
            measurements: [
              k % 4 === 0
                ? { factor: 'SB1', stat: 'RS', value: it.rs }
                : { factor: 'SB1-RS', stat: 'Rtd', value: it.rs },
            ],
          },
        });
      }
      if (it.advance > 0) {
        wm = Math.max(wm, t + it.len * MIN);
        ops.push({ kind: 'advance', to: wm });
      }
      return;
    }
    if (it.what === 'burst' || it.what === 'meters') {
      // A run of consecutive one-minute values (flatline, zero, flags, O2) or of both meters (treatment idle).
      for (let k = 0; k < it.len; k++) {
        const tk = t + k * MIN;
        if (it.what === 'burst') {
          const b = realtime(tk, { a21026: [it.so2, it.flag], a19001: it.o2, a00000: it.flow });
          b.eventId = `b-${i}-${k}`;
          ops.push({ kind: 'ingest', reading: b });
        } else {
          cumP += it.kwh;
          cumT += it.so2 > 30 ? 0.01 : it.kwh;
          ops.push({ kind: 'ingest', reading: { ...energy('P1', tk, cumP), eventId: `bp-${i}-${k}` } });
          ops.push({ kind: 'ingest', reading: { ...energy('T1', tk, cumT), eventId: `bt-${i}-${k}` } });
        }
      }
      if (it.advance > 0) {
        wm = Math.max(wm, t + it.len * MIN);
        ops.push({ kind: 'advance', to: wm });
      }
      return;
    }
    switch (it.what) {
      case 'rt':
        r = realtime(t, { a21026: [it.so2, it.flag], a19001: it.o2, a00000: it.flow });
        r.eventId = `rt-${i % 7 === 6 ? 0 : i}`;
        break;
      case 'min':
        r = minute(Math.floor(t / (10 * MIN)) * 10 * MIN, { a21026: [it.so2, it.flag], a19001: it.o2 });
        r.eventId = `mi-${i}`;
        break;
      case 'hour':
        r = hourReading(
          Math.floor(t / HOUR) * HOUR,
          { a21026: it.so2, a19001: it.o2 },
          { a21026: it.so2 * 1.1 },
        );
        r.eventId = `h-${i}`;
        break;
      case 'water':
        r = {
          ...minute(Math.floor(t / HOUR) * HOUR, { w01018: [it.so2 + 30, it.flag], w00000: it.flow }),
          siteId: 'OUT2',
          deviceId: 'MN2',
          interval: 'hour',
          periodSeconds: 3600,
          eventId: `w-${i}`,
        };
        break;
      default:
        cumP += it.kwh * 3;
        cumT += it.so2 > 30 ? 0 : it.kwh;
        r = { ...energy(i % 2 ? 'P1' : 'T1', t, i % 2 ? cumP : cumT), eventId: `e-${i}` };
    }
    ops.push({ kind: 'ingest', reading: r });
    if (it.dup) ops.push({ kind: 'ingest', reading: r });
    if (it.advance > 0) {
      wm = Math.max(wm, t + [0, 30_000, 10 * MIN, 70 * MIN][it.advance]!);
      ops.push({ kind: 'advance', to: wm });
    }
  });
  ops.push({ kind: 'advance', to: wm + 2 * HOUR });
  ops.push({ kind: 'advance', to: T0 + 6 * DAY });
  return ops;
});

function apply(engine: { ingest(r: Reading): Output[]; advance(t: number): Output[] }, ops: Op[]): Output[] {
  const out: Output[] = [];
  for (const op of ops)
    out.push(...(op.kind === 'ingest' ? engine.ingest(structuredClone(op.reading)) : engine.advance(op.to)));
  return out;
}

/** Runs both engines on the ops and expects byte-identical outputs; returns the incremental engine's. */
function sameAsOracle(c: typeof cfg, ops: Op[]): Output[] {
  const fast = apply(createEngine(c, reg), ops);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(apply(createNaiveEngine(c, reg), ops)));
  // domain-rules §3: opened → updated → resolved, and resolved stays resolved (the oracle shares this rule).
  expect(lifecycleViolations(fast)).toStrictEqual([]);
  return fast;
}

describe('incremental engine = naive re-evaluation (oracle)', () => {
  it('gives exactly the outputs of the naive engine on random streams', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        sameAsOracle(cfg, ops);
      }),
      { numRuns: 150 },
    );
  });

  it('the oracle streams do produce deviations of many rules (the property is not vacuous)', () => {
    const rules = new Set<string>();
    let idleByStatus = false;
    let heldReplayed = 0;
    let follows = 0;
    fc.assert(
      fc.property(opsArb, (ops) => {
        for (const o of apply(createEngine(cfg, reg), ops)) {
          if (o.type !== 'deviation') continue;
          rules.add(o.rule);
          // A series opened where a resolved one stood (resolved is final: a new id that follows it).
          if (o.state === 'opened' && o.evidence.follows !== undefined) follows += 1;
          // Offline closed by arrival with a replay inside the gap (late data that must not retract it).
          if (o.rule === 'offline' && Number(o.evidence.replayedReadings ?? 0) > 0) heldReplayed += 1;
          const ws = (o.evidence.windows ?? []) as Record<string, unknown>[];
          if (
            o.rule === 'treatment-idle' &&
            ws.some((w) => w.facilityOff === true && w.treatmentIdle === false)
          )
            idleByStatus = true;
        }
      }),
      { numRuns: 300, seed: 7 },
    );
    expect(idleByStatus).toBe(true);
    expect(heldReplayed).toBeGreaterThan(0);
    expect(follows).toBeGreaterThan(0);
    for (const rule of [
      'exceedance',
      'flatline',
      'zero-while-running',
      'out-of-range',
      'offline',
      'fault-flag',
      'manual-flag',
      'maintenance-overrun',
      'o2-near-ambient',
      'treatment-idle',
      'treatment-late-start',
      'treatment-early-stop',
    ])
      expect([...rules]).toContain(rule);
  });

  it('zero while production runs (no flow factor at all) also matches the oracle and occurs', () => {
    const noFlow = config({
      rules: { treatmentTiming: { confirmWindows: 1 }, zeroWhileRunning: { flowFactors: [] } },
    });
    let zeros = 0;
    fc.assert(
      fc.property(opsArb, (ops) => {
        const fast = sameAsOracle(noFlow, ops);
        zeros += fast.filter((o) => o.type === 'deviation' && o.rule === 'zero-while-running').length;
      }),
      { numRuns: 60, seed: 11 },
    );
    expect(zeros).toBeGreaterThan(0);
  });
});

// Alternating out-of-range values in one series: every other point opens and closes an out-of-range episode, so the
// series carries one episode per two readings. This was cubic (every reading reconciled every episode of the series
// against every record), about 40 s for 3,000 readings.
describe('alternating out-of-range values', () => {
  const altArb = fc
    .array(fc.record({ bad: fc.boolean(), late: fc.nat({ max: 9 }), flag: fc.constantFrom('T', 'N', 'N') }), {
      minLength: 20,
      maxLength: 120,
    })
    .map((items) => {
      const ops: Op[] = [];
      items.forEach((it, i) => {
        const t = T0 + i * MIN;
        const reading = realtime(t, { a21026: it.bad ? 600 : 20, a19001: [9 + (i % 3) / 10, it.flag] });
        // Now and then a point arrives late (after later ones), which refolds the series from a checkpoint.
        if (it.late === 0 && ops.length > 3) ops.splice(ops.length - 2, 0, { kind: 'ingest', reading });
        else ops.push({ kind: 'ingest', reading });
        ops.push({ kind: 'advance', to: t + 30_000 });
      });
      return ops;
    });

  it('matches the naive engine on random alternating series with late points', () => {
    fc.assert(
      fc.property(altArb, (ops) => {
        sameAsOracle(cfg, ops);
      }),
      { numRuns: 40, seed: 3 },
    );
  });

  it('3,000 alternating readings: one episode opened and resolved per out-of-range point, each once', () => {
    const e = createEngine(cfg, reg);
    const out: Output[] = [];
    for (let i = 0; i < 3_000; i++) {
      const t = T0 + i * 30_000;
      out.push(...e.ingest(realtime(t, { a21026: i % 2 === 0 ? 600 : 20 })));
      out.push(...e.advance(t));
    }
    const oor = out.filter((o) => o.type === 'deviation' && o.rule === 'out-of-range');
    const opened = oor.filter((o) => o.type === 'deviation' && o.state === 'opened');
    const resolved = oor.filter((o) => o.type === 'deviation' && o.state === 'resolved');
    // 1,500 out-of-range points, each ended by the next (in-range) point.
    expect(opened).toHaveLength(1_500);
    expect(resolved).toHaveLength(1_500);
    expect(new Set(opened.map((o) => (o.type === 'deviation' ? o.id : ''))).size).toBe(1_500);
    expect(oor.filter((o) => o.type === 'deviation' && o.state === 'updated')).toHaveLength(0);
  });
});

// The workspace keeps a site's hours, days, windows and window episodes between evaluations and recomputes only what
// changed (window-rules.ts WindowMemo). Late readings into kept hours and days must change the results exactly as the
// naive engine's re-evaluation of the whole buffer does, reading by reading.
describe('late readings into kept hours and days (window memo)', () => {
  const so2 = (h: number) => (h % 6 < 3 ? 40 : 20);
  const water = (t: number, v: number, id: string): Reading => ({
    ...minute(t, { w01018: v, w00000: 5 }),
    siteId: 'OUT2',
    deviceId: 'MN2',
    interval: 'hour',
    periodSeconds: 3600,
    eventId: id,
  });
  const ops: Op[] = [];
  // 28 hours of 10-minute averages, hourly reports and water hours, advanced hour by hour (day 0 closes).
  for (let h = 0; h < 28; h++) {
    const t = T0 + h * HOUR;
    for (let m = 0; m < 60; m += 10)
      ops.push({
        kind: 'ingest',
        reading: minute(t + m * MIN, { a21026: so2(h), a19001: 9 }, { id: `m-${h}-${m}` }),
      });
    ops.push({
      kind: 'ingest',
      reading: { ...hourReading(t, { a21026: so2(h) }, { a21026: so2(h) }), eventId: `h-${h}-a` },
    });
    ops.push({ kind: 'ingest', reading: water(t, 45, `w-${h}-a`) });
    ops.push({ kind: 'advance', to: t + HOUR + MIN });
  }
  /** The outputs of the late reading `r`, added after the history and the late readings before it. */
  const late = (r: Reading): (() => Output[]) => {
    const i = ops.push({ kind: 'ingest', reading: r }) - 1;
    return () => fast[i]!;
  };
  const minute4 = late(minute(T0 + 4 * HOUR + 20 * MIN, { a21026: 300, a19001: 9 }, { id: 'm-4-20-b' }));
  const o2At10 = late(minute(T0 + 10 * HOUR, { a19001: 15 }, { id: 'm-10-0-b' }));
  const report20 = late({
    ...hourReading(T0 + 20 * HOUR, { a21026: 90 }, { a21026: 90 }),
    eventId: 'h-20-b',
  });
  const water12 = late(water(T0 + 12 * HOUR, 500, 'w-12-b'));
  const losing13 = late(water(T0 + 13 * HOUR, 500, 'w-13-0')); // an earlier eventId at the same time: kept row stays

  let fast: Output[][] = [];
  let naive: Output[][] = [];
  beforeAll(() => {
    const e = createEngine(cfg, reg);
    const n = createNaiveEngine(cfg, reg);
    fast = ops.map((op) => apply(e, [op]));
    naive = ops.map((op) => apply(n, [op]));
  });

  const aggregatesOf = (out: Output[], interval: 'hour' | 'day') =>
    out.flatMap((o) =>
      o.type === 'aggregate' && o.interval === interval
        ? [`${o.siteId}|${o.factor}|${(o.start - T0) / HOUR}`]
        : [],
    );
  const deviationsOf = (out: Output[]) =>
    out.flatMap((o) =>
      o.type === 'deviation' ? [`${o.rule}|${o.state}|${(o.windowStart - T0) / HOUR}`] : [],
    );

  it('gives the outputs of the naive engine reading by reading', () => {
    expect(fast).toHaveLength(ops.length);
    for (let i = 0; i < ops.length; i++) expect(JSON.stringify(fast[i])).toBe(JSON.stringify(naive[i]));
  });

  it('a late 10-minute value into a kept hour updates that hour, its day and the exceedance episodes', () => {
    expect(aggregatesOf(minute4(), 'hour')).toEqual(['OUT1|a21026|4']);
    expect(aggregatesOf(minute4(), 'day')).toEqual(['OUT1|a21026|0']);
    expect(deviationsOf(minute4()).some((d) => d.startsWith('exceedance|'))).toBe(true);
  });

  it('a late O2 value changes the converted values of the other factors in that hour only', () => {
    expect(aggregatesOf(o2At10(), 'hour')).toEqual(['OUT1|a19001|10', 'OUT1|a21026|10']);
    expect(deviationsOf(o2At10()).length).toBeGreaterThan(0);
  });

  it('a later hourly report replacing a kept one is judged again (inconsistent aggregate)', () => {
    expect(deviationsOf(report20())).toContain('inconsistent-aggregate|opened|20');
    // The hour's aggregate comes from its 10-minute values, which did not change.
    expect(aggregatesOf(report20(), 'hour')).toEqual([]);
  });

  it('a late water hour changes its daily mean and the daily exceedance; a losing duplicate changes nothing', () => {
    expect(aggregatesOf(water12(), 'day')).toEqual(['OUT2|w01018|0']);
    expect(deviationsOf(water12()).some((d) => d.startsWith('exceedance|'))).toBe(true);
    expect(losing13()).toEqual([]);
  });
});
