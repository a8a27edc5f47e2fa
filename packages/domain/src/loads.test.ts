import fc from 'fast-check';
import { atShanghaiTime } from './calendar.js';
import { carryOutletLoads, NO_CARRIED_LOADS, outletHourLoads, type CarriedLoads } from './load-series.js';
import {
  hourFlowVolume,
  hourLoad,
  hourlyVolumeM3,
  loadKg,
  loadTotalOf,
  loadTotals,
  NO_LOAD_SUMS,
  permitProgress,
  sumLoads,
  type HourLoad,
} from './loads.js';

const H = 3_600_000;
const at = (date: string, hour: number) => atShanghaiTime(date, hour).getTime();
const ok = (value: number) => ({ value, valid: true });
const bad = (value: number) => ({ value, valid: false });

describe('units', () => {
  it('turns a gas concentration and a volume into kg: 100 mg/m³ × 320,000 m³ = 32 kg', () => {
    expect(loadKg(100, 'mg/m3', 320_000)).toBeCloseTo(32, 12);
    expect(loadKg(100, 'mg/m³', 320_000)).toBeCloseTo(32, 12);
  });

  it('turns a wastewater concentration and a volume into kg: 40 mg/L × 120 m³ = 4.8 kg', () => {
    expect(loadKg(40, 'mg/L', 120)).toBeCloseTo(4.8, 12);
    expect(loadKg(500, 'ug/L', 1000)).toBeCloseTo(0.5, 12);
  });

  it('refuses a unit without a mass load (pH)', () => {
    expect(() => loadKg(7, 'pH', 10)).toThrow(RangeError);
  });

  it('gives an hour of a flow rate in m³ per its unit', () => {
    expect(hourlyVolumeM3(2, 'm3/s')).toBe(7200);
    expect(hourlyVolumeM3(120, 'm³/h')).toBe(120);
    expect(hourlyVolumeM3(10, 'L/s')).toBeCloseTo(36, 12);
    expect(hourlyVolumeM3(10, undefined)).toBeNull();
    expect(hourlyVolumeM3(10, 'mg/L')).toBeNull();
  });

  it('takes the flow Cou (m³) before the mean rate, and the rate only with a known unit', () => {
    expect(hourFlowVolume({ cou: ok(100), mean: { value: 2, valid: true, unit: 'm3/s' } })).toEqual(ok(100));
    expect(hourFlowVolume({ mean: { value: 2, valid: true, unit: 'm3/s' } })).toEqual(ok(7200));
    expect(hourFlowVolume({ mean: { value: 2, valid: true, unit: null } })).toEqual({
      value: null,
      valid: false,
    });
    expect(hourFlowVolume({ cou: bad(100) })).toEqual(bad(100));
    expect(hourFlowVolume({})).toBeUndefined();
  });
});

