// The annual-load rule (domain-rules §6a): per outlet and factor with a permitted annual load (许可排放量), the
// year-to-date load (loads.ts, the valid hours of the Shanghai calendar year up to `asOf`) against the permit.
// Running ahead of the permit pro rata is a warning (`aheadSeverity`), above the permit an exceedance of the year
// (`exceededSeverity`). A deviation per outlet, factor and year: its id hashes the three (the window starts on
// 1 January), so a rerun of the same judgement emits nothing and a change of state is the next revision of the
// same deviation: `updated` when the warning becomes an exceedance (or back, after the permit was raised), and
// `resolved` when the load is back within the pro-rata share (or the permit was removed or raised enough).
// Resolved is final (domain-rules §3, as for the engine's rules): if the load runs ahead again later in the year,
// that is a new deviation, the next generation of the id (`deviationId(…, generation)`), opened at revision 1 with
// `evidence.follows` naming the resolved one.
import { formatShanghai } from './calendar.js';
import type { RulesConfig } from './config.js';
import { deviationId } from './engine.js';
import { permitProgress, shanghaiYear, type LoadTotal, type PermitProgress } from './loads.js';
import type { DeviationOutput, DeviationState, Severity } from './model.js';

const DAY_MS = 86_400_000;

/**
 * The Shanghai year judged as of `asOf` (the end of the last whole hour): the year of the hour before it, so that
 * 1 January 00:00 judges the whole past year. Its load is that of [year.start, asOf).
 */
export function annualLoadYear(asOf: number): { year: number; start: number; end: number } {
  return shanghaiYear(asOf - 1);
}

/** The deviation of `factor` at `siteId` for the year judged as of `asOf`: the first, or the `generation`th. */
export function annualLoadDeviationId(
  enterpriseId: string,
  siteId: string,
  factor: string,
  asOf: number,
  generation = 1,
): string {
  return deviationId(enterpriseId, siteId, 'annual-load', factor, annualLoadYear(asOf).start, generation);
}

/** The latest revision of the year's latest deviation (the highest generation) as the analyzer's log holds it. */
export interface AnnualLoadPrevious {
  /** 1 for the year's first deviation, n for the one following generation n − 1 (`annualLoadDeviationId`). */
  generation: number;
  revision: number;
  state: DeviationState;
  severity: Severity;
}

export interface AnnualLoadInput {
  enterpriseId: string;
  siteId: string;
  factor: string;
  concentrationUnit: string;
  /** The permitted annual load (kg); null when the registry no longer gives one. */
  permitKg: number | null;
  /** The end of the judged hours (epoch ms, a whole hour): the year-to-date is [1 January, asOf). */
  asOf: number;
  /** The load of [1 January, asOf) (`sumLoads`). */
  ytd: LoadTotal;
  previous: AnnualLoadPrevious | null;
  rules: RulesConfig['annualLoad'];
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The state the rule judges: `ahead` counts only from day `aheadFromDay` of the year (the pro rata is tiny before). */
export function annualLoadState(
  progress: PermitProgress,
  asOf: number,
  rules: RulesConfig['annualLoad'],
): PermitProgress['state'] {
  if (progress.state !== 'ahead') return progress.state;
  const day = Math.floor((asOf - 1 - annualLoadYear(asOf).start) / DAY_MS) + 1;
  return day >= rules.aheadFromDay ? 'ahead' : 'ok';
}

/** The next event of the outlet's and factor's deviation of the year, or null when nothing changed. */
export function judgeAnnualLoad(i: AnnualLoadInput): DeviationOutput | null {
  const year = annualLoadYear(i.asOf);
  // The share of the judged year elapsed (1 January 00:00 judges the past year: all of it, less a millisecond).
  const progress =
    i.permitKg === null || !i.rules.enabled
      ? null
      : permitProgress(i.ytd.computedKg, i.permitKg, i.asOf - 1, i.rules.aheadMargin);
  const state = progress === null ? 'ok' : annualLoadState(progress, i.asOf, i.rules);
  const severity =
    state === 'exceeded' ? i.rules.exceededSeverity : state === 'ahead' ? i.rules.aheadSeverity : null;
  const open = i.previous !== null && i.previous.state !== 'resolved';
  let next: DeviationState;
  if (open) {
    if (severity === i.previous!.severity) return null;
    next = severity === null ? 'resolved' : 'updated';
  } else {
    if (severity === null) return null;
    next = 'opened';
  }
  // A resolved deviation is never reopened: running ahead again is the next generation, following it.
  const generation = open ? i.previous!.generation : (i.previous?.generation ?? 0) + 1;
  const evidence: Record<string, unknown> = {
    year: year.year,
    asOf: i.asOf,
    asOfText: formatShanghai(i.asOf),
    state,
    permitKg: i.permitKg,
    ytdKg: round(i.ytd.computedKg, 3),
    ...(progress
      ? { proRataKg: round(progress.proRataKg, 3), elapsedShare: round(progress.elapsedShare, 6) }
      : {}),
    ...(i.ytd.reportedKg !== null ? { reportedKg: round(i.ytd.reportedKg, 3) } : {}),
    concentrationUnit: i.concentrationUnit,
    validHours: i.ytd.validHours,
    invalidHours: i.ytd.invalidHours,
    missingHours: i.ytd.missingHours,
    aheadMargin: i.rules.aheadMargin,
    confirmedAt: i.asOf,
    ...(i.permitKg === null ? { endedBy: 'permit-removed' } : {}),
    // Every revision of generation n names generation n − 1, the resolved deviation it follows.
    ...(generation > 1
      ? { follows: annualLoadDeviationId(i.enterpriseId, i.siteId, i.factor, i.asOf, generation - 1) }
      : {}),
  };
  return {
    type: 'deviation',
    id: annualLoadDeviationId(i.enterpriseId, i.siteId, i.factor, i.asOf, generation),
    rule: 'annual-load',
    state: next,
    revision: open ? i.previous!.revision + 1 : 1,
    severity: severity ?? i.previous!.severity,
    enterpriseId: i.enterpriseId,
    siteId: i.siteId,
    factor: i.factor,
    subject: i.factor,
    windowStart: year.start,
    ...(next === 'resolved' ? { windowEnd: i.asOf } : {}),
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence,
  };
}
