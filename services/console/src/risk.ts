// Risk scores per enterprise (the big-data cross-checks'), read from the analyzer's read API `analyzer_risk_v1`:
// a score of at most 100 and its reasons in words (zh and en), highest points first. Staff only: the reasons speak
// of suspected falsification, which enterprises are not shown. Scoped like everything else (principal.ts). The
// random-inspection draw takes the same scores as weights (regulation/draws.ts).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '@offsite/store';
import { ConsoleError } from './errors.js';
import { Obj } from './request-schema.js';
import { scopeSql, type Principal } from './principal.js';

export interface RiskReason {
  check: string;
  points: number;
  zh: string;
  en: string;
}

export interface RiskScore {
  enterpriseId: string;
  nameZh: string;
  nameEn: string;
  districtId: string;
  score: number;
  reasons: RiskReason[];
  /** End of the data the score was computed from (ISO 8601 UTC). */
  asOf: string;
}

/** Scores of the given enterprises (absent: 0, no reason). */
export async function riskScoresOf(db: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const r = await db.query<{ enterprise_id: string; score: number }>(
    'select enterprise_id, score from analyzer_risk_v1 where enterprise_id = any($1::text[])',
    [ids],
  );
  return new Map(r.rows.map((x) => [x.enterprise_id, x.score]));
}

function staffOnly(p: Principal): void {
  if (p.role === 'enterprise')
    throw new ConsoleError('FORBIDDEN', '风险评分仅供监管人员查看 / risk scores are for supervisors only');
}

/** The scored enterprises the principal may see, highest score first. */
export async function listRiskScores(db: Queryable, p: Principal): Promise<RiskScore[]> {
  staffOnly(p);
  const params: unknown[] = [];
  const scope = scopeSql(p, params, 'e');
  const r = await db.query<{
    id: string;
    name_zh: string;
    name_en: string;
    district_id: string;
    score: number;
    reasons: RiskReason[];
    as_of: Date;
  }>(
    `select e.id, e.name_zh, e.name_en, e.district_id, r.score, r.reasons, r.as_of
       from analyzer_risk_v1 r join enterprises e on e.id = r.enterprise_id
      where ${scope} order by r.score desc, e.id`,
    params,
  );
  return r.rows.map((x) => ({
    enterpriseId: x.id,
    nameZh: x.name_zh,
    nameEn: x.name_en,
    districtId: x.district_id,
    score: x.score,
    reasons: x.reasons.map((y) => ({ check: y.check, points: y.points, zh: y.zh, en: y.en })),
    asOf: x.as_of.toISOString(),
  }));
}

/**
 * One enterprise's score for its page: null score and no reasons when no check found anything; 404 outside the
 * principal's scope (as the enterprise itself), 403 for an enterprise's users.
 */
export async function enterpriseRisk(
  db: Queryable,
  p: Principal,
  id: string,
): Promise<{ enterpriseId: string; score: number | null; reasons: RiskReason[]; asOf: string | null }> {
  staffOnly(p);
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'e');
  const r = await db.query<{ score: number | null; reasons: RiskReason[] | null; as_of: Date | null }>(
    `select r.score, r.reasons, r.as_of from enterprises e left join analyzer_risk_v1 r on r.enterprise_id = e.id
      where e.id = $1 and ${scope}`,
    params,
  );
  const row = r.rows[0];
  if (!row) throw new ConsoleError('NOT_FOUND', `企业不存在 / enterprise not found: ${id}`);
  return {
    enterpriseId: id,
    score: row.score,
    reasons: (row.reasons ?? []).map((y) => ({ check: y.check, points: y.points, zh: y.zh, en: y.en })),
    asOf: row.as_of?.toISOString() ?? null,
  };
}

export function registerRiskRoutes(
  app: FastifyInstance,
  d: { pool: Queryable; who: (req: FastifyRequest) => Principal },
): void {
  app.get('/api/risk-scores', { schema: { tags: ['regulation'] } }, async (req) => ({
    items: await listRiskScores(d.pool, d.who(req)),
  }));
  app.get<{ Params: { id: string } }>(
    '/api/enterprises/:id/risk',
    { schema: { params: Obj({ id: Type.String({ minLength: 1, maxLength: 128 }) }), tags: ['regulation'] } },
    async (req) => enterpriseRisk(d.pool, d.who(req), req.params.id),
  );
}
