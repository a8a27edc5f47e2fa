/**
 * Emission loads (排放量) of one outlet per hour, day or month (Asia/Shanghai), per factor its permit limits in a
 * mass unit (mg/m³, mg/L…): `GET /api/data/loads` and its exports `/api/data/loads.xlsx` / `.csv`.
 *
 * The computation is `@offsite/domain`'s (loads.ts: concentration × flow → kg, invalid hours excluded and counted,
 * the logger's `Cou` as a recalculation check; load-series.ts: the hours from the InfluxDB series). Inputs are the
 * analyzer's hourly aggregates and the loggers' hourly data of the outlet, only the columns and factors the loads
 * use (`hourLoadInputQueries`, the analyzer's annual-load round reads the same).
 * Scope and the outlet are resolved as in the data browser; a range without any of these gets NO_DATA by field.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  DEFAULT_LOAD_TOLERANCE,
  FLOW_FACTOR,
  hasLoadUnit,
  loadTotals,
  outletHourLoads,
  sumLoads,
  type LoadTotal,
} from '@offsite/domain';
import { hourLoadInputQueries } from '@offsite/influx';
import type { Queryable } from '@offsite/store';
import { BrowseParams, fieldError, influxRunner, resolveSite } from './data-browser.js';
import { factorZh, shanghaiText, type ExportTable } from './data-export.js';
import { ConsoleError } from './errors.js';
import type { EvidenceSource } from './evidence.js';
import type { Principal } from './principal.js';

export const LOAD_GRANULARITIES = ['hour', 'day', 'month'] as const;
export type LoadGranularityParam = (typeof LOAD_GRANULARITIES)[number];

/** The longest range per granularity (hourly rows of a year are 8,760 per factor). */
export const MAX_LOAD_RANGE_DAYS: Readonly<Record<LoadGranularityParam, number>> = {
  hour: 31,
  day: 366,
  month: 366,
};
const G_ZH: Record<LoadGranularityParam, string> = { hour: '小时', day: '日', month: '月' };

/** The data browser's parameters with the load granularities and without a device. */
export const LoadsParams = Type.Object(
  {
    ...Type.Omit(BrowseParams, ['granularity', 'device']).properties,
    granularity: Type.Union(LOAD_GRANULARITIES.map((g) => Type.Literal(g))),
  },
  { additionalProperties: false },
);
export type LoadsParams = Static<typeof LoadsParams>;

/** A total with its period as ISO 8601 UTC. */
export type LoadRow = Omit<LoadTotal, 'start' | 'end'> & { start: string; end: string };

export interface LoadsResult {
  enterprise: { id: string; nameZh: string };
  site: { id: string; nameZh: string; kind: 'gas' | 'water'; flowFactor: string };
  granularity: LoadGranularityParam;
  from: string;
  to: string;
  tolerance: number;
  /** Per factor; `annualLoadKg` is the permitted annual load (许可排放量) when the registry gives one. */
  factors: {
    factor: string;
    concentrationUnit: string;
    annualLoadKg: number | null;
    rows: LoadRow[];
    total: LoadRow;
  }[];
}

const iso = (t: number) => new Date(t).toISOString();
const asRow = (t: LoadTotal): LoadRow => ({ ...t, start: iso(t.start), end: iso(t.end) });

