// Hourly and daily aggregates → InfluxDB points (measurement `aggregate`).
import type { AggregateOutput } from '@offsite/domain';
import type { InfluxPoint } from '@offsite/influx';

/**
 * tags enterprise, site, factor, interval (`hour`|`day`); fields value, converted, valid, flag,
 * coverage (+ anomaly); time = window start. A recomputed window overwrites its point.
 * A missing value or converted value is left out (InfluxDB has no null).
 */
export function aggregatePoint(a: AggregateOutput): InfluxPoint {
  const fields: InfluxPoint['fields'] = { valid: a.valid, flag: a.flag, coverage: a.coverage };
  if (a.value !== null) fields.value = a.value;
  if (a.convertedValue !== null) fields.converted = a.convertedValue;
  if (a.anomaly !== undefined) fields.anomaly = a.anomaly;
  return {
    measurement: 'aggregate',
    tags: { enterprise: a.enterpriseId, site: a.siteId, factor: a.factor, interval: a.interval },
    fields,
    timeSeconds: Math.floor(a.start / 1000),
  };
}
