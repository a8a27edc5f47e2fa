// InfluxQL over /query (InfluxDB 1.x, Enterprise and 3 answer it). Values are bind parameters (`$name` in the
// statement, `params` in the request); names (measurements, tags, fields) cannot be bound and are quoted by `ident`.
import type { InfluxDB } from '@influxdata/influxdb-client';
import { classifyInfluxError, InfluxError } from './errors.js';

/** A bind parameter's value. Dates are sent as RFC 3339 UTC strings (InfluxQL compares them with `time`). */
export type InfluxQLParam = string | number | boolean | Date;

export interface InfluxQLQuery {
  statement: string;
  params: Record<string, InfluxQLParam>;
}

/** An identifier quoted for InfluxQL: inside double quotes, `\` and `"` are escaped; control characters refused. */
export function ident(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || /[\u0000-\u001f\u007f]/.test(name))
    throw new InfluxError('INFLUX_REJECTED', `invalid InfluxQL identifier ${JSON.stringify(name)}`, false);
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const PARAM = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Builds a query: the statement must name its values as `$name` placeholders present in `params`. */
export function influxql(statement: string, params: Record<string, InfluxQLParam> = {}): InfluxQLQuery {
  for (const [k, v] of Object.entries(params)) {
    if (!PARAM.test(k)) throw new InfluxError('INFLUX_REJECTED', `invalid parameter name ${k}`, false);
    if (typeof v === 'number' && !Number.isFinite(v))
      throw new InfluxError('INFLUX_REJECTED', `parameter ${k} is not a finite number`, false);
    if (v instanceof Date && Number.isNaN(v.getTime()))
      throw new InfluxError('INFLUX_REJECTED', `parameter ${k} is an invalid date`, false);
  }
  for (const m of statement.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g))
    if (!(m[1]! in params))
      throw new InfluxError('INFLUX_REJECTED', `parameter $${m[1]} has no value`, false);
  return { statement, params };
}

/** One series of a result: its measurement, tags (GROUP BY) and rows keyed by column. */
export interface InfluxQLSeries {
  name: string;
  tags: Record<string, string>;
  rows: Record<string, unknown>[];
}

interface RawResult {
  results?: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values?: unknown[][] }[];
  }[];
  error?: string;
}

/** Runs a query: the bucket (`database` or `database/retention-policy`) and the query. */
export type InfluxQLRunner = (bucket: string, query: InfluxQLQuery) => Promise<InfluxQLSeries[]>;

/** Runs one InfluxQL statement on `bucket` (`database` or `database/retention-policy`) and returns its series. */
export async function queryInfluxQL(
  client: InfluxDB,
  bucket: string,
  query: InfluxQLQuery,
): Promise<InfluxQLSeries[]> {
  const [database, rp] = bucket.split('/');
  const params = Object.fromEntries(
    Object.entries(query.params).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
  );
  const body = new URLSearchParams({
    db: database!,
    ...(rp ? { rp } : {}),
    q: query.statement,
    params: JSON.stringify(params),
    epoch: 'ms',
  }).toString();
  let raw: RawResult;
  try {
    raw = (await client.transport.request('/query', body, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })) as RawResult;
  } catch (err) {
    const e = classifyInfluxError(err);
    throw new InfluxError('INFLUX_QUERY_FAILED', e.message, e.retryable, e.status, undefined, { cause: err });
  }
  const result = raw.results?.[0];
  const error = raw.error ?? result?.error;
  if (error !== undefined) throw new InfluxError('INFLUX_QUERY_FAILED', error, false);
  return (result?.series ?? []).map((s) => ({
    name: s.name,
    tags: s.tags ?? {},
    rows: (s.values ?? []).map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
  }));
}

// ---- the queries the services run ---------------------------------------------------------------------------

/**
 * Hourly or daily aggregates (measurement `aggregate`, tag `interval`) of one enterprise starting in [from, to), one
 * series per site/factor.
 */
