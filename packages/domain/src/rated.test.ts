import { deriveRatedWindowEnergy } from './rated.js';
import { isStablyCompliant, stabilityMetrics } from './stability.js';
import { evaluateWindows } from './episodes.js';
import { DAY, HOUR, T0 } from '../test/testkit.js';

describe('rated window energy', () => {
  const asOf = T0 + 60 * DAY;
  it('is the mode of the energies above their mean, ignoring windows below 0.2 kWh', () => {
    const ws = [0.1, 0.1, 0.1, 0.1, 0.1, 2, 2, 9, 9, 9, 10].map((kwh, i) => ({ start: T0 + i * HOUR, kwh }));
    // mean of ≥ 0.2 windows = 41/6 ≈ 6.8; above it: 9, 9, 9, 10 → mode 9
    expect(deriveRatedWindowEnergy(ws, asOf)).toBe(9);
  });
  it('ignores windows older than 60 days and returns null without usable windows', () => {
    expect(
      deriveRatedWindowEnergy(
        [
          { start: T0 - 1, kwh: 50 },
          { start: T0, kwh: 4 },
        ],
        asOf,
      ),
    ).toBe(4);
    expect(deriveRatedWindowEnergy([{ start: T0, kwh: 0.19 }], asOf)).toBeNull();
  });
});

describe('window state machine', () => {
  const w = (conds: (boolean | null)[]) => conds.map((cond, i) => ({ start: i, end: i + 1, cond }));
  it('an unknown window breaks confirmation but neither clears nor resets clearing', () => {
    expect(evaluateWindows(w([true, null, true]), { confirm: () => 2, clear: 1 })).toEqual([]);
    const eps = evaluateWindows(w([true, true, false, null, false, true]), { confirm: () => 2, clear: 2 });
    expect(eps.map((e) => [e.start, e.end])).toEqual([[0, 2]]);
  });
});

describe('stability metrics', () => {
  const agg = (start: number, value: number, valid = true) => ({
    type: 'aggregate' as const,
    enterpriseId: 'E1',
    siteId: 'OUT1',
    factor: 'a21026',
    interval: 'hour' as const,
    start,
    value,
    convertedValue: value,
    valid,
    flag: valid ? 'N' : 'D',
    coverage: 1,
  });
  const base = {
    from: T0,
    to: T0 + 10 * HOUR,
    factors: [{ siteId: 'OUT1', factor: 'a21026' }],
    limits: [{ siteId: 'OUT1', factor: 'a21026', value: 35, basis: 'hourly' as const, converted: true }],
    deviations: [],
    confirmedIds: new Set<string>(),
  };
  const exceedance = (id: string, revision = 2) => ({
    type: 'deviation' as const,
    id,
    rule: 'exceedance' as const,
    state: 'resolved' as const,
    revision,
    severity: 'minor' as const,
    enterpriseId: 'E1',
    siteId: 'OUT1',
    subject: 'a21026',
    windowStart: T0 + HOUR,
    windowEnd: T0 + 2 * HOUR,
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: {} as Record<string, unknown>,
  });
  it('effective transmission rate 90 % is stably compliant, 80 % is not', () => {
    const nine = Array.from({ length: 9 }, (_, i) => agg(T0 + i * HOUR, 35));
    const m9 = stabilityMetrics({ ...base, hourly: nine });
    expect(m9).toMatchObject({
      transmissionRate: 0.9,
      validityRate: 1,
      complianceRate: 1,
      exceedanceWindows: 0,
    });
    expect(isStablyCompliant(m9)).toBe(true);
    const m8 = stabilityMetrics({ ...base, hourly: [...nine.slice(0, 8), agg(T0 + 8 * HOUR, 1, false)] });
    expect(m8.effectiveTransmissionRate).toBeCloseTo(0.8);
    expect(isStablyCompliant(m8)).toBe(false);
  });
  it('an exceedance window or a confirmed falsification breaks stable compliance', () => {
    const hourly = Array.from({ length: 10 }, (_, i) => agg(T0 + i * HOUR, 10));
    const dev = exceedance('x');
    expect(isStablyCompliant(stabilityMetrics({ ...base, hourly }))).toBe(true);
    expect(isStablyCompliant(stabilityMetrics({ ...base, hourly, deviations: [dev] }))).toBe(false);
    const fl = { ...dev, id: 'f', rule: 'flatline' as const, suspectedFalsification: true };
    expect(isStablyCompliant(stabilityMetrics({ ...base, hourly, deviations: [fl] }))).toBe(true);
    expect(
      isStablyCompliant(
        stabilityMetrics({ ...base, hourly, deviations: [fl], confirmedIds: new Set(['f']) }),
      ),
    ).toBe(false);
  });
  it('a confirmed exceedance counts even when the engine later retracted it; an unconfirmed retracted one does not', () => {
    const hourly = Array.from({ length: 10 }, (_, i) => agg(T0 + i * HOUR, 10));
    const ex = { ...exceedance('e', 3), evidence: { retracted: true } };
    expect(stabilityMetrics({ ...base, hourly, deviations: [ex] }).exceedanceWindows).toBe(0);
    const m = stabilityMetrics({ ...base, hourly, deviations: [ex], confirmedIds: new Set(['e']) });
    expect(m).toMatchObject({ exceedanceWindows: 1, confirmedFalsifications: 0 });
    expect(isStablyCompliant(m)).toBe(false);
  });
  it("the compliance rate judges the valid hours of a daily-basis (wastewater) limit by their day's valid daily mean", () => {
    // Two Shanghai days of COD (limit 50 mg/L, daily basis): day 1's mean 40 is compliant although two of its hours
    // are above 50; day 2's mean 60 exceeds, so its 22 valid hours (2 invalid) are not compliant. A third day's
    // aggregate is invalid: its hours are valid but cannot be judged.
    const cod = (start: number, value: number, valid = true, interval: 'hour' | 'day' = 'hour') => ({
      ...agg(start, value, valid),
      factor: 'w01018',
      interval,
    });
    const hourly = Array.from({ length: 72 }, (_, h) =>
      cod(T0 + h * HOUR, h < 2 ? 70 : h < 24 ? 38 : 60, !(h >= 30 && h < 32)),
    );
    const daily = [
      cod(T0, 40, true, 'day'),
      cod(T0 + DAY, 60, true, 'day'),
      cod(T0 + 2 * DAY, 30, false, 'day'),
    ];
    const m = stabilityMetrics({
      ...base,
      to: T0 + 3 * DAY,
      factors: [{ siteId: 'OUT1', factor: 'w01018' }],
      limits: [{ siteId: 'OUT1', factor: 'w01018', value: 50, basis: 'daily', converted: false }],
      hourly,
      daily,
    });
    expect(m).toMatchObject({
      expected: 72,
      received: 72,
      valid: 70,
      judgedValidHours: 46,
      compliantValidHours: 24,
    });
    expect(m.complianceRate).toBeCloseTo(24 / 46, 12);
  });
});
