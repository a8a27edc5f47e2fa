// The video-gateway's environment, validated once at the edge.
import { Type, type Static } from '@sinclair/typebox';
import { KafkaSecurityEnv, PgSchema, PgUrl, type ServiceConfig } from '@offsite/runtime';

const Port = (d: number) => Type.Integer({ minimum: 0, maximum: 65535, default: d });

export const VideoGatewayEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    { default: 'info' },
  ),
  OFFSITE_LOG_PRETTY: Type.Boolean({ default: false }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Port(9109),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
  /** The webhook the video platforms POST to (`/v1/alarms`). */
  OFFSITE_VIDEO_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_VIDEO_PORT: Port(8094),
  /**
   * The platforms allowed to post, `platform=secret` (comma-separated): each platform signs its requests
   * with its own secret (HMAC-SHA256, at least 32 characters). The platform id is the one the registry's
   * `outlets[].cameras[].platform` names.
   */
  OFFSITE_VIDEO_PLATFORMS: Type.Array(
    Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}=[\\x21-\\x7e]{32,256}$' }),
    { minItems: 1, secret: true },
  ),
  /** How far a request's X-Offsite-Timestamp may be from the gateway's clock (replay window). */
  OFFSITE_VIDEO_REPLAY_WINDOW_S: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
  /** Largest snapshot accepted, decoded (the schema's own bound is 2 MiB). */
  OFFSITE_VIDEO_SNAPSHOT_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 2_097_152, default: 2_097_152 }),
  /**
   * Unauthenticated refusals (missing, unknown, stale or bad signature; a body too large) each source address may
   * cause, refilled per minute, and at once: past them it is answered 429 and nothing of it is kept.
   */
  OFFSITE_VIDEO_REFUSALS_PER_MIN: Type.Integer({ minimum: 1, maximum: 100_000, default: 30 }),
  OFFSITE_VIDEO_REFUSAL_BURST: Type.Integer({ minimum: 1, maximum: 100_000, default: 60 }),
  /** The reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the source address; empty: none. */
  OFFSITE_VIDEO_TRUST_PROXY: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
  OFFSITE_VIDEO_ALARM_TOPIC: Type.String({ minLength: 1, default: 'video-alarm.v1' }),
  OFFSITE_DLQ_TOPIC: Type.String({ minLength: 1, default: 'telemetry.dlq.v1' }),
  /** How often the relay produces stored alarms Kafka has not acknowledged (src/relay.ts). */
  OFFSITE_VIDEO_RELAY_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 10_000 }),
  /** The relay leaves alarms younger than this to their request's own produce. */
  OFFSITE_VIDEO_RELAY_MIN_AGE_S: Type.Integer({ minimum: 0, maximum: 86_400, default: 60 }),
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  /** Apply the store migrations at start (demo and tests; production runs them as a release step). */
  OFFSITE_VIDEO_MIGRATE: Type.Boolean({ default: false }),
});
export type VideoGatewayEnv = Static<typeof VideoGatewayEnv>;

/** The service's configuration: bootService loads it at start, `offsite config check video-gateway` without starting. */
export const serviceConfig: ServiceConfig<typeof VideoGatewayEnv> = {
  name: 'video-gateway',
  schema: VideoGatewayEnv,
  config: {},
};
