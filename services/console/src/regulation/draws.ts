// Random-inspection draws stored in Postgres: load the population and roster in scope, draw, record,
// record results (linked to cases), re-run from the stored inputs, and export the publication.
import { addYears, shanghaiDate } from '@offsite/domain/calendar';
import {
  defaultDrawConfig,
  drawInspections,
  regulationError,
  requireCapability,
  toCsv,
  type DrawConfig,
  type DrawEnterprise,
  type DrawInput,
  type DrawInspector,
  type DrawResult,
  type DrawTarget,
  type Scope,
} from '@offsite/regulation';
import { isUniqueViolation, query, transaction, type Db, type Queryable } from './db.js';
import { currentPositiveList } from './positive-list.js';

/** Open deviations per enterprise (from the alerter's cases); absent means none. */
export type OpenDeviationsSource = (enterpriseIds: readonly string[]) => Promise<ReadonlyMap<string, number>>;

export const noOpenDeviations: OpenDeviationsSource = async () => new Map();

/** The big-data cross-checks' risk score per enterprise (0–100, the analyzer's); absent means 0. */
export type RiskScoreSource = (enterpriseIds: readonly string[]) => Promise<ReadonlyMap<string, number>>;

export async function loadDrawPopulation(
  db: Queryable,
  scope: Scope,
  deps: {
    now: Date;
    openDeviations: OpenDeviationsSource;
    riskScores?: RiskScoreSource;
    violationLookbackYears?: number;
  },
): Promise<{ enterprises: DrawEnterprise[]; inspectors: DrawInspector[] }> {
  const since = addYears(shanghaiDate(deps.now), -(deps.violationLookbackYears ?? 3));
  const rows = await query<{
    id: string;
    district_id: string;
    supervision_class: DrawEnterprise['supervisionClass'];
    violations: number;
  }>(
    db,
    'load draw population',
    `select e.id, e.district_id, e.supervision_class,
            (select count(*)::int from violations v where v.enterprise_id = e.id and v.occurred_on > $2::date) as violations
       from enterprises e where ($1::text is null or e.district_id = $1) order by e.id`,
    [scope.districtId, since],
  );
  const listed = new Set((await currentPositiveList(db, scope, deps.now)).map((d) => d.enterpriseId));
  const open = await deps.openDeviations(rows.map((r) => r.id));
  const risk = (await deps.riskScores?.(rows.map((r) => r.id))) ?? new Map<string, number>();
  const inspectors = await query<{ id: string; district_id: string | null; recusals: string[] }>(
    db,
    'load inspector roster',
    `select i.id, i.district_id,
            coalesce(array(select r.enterprise_id from inspector_recusals r where r.inspector_id = i.id order by 1), '{}') as recusals
       from inspectors i where i.active order by i.id`,
  );
  return {
    enterprises: rows.map((r) => ({
      id: r.id,
      districtId: r.district_id,
      supervisionClass: r.supervision_class,
      positiveListed: listed.has(r.id),
      openDeviations: open.get(r.id) ?? 0,
      violations: r.violations,
      riskScore: risk.get(r.id) ?? 0,
    })),
    inspectors: inspectors.map((i) => ({ id: i.id, districtId: i.district_id, recusals: i.recusals })),
  };
}

export interface StoredDraw extends DrawResult {
  id: number;
  period: string;
  districtId: string | null;
  seed: string;
  config: DrawConfig;
  createdBy: string;
  createdAt: string;
  publishedAt: string | null;
  targets: (DrawTarget & { result: string; resultNote: string | null; caseId: string | null })[];
}

