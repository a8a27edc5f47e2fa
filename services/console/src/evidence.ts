import type { InfluxDB } from '@influxdata/influxdb-client';
import { flux, queryRows } from '@offsite/influx';
import type { Queryable } from '@offsite/store';
import type { CaseDetail } from './cases.js';
import { ConsoleError } from './errors.js';

/** Where telemetry lives in InfluxDB (names follow the influx-writer's layout; configurable). */
export interface EvidenceSource {
  client: InfluxDB;
  org: string;
  bucket: string;
  emissionMeasurement: string;
  energyMeasurement: string;
  /** Hours shown before the window start and after its end. */
  marginHours: number;
}

export interface EvidenceSeries {
  name: string;
  siteId: string;
  field: string;
  role?: string;
  points: [string, number][];
}

export interface Evidence {
  kind: 'pollutant' | 'meters';
  start: string;
  stop: string;
  series: EvidenceSeries[];
  limit: { value: number; lowerValue: number | null; unit: string; basis: string } | null;
}

const METER_RULES = new Set([
  'treatment-idle',
  'treatment-late-start',
  'treatment-early-stop',
  'zero-while-running',
]);

interface Row {
  _time: string;
  _value: number;
  _field: string;
  site?: string;
}

/**
 * Chart data around a deviation's window: the pollutant with its permit limit line, or the
 * production and treatment meters for the facility rules. Every value goes through the `flux`
 * template, which escapes it; the case was already loaded through the principal's scope.
 */
export async function loadEvidence(db: Queryable, src: EvidenceSource, c: CaseDetail): Promise<Evidence> {
  const margin = src.marginHours * 3_600_000;
  const start = new Date(Date.parse(c.windowStart) - margin);
  const stop = new Date(Date.parse(c.windowEnd ?? c.openedAt) + margin);
  const run = async (q: ReturnType<typeof flux>) => {
    try {
      return await queryRows<Row>(src.client, src.org, q);
    } catch (err) {
      throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'cannot read telemetry from InfluxDB', {
        retryable: true,
        cause: err,
      });
    }
  };
  const group = (rows: Row[], label: (r: Row) => string, roles: Map<string, string> = new Map()) => {
    const by = new Map<string, EvidenceSeries>();
    for (const r of rows) {
      const site = r.site ?? c.siteId;
      const key = `${site}/${r._field}`;
      let s = by.get(key);
      if (!s) {
        s = { name: label(r), siteId: site, field: r._field, points: [] };
        const role = roles.get(site);
        if (role) s.role = role;
        by.set(key, s);
      }
      s.points.push([new Date(r._time).toISOString(), Number(r._value)]);
    }
    return [...by.values()];
  };

  if (METER_RULES.has(c.rule)) {
    // The meter the deviation is about and its pair (treatment serves production).
    const m = await db.query<{ id: string; role: string }>(
      `select m.id, m.role from meters m where m.enterprise_id = $1 and
         (m.id = $2 or m.serves_meter_id = $2 or m.id = (select serves_meter_id from meters where id = $2 and enterprise_id = $1))`,
      [c.enterpriseId, c.siteId],
    );
    const roles = new Map(m.rows.map((r) => [r.id, r.role]));
    const ids = m.rows.length ? m.rows.map((r) => r.id) : [c.siteId];
    const rows = await run(
      flux`from(bucket: ${src.bucket})
        |> range(start: ${start}, stop: ${stop})
        |> filter(fn: (r) => r._measurement == ${src.energyMeasurement} and r.enterprise == ${c.enterpriseId})
        |> filter(fn: (r) => contains(value: r.site, set: ${ids}))
        |> keep(columns: ["_time", "_value", "_field", "site"])
        |> sort(columns: ["_time"])`,
    );
    return {
      kind: 'meters',
      start: start.toISOString(),
      stop: stop.toISOString(),
      series: group(rows, (r) => `${r.site ?? ''} ${r._field}`, roles),
      limit: null,
    };
  }

  const rows = c.factor
    ? await run(
        flux`from(bucket: ${src.bucket})
          |> range(start: ${start}, stop: ${stop})
          |> filter(fn: (r) => r._measurement == ${src.emissionMeasurement} and r.enterprise == ${c.enterpriseId})
          |> filter(fn: (r) => r.site == ${c.siteId} and r.factor == ${c.factor})
          |> keep(columns: ["_time", "_value", "_field", "site"])
          |> sort(columns: ["_time"])`,
      )
    : [];
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
    start: start.toISOString(),
    stop: stop.toISOString(),
    series: group(rows, (r) => `${c.factor ?? ''} ${r._field}`),
    limit: l
      ? {
          value: Number(l.value),
          lowerValue: l.lower_value === null ? null : Number(l.lower_value),
          unit: l.unit,
          basis: l.basis,
        }
      : null,
  };
}