describe('hourly loads and their totals', () => {
  const d = '2026-03-01';
  // Four hours of a wastewater outlet (mg/L, m³):
  //  00:00 valid 40 mg/L × 100 m³ = 4.0 kg, logger Cou 4.1
  //  01:00 valid 50 mg/L × 120 m³ = 6.0 kg, logger Cou 5.9
  //  02:00 concentration flagged invalid (excluded, counted), logger Cou 3.0 (not compared)
  //  03:00 no data at all (missing)
  const hours: HourLoad[] = [
    hourLoad({ start: at(d, 0), concentration: ok(40), flowM3: ok(100), reported: ok(4.1) }, 'mg/L'),
    hourLoad({ start: at(d, 1), concentration: ok(50), flowM3: ok(120), reported: ok(5.9) }, 'mg/L'),
    hourLoad({ start: at(d, 2), concentration: bad(60), flowM3: ok(100), reported: ok(3) }, 'mg/L'),
  ];

  it('marks each hour valid, invalid or missing', () => {
    expect(hours.map((h) => h.status)).toEqual(['valid', 'valid', 'invalid']);
    expect(hours[0]!.computedKg).toBeCloseTo(4, 12);
    expect(hours[2]!.computedKg).toBeNull();
    expect(hourLoad({ start: 0, concentration: ok(1) }, 'mg/L').status).toBe('missing');
    expect(hourLoad({ start: 0, concentration: ok(1), flowM3: bad(3) }, 'mg/L').status).toBe('invalid');
    expect(hourLoad({ start: 0, reported: bad(3) }, 'mg/L').reportedKg).toBeNull();
  });

  it('sums the valid hours, counts the excluded ones and compares only the hours with both figures', () => {
    const t = sumLoads(hours, at(d, 0), at(d, 4));
    expect(t.computedKg).toBeCloseTo(10, 12);
    // every valid Cou of the period: 4.1 + 5.9 + 3.0
    expect(t.reportedKg).toBeCloseTo(13, 12);
    expect([t.hours, t.validHours, t.invalidHours, t.missingHours]).toEqual([4, 2, 1, 1]);
    // compared: 10.0 computed against 4.1 + 5.9 = 10.0 reported
    expect(t.check).toMatchObject({ hours: 2, flagged: false });
    expect(t.check!.relativeDifference).toBeCloseTo(0, 12);
  });

  it('flags a logger whose Cou runs away from concentration × flow beyond the tolerance', () => {
    // flow-weighted: 40 × 100 + 50 × 120 → 10 kg; a logger summing 40 × 150 + 50 × 150 → 13.5 kg: +35 %
    const drifted = [
      hourLoad({ start: at(d, 0), concentration: ok(40), flowM3: ok(100), reported: ok(6) }, 'mg/L'),
      hourLoad({ start: at(d, 1), concentration: ok(50), flowM3: ok(120), reported: ok(7.5) }, 'mg/L'),
    ];
    const t = sumLoads(drifted, at(d, 0), at(d, 2), 0.1);
    expect(t.check!.relativeDifference).toBeCloseTo(0.35, 12);
    expect(t.check!.flagged).toBe(true);
    expect(sumLoads(drifted, at(d, 0), at(d, 2), 0.4).check!.flagged).toBe(false);
    // the arithmetic mean × total volume would give 45 × 220 = 9.9 kg: the hourly sum is the flow-weighted figure
    expect(t.computedKg).toBeCloseTo(10, 12);
  });

  it('has no check when no hour has both figures, and a null reported load when no Cou was sent', () => {
    const t = sumLoads(
      [hourLoad({ start: at(d, 0), concentration: ok(40), flowM3: ok(100) }, 'mg/L')],
      at(d, 0),
      at(d, 1),
    );
    expect(t.check).toBeNull();
    expect(t.reportedKg).toBeNull();
  });

  it('rolls hours into Shanghai days and months, clipped to the range', () => {
    // 2026-02-28 23:00 and 2026-03-01 00:00 Shanghai: different days and different months
    const two = [
      hourLoad({ start: at('2026-02-28', 23), concentration: ok(100), flowM3: ok(10_000) }, 'mg/m3'),
      hourLoad({ start: at('2026-03-01', 0), concentration: ok(200), flowM3: ok(10_000) }, 'mg/m3'),
    ];
    const from = at('2026-02-28', 0);
    const to = at('2026-03-02', 0);
    const days = loadTotals(two, 'day', from, to);
    expect(days.map((x) => [x.computedKg, x.validHours, x.missingHours])).toEqual([
      [1, 1, 23],
      [2, 1, 23],
    ]);
    const months = loadTotals(two, 'month', from, to);
    expect(months.map((x) => [new Date(x.start).toISOString(), x.hours, x.computedKg])).toEqual([
      ['2026-02-27T16:00:00.000Z', 24, 1],
      ['2026-02-28T16:00:00.000Z', 24, 2],
    ]);
    expect(
      loadTotals(two, 'hour', at('2026-02-28', 23), at('2026-03-01', 1)).map((x) => x.computedKg),
    ).toEqual([1, 2]);
  });

  it('keeps the last of duplicate hours', () => {
    const dup = [
      hourLoad({ start: 0, concentration: ok(1), flowM3: ok(1000) }, 'mg/L'),
      hourLoad({ start: 0, concentration: ok(2), flowM3: ok(1000) }, 'mg/L'),
    ];
    expect(sumLoads(dup, 0, H).computedKg).toBeCloseTo(2, 12);
  });
});

describe('permit progress', () => {
  // 2026 is 365 days; 2 April 00:00 Shanghai is day 91 → 91/365 of the year elapsed
  const asOf = at('2026-04-02', 0);

  it('is ok at or under the pro-rata share', () => {
    const p = permitProgress(24.9, 100, asOf);
    expect(p.elapsedShare).toBeCloseTo(91 / 365, 12);
    expect(p.proRataKg).toBeCloseTo((100 * 91) / 365, 12);
    expect(p.state).toBe('ok');
  });

  it('is ahead above the pro-rata share (24.93 kg) and exceeded above the permit', () => {
    expect(permitProgress(25, 100, asOf).state).toBe('ahead');
    expect(permitProgress(25, 100, asOf, 0.05).state).toBe('ok');
    expect(permitProgress(100.5, 100, asOf).state).toBe('exceeded');
    // 23:00 on 31 December: 8759 of 8760 hours elapsed, pro rata 99.99 kg
    expect(permitProgress(99.9, 100, at('2026-12-31', 23)).state).toBe('ok');
  });
});