export async function createDraw(
  db: Db,
  scope: Scope,
  input: { period: string; seed: string; config?: DrawConfig },
  deps: { now: Date; openDeviations?: OpenDeviationsSource; riskScores?: RiskScoreSource },
): Promise<StoredDraw> {
  requireCapability(scope, 'runDraw');
  const config = input.config ?? defaultDrawConfig;
  const population = await loadDrawPopulation(db, scope, {
    now: deps.now,
    openDeviations: deps.openDeviations ?? noOpenDeviations,
    ...(deps.riskScores ? { riskScores: deps.riskScores } : {}),
  });
  const drawInput: DrawInput = { period: input.period, seed: input.seed, config, ...population };
  const result = drawInspections(drawInput);
  let id: number;
  try {
    id = await transaction(db, 'record draw', async (c) => {
      const [row] = await query<{ id: string }>(
        c,
        'insert draw',
        `insert into inspection_draws (period, district_id, seed, config, inputs, inputs_digest, algorithm, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
        [
          input.period,
          scope.districtId,
          input.seed,
          JSON.stringify(config),
          JSON.stringify({ enterprises: population.enterprises, inspectors: population.inspectors }),
          result.inputsDigest,
          result.algorithm,
          scope.userId,
        ],
      );
      const drawId = Number(row?.id);
      for (const t of result.targets) {
        await c.query(
          `insert into inspection_targets (draw_id, enterprise_id, district_id, stratum, mode, weight, rank, inspector_ids)
           values ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [drawId, t.enterpriseId, t.districtId, t.stratum, t.mode, t.weight, t.rank, t.inspectorIds],
        );
      }
      return drawId;
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw regulationError('DRAW_EXISTS', `a draw for ${input.period} in this scope already exists`, {
        cause: err,
      });
    }
    throw err;
  }
  return getDraw(db, scope, id);
}

interface DrawRow {
  id: string;
  period: string;
  district_id: string | null;
  seed: string;
  config: DrawConfig;
  inputs: Pick<DrawInput, 'enterprises' | 'inspectors'>;
  inputs_digest: string;
  algorithm: string;
  created_by: string;
  created_at: Date;
  published_at: Date | null;
}

async function loadDrawRow(db: Queryable, scope: Scope, id: number): Promise<DrawRow> {
  // A district user sees draws of their district; city-wide draws are visible to all (they are published).
  const [row] = await query<DrawRow>(
    db,
    'load draw',
    `select * from inspection_draws where id = $1 and ($2::text is null or district_id is null or district_id = $2)`,
    [id, scope.districtId],
  );
  if (!row) throw regulationError('NOT_FOUND', `draw ${id} not found`);
  return row;
}

export async function getDraw(db: Queryable, scope: Scope, id: number): Promise<StoredDraw> {
  const row = await loadDrawRow(db, scope, id);
  const targets = await query<{
    enterprise_id: string;
    district_id: string;
    stratum: DrawTarget['stratum'];
    mode: DrawTarget['mode'];
    weight: number;
    rank: number;
    inspector_ids: string[];
    result: string;
    result_note: string | null;
    case_id: string | null;
  }>(
    db,
    'load draw targets',
    `select * from inspection_targets where draw_id = $1 and ($2::text is null or district_id = $2)
      order by array_position(array['key','special','general','positive-list'], stratum), rank`,
    [id, scope.districtId],
  );
  const strataOrder = ['key', 'special', 'general', 'positive-list'] as const;
  return {
    id: Number(row.id),
    period: row.period,
    districtId: row.district_id,
    seed: row.seed,
    config: row.config,
    algorithm: row.algorithm,
    inputsDigest: row.inputs_digest,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    publishedAt: row.published_at?.toISOString() ?? null,
    strata: strataOrder.map((s) => {
      const population = row.inputs.enterprises.filter((e) =>
        s === 'positive-list' ? e.positiveListed : !e.positiveListed && e.supervisionClass === s,
      ).length;
      return {
        stratum: s,
        population,
        rate: row.config.rates[s],
        drawn: targets.filter((t) => t.stratum === s).length,
      };
    }),
    targets: targets.map((t) => ({
      enterpriseId: t.enterprise_id,
      districtId: t.district_id,
      stratum: t.stratum,
      mode: t.mode,
      weight: t.weight,
      rank: t.rank,
      inspectorIds: t.inspector_ids,
      result: t.result,
      resultNote: t.result_note,
      caseId: t.case_id,
    })),
  };
}

