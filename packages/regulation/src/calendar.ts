// Calendar helpers for Asia/Shanghai (UTC+08:00, no daylight saving): instants are stored in UTC,
// dates and months are the bureau's calendar.

const OFFSET_MS = 8 * 3_600_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` of an instant in Asia/Shanghai. */
export function shanghaiDate(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

function parts(date: string): [number, number, number] {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function addDays(date: string, days: number): string {
  const [y, mo, d] = parts(date);
  return new Date(Date.UTC(y, mo - 1, d + days)).toISOString().slice(0, 10);
}

export function addYears(date: string, years: number): string {
  const [y, mo, d] = parts(date);
  // 29 February minus a year is 28 February (not 1 March).
  const last = new Date(Date.UTC(y + years, mo, 0)).getUTCDate();
  return new Date(Date.UTC(y + years, mo - 1, Math.min(d, last))).toISOString().slice(0, 10);
}

/** The instant at which a Shanghai calendar day starts, e.g. 2026-03-01 → 2026-02-28T16:00:00Z. */
export function shanghaiMidnight(date: string): Date {
  const [y, mo, d] = parts(date);
  return new Date(Date.UTC(y, mo - 1, d) - OFFSET_MS);
}

/** Shanghai wall-clock time on a date, as an instant. */
export function shanghaiTime(date: string, hour: number, minute = 0): Date {
  return new Date(shanghaiMidnight(date).getTime() + hour * 3_600_000 + minute * 60_000);
}

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface MonthRange {
  /** `YYYY-MM`. */
  month: string;
  /** First day, `YYYY-MM-01`. */
  firstDay: string;
  /** First day of the next month. */
  nextFirstDay: string;
  from: Date;
  to: Date;
}

export function monthRange(month: string): MonthRange {
  const m = MONTH_RE.exec(month);
  if (!m) throw new RangeError(`not a YYYY-MM month: ${month}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const firstDay = `${month}-01`;
  const nextFirstDay = new Date(Date.UTC(y, mo, 1)).toISOString().slice(0, 10);
  return {
    month,
    firstDay,
    nextFirstDay,
    from: shanghaiMidnight(firstDay),
    to: shanghaiMidnight(nextFirstDay),
  };
}