export function aggregatesQuery(
  enterpriseId: string,
  interval: 'hour' | 'day',
  from: Date,
  to: Date,
): InfluxQLQuery {
  return influxql(
    `SELECT "valid", "value", "converted" FROM "aggregate" WHERE "enterprise" = $enterprise AND "interval" = $interval AND time >= $from AND time < $to GROUP BY "site", "factor"`,
    { enterprise: enterpriseId, interval, from, to },
  );
}

/** Deletes the aggregates (hourly and daily) of one enterprise from `from` on (a simulated history's silence). */
export function aggregatesDeleteQuery(enterpriseId: string, from: Date): InfluxQLQuery {
  return influxql(`DELETE FROM "aggregate" WHERE "enterprise" = $enterprise AND time >= $from`, {
    enterprise: enterpriseId,
    from,
  });
}

/**
 * The last cumulative energy (`energy` measurement, factor `energy_kwh`, field `Cou`) of one meter in each window of
 * `windowMinutes` in [from, to), per series (device and interval tags); rows' `time` is the window start.
 */
export function meterWindowLastQuery(
  enterpriseId: string,
  meterId: string,
  from: Date,
  to: Date,
  windowMinutes: number,
): InfluxQLQuery {
  if (!Number.isInteger(windowMinutes) || windowMinutes <= 0)
    throw new InfluxError('INFLUX_REJECTED', `invalid window ${windowMinutes} min`, false);
  return influxql(
    `SELECT last("Cou") AS "cou" FROM "energy" WHERE "enterprise" = $enterprise AND "site" = $meter AND "factor" = $factor AND time >= $from AND time < $to GROUP BY time(${windowMinutes}m), * fill(none)`,
    { enterprise: enterpriseId, meter: meterId, factor: 'energy_kwh', from, to },
  );
}

/**
 * The hourly mean power (`energy` measurement, factor `power_kw`, field `Rtd`) of the given meters in [from, to), one
 * series per meter (`site`); rows' `time` is the hour's start and `kw` its mean, which is the hour's energy in kWh.
 */
export function meterHourlyPowerQuery(
  enterpriseId: string,
  meterIds: readonly string[],
  from: Date,
  to: Date,
): InfluxQLQuery {
  const w = seriesWhere({ enterpriseId, sites: meterIds, factor: 'power_kw' }, from, to);
  return influxql(
    `SELECT mean("Rtd") AS "kw" FROM "energy" WHERE ${w.statement} GROUP BY time(1h), "site" fill(none)`,
    w.params,
  );
}

/**
 * The hourly aggregates (`aggregate`, interval `hour`: value, converted, valid, flag) of the given sites of one
 * enterprise in [from, to), one series per site/factor: the peers check's figures.
 */
export function hourAggregatesQuery(
  enterpriseId: string,
  sites: readonly string[],
  from: Date,
  to: Date,
): InfluxQLQuery {
  const w = seriesWhere({ enterpriseId, sites, interval: 'hour' }, from, to);
  return influxql(
    `SELECT "value", "converted", "valid", "flag" FROM "aggregate" WHERE ${w.statement} GROUP BY "site", "factor"`,
    w.params,
  );
}

/**
 * The devices' minute data (`interval` tag `minute` or `minute-<n>s`: field `Avg` and the data flag) of one outlet in
 * [from, to), one series per device and factor: the cross-device check's comparison of the devices of one stack.
 */
export function deviceMinutesQuery(
  measurement: string,
  enterpriseId: string,
  site: string,
  from: Date,
  to: Date,
): InfluxQLQuery {
  const w = seriesWhere({ enterpriseId, sites: [site], interval: 'minute' }, from, to);
  return influxql(
    `SELECT "Avg", "flag" FROM ${ident(measurement)} WHERE ${w.statement} GROUP BY "device", "factor"`,
    w.params,
  );
}

/** Which series of a telemetry measurement a query reads (values bound, names quoted). */
export interface SeriesWhere {
  enterpriseId: string;
  sites: readonly string[];
  factor?: string;
  /** The `device` tag (HJ 212 MN or meter id). */
  device?: string;
  /** The `interval` tag; `minute` also matches the writer's `minute-<n>s` series. */
  interval?: string;
}

