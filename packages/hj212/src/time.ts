/** HJ 212 times are Asia/Shanghai local (UTC+08:00, no daylight saving). */

const SHANGHAI_OFFSET_MS = 8 * 3600_000;

export interface ShanghaiTime {
  /** ISO 8601 with the +08:00 offset, e.g. `2016-08-01T08:00:00+08:00` (milliseconds when non-zero). */
  readonly local: string;
  /** The UTC instant, ISO 8601 `…Z`. */
  readonly utc: string;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Parse `YYYYMMDDhhmmss` (14 digits) or `YYYYMMDDhhmmsszzz` (17 digits, QN) in Shanghai time. */
export function parseShanghaiTime(text: string): ShanghaiTime | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] === undefined ? 0 : Number(m[7]);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const localAsUtc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(localAsUtc);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null; // 31 Feb etc.
  const frac = ms === 0 ? '' : `.${pad(ms, 3)}`;
  return {
    local: `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac}+08:00`,
    utc: new Date(localAsUtc - SHANGHAI_OFFSET_MS).toISOString(),
  };
}

function shanghaiParts(date: Date): number[] {
  const t = new Date(date.getTime() + SHANGHAI_OFFSET_MS);
  return [
    t.getUTCFullYear(),
    t.getUTCMonth() + 1,
    t.getUTCDate(),
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
    t.getUTCMilliseconds(),
  ];
}

/** `YYYYMMDDhhmmss` in Shanghai time (DataTime, BeginTime, SystemTime…). */
export function formatDataTime(date: Date): string {
  const [y, mo, d, h, mi, s] = shanghaiParts(date) as [number, number, number, number, number, number];
  return `${pad(y, 4)}${pad(mo)}${pad(d)}${pad(h)}${pad(mi)}${pad(s)}`;
}

/** `YYYYMMDDhhmmsszzz` in Shanghai time (QN). */
export function formatQn(date: Date): string {
  const ms = shanghaiParts(date)[6] ?? 0;
  return `${formatDataTime(date)}${pad(ms, 3)}`;
}
