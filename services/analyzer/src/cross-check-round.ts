// What the daily cross-check rounds (production-emission, peers, cross-device) do alike with a judgement: hand a
// deviation off (deviation.v1 first, then the deviation log, whose head makes a later round emit nothing), count the
// outlet-day's verdict, and record why an outlet-day could not be judged when its check failed.
import type { DeviationV1 } from '@offsite/contracts';
import type { DeviationOutput } from '@offsite/domain';
import { startOfShanghaiDay } from '@offsite/domain/calendar';
import type { Logger } from '@offsite/runtime';
import { recordDeviations, type Db } from './analyzer-db.js';
import { recordCrossCheck } from './cross-check-db.js';
import { deviationEvent } from './deviation-event.js';

/** A round's outlet-day verdicts and what it sent. */
export interface CrossCheckCounts {
  flagged: number;
  clear: number;
  notJudged: number;
  events: number;
  failed: number;
}

/** A round's counts before it judged anything. */
export const noCounts = (): CrossCheckCounts => ({
  flagged: 0,
  clear: 0,
  notJudged: 0,
  events: 0,
  failed: 0,
});

const DAY_MS = 86_400_000;

/** The day a daily round judges as of `now`: the last whole Shanghai day before now − the allowed lateness. */
export function judgedDay(now: number, allowedLatenessMs: number): { start: number; end: number } {
  const end = startOfShanghaiDay(now - allowedLatenessMs);
  return { start: end - DAY_MS, end };
}

/** Produces the deviation durably, then logs it (a failed log write leaves the next round to send it again). */
export async function handOffDeviation(
  opts: { db: Db; emit(events: DeviationV1[]): Promise<void> },
  deviation: DeviationOutput,
  now: number,
  round: CrossCheckCounts,
): Promise<void> {
  const ev = deviationEvent(deviation, now);
  await opts.emit([ev]);
  await recordDeviations(opts.db, [{ output: deviation, rule: ev.rule, severity: ev.severity }]);
  round.events++;
}

/** Counts one outlet-day's verdict. */
export function countVerdict(round: CrossCheckCounts, status: 'flagged' | 'clear' | 'not-judged'): void {
  if (status === 'flagged') round.flagged++;
  else if (status === 'clear') round.clear++;
  else round.notJudged++;
}

/**
 * A check that failed: counted, logged, and recorded as not judged (`data-unavailable`) with the error, so the day
 * shows why; the next round judges it again (its deviation, if any, is not in the log yet).
 */
export async function recordCheckFailure(
  db: Db,
  log: Logger,
  round: CrossCheckCounts,
  row: {
    check: string;
    enterpriseId: string;
    siteId: string;
    dayStart: number;
    details?: Record<string, unknown>;
  },
  err: unknown,
): Promise<void> {
  round.failed++;
  log.error({ err, enterpriseId: row.enterpriseId, siteId: row.siteId }, `${row.check} check failed`);
  await recordCrossCheck(db, {
    check: row.check,
    enterpriseId: row.enterpriseId,
    siteId: row.siteId,
    dayStart: row.dayStart,
    status: 'not-judged',
    reason: 'data-unavailable',
    details: { ...row.details, error: err instanceof Error ? err.message : String(err) },
    deviationId: null,
  }).catch((e: unknown) => log.error({ err: e }, 'cross-check record failed'));
}
