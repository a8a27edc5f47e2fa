import type { InfluxDB } from '@influxdata/influxdb-client';
import { defaultConfig, facilityCodeOf } from '@offsite/domain';
import { evidenceQuery, fieldRows, queryInfluxQL, type InfluxQLQuery } from '@offsite/influx';
import type { Queryable } from '@offsite/store';
import type { CaseDetail } from './cases.js';
import { ConsoleError } from './errors.js';
import { facilityStatus, meterEvidence, type FacilityStatus, type MeterEvidence } from './evidence-meters.js';

/**
 * Where telemetry lives in InfluxDB. The layout is the influx-writer's (services/influx-writer/README):
 * measurement per kind (`emission`, `energy`, `status`), tags `enterprise`, `site`, `device`, `factor`,
 * `interval`, one float field per statistic plus the string fields `flag` and `unit`; and the
 * analyzer's hourly/daily aggregates (measurement `aggregate`, tags `enterprise`, `site`, `factor`,
 * `interval`, fields `value`, `converted`, `valid`, `flag`, `coverage`). Names are configurable.
 */
export interface EvidenceSource {
  client: InfluxDB;
  /** `database` or `database/retention-policy`. */
  bucket: string;
  emissionMeasurement: string;
  energyMeasurement: string;
  /** Facility status (CN 2021): factor `SBn`, field `RS`. */
  statusMeasurement: string;
  aggregateMeasurement: string;
  /** Hours shown before the window start and after its end. */
  marginHours: number;
}

export interface EvidenceSeries {
  name: string;
  siteId: string;
  factor: string;
  interval: string;
  field: string;
  role?: string;
  points: [string, number][];
  /** Points whose data flag is not `N` (time, flag): invalid for averaging and judgement. */
  flags: [string, string][];
}

export interface AggregateRow {
  interval: string;
  start: string;
  value: number | null;
  converted: number | null;
  valid: boolean | null;
  flag: string | null;
  coverage: number | null;
}

export interface Evidence {
  kind: 'pollutant' | 'meters';
  /** The case's rule and the numbers it judged with (the deviation's evidence parameters). */
  rule: string;
  factor: string | null;
  params: Record<string, unknown>;
  /** The deviation's window: where the condition held (end null while it still holds). */
  window: { start: string; end: string | null };
  start: string;
  stop: string;
  /** The pollutant's series (pollutant rules); empty for the meter rules, whose data is `meters`. */
  series: EvidenceSeries[];
  /**
   * Per meter: power, energy per rule window, running bands — the meter and its pair (meter rules), or the production
   * meters that ran while the outlet read zero (zero-while-running).
   */
  meters: MeterEvidence[];
  /**
   * Meter rules: the status (`SBn-RS`) of the treatment facilities the case's treatment meter powers, as its
   * outlets' loggers reported it; empty for the pollutant rules or without a linked facility.
   */
  facilities: FacilityStatus[];
  /** The analyzer's aggregates of the factor (pollutant rules), oldest first. */
  aggregates: AggregateRow[];
  limit: { value: number; lowerValue: number | null; unit: string; basis: string } | null;
  unit: string | null;
}

/** The facility rules, about a meter. zero-while-running is about an outlet's factor (with its production meters). */
const METER_RULES = new Set(['treatment-idle', 'treatment-late-start', 'treatment-early-stop']);

interface Row {
  _time: string;
  _value: unknown;
  _field: string;
  site?: string;
  factor?: string;
  interval?: string;
}

/** Statistic fields are numbers; `flag`, `unit` and `<stat>_flag` are strings. */
const isStatField = (f: string) => f !== 'flag' && f !== 'unit' && !f.endsWith('_flag');

/**
 * Groups raw rows into chart series (one per site/factor/interval/statistic), attaching the
 * interval's non-`N` data flags, and returns the unit seen.
 */
export function toSeries(
  rows: readonly Row[],
  fallbackSite: string,
  label: (site: string, factor: string, interval: string, field: string) => string,
  roles: ReadonlyMap<string, string> = new Map(),
): { series: EvidenceSeries[]; unit: string | null } {
  const by = new Map<string, EvidenceSeries>();
  const flags = new Map<string, [string, string][]>();
  let unit: string | null = null;
  for (const r of rows) {
    const site = r.site ?? fallbackSite;
    const factor = r.factor ?? '';
    const interval = r.interval ?? '';
    const time = new Date(r._time).toISOString();
    if (r._field === 'unit') {
      if (typeof r._value === 'string') unit ??= r._value;
      continue;
    }
    if (r._field === 'flag') {
      if (typeof r._value === 'string' && r._value !== 'N') {
        const k = `${site}/${factor}/${interval}`;
        const l = flags.get(k) ?? [];
        l.push([time, r._value]);
        flags.set(k, l);
      }
      continue;
    }
    if (!isStatField(r._field) || typeof r._value !== 'number') continue;
    const key = `${site}/${factor}/${interval}/${r._field}`;
    let s = by.get(key);
    if (!s) {
      s = {
        name: label(site, factor, interval, r._field),
        siteId: site,
        factor,
        interval,
        field: r._field,
        points: [],
        flags: [],
      };
      const role = roles.get(site);
      if (role) s.role = role;
      by.set(key, s);
    }
    s.points.push([time, r._value]);
  }
  for (const s of by.values()) s.flags = flags.get(`${s.siteId}/${s.factor}/${s.interval}`) ?? [];
  return { series: [...by.values()], unit };
}

