// Validity, hourly/daily means, converted (折算) concentration and recalculation checks (domain-rules §2).
import type { AggregationConfig, EngineConfig } from './config.js';
import type { DataFlag } from './model.js';
import { ge, gt } from './time.js';

/** One value of a series, as the aggregation functions see it. */
export interface SeriesPoint {
  t: number;
  value: number;
  /** Missing flags are taken as `N`. */
  flag: DataFlag;
  /** Seconds of the interval the value covers (minute data). */
  periodSeconds: number;
}

export interface RangeCheck {
  min?: number;
  max?: number;
  /** Negative values are impossible for this factor. */
  nonNegative: boolean;
}

/** A value is valid when its flag is one of `validFlags` and it passes the range checks. */
export function isValidValue(
  value: number,
  flag: DataFlag,
  validFlags: readonly string[],
  range?: RangeCheck,
): boolean {
  if (!validFlags.includes(flag) || !Number.isFinite(value)) return false;
  if (!range) return true;
  if (range.nonNegative && value < 0) return false;
  if (range.min !== undefined && value < range.min) return false;
  if (range.max !== undefined && value > range.max) return false;
  return true;
}

/** `N` when at least `normalShare` of the flags are `N`, else the most frequent other flag (ties: alphabetical). */
export function aggregateFlag(flags: readonly DataFlag[], normalShare: number): DataFlag {
  if (flags.length === 0) return 'N';
  const counts = new Map<string, number>();
  for (const f of flags) counts.set(f, (counts.get(f) ?? 0) + 1);
  if (ge((counts.get('N') ?? 0) / flags.length, normalShare)) return 'N';
  let best: string | undefined;
  let bestN = -1;
  for (const [f, n] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (f === 'N') continue;
    if (n > bestN) {
      best = f;
      bestN = n;
    }
  }
  return best ?? 'N';
}

export interface MeanResult {
  value: number | null;
  valid: boolean;
  flag: DataFlag;
  coverage: number;
  validCount: number;
  count: number;
}

function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Flue-gas hourly mean: arithmetic mean of the valid minute means; valid when valid minute data cover at
 * least `minCoverageMinutes` of the hour. `points` are the minute values inside one hour.
 */
export function gasHourlyMean(
  points: readonly SeriesPoint[],
  cfg: AggregationConfig,
  isValid: (p: SeriesPoint) => boolean,
): MeanResult {
  const valid = points.filter(isValid);
  const coveredMinutes = Math.min(
    60,
    valid.reduce((s, p) => s + p.periodSeconds / 60, 0),
  );
  const value = mean(valid.map((p) => p.value));
  return {
    value,
    valid: value !== null && ge(coveredMinutes, cfg.minCoverageMinutes),
    flag: aggregateFlag(
      points.map((p) => p.flag),
      cfg.normalFlagShare,
    ),
    coverage: coveredMinutes / 60,
    validCount: valid.length,
    count: points.length,
  };
}

/**
 * Wastewater hourly mean: mean of the valid values in the hour; any abnormal (invalid) value in the hour
 * makes the aggregate abnormal (invalid, flagged with the most frequent abnormal flag).
 */
export function waterHourlyMean(
  points: readonly SeriesPoint[],
  isValid: (p: SeriesPoint) => boolean,
): MeanResult {
  const valid = points.filter(isValid);
  const abnormal = points.filter((p) => !isValid(p));
  const value = mean(valid.map((p) => p.value));
  return {
    value,
    valid: value !== null && abnormal.length === 0,
    flag:
      abnormal.length === 0
        ? 'N'
        : aggregateFlag(
            abnormal.map((p) => (p.flag === 'N' ? 'T' : p.flag)),
            1.01,
          ),
    coverage: points.length === 0 ? 0 : valid.length / points.length,
    validCount: valid.length,
    count: points.length,
  };
}

export interface HourInput {
  value: number | null;
  valid: boolean;
  flag: DataFlag;
  /** Flow of the hour, for a flow-weighted daily mean. */
  weight?: number | null;
}

/**
 * Daily mean of the valid hourly means, valid with at least `minValidHoursPerDay` valid hours. Flow-weighted when
 * `weighted` and every valid hour has a flow (> 0 in total), else arithmetic.
 */
export function dailyMean(
  hours: readonly HourInput[],
  cfg: AggregationConfig,
  weighted: boolean,
): MeanResult & { method: 'arithmetic' | 'flow-weighted' } {
  const valid = hours.filter((h): h is HourInput & { value: number } => h.valid && h.value !== null);
  let value = mean(valid.map((h) => h.value));
  let method: 'arithmetic' | 'flow-weighted' = 'arithmetic';
  if (weighted && valid.length > 0 && valid.every((h) => typeof h.weight === 'number' && h.weight >= 0)) {
    const q = valid.reduce((s, h) => s + (h.weight ?? 0), 0);
    if (q > 0) {
      value = valid.reduce((s, h) => s + h.value * (h.weight ?? 0), 0) / q;
      method = 'flow-weighted';
    }
  }
  return {
    value,
    valid: value !== null && valid.length >= cfg.minValidHoursPerDay,
    flag: aggregateFlag(
      hours.map((h) => h.flag),
      cfg.normalFlagShare,
    ),
    coverage: valid.length / 24,
    validCount: valid.length,
    count: hours.length,
    method,
  };
}

export type ConversionResult =
  { value: number; anomaly?: undefined } | { value: null; anomaly: 'o2-ceiling' };

/**
 * Converted (折算) concentration `C × (21 − O2_ref) / (21 − O2)`. At or above the O2 ceiling the conversion is
 * unreliable: no division, an `o2-ceiling` anomaly instead.
 */
export function convertConcentration(
  c: number,
  o2Measured: number,
  o2Reference: number,
  conv: EngineConfig['conversion'],
): ConversionResult {
  if (ge(o2Measured, conv.o2CeilingPercent)) return { value: null, anomaly: 'o2-ceiling' };
  return { value: (c * (conv.ambientO2Percent - o2Reference)) / (conv.ambientO2Percent - o2Measured) };
}

/** |reported − recomputed| ÷ |recomputed|; 1 when the recomputed value is 0 and the reported one is not. */
export function relativeDifference(reported: number, recomputed: number): number {
  if (recomputed === 0) return reported === 0 ? 0 : 1;
  return Math.abs(reported - recomputed) / Math.abs(recomputed);
}

/** The recalculation check: flagged when the relative difference is above the threshold (2 % by default). */
export function failsRecalculation(
  reported: number,
  recomputed: number,
  maxRelativeDifference: number,
): boolean {
  return gt(relativeDifference(reported, recomputed), maxRelativeDifference);
}
