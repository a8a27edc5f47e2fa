// The cross-checks' tables (migration 145): each check's judgement per outlet and day, and each check's share of an
// enterprise's risk score with its reasons in words. The console reads the score through `analyzer_risk_v1`.
import { formatShanghai } from '@offsite/domain/calendar';
import { OffsiteError } from '@offsite/runtime/errors';
import type { Db } from './analyzer-db.js';

const DAY_MS = 86_400_000;

async function run(db: Db, op: string, sql: string, params: unknown[]) {
  try {
    return await db.query(sql, params);
  } catch (err) {
    throw new OffsiteError('ANALYZER_DB_FAILED', `${op} failed: ${(err as Error).message}`, {
      retryable: true,
      cause: err,
    });
  }
}

export interface CrossCheckRow {
  check: string;
  enterpriseId: string;
  siteId: string;
  dayStart: number;
  status: 'flagged' | 'clear' | 'not-judged';
  reason: string | null;
  details: unknown;
  deviationId: string | null;
}

/** Records (or rewrites) one outlet-day's judgement. */
export async function recordCrossCheck(db: Db, r: CrossCheckRow): Promise<void> {
  await run(
    db,
    'record cross-check',
    `insert into analyzer_cross_checks (check_name, site_id, day_start, enterprise_id, status, reason, details, deviation_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (check_name, site_id, day_start) do update set enterprise_id = excluded.enterprise_id,
       status = excluded.status, reason = excluded.reason, details = excluded.details,
       deviation_id = coalesce(excluded.deviation_id, analyzer_cross_checks.deviation_id), judged_at = now()`,
    [
      r.check,
      r.siteId,
      new Date(r.dayStart).toISOString(),
      r.enterpriseId,
      r.status,
      r.reason,
      JSON.stringify(r.details),
      r.deviationId,
    ],
  );
}

/** Risk points of one check: `perFinding` per flagged outlet-day in the trailing `days`, at most `max`. */
export const RISK_POLICY = { days: 30, perFinding: 20, max: 60 } as const;

/** The words of a check's reason from its findings' count and latest day, in both languages. */
export type ReasonWords = (n: number, lastDay: number) => { zh: string; en: string };

/** The words of the production-emission check's reason, in both languages. */
function productionEmissionWords(n: number, lastDay: number): { zh: string; en: string } {
  const day = formatShanghai(lastDay).slice(0, 10);
  return {
    zh: `近 ${RISK_POLICY.days} 天内有 ${n} 个排口日排放量与生产用电不匹配（排放低而生产用电高，或排放/用电比偏离自身历史），最近一次为 ${day}`,
    en: `emissions out of line with production energy on ${n} outlet-day${n === 1 ? '' : 's'} in the last ${RISK_POLICY.days} days (low emissions while production ran, or the emission/energy ratio off its own history); latest ${day}`,
  };
}

/**
 * Rewrites the risk component of `check` for the given enterprises as of `asOf` from the findings recorded in the
 * trailing window under `checkNames` (default the check's own): enterprises without one get 0 points (the view leaves
 * them out).
 */
export async function rewriteRiskComponents(
  db: Db,
  check: string,
  enterpriseIds: readonly string[],
  asOf: number,
  words: ReasonWords = productionEmissionWords,
  checkNames: readonly string[] = [check],
): Promise<void> {
  if (enterpriseIds.length === 0) return;
  const found = await run(
    db,
    'count cross-check findings',
    `select enterprise_id, count(*)::int as n, max(day_start) as last_day from analyzer_cross_checks
      where check_name = any($1::text[]) and status = 'flagged' and enterprise_id = any($2::text[])
        and day_start >= $3 and day_start < $4
      group by enterprise_id`,
    [
      checkNames,
      enterpriseIds,
      new Date(asOf - RISK_POLICY.days * DAY_MS).toISOString(),
      new Date(asOf).toISOString(),
    ],
  );
  const by = new Map(
    (found.rows as { enterprise_id: string; n: number; last_day: Date }[]).map((r) => [r.enterprise_id, r]),
  );
  const rows = enterpriseIds.map((id) => {
    const f = by.get(id);
    const points = f ? Math.min(RISK_POLICY.max, RISK_POLICY.perFinding * f.n) : 0;
    const reasons = f
      ? [
          {
            check,
            points,
            findings: f.n,
            lastDay: f.last_day.toISOString(),
            ...words(f.n, f.last_day.getTime()),
          },
        ]
      : [];
    return { id, points, reasons };
  });
  await writeRiskComponents(db, check, rows, asOf);
}

/** One enterprise's share of the risk score from one check, with its reasons ({ check, points, zh, en, … }). */
export interface RiskComponent {
  id: string;
  points: number;
  reasons: Record<string, unknown>[];
}

/** Writes the risk components of `check` as of `asOf` (0 points: the view leaves the enterprise out). */
export async function writeRiskComponents(
  db: Db,
  check: string,
  rows: readonly RiskComponent[],
  asOf: number,
): Promise<void> {
  if (rows.length === 0) return;
  await run(
    db,
    'rewrite risk components',
    `insert into analyzer_risk_components (enterprise_id, check_name, points, reasons, as_of)
     select r.id, $1, r.points, r.reasons, $3 from jsonb_to_recordset($2::jsonb) as r(id text, points int, reasons jsonb)
     on conflict (enterprise_id, check_name) do update set points = excluded.points, reasons = excluded.reasons,
       as_of = excluded.as_of, computed_at = now()`,
    [check, JSON.stringify(rows), new Date(asOf).toISOString()],
  );
}
