// The bureau's calendar: Asia/Shanghai, UTC+08:00 all year (China has no daylight saving). Instants
// are stored in UTC; dates (`YYYY-MM-DD`), months (`YYYY-MM`), hours and wall-clock times shown to
// people are Shanghai's. Every service and package converts here, and only here.

export const SHANGHAI_OFFSET_MINUTES = 480;
export const SHANGHAI_OFFSET_MS = SHANGHAI_OFFSET_MINUTES * 60_000;
const DAY_MS = 86_400_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

type Instant = Date | number;
const ms = (at: Instant): number => (typeof at === 'number' ? at : at.getTime());
/** The Shanghai wall clock of an instant, as a UTC ISO string (`YYYY-MM-DDTHH:MM:SS.mmmZ`). */
const wall = (at: Instant): string => new Date(ms(at) + SHANGHAI_OFFSET_MS).toISOString();

function dateParts(date: string): [number, number, number] {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** `YYYY-MM-DD` of an instant in Shanghai. */
export function shanghaiDate(at: Instant): string {
  return wall(at).slice(0, 10);
}

/** `YYYY-MM-DD HH:MM`, Shanghai wall time, for people (messages, pages): "2026-03-01 10:00". */
export function formatShanghai(at: Instant): string {
  return wall(at).slice(0, 16).replace('T', ' ');
}

/** ISO 8601 with the +08:00 offset, to the second: "2025-03-10T10:00:00+08:00". */
export function toShanghaiIso(at: Instant): string {
  return `${wall(at).slice(0, 19)}+08:00`;
}

/** Hour of the Shanghai day, fractional (10:30 → 10.5). */
export function shanghaiHour(at: Instant): number {
  const h = (ms(at) + SHANGHAI_OFFSET_MS) / 3_600_000;
  return ((h % 24) + 24) % 24;
}

/** Minute of the Shanghai day, 0–1439. */
export function shanghaiMinuteOfDay(at: Instant): number {
  const m = Math.floor((ms(at) + SHANGHAI_OFFSET_MS) / 60_000);
  return ((m % 1440) + 1440) % 1440;
}

/** Epoch ms of the Shanghai midnight that starts the day containing `at`. */
export function startOfShanghaiDay(at: Instant): number {
  return Math.floor((ms(at) + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS;
}

/** The instant a Shanghai calendar day starts: 2026-03-01 → 2026-02-28T16:00:00Z. */
export function shanghaiMidnight(date: string): Date {
  const [y, mo, d] = dateParts(date);
  return new Date(Date.UTC(y, mo - 1, d) - SHANGHAI_OFFSET_MS);
}

/** Shanghai wall-clock time on a date, as an instant (`hour` 24 is the next midnight). */
export function atShanghaiTime(date: string, hour: number, minute = 0): Date {
  return new Date(shanghaiMidnight(date).getTime() + hour * 3_600_000 + minute * 60_000);
}

/** The last millisecond of a Shanghai calendar day (a deadline "on" that day). */
export function endOfShanghaiDay(date: string): Date {
  return new Date(shanghaiMidnight(date).getTime() + DAY_MS - 1);
}

export function addDays(date: string, days: number): string {
  const [y, mo, d] = dateParts(date);
  return new Date(Date.UTC(y, mo - 1, d + days)).toISOString().slice(0, 10);
}

/** The same day `years` later; 29 February becomes 28 February in a common year. */
export function addYears(date: string, years: number): string {
  const [y, mo, d] = dateParts(date);
  const last = new Date(Date.UTC(y + years, mo, 0)).getUTCDate();
  return new Date(Date.UTC(y + years, mo - 1, Math.min(d, last))).toISOString().slice(0, 10);
}

export interface MonthRange {
  /** `YYYY-MM`. */
  month: string;
  /** First day, `YYYY-MM-01`. */
  firstDay: string;
  /** First day of the next month. */
  nextFirstDay: string;
  /** The month's first Shanghai midnight. */
  from: Date;
  /** The next month's first Shanghai midnight (exclusive). */
  to: Date;
}

export function monthRange(month: string): MonthRange {
  const m = MONTH_RE.exec(month);
  if (!m) throw new RangeError(`not a YYYY-MM month: ${month}`);
  const firstDay = `${month}-01`;
  const nextFirstDay = new Date(Date.UTC(Number(m[1]), Number(m[2]), 1)).toISOString().slice(0, 10);
  return {
    month,
    firstDay,
    nextFirstDay,
    from: shanghaiMidnight(firstDay),
    to: shanghaiMidnight(nextFirstDay),
  };
}