/** Aggregate rows (one row per field) → one record per window. */
export function toAggregates(rows: readonly Row[]): AggregateRow[] {
  const by = new Map<string, AggregateRow>();
  for (const r of rows) {
    const start = new Date(r._time).toISOString();
    const interval = r.interval ?? '';
    const k = `${interval}/${start}`;
    let a = by.get(k);
    if (!a) {
      a = { interval, start, value: null, converted: null, valid: null, flag: null, coverage: null };
      by.set(k, a);
    }
    const v = r._value;
    if (r._field === 'value' && typeof v === 'number') a.value = v;
    else if (r._field === 'converted' && typeof v === 'number') a.converted = v;
    else if (r._field === 'coverage' && typeof v === 'number') a.coverage = v;
    else if (r._field === 'valid' && typeof v === 'boolean') a.valid = v;
    else if (r._field === 'flag' && typeof v === 'string') a.flag = v;
  }
  return [...by.values()].sort(
    (x, y) => x.start.localeCompare(y.start) || x.interval.localeCompare(y.interval),
  );
}

/**
 * A meter and its pair (a treatment meter serves a production meter): meter id → role, the meter itself
 * included, empty when the enterprise has no such meter.
 */
export async function meterPair(
  db: Queryable,
  enterpriseId: string,
  meterId: string,
): Promise<Map<string, string>> {
  const m = await db.query<{ id: string; role: string }>(
    `select m.id, m.role from meters m where m.enterprise_id = $1 and
       (m.id = $2 or m.serves_meter_id = $2 or m.id = (select serves_meter_id from meters where id = $2 and enterprise_id = $1))
     order by m.role, m.id`,
    [enterpriseId, meterId],
  );
  return new Map(m.rows.map((r) => [r.id, r.role]));
}

/**
 * Chart data around a deviation's window: the pollutant (every interval and statistic the
 * writer stored, the analyzer's aggregates) with its permit limit line, or the production and
 * treatment meters for the facility rules. The queries are `@offsite/influx`'s (InfluxQL, every value a
 * bind parameter); the case was already loaded through the principal's scope.
 */