export async function emissionLoads(
  db: Queryable,
  src: EvidenceSource,
  p: Principal,
  q: LoadsParams,
  tolerance = DEFAULT_LOAD_TOLERANCE,
): Promise<LoadsResult> {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (to.getTime() <= from.getTime())
    throw fieldError('to', '结束时间须晚于开始时间', 'the end must be after the start');
  const days = MAX_LOAD_RANGE_DAYS[q.granularity];
  if (to.getTime() - from.getTime() > days * 86_400_000)
    throw fieldError(
      'to',
      `按${G_ZH[q.granularity]}统计排放量一次最多 ${days} 天，请缩短时间范围`,
      `loads per ${q.granularity}: at most ${days} days per query, shorten the range`,
    );
  const site = await resolveSite(db, p, q.enterprise, q.site);
  if (site.kind !== 'outlet')
    throw new ConsoleError(
      'INVALID_INPUT',
      '字段 site：电表没有排放量 / field site: a meter has no emission load',
      {
        details: { in: 'querystring', field: 'site' },
      },
    );
  const o = await db.query<{ kind: 'gas' | 'water' }>('select kind from outlets where id = $1', [q.site]);
  const kind = o.rows[0]!.kind;
  const flowFactor = FLOW_FACTOR[kind];
  const l = await db.query<{ factor: string; unit: string; annual_kg: number | null }>(
    `select distinct on (factor_code) factor_code as factor, unit, annual_load_kg::float8 as annual_kg
       from permit_limits where outlet_id = $1 and ($2::text is null or factor_code = $2)
      order by factor_code, annual_load_kg nulls last, basis`,
    [q.site, q.factor ?? null],
  );
  const pollutants = l.rows.filter((r) => hasLoadUnit(r.unit));
  if (pollutants.length === 0)
    throw fieldError(
      q.factor === undefined ? 'site' : 'factor',
      '该排放口没有以质量浓度许可的监测因子，无法计算排放量',
      'the outlet has no factor permitted in a mass concentration: no load to compute',
    );
  const run = influxRunner(src);
  const inputs = hourLoadInputQueries(
    { aggregate: src.aggregateMeasurement, emission: src.emissionMeasurement },
    { enterpriseId: q.enterprise, site: q.site, factors: [...pollutants.map((r) => r.factor), flowFactor] },
    from,
    to,
  );
  const [aggs, hourly] = await Promise.all([run(inputs.aggregates), run(inputs.hourly)]);
  const hours = outletHourLoads(
    aggs,
    hourly,
    flowFactor,
    pollutants.map((r) => ({ factor: r.factor, concentrationUnit: r.unit })),
  );
  const factors = hours.map((f, i) => ({
    factor: f.factor,
    concentrationUnit: f.concentrationUnit,
    annualLoadKg: pollutants[i]!.annual_kg,
    rows: loadTotals(f.hours, q.granularity, from.getTime(), to.getTime(), tolerance).map(asRow),
    total: asRow(sumLoads(f.hours, from.getTime(), to.getTime(), tolerance)),
  }));
  const any = hours.some((f) => f.seen);
  if (!any)
    throw new ConsoleError(
      'NO_DATA',
      '字段 from：所选时段内没有小时浓度或排放量数据 / field from: no hourly concentrations or loads in the chosen range',
      { details: { in: 'querystring', field: 'from' } },
    );
  return {
    enterprise: { id: q.enterprise, nameZh: site.enterprise_name_zh },
    site: { id: q.site, nameZh: site.name_zh, kind, flowFactor },
    granularity: q.granularity,
    from: from.toISOString(),
    to: to.toISOString(),
    tolerance,
    factors,
  };
}

const kg = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e6);

/** The loads as one table (a row per factor and period) for the xlsx/CSV export. */
export function loadsExportTable(r: LoadsResult): ExportTable {
  const headers = [
    '时段开始（北京时间）',
    '时段结束（北京时间）',
    '企业',
    '排放口',
    '监测因子',
    '浓度单位',
    '排放量（kg，浓度×流量）',
    '排放量（kg，数采仪累计值）',
    '有效小时',
    '无效小时',
    '缺失小时',
    '核算比对相对偏差',
    '比对超限',
  ];
  const rows = r.factors.flatMap((f) =>
    f.rows.map((x) => [
      shanghaiText(x.start),
      shanghaiText(x.end),
      r.enterprise.nameZh,
      r.site.nameZh,
      factorZh(f.factor),
      f.concentrationUnit,
      kg(x.computedKg),
      kg(x.reportedKg),
      x.validHours,
      x.invalidHours,
      x.missingHours,
      x.check === null ? null : Math.round(x.check.relativeDifference * 1e4) / 1e4,
      x.check === null ? null : x.check.flagged ? '是' : '否',
    ]),
  );
  return {
    headers,
    rows,
    about: [
      ['企业', `${r.enterprise.nameZh}（${r.enterprise.id}）`],
      ['排放口', `${r.site.nameZh}（${r.site.id}）`],
      ['统计粒度', G_ZH[r.granularity]],
      ['时段（北京时间）', `${shanghaiText(r.from)} 至 ${shanghaiText(r.to)}`],
      [
        '计算方法',
        '排放量 = 小时实测浓度均值 × 小时流量（废气 mg/m³×m³×10⁻⁶，废水 mg/L×m³×10⁻³ → kg）；无效与缺失小时不计入并计数；数采仪累计值（Cou）作核算比对',
      ],
      ['比对容差', `${r.tolerance * 100} %`],
    ],
  };
}
