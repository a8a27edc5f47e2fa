/** HJ 212 times are Asia/Shanghai local (UTC+08:00, no daylight saving). */

const SHANGHAI_OFFSET_MS = 8 * 3600_000;

export interface ShanghaiTime {
  /** ISO 8601 with the +08:00 offset, e.g. `2016-08-01T08:00:00+08:00` (milliseconds when non-zero). */
  readonly local: string;
  /** The UTC instant, ISO 8601 `…Z`. */
  readonly utc: string;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits text[from, to) as a number, or -1 if any is not a digit. */
function digits(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Local-as-UTC milliseconds of `YYYYMMDDhhmmss[zzz]`, or NaN when it is not such a text or not a
 * real calendar time (31 Feb, 24:00…). No regular expression and no Date: QN and DataTime are read
 * from every packet.
 */
function localMillis(text: string): number {
  if (text.length !== 14 && text.length !== 17) return NaN;
  const y = digits(text, 0, 4);
  const mo = digits(text, 4, 6);
  const d = digits(text, 6, 8);
  const h = digits(text, 8, 10);
  const mi = digits(text, 10, 12);
  const s = digits(text, 12, 14);
  const ms = text.length === 17 ? digits(text, 14, 17) : 0;
  if (
    y < 0 ||
    ms < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 59
  )
    return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] as number))) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

/** Whether the text is `YYYYMMDDhhmmss` or `YYYYMMDDhhmmsszzz` naming a real time. */
export function isShanghaiTime(text: string): boolean {
  return !Number.isNaN(localMillis(text));
}

/** Parse `YYYYMMDDhhmmss` (14 digits) or `YYYYMMDDhhmmsszzz` (17 digits, QN) in Shanghai time. */
export function parseShanghaiTime(text: string): ShanghaiTime | null {
  const localAsUtc = localMillis(text);
  if (Number.isNaN(localAsUtc)) return null;
  const frac = text.length === 17 && localAsUtc % 1000 !== 0 ? `.${text.slice(14, 17)}` : '';
  return {
    local: `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}${frac}+08:00`,
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
