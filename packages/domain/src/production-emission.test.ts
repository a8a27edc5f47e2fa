import { defaultConfig } from './config.js';
import {
  judgeProductionEmission,
  productionEmissionDeviation,
  productionEmissionDeviationId,
  productionEmissionText,
  type EmissionEnergyHour,
  type ProductionEmissionInput,
} from './production-emission.js';
import { mad, MAD_TO_SIGMA, median, robustBaseline, robustZ } from './robust.js';

describe('median, MAD and the robust z-score (hand-computed)', () => {
  it('median of odd and even counts, with ties, and of nothing', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([2, 2, 2, 9])).toBe(2);
    expect(median([])).toBeNull();
  });

  it('MAD: deviations from the median, their median', () => {
    // median 3; |x − 3| = 2, 1, 0, 1, 6 → sorted 0, 1, 1, 2, 6 → 1
    expect(mad([1, 2, 3, 4, 9])).toBe(1);
    // ties: median 2; deviations 0, 0, 0, 7 → median (0 + 0) / 2 = 0
    expect(mad([2, 2, 2, 9])).toBe(0);
    expect(mad([])).toBeNull();
  });

  it('z = (x − median) / (1.4826 × MAD)', () => {
    const b = robustBaseline([1, 2, 3, 4, 9], { minPoints: 5, minMadShare: 0 });
    if ('gap' in b) throw new Error('expected a baseline');
    expect(b).toEqual({ n: 5, median: 3, mad: 1, scale: MAD_TO_SIGMA });
    // (−3 − 3) / 1.4826 = −4.0469…
    expect(robustZ(-3, b)).toBeCloseTo(-4.0469, 4);
    expect(robustZ(3, b)).toBe(0);
  });

  it('MAD = 0: the floor (a share of the median) gives the scale; without a floor the spread is zero', () => {
    const b = robustBaseline([10, 10, 10, 10, 30], { minPoints: 5, minMadShare: 0.05 });
    if ('gap' in b) throw new Error('expected a baseline');
    // MAD 0, floor 0.05 × 10 = 0.5 → scale 0.7413; z of 5 = −5 / 0.7413 = −6.745
    expect(b.mad).toBe(0);
    expect(b.scale).toBeCloseTo(0.7413, 4);
    expect(robustZ(5, b)).toBeCloseTo(-6.745, 3);
    expect(robustBaseline([10, 10, 10], { minPoints: 3, minMadShare: 0 })).toEqual({
      gap: 'zero-spread',
      n: 3,
    });
    expect(robustBaseline([0, 0, 0], { minPoints: 3, minMadShare: 0.05 })).toEqual({
      gap: 'zero-spread',
      n: 3,
    });
  });

  it('too few points: no baseline (non-finite values do not count)', () => {
    expect(robustBaseline([1, 2, Number.NaN], { minPoints: 3, minMadShare: 0.05 })).toEqual({
      gap: 'too-few-baseline-points',
      n: 2,
    });
  });
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const dayStart = Date.UTC(2026, 10, 27, 16); // 2026-11-28 00:00 Asia/Shanghai
const rules = { ...defaultConfig.rules.productionEmission, baselineDays: 5, minBaselineHours: 48 };

/** Baseline: 5 days × 24 h at 100 kWh, flow 1,000 m³ ± 10 (ratio 10 ± 0.1), load 2 kg. */
function baselineHours(): EmissionEnergyHour[] {
  const out: EmissionEnergyHour[] = [];
  for (let i = 0; i < 5 * 24; i++)
    out.push({
      start: dayStart - 5 * DAY + i * HOUR,
      energyKwh: 100,
      flowM3: 1000 + ((i % 3) - 1) * 10,
      loadKg: 2,
    });
  return out;
}

function input(
  day: (h: number) => Partial<EmissionEnergyHour>,
  extra: Partial<ProductionEmissionInput> = {},
) {
  const hours = [...baselineHours()];
  for (let h = 0; h < 24; h++)
    hours.push({ start: dayStart + h * HOUR, energyKwh: 100, flowM3: 1000, loadKg: 2, ...day(h) });
  return {
    enterpriseId: 'ent-1',
    siteId: 'out-1',
    day: { start: dayStart, end: dayStart + DAY },
    hours,
    previous: null,
    rules,
    ...extra,
  } satisfies ProductionEmissionInput;
}

