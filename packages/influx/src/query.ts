import type { InfluxDB, ParameterizedQuery } from '@influxdata/influxdb-client';
import { classifyInfluxError, InfluxError } from './errors.js';

export { flux, fluxDateTime, fluxDuration, fluxString } from '@influxdata/influxdb-client';

/**
 * Runs a Flux query built with the `flux` tagged template, which escapes every interpolated value
 * (InfluxDB 1.8 has no server-side query parameters; the template is the parameterisation).
 */
export async function queryRows<T = Record<string, unknown>>(
  client: InfluxDB,
  org: string,
  query: ParameterizedQuery,
): Promise<T[]> {
  try {
    return await client.getQueryApi(org).collectRows<T>(query);
  } catch (err) {
    const e = classifyInfluxError(err);
    throw new InfluxError('INFLUX_QUERY_FAILED', e.message, e.retryable, e.status, undefined, { cause: err });
  }
}

/**
 * Creates the database on InfluxDB 1.8 (InfluxQL over /query; the v2 buckets API does not exist
 * there). Idempotent. Against InfluxDB 2.x create the bucket out of band instead.
 */
export async function ensureDatabase1x(client: InfluxDB, database: string): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(database))
    throw new InfluxError('INFLUX_REJECTED', `invalid database name ${database}`, false);
  try {
    await client.transport.request(`/query?q=${encodeURIComponent(`CREATE DATABASE "${database}"`)}`, '', {
      method: 'POST',
    });
  } catch (err) {
    throw classifyInfluxError(err);
  }
}