function seriesWhere(where: SeriesWhere, from: Date, to: Date): InfluxQLQuery {
  if (where.sites.length === 0) throw new InfluxError('INFLUX_REJECTED', 'no site to query', false);
  const params: Record<string, InfluxQLParam> = { enterprise: where.enterpriseId, from, to };
  where.sites.forEach((s, i) => (params[`site${i}`] = s));
  let sql = `"enterprise" = $enterprise AND (${where.sites.map((_, i) => `"site" = $site${i}`).join(' OR ')})`;
  if (where.factor !== undefined) {
    params.factor = where.factor;
    sql += ' AND "factor" = $factor';
  }
  if (where.device !== undefined) {
    params.device = where.device;
    sql += ' AND "device" = $device';
  }
  if (where.interval !== undefined) {
    params.interval = where.interval;
    sql +=
      where.interval === 'minute'
        ? ' AND ("interval" = $interval OR "interval" =~ /^minute-[0-9]+s$/)'
        : ' AND "interval" = $interval';
  }
  return { statement: `${sql} AND time >= $from AND time < $to`, params };
}

/**
 * Every field of `measurement` at the given sites (and factor) in [from, to), one series per site/factor/interval:
 * the console's evidence charts.
 */
export function evidenceQuery(
  measurement: string,
  where: { enterpriseId: string; sites: readonly string[]; factor?: string },
  from: Date,
  to: Date,
): InfluxQLQuery {
  const w = seriesWhere(where, from, to);
  return influxql(
    `SELECT *::field FROM ${ident(measurement)} WHERE ${w.statement} GROUP BY "site", "factor", "interval"`,
    w.params,
  );
}

/** A GROUP BY time bucket: its length and the offset of its boundaries from the epoch's (seconds). */
export interface TimeBucket {
  seconds: number;
  offsetSeconds: number;
}

const BROWSE_TAGS = '"site", "factor", "device", "interval"';

function timeGroup(b: TimeBucket): string {
  if (!Number.isInteger(b.seconds) || b.seconds <= 0)
    throw new InfluxError('INFLUX_REJECTED', `invalid bucket ${b.seconds} s`, false);
  if (!Number.isInteger(b.offsetSeconds) || b.offsetSeconds < 0 || b.offsetSeconds >= b.seconds)
    throw new InfluxError('INFLUX_REJECTED', `invalid bucket offset ${b.offsetSeconds} s`, false);
  return `time(${b.seconds}s, ${b.offsetSeconds}s)`;
}

/**
 * The data browser's read of `measurement` in [from, to), one series per site/factor/device/interval. Without
 * `bucket` every stored field as it is; with it the mean of every numeric field per bucket (columns
 * `mean_<field>`, empty buckets left out), so a long range returns a bounded number of rows.
 */
export function browseQuery(
  measurement: string,
  where: SeriesWhere,
  from: Date,
  to: Date,
  bucket?: TimeBucket,
): InfluxQLQuery {
  const w = seriesWhere(where, from, to);
  if (bucket === undefined)
    return influxql(
      `SELECT *::field FROM ${ident(measurement)} WHERE ${w.statement} GROUP BY ${BROWSE_TAGS}`,
      w.params,
    );
  return influxql(
    `SELECT mean(*) FROM ${ident(measurement)} WHERE ${w.statement} GROUP BY ${timeGroup(bucket)}, ${BROWSE_TAGS} fill(none)`,
    w.params,
  );
}

/**
 * What one outlet's hourly emission loads (@offsite/domain `outletHourLoads`) read in [from, to), and nothing
 * more: of the given factors (the permitted pollutants and the flow), the analyzer's hourly aggregates' `value`
 * and `valid` (`aggregate`) and the loggers' hourly `Cou`, `flag` and `unit` (`emission`), one series per
 * site/factor/device/interval as the data browser's read. A year of an outlet is a few columns of 8,760 rows.
 */
