/**
 * The valid-hour compliance rate (达标率, domain-rules §4) of the overview's month and its list: valid hours that
 * comply ÷ valid hours judged, in the Asia/Shanghai month. A valid hour is judged against the permit limit of its
 * factor (a daily-basis limit by the valid daily mean of its day); hours whose aggregate is invalid (a flag other
 * than N, too little data) and hours overlapping a declared maintenance window are not judged. The counts are the
 * analyzer's own (`complianceByMonth` of @offsite/domain, stored per enterprise and month in its read API
 * `analyzer_compliance_months_v1`, site ''): the console sums the enterprises' hour counts per district and for
 * the scope, it does not judge hours a second time. Each row states the part of the month judged
 * [hours_from, hours_to): up to the analyzer's latest run for the current month; for a month that began before
 * the analyzer's trailing window (default 90 days) first covered it, from the window's start.
 *
 * `GET /api/compliance?month=&district=` lists the enterprises in scope with their counts for the month (default
 * the current Shanghai month), lowest rate first.
 */
import { Type } from '@sinclair/typebox';
import { shanghaiDate } from '@offsite/domain/calendar';
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
export async function complianceByDistrict(
  db: Queryable,
  p: Principal,
  month: string,
): Promise<ComplianceByDistrict[]> {
  const params: unknown[] = [];
  const scope = scopeSql(p, params, 'e');
  params.push(month);
  const r = await db.query<Row>(
    `select e.district_id,
            coalesce(sum(s.compliant_valid_hours), 0)::int as compliant,
            coalesce(sum(s.judged_valid_hours), 0)::int as judged,
            min(s.hours_from) as window_from, max(s.hours_to) as window_to
       from analyzer_compliance_months_v1 s join enterprises e on e.id = s.enterprise_id
      where s.site_id = '' and s.month = $${params.length} and ${scope}
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
  q: { district?: string; month?: string },
  now: number,
): Promise<{ month: string; items: ComplianceListItem[] }> {
  const month = q.month ?? shanghaiDate(now).slice(0, 7);
  const params: unknown[] = [];
  const scope = scopeSql(p, params, 'e');
  params.push(month);
  const m = params.length;
  params.push(q.district ?? null);
  const r = await db.query<
    Counted & { enterprise_id: string; name_zh: string; name_en: string | null; district_id: string }
  >(
    `select e.id as enterprise_id, e.name_zh, e.name_en, e.district_id,
            s.compliant_valid_hours as compliant, s.judged_valid_hours as judged,
            s.hours_from as window_from, s.hours_to as window_to
       from analyzer_compliance_months_v1 s join enterprises e on e.id = s.enterprise_id
      where s.site_id = '' and s.month = $${m} and ${scope} and ($${params.length}::text is null or e.district_id = $${params.length})`,
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
  return { month, items };
}

export function registerComplianceRoutes(
  app: FastifyInstance,
  deps: { pool: Queryable; who: (req: FastifyRequest) => Principal },
): void {
  const Query = Type.Object(
    {
      district: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_.-]{1,64}$' })),
      month: Type.Optional(Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$' })),
    },
    { additionalProperties: false },
  );
  app.get('/api/compliance', { schema: { querystring: Query, tags: ['statistics'] } }, async (req) =>
    complianceList(deps.pool, deps.who(req), req.query as { district?: string; month?: string }, Date.now()),
  );
}
