import { upstreamFeedTopics } from '@offsite/contracts';
import { Type, type Static } from '@sinclair/typebox';
import { KafkaSecurityEnv, PgSchema, PgUrl, type ServiceConfig } from '@offsite/runtime';

export const IngestorEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    { default: 'info' },
  ),
  OFFSITE_LOG_PRETTY: Type.Boolean({ default: false }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9103 }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
  /** Upstream feed topics, `upstream.<feed>.v1` (contracts' upstreamFeedTopics). */
  OFFSITE_UPSTREAM_TOPICS: Type.Array(Type.String({ pattern: upstreamFeedTopics.pattern.source }), {
    minItems: 1,
  }),
  OFFSITE_KAFKA_INGESTOR_GROUP: Type.String({ minLength: 1, default: 'offsite-kafka-ingestor' }),
  OFFSITE_TELEMETRY_TOPIC: Type.String({ minLength: 1, default: 'telemetry.v1' }),
  OFFSITE_DLQ_TOPIC: Type.String({ minLength: 1, default: 'telemetry.dlq.v1' }),
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  OFFSITE_KAFKA_COMPRESSION: Type.Union([Type.Literal('auto'), Type.Literal('none'), Type.Literal('gzip')], {
    default: 'auto',
  }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
});
export type IngestorEnv = Static<typeof IngestorEnv>;

/** The service's configuration: bootService loads it at start, `offsite config check kafka-ingestor` without starting. */
export const serviceConfig: ServiceConfig<typeof IngestorEnv> = {
  name: 'kafka-ingestor',
  schema: IngestorEnv,
  config: { files: false },
};
