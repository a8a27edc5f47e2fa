// Robust statistics for the big-data cross-checks: median, median absolute deviation (MAD) and the robust z-score
// against a baseline. One outlier moves a mean and a standard deviation; it barely moves a median or a MAD, so a
// baseline with a few odd hours (a start-up, a fault) still describes the usual.

/** 1 / Φ⁻¹(3/4): scales a MAD to estimate the standard deviation of normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

/** The median of `xs` (the mean of the two middle values for an even count); null for none. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median absolute deviation from the median (unscaled); null for none. */
export function mad(xs: readonly number[]): number | null {
  const m = median(xs);
  if (m === null) return null;
  return median(xs.map((x) => Math.abs(x - m)));
}

export interface RobustBaseline {
  /** Values the baseline holds. */
  n: number;
  median: number;
  /** Unscaled MAD. */
  mad: number;
  /**
   * The spread the z-score divides by: MAD_TO_SIGMA × max(MAD, `minMadShare` × |median|, `minMad`). The floors keep a
   * baseline whose values are (nearly) all equal, MAD = 0, from calling any change infinitely unusual; `minMad` (an
   * absolute floor in the values' unit, default 0) also covers a baseline that is all 0, where the share is 0 too.
   */
  scale: number;
}

/** Why a robust z-score could not be computed. */
export type RobustGap = 'too-few-baseline-points' | 'zero-spread';

/** The baseline of `xs` with at least `minPoints` values, or why not. */
export function robustBaseline(
  xs: readonly number[],
  opts: { minPoints: number; minMadShare: number; minMad?: number },
): RobustBaseline | { gap: RobustGap; n: number } {
  const finite = xs.filter((x) => Number.isFinite(x));
  if (finite.length < Math.max(1, opts.minPoints))
    return { gap: 'too-few-baseline-points', n: finite.length };
  const m = median(finite)!;
  const d = mad(finite)!;
  const scale = MAD_TO_SIGMA * Math.max(d, opts.minMadShare * Math.abs(m), opts.minMad ?? 0);
  if (!(scale > 0)) return { gap: 'zero-spread', n: finite.length };
  return { n: finite.length, median: m, mad: d, scale };
}

/** (x − median) / scale. */
export function robustZ(x: number, b: RobustBaseline): number {
  return (x - b.median) / b.scale;
}
