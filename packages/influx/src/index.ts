export type { Logger } from './logger.js';
export {
  toLine,
  escapeKey,
  escapeMeasurement,
  floatField,
  stringField,
  InvalidPointError,
  type InfluxPoint,
} from './line-protocol.js';
export { InfluxError, classifyInfluxError, type InfluxErrorCode } from './errors.js';
export { createInfluxClient, type InfluxConnection } from './client.js';
export {
  createInfluxWriter,
  resolveGzip,
  type ClosableInfluxWriter,
  type InfluxWriter,
  type InfluxWriterOptions,
} from './writer.js';
export { queryRows, ensureDatabase1x, flux, fluxDateTime, fluxDuration, fluxString } from './query.js';
export {
  aggregatesDeleteQuery,
  aggregatesQuery,
  browseQuery,
  evidenceQuery,
  meterHourlyPowerQuery,
  flaggedCountQuery,
  fieldRows,
  hourLoadInputQueries,
  hourAggregatesQuery,
  deviceMinutesQuery,
  minuteDataPresenceQueries,
  ident,
  influxql,
  meterWindowLastQuery,
  queryInfluxQL,
  type InfluxQLParam,
  type InfluxQLQuery,
  type InfluxQLRunner,
  type InfluxQLSeries,
  type SeriesWhere,
  type TimeBucket,
} from './influxql.js';
