/**
 * The data browser (数据查询): one outlet's or one meter's telemetry over a chosen range at one granularity
 * (real-time, minute, hourly, daily), with data flags, the analyzer's validity and converted (折算) values and
 * the outlet's permit limits; a meter comes with its pair (production and treatment side by side).
 *
 * Ranges are bounded per granularity (MAX_RANGE_DAYS) and a range that would return more than MAX_POINTS
 * points per series is downsampled in InfluxDB (bucket means, buckets aligned on Asia/Shanghai wall-clock
 * boundaries, flagged points counted per bucket). The queries are `@offsite/influx`'s (InfluxQL, every value a
 * bind parameter); the enterprise and site are resolved through the principal's scope first.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  browseQuery,
  flaggedCountQuery,
  queryInfluxQL,
  type InfluxQLQuery,
  type InfluxQLSeries,
  type SeriesWhere,
} from '@offsite/influx';
import { SHANGHAI_OFFSET_MS } from '@offsite/domain/calendar';
import type { Queryable } from '@offsite/store';
import { ConsoleError } from './errors.js';
import { meterPair, type AggregateRow, type EvidenceSource } from './evidence.js';
import { scopeSql, type Principal } from './principal.js';

export const GRANULARITIES = ['realtime', 'minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** The longest range one query may ask for, per granularity. */
export const MAX_RANGE_DAYS: Readonly<Record<Granularity, number>> = {
  realtime: 1,
  minute: 7,
  hour: 366,
  day: 1096,
};
/** More points than this per series and the range is downsampled. */
export const MAX_POINTS = 2000;
/** Bucket sizes a downsampled range may use (seconds). */
const NICE_BUCKETS = [60, 300, 600, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const SHANGHAI_OFFSET_S = SHANGHAI_OFFSET_MS / 1000;

const GRANULARITY_ZH: Record<Granularity, string> = {
  realtime: '实时数据',
  minute: '分钟数据',
  hour: '小时数据',
  day: '日数据',
};
const GRANULARITY_EN: Record<Granularity, string> = {
  realtime: 'real-time data',
  minute: 'minute data',
  hour: 'hourly data',
  day: 'daily data',
};

export const BrowseParams = Type.Object(
  {
    enterprise: Type.String({ minLength: 1, maxLength: 64 }),
    site: Type.String({ minLength: 1, maxLength: 64 }),
    granularity: Type.Union(GRANULARITIES.map((g) => Type.Literal(g))),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    factor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_]{1,32}$' })),
    device: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_.-]{1,64}$' })),
  },
  { additionalProperties: false },
);
export type BrowseParams = Static<typeof BrowseParams>;

export interface BrowseSeries {
  siteId: string;
  /** A meter's role (production, treatment, total). */
  role?: string;
  factor: string;
  device: string;
  interval: string;
  /** The statistic (`Rtd`, `Avg`, `Min`, `Max`, `Cou`, `ZsAvg`…); a bucket's mean when downsampled. */
  field: string;
  unit: string | null;
  points: [string, number][];
  /** Raw points whose data flag is not `N` (time, flag). */
  flags: [string, string][];
  /** Downsampled: points per bucket whose flag is not `N` (bucket start, count). */
  flaggedCounts: [string, number][];
}

export interface BrowseLimit {
  factor: string;
  basis: string;
  value: number;
  lowerValue: number | null;
  unit: string;
  converted: boolean;
}

export interface BrowseResult {
  enterprise: { id: string; nameZh: string; nameEn: string | null };
  site: { id: string; kind: 'outlet' | 'meter'; nameZh: string; nameEn: string | null; role: string | null };
  granularity: Granularity;
  from: string;
  to: string;
  /** Null: every stored point; else the bucket (seconds) the series were averaged over. */
  bucketSeconds: number | null;
  series: BrowseSeries[];
  /** The analyzer's hourly/daily aggregates (outlets, hour and day): value, converted, validity, flag. */
  aggregates: (AggregateRow & { factor: string })[];
  limits: BrowseLimit[];
  /** Meters shown (the site and its pair): id → role. */
  meters: { id: string; role: string }[];
}

