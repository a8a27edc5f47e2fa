/** Environment schema of the HJ 212 gateway (validated once in main.ts). */
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { KafkaSecurityEnv, PgSchema, PgUrl, type ServiceConfig } from '@offsite/runtime';

export const GatewayEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    {
      default: 'info',
    },
  ),
  OFFSITE_LOG_PRETTY: Type.Boolean({ default: false }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9101 }),
  OFFSITE_HJ212_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_HJ212_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 20212 }),
  OFFSITE_HJ212_POLICY: Type.Union([Type.Literal('tolerant'), Type.Literal('strict')], {
    default: 'tolerant',
  }),
  OFFSITE_HJ212_MAX_SEGMENT_BYTES: Type.Integer({ minimum: 64, maximum: 9999, default: 9999 }),
  OFFSITE_HJ212_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 300_000 }),
  OFFSITE_HJ212_MAX_CONNECTIONS: Type.Integer({ minimum: 1, default: 20_000 }),
  OFFSITE_HJ212_LISTEN_BACKLOG: Type.Integer({ minimum: 1, default: 4096 }),
  OFFSITE_HJ212_SPLIT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 60_000 }),
  OFFSITE_HJ212_MAX_FRAMES_IN_FLIGHT: Type.Integer({ minimum: 1, default: 32 }),
  OFFSITE_HJ212_FRAME_DEADLINE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  OFFSITE_HJ212_MAX_CONNECTIONS_PER_SOURCE: Type.Integer({ minimum: 1, default: 64 }),
  /** Comma-separated addresses of load balancers sending the PROXY protocol (v1/v2); empty: none. */
  OFFSITE_HJ212_TRUSTED_PROXIES: Type.String({ default: '' }),
  OFFSITE_HJ212_PROXY_HEADER_DEADLINE_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  OFFSITE_HJ212_UNAUTH_GARBAGE_BYTES: Type.Integer({ minimum: 0, default: 4096 }),
  OFFSITE_HJ212_UNAUTH_BAD_FRAMES: Type.Integer({ minimum: 0, default: 8 }),
  OFFSITE_HJ212_UNAUTH_FRAMES_IN_FLIGHT: Type.Integer({ minimum: 1, default: 4 }),
  OFFSITE_HJ212_GARBAGE_BYTES: Type.Integer({ minimum: 0, default: 65_536 }),
  OFFSITE_HJ212_BAD_FRAMES: Type.Integer({ minimum: 0, default: 64 }),
  OFFSITE_HJ212_AUTH_WINDOW_MS: Type.Integer({ minimum: 1000, default: 600_000 }),
  OFFSITE_HJ212_AUTH_FAILURES_PER_SOURCE: Type.Integer({ minimum: 1, default: 20 }),
  OFFSITE_HJ212_AUTH_FAILURES_PER_MN: Type.Integer({ minimum: 1, default: 10 }),
  OFFSITE_HJ212_AUTH_ATTEMPTS_PER_PAIR: Type.Integer({ minimum: 1, default: 2 }),
  OFFSITE_HJ212_AUTH_DEADLINE_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  OFFSITE_HJ212_LOG_LINES_PER_S: Type.Integer({ minimum: 1, default: 20 }),
  OFFSITE_HJ212_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  OFFSITE_HJ212_COMMAND_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 3 }),
  OFFSITE_HJ212_COMMAND_BACKOFF_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  OFFSITE_HJ212_COMMAND_MAX_BACKOFF_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  OFFSITE_HJ212_COMMANDS_PER_S: Type.Number({ exclusiveMinimum: 0, default: 50 }),
  OFFSITE_HJ212_COMMAND_BURST: Type.Integer({ minimum: 1, default: 100 }),
  OFFSITE_HJ212_COMMAND_POLL_MS: Type.Integer({ minimum: 50, default: 1_000 }),
  OFFSITE_HJ212_COMMAND_LEASE_MS: Type.Integer({ minimum: 1_000, default: 300_000 }),
  OFFSITE_HJ212_BACKFILL_EXPIRY_MS: Type.Integer({ minimum: 1_000, default: 86_400_000 }),
  OFFSITE_HJ212_SUPERVISOR_COMMAND_EXPIRY_MS: Type.Integer({ minimum: 1_000, default: 600_000 }),
  OFFSITE_HJ212_COMMANDS_GROUP_ID: Type.String({ minLength: 1, default: 'hj212-gateway.commands' }),
  OFFSITE_HJ212_CALIBRATION_INTERVAL_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  OFFSITE_HJ212_CLOCK_DRIFT_MAX_S: Type.Integer({ minimum: 0, default: 60 }),
  OFFSITE_HJ212_CIPHER_ENCODING: Type.Union([Type.Literal('hex'), Type.Literal('base64')], {
    default: 'hex',
  }),
  OFFSITE_REGISTRY_CACHE_TTL_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
  OFFSITE_KAFKA_CLIENT_ID: Type.String({ default: 'hj212-gateway' }),
  OFFSITE_KAFKA_TOPIC_PREFIX: Type.String({ default: '', pattern: '^[A-Za-z0-9._-]*$' }),
  OFFSITE_KAFKA_LINGER_MS: Type.Integer({ minimum: 0, maximum: 100, default: 2 }),
  OFFSITE_KAFKA_BATCH_MAX: Type.Integer({ minimum: 1, default: 2000 }),
  OFFSITE_KAFKA_BATCH_MAX_BYTES: Type.Integer({ minimum: 1024, default: 512 * 1024 }),
  OFFSITE_KAFKA_MAX_PENDING: Type.Integer({ minimum: 100, default: 20_000 }),
  OFFSITE_KAFKA_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
  OFFSITE_STEP_DEADLINE_MS: Type.Integer({ minimum: 10, default: 10_000 }),
});

