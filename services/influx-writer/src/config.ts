import { Type, type Static } from '@sinclair/typebox';
import { InfluxTlsEnv, KafkaSecurityEnv, type ServiceConfig } from '@offsite/runtime';

/** Environment of the influx-writer; server variables have the names `.offsite/env` uses. */
export const WriterEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    { default: 'info' },
  ),
  OFFSITE_LOG_PRETTY: Type.Boolean({ default: false }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9104 }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
  OFFSITE_INFLUX_URL: Type.String({ format: 'uri' }),
  ...InfluxTlsEnv,
  OFFSITE_INFLUX_TOKEN: Type.String({ secret: true, default: '' }),
  OFFSITE_INFLUX_ORG: Type.String({ default: '-' }),
  OFFSITE_INFLUX_BUCKET: Type.String({ minLength: 1 }),
  OFFSITE_INFLUX_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** auto: gzip bodies unless InfluxDB is on loopback (README "Batching and compression"). */
  OFFSITE_INFLUX_GZIP: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], {
    default: 'auto',
  }),
  OFFSITE_INFLUX_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
  OFFSITE_TELEMETRY_TOPIC: Type.String({ minLength: 1, default: 'telemetry.v1' }),
  OFFSITE_DLQ_TOPIC: Type.String({ minLength: 1, default: 'telemetry.dlq.v1' }),
  /** Late minute data (telemetry.late.v1), for the console's stored transmission figures. */
  OFFSITE_WRITER_LATE_TOPIC: Type.String({ minLength: 1, default: 'telemetry.late.v1' }),
  OFFSITE_INFLUX_WRITER_GROUP: Type.String({ minLength: 1, default: 'offsite-influx-writer' }),
  OFFSITE_BATCH_MAX_POINTS: Type.Integer({ minimum: 1, maximum: 50_000, default: 5_000 }),
  OFFSITE_BATCH_MAX_DELAY_MS: Type.Integer({ minimum: 1, default: 1_000 }),
  OFFSITE_RETRY_INITIAL_MS: Type.Integer({ minimum: 1, default: 200 }),
  OFFSITE_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  OFFSITE_KAFKA_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, default: 30_000 }),
  OFFSITE_PARTITIONS_CONCURRENTLY: Type.Integer({ minimum: 1, maximum: 64, default: 6 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
});

export type WriterEnv = Static<typeof WriterEnv>;

export const writerChecks = [
  {
    variables: ['OFFSITE_RETRY_INITIAL_MS', 'OFFSITE_RETRY_MAX_MS'] as const,
    check: (c: WriterEnv) =>
      c.OFFSITE_RETRY_INITIAL_MS <= c.OFFSITE_RETRY_MAX_MS
        ? undefined
        : 'OFFSITE_RETRY_INITIAL_MS must not exceed OFFSITE_RETRY_MAX_MS',
  },
];

/** The service's configuration: bootService loads it at start, `offsite config check influx-writer` without starting. */
export const serviceConfig: ServiceConfig<typeof WriterEnv> = {
  name: 'influx-writer',
  schema: WriterEnv,
  config: { checks: writerChecks },
};