export const fieldError = (field: string, zh: string, en: string) =>
  new ConsoleError('INVALID_INPUT', `字段 ${field}：${zh} / invalid field ${field}: ${en}`, {
    details: { in: 'querystring', field },
  });

/**
 * The checked range and how to read it: raw (`bucketSeconds` undefined) or averaged over buckets.
 * `spacingSeconds` is the stored points' spacing, `minBucketSeconds` a bucket the data must be averaged
 * over anyway (meters store real-time data only: their hourly view is hourly means).
 */
export function planRange(
  granularity: Granularity,
  fromIso: string,
  toIso: string,
  spacingSeconds: number,
  minBucketSeconds = 0,
): { from: Date; to: Date; bucketSeconds: number | undefined } {
  const from = new Date(fromIso);
  const to = new Date(toIso);
  if (Number.isNaN(from.getTime())) throw fieldError('from', '时间格式不正确', 'not a date-time');
  if (Number.isNaN(to.getTime())) throw fieldError('to', '时间格式不正确', 'not a date-time');
  if (to.getTime() <= from.getTime())
    throw fieldError('to', '结束时间须晚于开始时间', 'the end must be after the start');
  const days = MAX_RANGE_DAYS[granularity];
  if (to.getTime() - from.getTime() > days * 86_400_000)
    throw fieldError(
      'to',
      `${GRANULARITY_ZH[granularity]}一次最多查询 ${days} 天，请缩短时间范围`,
      `${GRANULARITY_EN[granularity]}: at most ${days} days per query, shorten the range`,
    );
  const rangeS = (to.getTime() - from.getTime()) / 1000;
  if (minBucketSeconds === 0 && rangeS / Math.max(spacingSeconds, 1) <= MAX_POINTS)
    return { from, to, bucketSeconds: undefined };
  const wanted = Math.max(minBucketSeconds, rangeS / MAX_POINTS);
  const bucketSeconds = NICE_BUCKETS.find((b) => b >= wanted) ?? NICE_BUCKETS[NICE_BUCKETS.length - 1]!;
  return { from, to, bucketSeconds };
}

/** Buckets start on Asia/Shanghai boundaries (a daily bucket at 00:00 北京时间). */
export function shanghaiOffset(bucketSeconds: number): number {
  return (bucketSeconds - (SHANGHAI_OFFSET_S % bucketSeconds)) % bucketSeconds;
}

interface SiteRow {
  enterprise_name_zh: string;
  enterprise_name_en: string | null;
  kind: 'outlet' | 'meter';
  name_zh: string;
  name_en: string | null;
  role: string | null;
}

/** The enterprise and site as the principal may see them; 404 naming the field otherwise. */
export async function resolveSite(
  db: Queryable,
  p: Principal,
  enterpriseId: string,
  siteId: string,
): Promise<SiteRow> {
  const params: unknown[] = [enterpriseId, siteId];
  const scope = scopeSql(p, params, 'e');
  const r = await db.query<SiteRow & { found: boolean }>(
    `select e.name_zh as enterprise_name_zh, e.name_en as enterprise_name_en, s.kind, s.name_zh, s.name_en, s.role,
            s.id is not null as found
       from enterprises e
       left join (select id, enterprise_id, 'outlet' as kind, name_zh, name_en, null::text as role from outlets
                  union all
                  select id, enterprise_id, 'meter', name_zh, name_en, role from meters) s
         on s.enterprise_id = e.id and s.id = $2
      where e.id = $1 and ${scope}
      order by s.kind desc nulls last limit 1`,
    params,
  );
  const row = r.rows[0];
  if (!row)
    throw new ConsoleError(
      'NOT_FOUND',
      `字段 enterprise：未找到该企业 / field enterprise: no such enterprise in your scope`,
      { details: { in: 'querystring', field: 'enterprise' } },
    );
  if (!row.found)
    throw new ConsoleError(
      'NOT_FOUND',
      `字段 site：该企业没有此排放口或电表 / field site: the enterprise has no such outlet or meter`,
      { details: { in: 'querystring', field: 'site' } },
    );
  return row;
}

const iso = (t: unknown) => new Date(Number(t)).toISOString();

