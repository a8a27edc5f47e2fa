import {
  aggregateFlag,
  convertConcentration,
  dailyMean,
  failsRecalculation,
  gasHourlyMean,
  isValidValue,
  waterHourlyMean,
  type SeriesPoint,
} from './aggregate.js';
import { defaultConfig } from './config.js';

const gas = defaultConfig.gas;
const valid = (p: SeriesPoint) => isValidValue(p.value, p.flag, ['N']);
const pts = (n: number, periodSeconds: number, flag = 'N', value = 10): SeriesPoint[] =>
  Array.from({ length: n }, (_, i) => ({ t: i * periodSeconds * 1000, value, flag, periodSeconds }));

describe('validity', () => {
  it('takes only N flags and values inside the instrument range', () => {
    expect(isValidValue(5, 'N', ['N'])).toBe(true);
    for (const f of ['F', 'M', 'S', 'D', 'C', 'T', 'B']) expect(isValidValue(5, f, ['N'])).toBe(false);
    expect(isValidValue(-0.1, 'N', ['N'], { nonNegative: true })).toBe(false);
    expect(isValidValue(500, 'N', ['N'], { nonNegative: true, max: 500 })).toBe(true);
    expect(isValidValue(500.1, 'N', ['N'], { nonNegative: true, max: 500 })).toBe(false);
    expect(isValidValue(Number.NaN, 'N', ['N'])).toBe(false);
  });
});

describe('gas hourly mean coverage', () => {
  it('44 valid 1-minute values do not make a valid hour, 45 do', () => {
    const h44 = gasHourlyMean([...pts(44, 60), ...pts(16, 60, 'D')], gas, valid);
    const h45 = gasHourlyMean([...pts(45, 60), ...pts(15, 60, 'D')], gas, valid);
    expect(h44.valid).toBe(false);
    expect(h44.coverage).toBeCloseTo(44 / 60);
    expect(h45.valid).toBe(true);
    expect(h45.value).toBe(10);
  });
  it('at a 10-minute cadence 4 of 6 values are invalid, 5 of 6 valid', () => {
    expect(gasHourlyMean(pts(4, 600), gas, valid).valid).toBe(false);
    expect(gasHourlyMean(pts(5, 600), gas, valid).valid).toBe(true);
  });
  it('averages only the valid minute means', () => {
    const p = [...pts(5, 600, 'N', 10), { t: 3_000_000, value: 1000, flag: 'C', periodSeconds: 600 }];
    expect(gasHourlyMean(p, gas, valid).value).toBe(10);
  });
});

describe('aggregate flag (75 % rule)', () => {
  it('is N at exactly 75 % N inputs and the dominant abnormal flag below', () => {
    expect(aggregateFlag(['N', 'N', 'N', 'D'], 0.75)).toBe('N');
    expect(aggregateFlag(['N', 'N', 'D', 'D'], 0.75)).toBe('D');
    expect(aggregateFlag(['N', 'N', 'N', 'N', 'N', 'C', 'C', 'C'], 0.75)).toBe('C'); // 62.5 %
    expect(aggregateFlag(['N', 'B', 'D'], 0.75)).toBe('B'); // tie → alphabetical
  });
});

describe('daily mean', () => {
  const hour = (value: number, ok = true) => ({ value, valid: ok, flag: ok ? 'N' : 'D' });
  it('19 valid hours are not a valid day, 20 are', () => {
    const d19 = dailyMean(
      [...Array.from({ length: 19 }, () => hour(10)), ...Array.from({ length: 5 }, () => hour(0, false))],
      gas,
      false,
    );
    const d20 = dailyMean(
      [...Array.from({ length: 20 }, () => hour(10)), ...Array.from({ length: 4 }, () => hour(0, false))],
      gas,
      false,
    );
    expect(d19.valid).toBe(false);
    expect(d20.valid).toBe(true);
    expect(d20.value).toBe(10);
    expect(d20.coverage).toBeCloseTo(20 / 24);
  });
  it('is flow-weighted when every valid hour has a flow, else arithmetic', () => {
    const hs = [
      { value: 10, valid: true, flag: 'N', weight: 3 },
      { value: 20, valid: true, flag: 'N', weight: 1 },
    ];
    expect(dailyMean(hs, { ...gas, minValidHoursPerDay: 1 }, true)).toMatchObject({
      value: 12.5,
      method: 'flow-weighted',
    });
    expect(
      dailyMean([hs[0]!, { ...hs[1]!, weight: null }], { ...gas, minValidHoursPerDay: 1 }, true),
    ).toMatchObject({
      value: 15,
      method: 'arithmetic',
    });
  });
});

describe('wastewater hourly mean', () => {
  it('is abnormal when any value in the hour is abnormal', () => {
    expect(waterHourlyMean(pts(1, 3600), valid)).toMatchObject({ valid: true, value: 10, flag: 'N' });
    const bad = waterHourlyMean([...pts(1, 60), { t: 1, value: 3, flag: 'M', periodSeconds: 60 }], valid);
    expect(bad).toMatchObject({ valid: false, value: 10, flag: 'M' });
  });
});

describe('converted concentration (折算)', () => {
  const conv = defaultConfig.conversion;
  it('applies C × (21 − ref) / (21 − O2)', () => {
    expect(convertConcentration(30, 9, 9, conv).value).toBe(30);
    expect(convertConcentration(30, 15, 9, conv).value).toBeCloseTo(60);
  });
  it('raises the O2-ceiling anomaly at 19.5 % instead of dividing, converts just below', () => {
    expect(convertConcentration(30, 19.5, 9, conv)).toEqual({ value: null, anomaly: 'o2-ceiling' });
    expect(convertConcentration(30, 19.4, 9, conv).value).toBeCloseTo(225);
  });
});

describe('recalculation check (2 %)', () => {
  it('flags above 2 % only', () => {
    expect(failsRecalculation(102, 100, 0.02)).toBe(false);
    expect(failsRecalculation(98, 100, 0.02)).toBe(false);
    expect(failsRecalculation(102.1, 100, 0.02)).toBe(true);
    expect(failsRecalculation(97.9, 100, 0.02)).toBe(true);
    expect(failsRecalculation(1, 0, 0.02)).toBe(true);
  });
});