describe('running sums carried from run to run (the annual-load round)', () => {
  const Y = at('2026-01-01', 0);
  const N = 48;
  const flowFactor = 'w00000';
  const factors = [
    { factor: 'w01018', concentrationUnit: 'mg/L' },
    { factor: 'w21003', concentrationUnit: 'mg/L' },
  ];
  // Per hour: each factor's aggregate (value and validity) or none, the flow's mean and/or Cou, reported Cou.
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const value = fc.double({ min: 0, max: 500, noNaN: true });
  const hourArb = fc.record({
    conc: fc.array(maybe(fc.record({ value, valid: fc.boolean() })), { minLength: 2, maxLength: 2 }),
    rep: fc.array(maybe(fc.record({ Cou: value, flag: fc.constantFrom('N', 'D') })), {
      minLength: 2,
      maxLength: 2,
    }),
    flowMean: maybe(fc.record({ value, valid: fc.boolean() })),
    flowCou: maybe(value),
    unit: fc.boolean(),
  });
  type Hour = ReturnType<(typeof hourArb)['generate']>['value'];
  type Mean = { value: number; valid: boolean } | undefined;
  type Row = Record<string, unknown> | undefined;
  const seriesOf = (hs: Hour[]) => {
    const agg = (factor: string, pick: (h: Hour) => Mean) => ({
      tags: { factor },
      rows: hs.flatMap((h, i) => {
        const v = pick(h);
        return v === undefined ? [] : [{ time: Y + i * H, value: v.value, valid: v.valid }];
      }),
    });
    const cou = (factor: string, pick: (h: Hour) => Row) => ({
      tags: { factor },
      rows: hs.flatMap((h, i) => {
        const v = pick(h);
        return v === undefined ? [] : [{ time: Y + i * H, ...v }];
      }),
    });
    return {
      aggregates: [
        ...factors.map((f, k) => agg(f.factor, (h) => h.conc[k])),
        agg(flowFactor, (h) => h.flowMean),
      ],
      hourly: [
        ...factors.map((f, k) => cou(f.factor, (h) => h.rep[k])),
        cou(flowFactor, (h) =>
          h.flowCou === undefined && !h.unit
            ? undefined
            : { ...(h.flowCou === undefined ? {} : { Cou: h.flowCou }), ...(h.unit ? { unit: 'm3/h' } : {}) },
        ),
      ],
    };
  };
  const within = <S extends { rows: readonly { time: number }[] }>(ss: S[], from: number, to: number) =>
    ss.map((s) => ({ ...s, rows: s.rows.filter((r) => r.time >= from && r.time < to) }));

  it('equal a full recompute to the last bit, however the hours are split into rounds', () => {
    fc.assert(
      fc.property(
        fc.array(hourArb, { minLength: N, maxLength: N }),
        fc.uniqueArray(fc.integer({ min: 1, max: N - 1 }), { maxLength: 6 }),
        (hs, cuts) => {
          const { aggregates, hourly } = seriesOf(hs);
          const end = Y + N * H;
          const full = outletHourLoads(aggregates, hourly, flowFactor, factors).map((f) =>
            sumLoads(f.hours, Y, end),
          );
          const bounds = [Y, ...[...cuts].sort((a, b) => a - b).map((c) => Y + c * H), end];
          // As the round does: carry the sums from run to run, reading [Y, to) again when told to.
          let carried = NO_CARRIED_LOADS(factors.length);
          for (let i = 0; i + 1 < bounds.length; i++) {
            const [from, to] = [bounds[i]!, bounds[i + 1]!];
            const carry = (prev: CarriedLoads, start: number) =>
              carryOutletLoads(
                prev,
                within(aggregates, start, to),
                within(hourly, start, to),
                flowFactor,
                factors,
                { start: Y, from: start, to },
              );
            carried = carry(carried, from) ?? carry(NO_CARRIED_LOADS(factors.length), Y)!;
          }
          const sums = carried.sums;
          expect(sums.map((s) => loadTotalOf(s, Y, end))).toEqual(full);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('start from nothing: no hours give zero kg, no reported load and every hour missing', () => {
    expect(loadTotalOf(NO_LOAD_SUMS, 0, 3 * H)).toEqual({
      start: 0,
      end: 3 * H,
      computedKg: 0,
      reportedKg: null,
      hours: 3,
      validHours: 0,
      invalidHours: 0,
      missingHours: 3,
      check: null,
    });
  });
});