/** Runs InfluxQL on the source; a failure is EVIDENCE_UNAVAILABLE (retryable). */
export function influxRunner(src: EvidenceSource): (query: InfluxQLQuery) => Promise<InfluxQLSeries[]> {
  return async (query) => {
    try {
      return await queryInfluxQL(src.client, src.bucket, query);
    } catch (err) {
      throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'cannot read telemetry from InfluxDB', {
        retryable: true,
        cause: err,
      });
    }
  };
}

/** InfluxQL series (raw or `mean_<field>` columns) → one chart series per statistic. */
export function toBrowseSeries(
  result: readonly InfluxQLSeries[],
  flagged: readonly InfluxQLSeries[],
  roles: ReadonlyMap<string, string>,
  units: (factor: string) => string | null,
): BrowseSeries[] {
  const tagKey = (t: Record<string, string>) => `${t.site}|${t.factor}|${t.device}|${t.interval}`;
  const counts = new Map<string, [string, number][]>();
  for (const s of flagged)
    counts.set(
      tagKey(s.tags),
      s.rows.map((r) => [iso(r.time), Number(r.flagged)]),
    );
  const out: BrowseSeries[] = [];
  for (const s of result) {
    const t = s.tags;
    const cols = [...new Set(s.rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== 'time').sort();
    let unit: string | null = null;
    const flags: [string, string][] = [];
    for (const r of s.rows) {
      if (typeof r.unit === 'string') unit ??= r.unit;
      if (typeof r.flag === 'string' && r.flag !== 'N') flags.push([iso(r.time), r.flag]);
    }
    for (const c of cols) {
      const field = c.startsWith('mean_') ? c.slice(5) : c;
      if (field === 'flag' || field === 'unit' || field.endsWith('_flag')) continue;
      const points: [string, number][] = [];
      for (const r of s.rows) if (typeof r[c] === 'number') points.push([iso(r.time), r[c] as number]);
      if (points.length === 0) continue;
      const role = roles.get(t.site ?? '');
      out.push({
        siteId: t.site ?? '',
        ...(role ? { role } : {}),
        factor: t.factor ?? '',
        device: t.device ?? '',
        interval: t.interval ?? '',
        field,
        unit: unit ?? units(t.factor ?? ''),
        points,
        flags,
        flaggedCounts: counts.get(tagKey(t)) ?? [],
      });
    }
  }
  return out.sort(
    (a, b) =>
      a.siteId.localeCompare(b.siteId) ||
      a.factor.localeCompare(b.factor) ||
      a.device.localeCompare(b.device) ||
      a.field.localeCompare(b.field),
  );
}

/** Aggregate series (raw or `mean_` columns) → one record per factor and window. */
export function toBrowseAggregates(result: readonly InfluxQLSeries[]): (AggregateRow & { factor: string })[] {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const out: (AggregateRow & { factor: string })[] = [];
  for (const s of result)
    for (const r of s.rows)
      out.push({
        factor: s.tags.factor ?? '',
        interval: s.tags.interval ?? '',
        start: iso(r.time),
        value: num(r.value ?? r.mean_value),
        converted: num(r.converted ?? r.mean_converted),
        valid: typeof r.valid === 'boolean' ? r.valid : null,
        flag: typeof r.flag === 'string' ? r.flag : null,
        coverage: num(r.coverage ?? r.mean_coverage),
      });
  return out.sort((a, b) => a.factor.localeCompare(b.factor) || a.start.localeCompare(b.start));
}

const METER_UNITS: Record<string, string> = { energy_kwh: 'kWh', power_kw: 'kW' };
const NOMINAL_S: Record<Granularity, number> = { realtime: 30, minute: 600, hour: 3600, day: 86400 };
const METER_MIN_BUCKET_S: Record<Granularity, number> = { realtime: 0, minute: 60, hour: 3600, day: 86400 };

export async function browseData(
  db: Queryable,
  src: EvidenceSource,
  p: Principal,
  q: BrowseParams,
): Promise<BrowseResult> {
  const site = await resolveSite(db, p, q.enterprise, q.site);
  const run = influxRunner(src);
  const g = q.granularity;
  let where: SeriesWhere;
  let measurement: string;
  let plan: ReturnType<typeof planRange>;
  let roles = new Map<string, string>();
  let limits: BrowseLimit[] = [];
  if (site.kind === 'meter') {
    roles = await meterPair(db, q.enterprise, q.site);
    measurement = src.energyMeasurement;
    // Meters send real-time readings only: minute, hourly and daily views are their means.
    where = { enterpriseId: q.enterprise, sites: [...roles.keys()], interval: 'realtime' };
    plan = planRange(g, q.from, q.to, 15, METER_MIN_BUCKET_S[g]);
  } else {
    if (q.device !== undefined) {
      const d = await db.query('select 1 from devices where mn = $1 and outlet_id = $2', [q.device, q.site]);
      if (d.rowCount === 0)
        throw new ConsoleError(
          'NOT_FOUND',
          '字段 device：该排放口没有此监测设备 / field device: the outlet has no such device',
          { details: { in: 'querystring', field: 'device' } },
        );
    }
    const spacing = await db.query<{ realtime: number | null; minute: number | null }>(
      `select min(realtime_interval_s) as realtime, min(minute_interval_s) as minute from devices where outlet_id = $1`,
      [q.site],
    );
    const s = spacing.rows[0];
    const spacingS = g === 'realtime' ? s?.realtime : g === 'minute' ? s?.minute : undefined;
    measurement = src.emissionMeasurement;
    where = {
      enterpriseId: q.enterprise,
      sites: [q.site],
      interval: g,
      ...(q.factor !== undefined ? { factor: q.factor } : {}),
      ...(q.device !== undefined ? { device: q.device } : {}),
    };
    plan = planRange(g, q.from, q.to, spacingS ?? NOMINAL_S[g]);
    const l = await db.query<{
      factor: string;
      basis: string;
      value: number;
      lower_value: number | null;
      unit: string;
      converted: boolean;
    }>(
      `select factor_code as factor, basis, value::float8 as value, lower_value::float8 as lower_value, unit, converted
         from permit_limits where outlet_id = $1 and ($2::text is null or factor_code = $2) order by factor_code, basis`,
      [q.site, q.factor ?? null],
    );
    limits = l.rows.map((r) => ({
      factor: r.factor,
      basis: r.basis,
      value: r.value,
      lowerValue: r.lower_value,
      unit: r.unit,
      converted: r.converted,
    }));
  }
  const bucket =
    plan.bucketSeconds === undefined
      ? undefined
      : { seconds: plan.bucketSeconds, offsetSeconds: shanghaiOffset(plan.bucketSeconds) };
  const withAggregates = site.kind === 'outlet' && (g === 'hour' || g === 'day');
  const aggWhere: SeriesWhere = {
    enterpriseId: q.enterprise,
    sites: [q.site],
    interval: g,
    ...(q.factor !== undefined ? { factor: q.factor } : {}),
  };
  const [rows, flagged, aggs] = await Promise.all([
    run(browseQuery(measurement, where, plan.from, plan.to, bucket)),
    bucket ? run(flaggedCountQuery(measurement, where, plan.from, plan.to, bucket)) : Promise.resolve([]),
    withAggregates
      ? run(browseQuery(src.aggregateMeasurement, aggWhere, plan.from, plan.to, bucket))
      : Promise.resolve([]),
  ]);
  const unitOf = (factor: string) =>
    METER_UNITS[factor] ?? limits.find((l) => l.factor === factor)?.unit ?? null;
  const series = toBrowseSeries(rows, flagged, roles, unitOf);
  const aggregates = toBrowseAggregates(aggs);
  if (series.length === 0 && aggregates.length === 0)
    throw new ConsoleError(
      'NO_DATA',
      `字段 from：所选时段内没有${GRANULARITY_ZH[g]} / field from: no ${GRANULARITY_EN[g]} in the chosen range`,
      { details: { in: 'querystring', field: 'from' } },
    );
  return {
    enterprise: { id: q.enterprise, nameZh: site.enterprise_name_zh, nameEn: site.enterprise_name_en },
    site: { id: q.site, kind: site.kind, nameZh: site.name_zh, nameEn: site.name_en, role: site.role },
    granularity: g,
    from: plan.from.toISOString(),
    to: plan.to.toISOString(),
    bucketSeconds: plan.bucketSeconds ?? null,
    series,
    aggregates,
    limits,
    meters: [...roles].map(([id, role]) => ({ id, role })),
  };
}
