import { Type, type Static } from '@sinclair/typebox';
import { KafkaSecurityEnv, MqttTlsEnv, PgSchema, PgUrl, type ServiceConfig } from '@offsite/runtime';

export const IngestorEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    { default: 'info' },
  ),
  OFFSITE_LOG_PRETTY: Type.Boolean({ default: false }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9102 }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
  OFFSITE_TELEMETRY_TOPIC: Type.String({ minLength: 1, default: 'telemetry.v1' }),
  OFFSITE_DLQ_TOPIC: Type.String({ minLength: 1, default: 'telemetry.dlq.v1' }),
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  OFFSITE_MQTT_URL: Type.String({ minLength: 1 }),
  ...MqttTlsEnv,
  OFFSITE_MQTT_USERNAME: Type.String({ default: '' }),
  OFFSITE_MQTT_PASSWORD: Type.String({ default: '', secret: true }),
  OFFSITE_MQTT_CLIENT_ID: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,40}$',
    default: 'offsite-mqtt-ingestor',
  }),
  OFFSITE_MQTT_SESSION_EXPIRY_S: Type.Integer({ minimum: 0, default: 86_400 }),
  OFFSITE_MQTT_RECEIVE_MAXIMUM: Type.Integer({ minimum: 1, maximum: 65_535, default: 4_000 }),
  OFFSITE_PRODUCE_MAX_BATCH: Type.Integer({ minimum: 1, default: 5_000 }),
  OFFSITE_PRODUCE_MAX_BYTES: Type.Integer({ minimum: 1_000, default: 900_000 }),
  OFFSITE_PRODUCE_LINGER_MS: Type.Integer({ minimum: 0, maximum: 1_000, default: 5 }),
  OFFSITE_KAFKA_COMPRESSION: Type.Union([Type.Literal('auto'), Type.Literal('none'), Type.Literal('gzip')], {
    default: 'auto',
  }),
  OFFSITE_RETRY_INITIAL_MS: Type.Integer({ minimum: 1, default: 200 }),
  OFFSITE_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
});
export type IngestorEnv = Static<typeof IngestorEnv>;

/** The service's configuration: bootService loads it at start, `offsite config check mqtt-ingestor` without starting. */
export const serviceConfig: ServiceConfig<typeof IngestorEnv> = {
  name: 'mqtt-ingestor',
  schema: IngestorEnv,
};
