// Ports the console's regulation repositories ask for, read from the tables the other services keep.
import type { EnterpriseStability } from '@offsite/regulation';
import type { OpenDeviationsSource, Queryable, StabilitySource } from './regulation/index.js';

/** Enterprise-level stability metrics from the analyzer's read API (`analyzer_stability_v1`, site ''). */
export function analyzerStability(db: Queryable): StabilitySource {
  return async (ids) => {
    const out = new Map<string, EnterpriseStability>();
    if (ids.length === 0) return out;
    const r = await db.query<{
      enterprise_id: string;
      window_from: Date;
      window_to: Date;
      metrics: EnterpriseStability['metrics'];
      last_received_at: Date | null;
    }>(
      `select enterprise_id, window_from, window_to, metrics, last_received_at
         from analyzer_stability_v1 where site_id = '' and enterprise_id = any($1::text[])`,
      [ids],
    );
    for (const row of r.rows)
      out.set(row.enterprise_id, {
        enterpriseId: row.enterprise_id,
        windowFrom: row.window_from,
        windowTo: row.window_to,
        metrics: row.metrics,
        lastReceivedAt: row.last_received_at,
      });
    return out;
  };
}

/** Open (not resolved) deviation cases per enterprise, from the alerter's cases: risk weight of the draws. */
export function openCases(db: Queryable): OpenDeviationsSource {
  return async (ids) => {
    if (ids.length === 0) return new Map();
    const r = await db.query<{ enterprise_id: string; n: number }>(
      `select enterprise_id, count(*)::int as n from alerter_cases_v1
        where state <> 'resolved' and enterprise_id = any($1::text[]) group by enterprise_id`,
      [ids],
    );
    return new Map(r.rows.map((x) => [x.enterprise_id, x.n]));
  };
}
