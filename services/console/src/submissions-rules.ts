// The calendar of districts' submissions to the city enforcement detachment (支队), Asia/Shanghai:
// a monthly submission is due on the 25th of its own month (从3月起，各分局每月25日前报送), the
// period summary (总结) on a configurable day of its year (10-05 by default) and covers the months
// from a configurable first day up to the due day's month. "Due on" a day means by the end of that
// day: a first version submitted at or after the next Shanghai midnight is late. Officers are
// reminded a configurable number of days before the due day, at 09:00.
import {
  addDays,
  atShanghaiTime,
  monthRange,
  shanghaiDate,
  shanghaiMidnight,
} from '@offsite/domain/calendar';

export const SUBMISSION_KINDS = ['monthly', 'summary'] as const;
export type SubmissionKind = (typeof SUBMISSION_KINDS)[number];
export type SubmissionStatus = 'submitted' | 'late' | 'missing' | 'pending';

export interface SubmissionCalendar {
  /** `MM-DD`: the period summary's due day in its year. */
  summaryDue: string;
  /** `MM-DD`: the first day the period summary's figures cover. */
  summaryFrom: string;
  /** Days before the due day the district's officers are reminded (0: on the due day). */
  remindDaysBefore: number;
}

export const defaultSubmissionCalendar: SubmissionCalendar = {
  summaryDue: '10-05',
  summaryFrom: '03-01',
  remindDaysBefore: 5,
};

export interface SubmissionPeriod {
  kind: SubmissionKind;
  /** `YYYY-MM` (monthly) or `YYYY` (summary). */
  period: string;
  /** The due day, `YYYY-MM-DD` (Shanghai). */
  dueOn: string;
  /** The first instant a first submission counts as late: the Shanghai midnight after the due day. */
  lateFrom: Date;
  /** When the reminder goes out: 09:00 Shanghai, `remindDaysBefore` days before the due day. */
  remindAt: Date;
  /** The figures' range [from, to). */
  from: Date;
  to: Date;
}

const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;
const YEAR_RE = /^\d{4}$/;
const MMDD_RE = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export function validPeriod(kind: SubmissionKind, period: string): boolean {
  return kind === 'monthly' ? MONTH_RE.test(period) : YEAR_RE.test(period);
}

/** Checks a calendar from configuration; throws a RangeError naming the setting. */
export function checkCalendar(c: SubmissionCalendar): SubmissionCalendar {
  for (const k of ['summaryDue', 'summaryFrom'] as const)
    if (!MMDD_RE.test(c[k])) throw new RangeError(`${k} must be MM-DD, got ${c[k]}`);
  if (`${c.summaryFrom}` >= `${c.summaryDue.slice(0, 2)}-01`)
    throw new RangeError(`summaryFrom (${c.summaryFrom}) must be before the due month (${c.summaryDue})`);
  if (!Number.isInteger(c.remindDaysBefore) || c.remindDaysBefore < 0 || c.remindDaysBefore > 24)
    throw new RangeError(`remindDaysBefore must be an integer 0–24, got ${c.remindDaysBefore}`);
  return c;
}

export function submissionPeriod(
  kind: SubmissionKind,
  period: string,
  cal: SubmissionCalendar = defaultSubmissionCalendar,
): SubmissionPeriod {
  if (!validPeriod(kind, period)) throw new RangeError(`not a ${kind} period: ${period}`);
  let dueOn: string;
  let from: Date;
  let to: Date;
  if (kind === 'monthly') {
    const r = monthRange(period);
    dueOn = `${period}-25`;
    from = r.from;
    to = r.to;
  } else {
    dueOn = `${period}-${cal.summaryDue}`;
    from = shanghaiMidnight(`${period}-${cal.summaryFrom}`);
    to = shanghaiMidnight(`${dueOn.slice(0, 7)}-01`);
  }
  return {
    kind,
    period,
    dueOn,
    lateFrom: shanghaiMidnight(addDays(dueOn, 1)),
    remindAt: atShanghaiTime(addDays(dueOn, -cal.remindDaysBefore), 9),
    from,
    to,
  };
}

/** A district's status for a period, from when its first version was submitted (null: none yet). */
export function submissionStatus(
  p: SubmissionPeriod,
  firstSubmittedAt: Date | null,
  now: Date,
): SubmissionStatus {
  if (firstSubmittedAt) return firstSubmittedAt < p.lateFrom ? 'submitted' : 'late';
  return now >= p.lateFrom ? 'missing' : 'pending';
}

/**
 * The periods whose reminder is due at `now`: this Shanghai month's monthly submission and this
 * year's summary, each while `now` is between its reminder time and the end of its due day.
 */
export function periodsToRemind(
  now: Date,
  cal: SubmissionCalendar = defaultSubmissionCalendar,
): SubmissionPeriod[] {
  const today = shanghaiDate(now);
  return [
    submissionPeriod('monthly', today.slice(0, 7), cal),
    submissionPeriod('summary', today.slice(0, 4), cal),
  ].filter((p) => now >= p.remindAt && now < p.lateFrom);
}
