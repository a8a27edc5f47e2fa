// The alerter's environment, validated once at the edge (server names as in .offsite/env).
import { Type, type Static } from '@sinclair/typebox';
import {
  KafkaSecurityEnv,
  PgSchema,
  PgUrl,
  RedisTlsEnv,
  RedisUrl,
  type DeepReadonly,
  type ServiceConfig,
} from '@offsite/runtime';

const Port = (d: number) => Type.Integer({ minimum: 0, maximum: 65535, default: d });

export const AlerterEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Port(9106),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),

  // Kafka: deviation.v1 in, notification.v1 out, undecodable records to the DLQ.
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String(), { minItems: 1 }),
  ...KafkaSecurityEnv,
  /** Prepended to every topic name below (tests use a unique prefix; empty in production). */
  OFFSITE_ALERTER_TOPIC_PREFIX: Type.String({ default: '', pattern: '^[A-Za-z0-9._-]*$' }),
  OFFSITE_ALERTER_DEVIATION_TOPIC: Type.String({ default: 'deviation.v1' }),
  OFFSITE_ALERTER_NOTIFICATION_TOPIC: Type.String({ default: 'notification.v1' }),
  /** Messages other services ask the alerter to deliver (group `<OFFSITE_ALERTER_GROUP_ID>.message-requests`). */
  OFFSITE_ALERTER_MESSAGE_REQUEST_TOPIC: Type.String({ default: 'message.request.v1' }),
  /** Users' text messages to the WeChat official account, passed on to the console (each one a complaint). */
  OFFSITE_ALERTER_COMPLAINT_INTAKE_TOPIC: Type.String({ default: 'complaint.intake.v1' }),
  OFFSITE_ALERTER_DLQ_TOPIC: Type.String({ default: 'telemetry.dlq.v1' }),
  OFFSITE_ALERTER_GROUP_ID: Type.String({ default: 'offsite-alerter' }),
  /** Kafka group session timeout: how long partitions of a dead member wait before reassignment. */
  OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6000, default: 30_000 }),

  // Postgres (cases, notifications, delivery log, acknowledgements) and Redis (BullMQ).
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  /** Apply the store migrations at start (demo and tests; production runs them as a release step). */
  OFFSITE_ALERTER_MIGRATE: Type.Boolean({ default: false }),
  OFFSITE_REDIS_URL: RedisUrl(),
  ...RedisTlsEnv,
  /** BullMQ key prefix: one per deployment (and per test). */
  OFFSITE_ALERTER_QUEUE_PREFIX: Type.String({ default: 'offsite-alerter', pattern: '^[A-Za-z0-9._-]+$' }),
  OFFSITE_ALERTER_SEND_CONCURRENCY: Type.Integer({ minimum: 1, default: 20 }),
  /** Plan jobs (a group's round: read the group, render, enqueue its sends) run at once. */
  OFFSITE_ALERTER_PLAN_CONCURRENCY: Type.Integer({ minimum: 1, default: 10 }),
  OFFSITE_ALERTER_INTAKE_CONCURRENCY: Type.Integer({ minimum: 1, default: 64 }),
  OFFSITE_ALERTER_KAFKA_PARTITIONS_CONCURRENTLY: Type.Integer({ minimum: 1, default: 6 }),
  OFFSITE_ALERTER_SEND_ATTEMPTS: Type.Integer({ minimum: 1, default: 6 }),
  OFFSITE_ALERTER_SEND_BACKOFF_MS: Type.Integer({ minimum: 10, default: 1000 }),
  /**
   * Timers (group wait, repeat interval, escalation delay) run this many times faster than the
   * wall clock; the demo sets its event-time acceleration (480). Quiet hours and ack links do not scale.
   */
  OFFSITE_ALERTER_TIME_SCALE: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, default: 1 }),
  /** BullMQ job lock: a job of a crashed process is re-run after at most about twice this. */
  OFFSITE_ALERTER_JOB_LOCK_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  /** Per-provider limits, `provider=max/durationMs`, e.g. `smtp=100/1000,aliyun-sms=20/1000`. */
  OFFSITE_ALERTER_RATE_LIMITS: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]+=\\d+/\\d+$' }), {
    default: [],
  }),

  // Channels. The outbox (files) is the embedded default, so the demo needs no credentials.
  OFFSITE_ALERTER_EMAIL_TRANSPORT: Type.Union([Type.Literal('outbox'), Type.Literal('smtp')], {
    default: 'outbox',
  }),
  OFFSITE_ALERTER_OUTBOX_DIR: Type.String({ default: '.offsite/outbox' }),
  OFFSITE_SMTP_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_SMTP_PORT: Port(25),
  OFFSITE_SMTP_SECURE: Type.Boolean({ default: false }),
  OFFSITE_SMTP_USER: Type.String({ default: '' }),
  OFFSITE_SMTP_PASSWORD: Type.String({ default: '', secret: true }),
  OFFSITE_SMTP_MAX_CONNECTIONS: Type.Integer({ minimum: 1, default: 5 }),
  /** Messages per pooled SMTP connection before it is replaced. */
  OFFSITE_SMTP_MAX_MESSAGES: Type.Integer({ minimum: 1, default: 10_000 }),
  OFFSITE_ALERTER_MAIL_FROM: Type.String({ default: 'noreply@qinglan.example' }),
  OFFSITE_ALERTER_MAIL_FROM_NAME: Type.String({ default: '青澜市生态环境局' }),
  OFFSITE_ALERTER_MESSAGE_ID_DOMAIN: Type.String({ default: 'alerter.offsite' }),
  /** SMS providers in failover order; empty = SMS goes to the outbox. */
  OFFSITE_ALERTER_SMS_PROVIDERS: Type.Array(Type.Union([Type.Literal('aliyun'), Type.Literal('tencent')]), {
    default: [],
  }),
  OFFSITE_ALIYUN_SMS_ACCESS_KEY_ID: Type.String({ default: '' }),
  OFFSITE_ALIYUN_SMS_ACCESS_KEY_SECRET: Type.String({ default: '', secret: true }),
  OFFSITE_ALIYUN_SMS_SIGN_NAME: Type.String({ default: '' }),
  /** Our template key → Aliyun TemplateCode: `reminder=SMS_1,reminder-resumption=SMS_2,…`. */
  OFFSITE_ALIYUN_SMS_TEMPLATES: Type.Array(Type.String({ pattern: '^[a-z-]+=\\S+$' }), { default: [] }),
  OFFSITE_ALIYUN_SMS_ENDPOINT: Type.String({ default: 'https://dysmsapi.aliyuncs.com/' }),
  OFFSITE_TENCENT_SMS_SECRET_ID: Type.String({ default: '' }),
  OFFSITE_TENCENT_SMS_SECRET_KEY: Type.String({ default: '', secret: true }),
  OFFSITE_TENCENT_SMS_APP_ID: Type.String({ default: '' }),
  OFFSITE_TENCENT_SMS_SIGN_NAME: Type.String({ default: '' }),
  /** Our template key → Tencent TemplateId and parameter order: `reminder=123456:enterprise|facility|rule|link,…`. */
  OFFSITE_TENCENT_SMS_TEMPLATES: Type.Array(Type.String({ pattern: '^[a-z-]+=\\d+:[a-z|]+$' }), {
    default: [],
  }),
  OFFSITE_TENCENT_SMS_ENDPOINT: Type.String({ default: 'https://sms.tencentcloudapi.com/' }),
  /** WeChat official account (公众号) for template messages; empty app id = the `wechat` channel writes to the outbox. */
  OFFSITE_WECHAT_APP_ID: Type.String({ default: '' }),
  OFFSITE_WECHAT_APP_SECRET: Type.String({ default: '', secret: true }),
  /**
   * Our template key → the account's template id and its data keys filled from our parameters:
   * `reminder=TEMPLATE_ID:thing1=enterprise|thing2=rule|time3=time,…`.
   */
  OFFSITE_WECHAT_TEMPLATES: Type.Array(
    Type.String({ pattern: '^[a-z-]+=[A-Za-z0-9_-]+:[A-Za-z0-9_]+=[a-z]+(\\|[A-Za-z0-9_]+=[a-z]+)*$' }),
    { default: [] },
  ),
  OFFSITE_WECHAT_BASE_URL: Type.String({ default: 'https://api.weixin.qq.com' }),
  /** The account's server-configuration token: WeChat signs its pushes with it; empty disables /wechat/callback. */
  OFFSITE_WECHAT_CALLBACK_TOKEN: Type.String({ default: '', secret: true }),
  /** Shared key in the receipt callback path (/sms/receipts/<provider>/<key>); empty disables the routes. */
  OFFSITE_ALERTER_RECEIPT_KEY: Type.String({ default: '', secret: true }),
  /** Refused receipt callbacks (wrong key, malformed) are kept here as JSON files. */
  OFFSITE_ALERTER_RECEIPT_REJECT_DIR: Type.String({ default: '.offsite/receipts-rejected' }),

  // Acknowledgement page.
  OFFSITE_ALERTER_ACK_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_ALERTER_ACK_PORT: Port(8090),
  /** Public URL of the acknowledgement page, as put into the messages. */
  OFFSITE_ALERTER_ACK_BASE_URL: Type.String({ default: 'http://127.0.0.1:8090/ack' }),
  OFFSITE_ALERTER_ACK_SECRET: Type.String({ minLength: 16, secret: true }),

  /** Policy file (YAML or JSON, see policy.example.yaml); the built-in default policy when empty. */
  OFFSITE_ALERTER_POLICY_FILE: Type.String({ default: '' }),
});