export async function loadEvidence(db: Queryable, src: EvidenceSource, c: CaseDetail): Promise<Evidence> {
  const margin = src.marginHours * 3_600_000;
  const start = new Date(Date.parse(c.windowStart) - margin);
  const stop = new Date(Date.parse(c.windowEnd ?? c.openedAt) + margin);
  const params = caseParams(c);
  const head = {
    rule: typeof params.domainRule === 'string' ? params.domainRule : c.rule,
    factor: c.factor,
    params,
    window: { start: c.windowStart, end: c.windowEnd },
    start: start.toISOString(),
    stop: stop.toISOString(),
  };
  const run = async (q: InfluxQLQuery): Promise<Row[]> => {
    try {
      return fieldRows(await queryInfluxQL(src.client, src.bucket, q)).map((r) => ({
        _time: new Date(r.time).toISOString(),
        _value: r.value,
        _field: r.field,
        ...r.tags,
      }));
    } catch (err) {
      throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'cannot read telemetry from InfluxDB', {
        retryable: true,
        cause: err,
      });
    }
  };

  /** Power, energy per rule window and running bands of the given meters (id → role). */
  const meterSeries = async (roles: ReadonlyMap<string, string>): Promise<MeterEvidence[]> => {
    const rows = await run(
      evidenceQuery(
        src.energyMeasurement,
        { enterpriseId: c.enterpriseId, sites: [...roles.keys()] },
        start,
        stop,
      ),
    );
    const ti = defaultConfig.rules.treatmentIdle;
    const windowMinutes = typeof params.windowMinutes === 'number' ? params.windowMinutes : ti.windowMinutes;
    return meterEvidence(
      rows.flatMap((r) =>
        typeof r._value === 'number' && isStatField(r._field)
          ? [{ time: Date.parse(r._time), site: r.site ?? c.siteId, factor: r.factor ?? '', value: r._value }]
          : [],
      ),
      roles,
      { from: start.getTime(), to: stop.getTime() },
      { windowMinutes, maxGapMs: ti.maxInterpolationGapMs },
    );
  };

  /** The state bands of the facilities the given meters power (`meter_facilities`). */
  const facilitySeries = async (meterIds: readonly string[]): Promise<FacilityStatus[]> => {
    const links = await db.query<{ meterId: string; outletId: string; code: string }>(
      `select f.meter_id "meterId", f.outlet_id "outletId", f.code from meter_facilities f
         join meters m on m.id = f.meter_id
        where m.enterprise_id = $1 and f.meter_id = any($2::text[]) order by f.meter_id, f.outlet_id, f.code`,
      [c.enterpriseId, meterIds],
    );
    if (links.rows.length === 0) return [];
    const rows = await run(
      evidenceQuery(
        src.statusMeasurement,
        { enterpriseId: c.enterpriseId, sites: [...new Set(links.rows.map((l) => l.outletId))] },
        start,
        stop,
      ),
    );
    return facilityStatus(
      rows.flatMap((r) => {
        const code =
          typeof r._value === 'number' && isStatField(r._field)
            ? facilityCodeOf({ factor: r.factor ?? '', stat: r._field })
            : undefined;
        return code === undefined || !r.site
          ? []
          : [{ time: Date.parse(r._time), site: r.site, code, value: r._value as number }];
      }),
      links.rows,
      defaultConfig.rules.treatmentIdle.maxInterpolationGapMs,
    );
  };

  if (METER_RULES.has(c.rule)) {
    // The meter the deviation is about and its pair (treatment serves production).
    const roles = await meterPair(db, c.enterpriseId, c.siteId);
    const [meters, facilities] = await Promise.all([
      meterSeries(roles.size ? roles : new Map([[c.siteId, '']])),
      facilitySeries([...roles.keys()]),
    ]);
    return {
      kind: 'meters',
      ...head,
      series: [],
      meters,
      facilities,
      aggregates: [],
      limit: null,
      unit: null,
    };
  }

  const where = (factor: string) => ({ enterpriseId: c.enterpriseId, sites: [c.siteId], factor });
  const [rows, aggRows] = c.factor
    ? await Promise.all([
        run(evidenceQuery(src.emissionMeasurement, where(c.factor), start, stop)),
        run(evidenceQuery(src.aggregateMeasurement, where(c.factor), start, stop)),
      ])
    : [[], []];
  const { series, unit } = toSeries(
    rows,
    c.siteId,
    (_site, factor, interval, field) => `${factor} ${interval} ${field}`,
  );
  const aggregates = toAggregates(aggRows);
  // zero-while-running: the outlet's zeros above, and the production meters that ran meanwhile.
  const producers = Array.isArray(params.productionMeterIds)
    ? params.productionMeterIds.filter((x): x is string => typeof x === 'string')
    : [];
  const meters =
    c.rule === 'zero-while-running' && producers.length > 0
      ? await meterSeries(new Map(producers.map((id) => [id, 'production'])))
      : [];
  // The analyzer's converted (折算) hourly means: what the exceedance rule compares with the limit.
  for (const interval of ['hour', 'day']) {
    const pts = aggregates
      .filter((a) => a.interval === interval && (a.converted ?? a.value) !== null)
      .map((a): [string, number] => [a.start, (a.converted ?? a.value)!]);
    if (pts.length)
      series.push({
        name: `${c.factor ?? ''} ${interval} aggregate`,
        siteId: c.siteId,
        factor: c.factor ?? '',
        interval,
        field: 'aggregate',
        points: pts,
        flags: aggregates
          .filter((a) => a.interval === interval && a.flag && a.flag !== 'N')
          .map((a): [string, string] => [a.start, a.flag!]),
      });
  }
  const lim = c.factor
    ? await db.query<{ value: string; lower_value: string | null; unit: string; basis: string }>(
        `select value::text, lower_value::text, unit, basis from permit_limits
          where outlet_id = $1 and factor_code = $2 order by basis = 'hourly' desc limit 1`,
        [c.siteId, c.factor],
      )
    : undefined;
  const l = lim?.rows[0];
  return {
    kind: 'pollutant',
    ...head,
    series,
    meters,
    facilities: [],
    aggregates,
    limit: l
      ? {
          value: Number(l.value),
          lowerValue: l.lower_value === null ? null : Number(l.lower_value),
          unit: l.unit,
          basis: l.basis,
        }
      : null,
    unit: unit ?? l?.unit ?? null,
  };
}

/** The deviation's evidence parameters (thresholds, windows, the repeated value of a flatline). */
function caseParams(c: CaseDetail): Record<string, unknown> {
  const ev = c.evidence as { params?: unknown } | null;
  const p = ev?.params;
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}
