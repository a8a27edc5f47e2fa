// The analyzer's environment, validated once at the edge (names as in .offsite/env for the servers).
import { Type } from '@sinclair/typebox';

export const AnalyzerEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9105 }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String(), { minItems: 1 }),
  OFFSITE_PG_URL: Type.String({ secret: true }),
  /** Postgres schema holding the registry and the analyzer tables. */
  OFFSITE_PG_SCHEMA: Type.String({ default: 'public', pattern: '^[a-z_][a-z0-9_]*$' }),
  OFFSITE_INFLUX_URL: Type.String({ format: 'uri' }),
  OFFSITE_INFLUX_TOKEN: Type.String({ secret: true, default: '' }),
  OFFSITE_INFLUX_ORG: Type.String({ default: '-' }),
  OFFSITE_INFLUX_BUCKET: Type.String(),
  OFFSITE_ANALYZER_GROUP_ID: Type.String({ default: 'offsite-analyzer' }),
  OFFSITE_ANALYZER_TELEMETRY_TOPIC: Type.String({ default: 'telemetry.v1' }),
  OFFSITE_ANALYZER_DEVIATION_TOPIC: Type.String({ default: 'deviation.v1' }),
  OFFSITE_ANALYZER_DLQ_TOPIC: Type.String({ default: 'telemetry.dlq.v1' }),
  /** The event-time watermark trails the largest reading end seen by this much. */
  OFFSITE_ANALYZER_ALLOWED_LATENESS_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  /** Wall-clock tick (offline detection when a partition goes quiet); 0 disables it. */
  OFFSITE_ANALYZER_TICK_INTERVAL_MS: Type.Integer({ minimum: 0, default: 60_000 }),
  OFFSITE_ANALYZER_TICK_LAG_MS: Type.Integer({ minimum: 0, default: 900_000 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
});
