// Window arithmetic. Times are epoch ms UTC; days start at local midnight (offset from the config).
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Start of the window of length `size` that contains `t`, windows aligned to `offset` (ms). */
export function windowStart(t: number, size: number, offset = 0): number {
  return Math.floor((t + offset) / size) * size - offset;
}

export function hourStart(t: number): number {
  return windowStart(t, HOUR_MS);
}

/** Start of the local calendar day containing `t`. */
export function dayStart(t: number, tzOffsetMinutes: number): number {
  return windowStart(t, DAY_MS, tzOffsetMinutes * MINUTE_MS);
}

/** Epoch ms of local midnight of a `YYYY-MM-DD` date. */
export function localDateToEpoch(date: string, tzOffsetMinutes: number): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - tzOffsetMinutes * MINUTE_MS;
}

/** Float-tolerant comparisons (values come out of means and differences of cumulative meters). */
const EPS = 1e-9;
export function gt(a: number, b: number): boolean {
  return a - b > EPS * Math.max(1, Math.abs(b));
}
export function ge(a: number, b: number): boolean {
  return !gt(b, a);
}
export function lt(a: number, b: number): boolean {
  return gt(b, a);
}