export interface DrawSummary {
  id: number;
  period: string;
  districtId: string | null;
  seed: string;
  algorithm: string;
  createdBy: string;
  createdAt: string;
  publishedAt: string | null;
  /** Targets visible in the caller's scope (a district user counts only its district's targets). */
  targets: number;
  onSite: number;
  recorded: number;
  problemsFound: number;
}

/**
 * Draws visible to the caller, newest first: a district user sees its district's draws and the
 * city-wide ones (published), with target counts restricted to its district.
 */
export async function listDraws(
  db: Queryable,
  scope: Scope,
  filter: { period?: string; limit?: number } = {},
): Promise<DrawSummary[]> {
  const rows = await query<{
    id: string;
    period: string;
    district_id: string | null;
    seed: string;
    algorithm: string;
    created_by: string;
    created_at: Date;
    published_at: Date | null;
    targets: number;
    on_site: number;
    recorded: number;
    problems: number;
  }>(
    db,
    'list draws',
    `select d.id, d.period, d.district_id, d.seed, d.algorithm, d.created_by, d.created_at, d.published_at,
            count(t.*)::int as targets,
            count(*) filter (where t.mode = 'on-site')::int as on_site,
            count(*) filter (where t.result is not null and t.result <> 'pending')::int as recorded,
            count(*) filter (where t.result = 'problem-found')::int as problems
       from inspection_draws d
       left join inspection_targets t on t.draw_id = d.id and ($1::text is null or t.district_id = $1)
      where ($1::text is null or d.district_id is null or d.district_id = $1)
        and ($2::text is null or d.period = $2)
      group by d.id
      order by d.created_at desc, d.id desc
      limit $3`,
    [scope.districtId, filter.period ?? null, filter.limit ?? 200],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    period: r.period,
    districtId: r.district_id,
    seed: r.seed,
    algorithm: r.algorithm,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    publishedAt: r.published_at?.toISOString() ?? null,
    targets: r.targets,
    onSite: r.on_site,
    recorded: r.recorded,
    problemsFound: r.problems,
  }));
}

/** Re-run a stored draw from its published seed and stored inputs; `matches` says whether it is the same draw. */
export async function verifyDraw(
  db: Queryable,
  scope: Scope,
  id: number,
): Promise<{ matches: boolean; inputsDigest: string; rerun: DrawResult }> {
  const row = await loadDrawRow(db, scope, id);
  const rerun = drawInspections({ period: row.period, seed: row.seed, config: row.config, ...row.inputs });
  const stored = await query<{
    enterprise_id: string;
    inspector_ids: string[];
    stratum: string;
    rank: number;
  }>(
    db,
    'load stored targets',
    `select enterprise_id, inspector_ids, stratum, rank from inspection_targets where draw_id = $1`,
    [id],
  );
  const key = (t: { enterprise: string; inspectors: string[]; stratum: string; rank: number }): string =>
    `${t.stratum}|${t.rank}|${t.enterprise}|${t.inspectors.join('+')}`;
  const a = stored
    .map((t) =>
      key({ enterprise: t.enterprise_id, inspectors: t.inspector_ids, stratum: t.stratum, rank: t.rank }),
    )
    .sort();
  const b = rerun.targets
    .map((t) =>
      key({ enterprise: t.enterpriseId, inspectors: t.inspectorIds, stratum: t.stratum, rank: t.rank }),
    )
    .sort();
  const matches =
    rerun.inputsDigest === row.inputs_digest && a.length === b.length && a.every((x, i) => x === b[i]);
  return { matches, inputsDigest: row.inputs_digest, rerun };
}

export type InspectionResult = 'no-problem' | 'problem-found' | 'not-inspected';