/** `provider=max/durationMs` list → limits by provider. */
export function parseRateLimits(
  list: readonly string[],
): Record<string, { max: number; durationMs: number }> {
  const out: Record<string, { max: number; durationMs: number }> = {};
  for (const item of list) {
    const m = /^([A-Za-z0-9._-]+)=(\d+)\/(\d+)$/.exec(item);
    if (m) out[m[1]!] = { max: Number(m[2]), durationMs: Number(m[3]) };
  }
  return out;
}

/** `key=ID:field=param|field=param` list → WeChat templates by our key. */
export function parseWechatTemplates(
  list: readonly string[],
): Record<string, { id: string; fields: Record<string, string> }> {
  return Object.fromEntries(
    Object.entries(parsePairs(list)).map(([key, v]) => {
      const [id, fields] = [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
      return [key, { id, fields: parsePairs(fields.split('|')) }];
    }),
  );
}

/** `key=value` list → record. */
export function parsePairs(list: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    list.map((item) => [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)]),
  );
}

/** The service's configuration: bootService loads it at start, `offsite config check alerter` without starting. */
export const serviceConfig: ServiceConfig<typeof AlerterEnv> = {
  name: 'alerter',
  schema: AlerterEnv,
  config: {
    checks: [
      {
        variables: [
          'OFFSITE_ALERTER_SMS_PROVIDERS',
          'OFFSITE_ALIYUN_SMS_ACCESS_KEY_ID',
          'OFFSITE_ALIYUN_SMS_ACCESS_KEY_SECRET',
          'OFFSITE_ALIYUN_SMS_SIGN_NAME',
        ],
        check: (c) =>
          !c.OFFSITE_ALERTER_SMS_PROVIDERS.includes('aliyun') ||
          (c.OFFSITE_ALIYUN_SMS_ACCESS_KEY_ID &&
            c.OFFSITE_ALIYUN_SMS_ACCESS_KEY_SECRET &&
            c.OFFSITE_ALIYUN_SMS_SIGN_NAME)
            ? undefined
            : 'aliyun SMS needs OFFSITE_ALIYUN_SMS_ACCESS_KEY_ID, _ACCESS_KEY_SECRET (or _FILE) and _SIGN_NAME',
      },
      {
        variables: [
          'OFFSITE_ALERTER_SMS_PROVIDERS',
          'OFFSITE_TENCENT_SMS_SECRET_ID',
          'OFFSITE_TENCENT_SMS_SECRET_KEY',
          'OFFSITE_TENCENT_SMS_APP_ID',
          'OFFSITE_TENCENT_SMS_SIGN_NAME',
        ],
        check: (c) =>
          !c.OFFSITE_ALERTER_SMS_PROVIDERS.includes('tencent') ||
          (c.OFFSITE_TENCENT_SMS_SECRET_ID &&
            c.OFFSITE_TENCENT_SMS_SECRET_KEY &&
            c.OFFSITE_TENCENT_SMS_APP_ID &&
            c.OFFSITE_TENCENT_SMS_SIGN_NAME)
            ? undefined
            : 'tencent SMS needs OFFSITE_TENCENT_SMS_SECRET_ID, _SECRET_KEY (or _FILE), _APP_ID and _SIGN_NAME',
      },
    ],
  },
};

/** The validated environment, as `bootService` returns it. */
export type AlerterConfig = DeepReadonly<Static<typeof AlerterEnv>>;