export type GatewayEnv = Static<typeof GatewayEnv>;

/** The service's configuration: bootService loads it at start, `offsite config check hj212-gateway` without starting. */
export const serviceConfig: ServiceConfig<typeof GatewayEnv> = {
  name: 'hj212-gateway',
  schema: GatewayEnv,
  config: {
    checks: [
      {
        variables: ['OFFSITE_STEP_DEADLINE_MS', 'OFFSITE_SHUTDOWN_DEADLINE_MS'],
        check: (c) =>
          c.OFFSITE_STEP_DEADLINE_MS <= c.OFFSITE_SHUTDOWN_DEADLINE_MS
            ? undefined
            : 'a step cannot outlast the whole shutdown',
      },
      {
        variables: ['OFFSITE_HJ212_TRUSTED_PROXIES'],
        check: (c) => {
          const bad = trustedProxies(c.OFFSITE_HJ212_TRUSTED_PROXIES).filter((a) => isIP(a) === 0);
          return bad.length === 0 ? undefined : `not IP addresses: ${bad.join(', ')}`;
        },
      },
      {
        variables: ['OFFSITE_HJ212_COMMAND_BACKOFF_MS', 'OFFSITE_HJ212_COMMAND_MAX_BACKOFF_MS'],
        check: (c) =>
          c.OFFSITE_HJ212_COMMAND_BACKOFF_MS <= c.OFFSITE_HJ212_COMMAND_MAX_BACKOFF_MS
            ? undefined
            : 'the first backoff cannot exceed the longest',
      },
      {
        variables: ['OFFSITE_HJ212_COMMAND_TIMEOUT_MS', 'OFFSITE_HJ212_COMMAND_LEASE_MS'],
        check: (c) =>
          c.OFFSITE_HJ212_COMMAND_TIMEOUT_MS < c.OFFSITE_HJ212_COMMAND_LEASE_MS
            ? undefined
            : 'a claim must outlast the wait for an answer',
      },
      {
        variables: ['OFFSITE_HJ212_MAX_CONNECTIONS_PER_SOURCE', 'OFFSITE_HJ212_MAX_CONNECTIONS'],
        check: (c) =>
          c.OFFSITE_HJ212_MAX_CONNECTIONS_PER_SOURCE <= c.OFFSITE_HJ212_MAX_CONNECTIONS
            ? undefined
            : 'the per-source cap cannot exceed the total cap',
      },
      {
        variables: ['OFFSITE_HJ212_UNAUTH_FRAMES_IN_FLIGHT', 'OFFSITE_HJ212_MAX_FRAMES_IN_FLIGHT'],
        check: (c) =>
          c.OFFSITE_HJ212_UNAUTH_FRAMES_IN_FLIGHT <= c.OFFSITE_HJ212_MAX_FRAMES_IN_FLIGHT
            ? undefined
            : 'an unauthenticated connection cannot have more frames in flight than an authenticated one',
      },
      {
        variables: ['OFFSITE_HJ212_UNAUTH_GARBAGE_BYTES', 'OFFSITE_HJ212_GARBAGE_BYTES'],
        check: (c) =>
          c.OFFSITE_HJ212_UNAUTH_GARBAGE_BYTES <= c.OFFSITE_HJ212_GARBAGE_BYTES
            ? undefined
            : 'the unauthenticated garbage budget cannot exceed the authenticated one',
      },
      {
        variables: ['OFFSITE_HJ212_UNAUTH_BAD_FRAMES', 'OFFSITE_HJ212_BAD_FRAMES'],
        check: (c) =>
          c.OFFSITE_HJ212_UNAUTH_BAD_FRAMES <= c.OFFSITE_HJ212_BAD_FRAMES
            ? undefined
            : 'the unauthenticated bad-frame budget cannot exceed the authenticated one',
      },
    ],
  },
};

/** OFFSITE_HJ212_TRUSTED_PROXIES as a list of addresses. */
export function trustedProxies(value: string): string[] {
  return value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}
