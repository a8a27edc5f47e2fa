/**
 * The valid-hour compliance rate (达标率: compliant valid hours ÷ judged valid hours, domain-rules §4) of the
 * overview and its list. The figure is the analyzer's own (`stabilityMetrics` of @offsite/domain, stored per
 * enterprise in its read API `analyzer_stability_v1`, site ''): the console sums the enterprises' hour counts per
 * district and for the scope, it does not judge hours a second time. The window is the analyzer's trailing
 * stability window (default 90 days, ending at the last full hour of its latest run), stated with the figure.
 *
 * `GET /api/compliance?district=` lists the enterprises in scope with their counts, lowest rate first.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '@offsite/store';
import { scopeSql, type Principal } from './principal.js';

export interface ComplianceFigure {
  compliantValidHours: number;
  judgedValidHours: number;
  /** null when no valid hour was judged. */
  rate: number | null;
}

export interface ComplianceByDistrict extends ComplianceFigure {
  districtId: string;
  /** The earliest window start and latest window end of the summed rows (ISO 8601 UTC). */
  windowFrom: string;
  windowTo: string;
}

const rate = (compliant: number, judged: number) => (judged === 0 ? null : compliant / judged);

interface Counted {
  compliant: number;
  judged: number;
  window_from: Date;
  window_to: Date;
}

const figure = (x: Counted): ComplianceFigure & { windowFrom: string; windowTo: string } => ({
  compliantValidHours: x.compliant,
  judgedValidHours: x.judged,
  rate: rate(x.compliant, x.judged),
  windowFrom: x.window_from.toISOString(),
  windowTo: x.window_to.toISOString(),
});

interface Row extends Counted {
  district_id: string;
}

/** The rate per district of the principal's scope (districts without a stored row are left out). */
export async function complianceByDistrict(db: Queryable, p: Principal): Promise<ComplianceByDistrict[]> {
  const params: unknown[] = [];
  const scope = scopeSql(p, params, 'e');
  const r = await db.query<Row>(
    `select e.district_id,
            coalesce(sum((s.metrics->>'compliantValidHours')::int), 0)::int as compliant,
            coalesce(sum((s.metrics->>'judgedValidHours')::int), 0)::int as judged,
            min(s.window_from) as window_from, max(s.window_to) as window_to
       from analyzer_stability_v1 s join enterprises e on e.id = s.enterprise_id
      where s.site_id = '' and ${scope}
      group by e.district_id order by e.district_id`,
    params,
  );
  return r.rows.map((x) => ({ districtId: x.district_id, ...figure(x) }));
}

/** The sum of figures (a scope's total). */
export function sumCompliance(xs: readonly ComplianceFigure[]): ComplianceFigure {
  const compliant = xs.reduce((s, x) => s + x.compliantValidHours, 0);
  const judged = xs.reduce((s, x) => s + x.judgedValidHours, 0);
  return { compliantValidHours: compliant, judgedValidHours: judged, rate: rate(compliant, judged) };
}

export interface ComplianceListItem extends ComplianceFigure {
  enterpriseId: string;
  nameZh: string;
  nameEn: string | null;
  districtId: string;
  windowFrom: string;
  windowTo: string;
}

export async function complianceList(
  db: Queryable,
  p: Principal,
  q: { district?: string },
): Promise<{ items: ComplianceListItem[] }> {
  const params: unknown[] = [];
  const scope = scopeSql(p, params, 'e');
  params.push(q.district ?? null);
  const r = await db.query<
    Counted & { enterprise_id: string; name_zh: string; name_en: string | null; district_id: string }
  >(
    `select e.id as enterprise_id, e.name_zh, e.name_en, e.district_id,
            coalesce((s.metrics->>'compliantValidHours')::int, 0) as compliant,
            coalesce((s.metrics->>'judgedValidHours')::int, 0) as judged,
            s.window_from, s.window_to
       from analyzer_stability_v1 s join enterprises e on e.id = s.enterprise_id
      where s.site_id = '' and ${scope} and ($${params.length}::text is null or e.district_id = $${params.length})`,
    params,
  );
  const items = r.rows.map((x) => ({
    enterpriseId: x.enterprise_id,
    nameZh: x.name_zh,
    nameEn: x.name_en,
    districtId: x.district_id,
    ...figure(x),
  }));
  // Lowest rate first; enterprises without a judged hour last.
  items.sort(
    (a, b) =>
      (a.rate ?? 2) - (b.rate ?? 2) ||
      a.districtId.localeCompare(b.districtId) ||
      a.enterpriseId.localeCompare(b.enterpriseId),
  );
  return { items };
}

export function registerComplianceRoutes(
  app: FastifyInstance,
  deps: { pool: Queryable; who: (req: FastifyRequest) => Principal },
): void {
  const Query = Type.Object(
    { district: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_.-]{1,64}$' })) },
    { additionalProperties: false },
  );
  app.get('/api/compliance', { schema: { querystring: Query, tags: ['statistics'] } }, async (req) =>
    complianceList(deps.pool, deps.who(req), req.query as { district?: string }),
  );
}