describe('judgeProductionEmission', () => {
  it('a usual day is clear, with the baseline numbers recorded', () => {
    const j = judgeProductionEmission(input(() => ({})));
    expect(j.status).toBe('clear');
    const flow = j.metrics.find((m) => m.metric === 'flow')!;
    // ratios 9.9, 10, 10.1 in equal numbers → median 10, MAD 0.1 (floor 0.05 × 10 = 0.5 wins) → scale 0.7413
    expect(flow.ratio).toMatchObject({ n: 120, median: 10, mad: 0.1, scale: 0.7413, dayMedian: 10, z: 0 });
    expect(j.energy).toEqual({ baselineMedianKwh: 100, runningKwh: 20, hardKwh: 80 });
    expect(
      productionEmissionDeviation(
        input(() => ({})),
        j,
      ),
    ).toBeNull();
  });

  it('emissions fall while production stays high: low while hard and a low drift, one deviation', () => {
    const i = input(() => ({ energyKwh: 120, flowM3: 300, loadKg: 0.5 }));
    const j = judgeProductionEmission(i);
    expect(j.status).toBe('flagged');
    const flow = j.metrics.find((m) => m.metric === 'flow')!;
    expect(flow).toMatchObject({ hardHours: 24, lowHours: 24, baselineMedian: 1000 });
    // day ratio 300 / 120 = 2.5; z = (2.5 − 10) / 0.7413 = −10.12
    expect(flow.ratio).toMatchObject({ dayMedian: 2.5, z: -10.12 });
    expect(flow.findings).toEqual(['low-while-hard', 'ratio-drift-low']);
    const d = productionEmissionDeviation(i, j)!;
    expect(d).toMatchObject({
      id: productionEmissionDeviationId('ent-1', 'out-1', dayStart),
      rule: 'production-emission',
      state: 'opened',
      revision: 1,
      windowStart: dayStart,
      windowEnd: dayStart + DAY,
      suspectedFalsification: true,
    });
    expect((d.evidence.hours as unknown[]).length).toBe(24);
    expect(productionEmissionText(d.evidence)).toContain('robust z -10.12');
    // The same hours judged again: the log holds the deviation, nothing new.
    expect(productionEmissionDeviation({ ...i, previous: { revision: 1 } }, j)).toBeNull();
  });

  it('emissions up with the same production: a high drift, not suspected falsification', () => {
    const i = input(() => ({ flowM3: 2000, loadKg: 2 }));
    const j = judgeProductionEmission(i);
    expect(j.metrics.find((m) => m.metric === 'flow')!.findings).toEqual(['ratio-drift-high']);
    expect(productionEmissionDeviation(i, j)!.suspectedFalsification).toBe(false);
  });

  it('low emissions while production is off are not suspicious', () => {
    const j = judgeProductionEmission(input(() => ({ energyKwh: 5, flowM3: 10 })));
    expect(j).toMatchObject({ status: 'not-judged', reason: 'production-not-running' });
  });

  it('sparse data never flags: too few judged hours, no baseline, no emission data', () => {
    // Only 3 hours of the day with data.
    const few = input((h) => (h < 3 ? { flowM3: 10, loadKg: 0.01 } : { flowM3: null, loadKg: null }));
    expect(judgeProductionEmission(few)).toMatchObject({
      status: 'not-judged',
      reason: 'too-few-judged-hours',
    });
    const noBaseline = { ...input(() => ({ flowM3: 10 })), rules: { ...rules, minBaselineHours: 500 } };
    expect(judgeProductionEmission(noBaseline)).toMatchObject({
      status: 'not-judged',
      reason: 'no-production-baseline',
    });
    const blind = input(() => ({}));
    blind.hours.forEach((h) => {
      h.flowM3 = null;
      h.loadKg = null;
    });
    expect(judgeProductionEmission(blind)).toMatchObject({
      status: 'not-judged',
      reason: 'no-emission-data',
    });
  });
});