export function hourLoadInputQueries(
  measurements: { aggregate: string; emission: string },
  where: { enterpriseId: string; site: string; factors: readonly string[] },
  from: Date,
  to: Date,
): { aggregates: InfluxQLQuery; hourly: InfluxQLQuery } {
  if (where.factors.length === 0) throw new InfluxError('INFLUX_REJECTED', 'no factor to query', false);
  const w = seriesWhere(
    { enterpriseId: where.enterpriseId, sites: [where.site], interval: 'hour' },
    from,
    to,
  );
  const params: Record<string, InfluxQLParam> = { ...w.params };
  where.factors.forEach((f, i) => (params[`factor${i}`] = f));
  const factors = `(${where.factors.map((_, i) => `"factor" = $factor${i}`).join(' OR ')})`;
  const q = (fields: string, m: string) =>
    influxql(
      `SELECT ${fields} FROM ${ident(m)} WHERE ${w.statement} AND ${factors} GROUP BY ${BROWSE_TAGS}`,
      params,
    );
  return {
    aggregates: q('"value", "valid"', measurements.aggregate),
    hourly: q('"Cou", "flag", "unit"', measurements.emission),
  };
}

/** Per bucket, how many points of `measurement` carry a data flag other than `N` (column `flagged`). */
export function flaggedCountQuery(
  measurement: string,
  where: SeriesWhere,
  from: Date,
  to: Date,
  bucket: TimeBucket,
): InfluxQLQuery {
  const w = seriesWhere(where, from, to);
  return influxql(
    `SELECT count("flag") AS "flagged" FROM ${ident(measurement)} WHERE ${w.statement} AND "flag" != $normal` +
      ` GROUP BY ${timeGroup(bucket)}, ${BROWSE_TAGS} fill(none)`,
    { ...w.params, normal: 'N' },
  );
}

/** One row per field value (time in ms, field, value, the series' tags), field by field within each series. */
export function fieldRows(
  series: readonly InfluxQLSeries[],
): { time: number; field: string; value: unknown; tags: Record<string, string> }[] {
  const out: { time: number; field: string; value: unknown; tags: Record<string, string> }[] = [];
  for (const s of series) {
    const fields = [...new Set(s.rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'time').sort();
    for (const field of fields)
      for (const r of s.rows) {
        const value = r[field];
        if (value !== null && value !== undefined)
          out.push({ time: Number(r.time), field, value, tags: s.tags });
      }
  }
  return out;
}

/**
 * The minute data (`interval` tag `minute` or `minute-<n>s`) of some enterprises in [from, to), per enterprise and
 * device, for the transmission statistics: `present` has one row per minute holding any value with an `Avg`
 * (column `n`, the values' count), `flagged` the raw rows whose data flag is not `N` (column `flag`). Both grouped
 * by `enterprise` and `device`. One query for many enterprises: a city's month asks once per range, not once per
 * enterprise.
 */
export function minuteDataPresenceQueries(
  measurement: string,
  enterpriseIds: string | readonly string[],
  from: Date,
  to: Date,
): { present: InfluxQLQuery; flagged: InfluxQLQuery } {
  const ids = typeof enterpriseIds === 'string' ? [enterpriseIds] : enterpriseIds;
  if (ids.length === 0) throw new InfluxError('INFLUX_REJECTED', 'no enterprise to ask for', false);
  const params: Record<string, InfluxQLParam> = { from, to };
  ids.forEach((id, i) => (params[`e${i}`] = id));
  const which = ids.map((_, i) => `"enterprise" = $e${i}`).join(' OR ');
  const where = `WHERE (${which}) AND "interval" =~ /^minute/ AND time >= $from AND time < $to`;
  return {
    present: influxql(
      `SELECT count("Avg") AS "n" FROM ${ident(measurement)} ${where} GROUP BY time(1m), "enterprise", "device" fill(none)`,
      params,
    ),
    flagged: influxql(
      `SELECT "flag" FROM ${ident(measurement)} ${where} AND "flag" != $normal GROUP BY "enterprise", "device"`,
      { ...params, normal: 'N' },
    ),
  };
}