export async function recordInspectionResult(
  db: Queryable,
  scope: Scope,
  input: {
    drawId: number;
    enterpriseId: string;
    result: InspectionResult;
    note?: string;
    caseId?: string | null;
  },
): Promise<void> {
  requireCapability(scope, 'recordInspection');
  const rows = await query<{ enterprise_id: string }>(
    db,
    'record inspection result',
    `update inspection_targets set result = $3, result_note = $4, case_id = $5, recorded_by = $6, recorded_at = now()
      where draw_id = $1 and enterprise_id = $2 and ($7::text is null or district_id = $7) returning enterprise_id`,
    [
      input.drawId,
      input.enterpriseId,
      input.result,
      input.note ?? null,
      input.caseId ?? null,
      scope.userId,
      scope.districtId,
    ],
  );
  if (rows.length === 0) {
    throw regulationError(
      'NOT_FOUND',
      `enterprise ${input.enterpriseId} is not a target of draw ${input.drawId}`,
    );
  }
}

/**
 * Marks a draw published (一公开) once; later calls keep the first time. Returns when it was published.
 * Only roles that run draws publish them; a draw outside the scope is NOT_FOUND.
 */
export async function publishDraw(db: Queryable, scope: Scope, id: number): Promise<{ publishedAt: string }> {
  requireCapability(scope, 'publishDraw');
  await loadDrawRow(db, scope, id);
  const [row] = await query<{ published_at: Date }>(
    db,
    'mark draw published',
    `update inspection_draws set published_at = coalesce(published_at, now()) where id = $1 returning published_at`,
    [id],
  );
  return { publishedAt: row!.published_at.toISOString() };
}

const STRATUM_ZH: Record<string, string> = {
  key: '重点排污单位',
  special: '特殊监管对象',
  general: '一般排污单位',
  'positive-list': '正面清单（非现场检查）',
};
const MODE_ZH: Record<string, string> = { 'on-site': '现场检查', 'off-site': '非现场检查' };
const RESULT_ZH: Record<string, string> = {
  pending: '待检查',
  'no-problem': '未发现问题',
  'problem-found': '发现问题',
  'not-inspected': '未检查',
};

/**
 * The publication (一公开): one row per target with enterprise name and credit code, class, mode,
 * inspectors' names and result, preceded by the seed, algorithm and inputs digest so anyone can
 * re-run the draw. Reading it changes nothing: publishing is `publishDraw`.
 */
export async function drawPublicationCsv(db: Queryable, scope: Scope, id: number): Promise<string> {
  const draw = await getDraw(db, scope, id);
  // A district user exports only their part of a city-wide draw: that is what getDraw returned.
  const names = await query<{ id: string; name_zh: string; credit_code: string; district: string }>(
    db,
    'load target names',
    `select e.id, e.name_zh, e.credit_code, d.name_zh as district from enterprises e join districts d on d.id = e.district_id
      where e.id = any($1::text[])`,
    [draw.targets.map((t) => t.enterpriseId)],
  );
  const inspectorNames = await query<{ id: string; name: string }>(
    db,
    'load inspector names',
    `select id, name from inspectors`,
  );
  const byId = new Map(names.map((n) => [n.id, n]));
  const inspectorById = new Map(inspectorNames.map((i) => [i.id, i.name]));
  const rows = draw.targets.map((t, i) => {
    const e = byId.get(t.enterpriseId);
    return [
      i + 1,
      draw.period,
      e?.name_zh ?? t.enterpriseId,
      e?.credit_code ?? '',
      e?.district ?? t.districtId,
      STRATUM_ZH[t.stratum] ?? t.stratum,
      MODE_ZH[t.mode] ?? t.mode,
      t.inspectorIds.map((x) => inspectorById.get(x) ?? x).join('、'),
      RESULT_ZH[t.result] ?? t.result,
      draw.seed,
      draw.inputsDigest,
    ];
  });
  return toCsv(
    [
      '序号 No.',
      '批次 Period',
      '企业名称 Enterprise',
      '统一社会信用代码 Credit code',
      '区县 District',
      '类别 Class',
      '检查方式 Mode',
      '检查人员 Inspectors',
      '检查结果 Result',
      '随机种子 Seed',
      '输入摘要 Inputs SHA-256',
    ],
    rows,
  );
}
