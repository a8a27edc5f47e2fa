import { Type, type Static } from '@sinclair/typebox';
import {
  InfluxTlsEnv,
  KafkaSecurityEnv,
  PgSchema,
  PgUrl,
  RedisTlsEnv,
  RedisUrl,
  type ServiceConfig,
} from '@offsite/runtime';
import { cityBoundsFrom, type GeoBounds } from '@offsite/store';

export const Env = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9107 }),
  OFFSITE_CONSOLE_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_CONSOLE_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  OFFSITE_CONSOLE_SECURE_COOKIES: Type.Boolean({ default: false }),
  OFFSITE_CONSOLE_SESSION_IDLE_MIN: Type.Integer({ minimum: 1, maximum: 1440, default: 30 }),
  OFFSITE_CONSOLE_SESSION_MAX_HOURS: Type.Integer({ minimum: 1, maximum: 72, default: 12 }),
  OFFSITE_CONSOLE_LOGIN_MAX_PER_MIN: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  // Failed logins per window, counted in Redis (shared by all console instances).
  OFFSITE_CONSOLE_LOGIN_WINDOW_MIN: Type.Integer({ minimum: 1, maximum: 1440, default: 15 }),
  OFFSITE_CONSOLE_LOGIN_FAILURES_PER_SOURCE: Type.Integer({ minimum: 1, default: 20 }),
  OFFSITE_CONSOLE_LOGIN_FAILURES_PER_USER: Type.Integer({ minimum: 1, default: 10 }),
  OFFSITE_CONSOLE_LOGIN_FAILURES_OVERALL: Type.Integer({ minimum: 1, default: 300 }),
  OFFSITE_CONSOLE_LOGIN_FAILURES_PER_DEVICE: Type.Integer({ minimum: 1, default: 5 }),
  OFFSITE_CONSOLE_LOGIN_DEVICE_DAYS: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
  // argon2 verifications at once (about one core each) and how many may wait.
  OFFSITE_CONSOLE_ARGON2_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  OFFSITE_CONSOLE_ARGON2_QUEUE: Type.Integer({ minimum: 0, maximum: 10_000, default: 16 }),
  // Live-update streams (SSE) open at once per session; one more is refused with 429.
  OFFSITE_CONSOLE_STREAMS_PER_SESSION: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  OFFSITE_CONSOLE_MAINTENANCE_APPROVAL_HOURS: Type.Integer({ minimum: 1, maximum: 8760, default: 24 }),
  // Enterprise portal: how long an invitation link stays valid.
  // Positive-list criteria judged as of this instant (ISO 8601): a replay or demo of a past day. Unset in
  // production: the real clock.
  OFFSITE_CONSOLE_ELIGIBILITY_AS_OF: Type.Optional(Type.String({ format: 'date-time' })),
  OFFSITE_CONSOLE_PORTAL_INVITATION_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 72 }),
  // The console's address as people outside the bureau reach it: the e-mailed invitation links start with it.
  OFFSITE_CONSOLE_PUBLIC_URL: Type.String({ format: 'uri', default: 'http://localhost:8080' }),
  // An enterprise's declaration (shutdown/resumption, maintenance window) takes effect at once
  // (`immediate`) or after an officer of its district confirms it (`confirm`).
  OFFSITE_CONSOLE_PORTAL_DECLARATIONS: Type.Union([Type.Literal('confirm'), Type.Literal('immediate')], {
    default: 'confirm',
  }),
  // Rectification evidence: a directory outside the web root, and the largest file accepted (MiB).
  OFFSITE_CONSOLE_PORTAL_EVIDENCE_DIR: Type.String({
    minLength: 1,
    default: '/var/lib/offsite/portal-evidence',
  }),
  OFFSITE_CONSOLE_PORTAL_EVIDENCE_MAX_MB: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  // The start-up sweep settles evidence files left by a crash once they are this old (minutes).
  OFFSITE_CONSOLE_PORTAL_EVIDENCE_SWEEP_MIN: Type.Integer({ minimum: 1, maximum: 1440, default: 60 }),
  // Penalty discretion: a violation is the first when the enterprise had no confirmed case in this
  // many months; its approver is city level (`city`) or may also be an officer of the district.
  OFFSITE_CONSOLE_FIRST_VIOLATION_MONTHS: Type.Integer({ minimum: 1, maximum: 120, default: 24 }),
  OFFSITE_CONSOLE_DISCRETION_APPROVER: Type.Union([Type.Literal('city'), Type.Literal('district')], {
    default: 'city',
  }),
  // Districts' submissions: the period summary's due day and first day (MM-DD) and how many days before
  // a due day the officers of districts that have not submitted are reminded (monthly: due on the 25th).
  OFFSITE_CONSOLE_SUMMARY_DUE: Type.String({
    default: '10-05',
    pattern: '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$',
  }),
  OFFSITE_CONSOLE_SUMMARY_FROM: Type.String({
    default: '03-01',
    pattern: '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$',
  }),
  OFFSITE_CONSOLE_SUBMISSION_REMIND_DAYS: Type.Integer({ minimum: 0, maximum: 24, default: 5 }),
  OFFSITE_CONSOLE_TASK_ESCALATE_CITY_HOURS: Type.Integer({ minimum: 1, maximum: 2160, default: 72 }),
  /** south,west,north,east (WGS-84 degrees): a registry position edited in the console must lie inside. */
  OFFSITE_CITY_BOUNDS: Type.Optional(Type.Array(Type.Number(), { minItems: 4, maxItems: 4 })),
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  OFFSITE_INFLUX_URL: Type.String({ format: 'uri' }),
  ...InfluxTlsEnv,
  OFFSITE_INFLUX_TOKEN: Type.String({ secret: true }),
  OFFSITE_INFLUX_ORG: Type.String({ default: '' }),
  OFFSITE_INFLUX_BUCKET: Type.String(),
  OFFSITE_INFLUX_EMISSION_MEASUREMENT: Type.String({ default: 'emission' }),
  OFFSITE_INFLUX_ENERGY_MEASUREMENT: Type.String({ default: 'energy' }),
  OFFSITE_INFLUX_AGGREGATE_MEASUREMENT: Type.String({ default: 'aggregate' }),
  OFFSITE_INFLUX_STATUS_MEASUREMENT: Type.String({ default: 'status' }),
  OFFSITE_CONSOLE_EVIDENCE_MARGIN_HOURS: Type.Integer({ minimum: 0, maximum: 168, default: 6 }),
  // 传输有效率 below this (0–1) is flagged in the transmission statistics and the monthly report.
  OFFSITE_CONSOLE_TRANSMISSION_THRESHOLD: Type.Number({ minimum: 0, maximum: 1, default: 0.9 }),
  // Store closed days' transmission counts in Postgres (transmission-days.ts), kept true by the late minute data
  // the influx-writer reports on OFFSITE_CONSOLE_LATE_DATA_TOPIC.
  OFFSITE_CONSOLE_TRANSMISSION_STORE_DAYS: Type.Boolean({ default: true }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
  // Review decisions (from the console's outbox) and message requests are published to Kafka.
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  ...KafkaSecurityEnv,
  OFFSITE_CONSOLE_REVIEW_DECISION_TOPIC: Type.String({ default: 'review.decision.v1' }),
  // The influx-writer's late minute data (late-data.ts), consumed by group `<OFFSITE_CONSOLE_GROUP_ID>.late-data`;
  // records that are not telemetry.late.v1 go to OFFSITE_CONSOLE_DLQ_TOPIC.
  OFFSITE_CONSOLE_LATE_DATA_TOPIC: Type.String({ minLength: 1, default: 'telemetry.late.v1' }),
  OFFSITE_KAFKA_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, default: 30_000 }),
  // Regulatory reminders and outreach are delivered by the alerter.
  OFFSITE_CONSOLE_MESSAGE_REQUEST_TOPIC: Type.String({ default: 'message.request.v1' }),
  OFFSITE_CONSOLE_HJ212_COMMAND_TOPIC: Type.String({ default: 'hj212.command.v1' }),
  // Complaints from the WeChat official account (passed on by the alerter), consumed by this group.
  OFFSITE_CONSOLE_COMPLAINT_INTAKE_TOPIC: Type.String({ default: 'complaint.intake.v1' }),
  OFFSITE_CONSOLE_GROUP_ID: Type.String({ default: 'offsite-console', pattern: '^[A-Za-z0-9._-]+$' }),
  OFFSITE_CONSOLE_DLQ_TOPIC: Type.String({ default: 'telemetry.dlq.v1' }),
  // Regulatory background work (complaint reminders, monthly report reminder, outreach) on BullMQ.
  OFFSITE_REDIS_URL: RedisUrl(),
  ...RedisTlsEnv,
  /** BullMQ key prefix: one per deployment (and per test). */
  OFFSITE_CONSOLE_QUEUE_PREFIX: Type.String({ default: 'offsite-console', pattern: '^[A-Za-z0-9._-]+$' }),
  /** Outreach throttle: at most MAX sends per DURATION ms across all console processes. */
  OFFSITE_CONSOLE_OUTREACH_RATE_MAX: Type.Integer({ minimum: 1, default: 10 }),
  OFFSITE_CONSOLE_OUTREACH_RATE_DURATION_MS: Type.Integer({ minimum: 10, default: 1000 }),
  OFFSITE_CONSOLE_OUTREACH_ATTEMPTS: Type.Integer({ minimum: 1, default: 3 }),
});
export type Env = Static<typeof Env>;

/** The service's configuration: bootService loads it at start, `offsite config check console` without starting. */
export const serviceConfig: ServiceConfig<typeof Env> = {
  name: 'console',
  schema: Env,
  config: {
    checks: [
      {
        variables: ['OFFSITE_CITY_BOUNDS'],
        check: (c) => {
          const b = c.OFFSITE_CITY_BOUNDS ? cityBoundsFrom(c.OFFSITE_CITY_BOUNDS) : undefined;
          return typeof b === 'string' ? `OFFSITE_CITY_BOUNDS ${b}` : undefined;
        },
      },
    ],
  },
};

/** The registry edit's `cityBounds` from the checked configuration. */
export function cityBounds(list: readonly number[] | undefined): { cityBounds?: GeoBounds } {
  const b = list ? cityBoundsFrom(list) : undefined;
  return b && typeof b !== 'string' ? { cityBounds: b } : {};
}
