// Composition root: config → logger → adapters → alerter → lifecycle → ops server → signals.
import path from 'node:path';
import { kafkaTopics, type NotificationV1, type TelemetryDlqV1 } from '@offsite/contracts';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  type BatchConsumer,
} from '@offsite/kafka';
import {
  createAliyunSmsChannel,
  createEmailChannel,
  createOutboxChannel,
  createTencentSmsChannel,
  type Channel,
} from '@offsite/notify';
import {
  bootService,
  defineMetrics,
  kafkaSecurity,
  redisConnectionOptions,
  redisTls,
  withTimeout,
} from '@offsite/runtime';
import { runMigrations } from '@offsite/store';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createAckServer } from './ack-server.js';
import { createAlerter, type Alerter } from './app.js';
import { parsePairs, parseRateLimits, serviceConfig } from './config.js';
import { createIntake } from './intake.js';
import { createMessageIntake } from './message-intake.js';
import { defaultPolicy, type AlertPolicy } from './policy.js';
import { readPolicyFile } from './policy-file.js';
import { alerterPgOptions } from './repo.js';
import { createRejectKeeper } from './receipt-rejects.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });

let policy: AlertPolicy;
try {
  policy = env.OFFSITE_ALERTER_POLICY_FILE
    ? await readPolicyFile(env.OFFSITE_ALERTER_POLICY_FILE)
    : defaultPolicy({ districtOfficers: {}, citySupervisors: [] });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(78);
}

const metrics = defineMetrics(registry, {
  deviations: {
    type: 'counter',
    name: 'offsite_alerter_deviations_total',
    help: 'deviation.v1 events handled, by outcome',
    labelNames: ['outcome'],
  },
  sends: {
    type: 'counter',
    name: 'offsite_alerter_sends_total',
    help: 'Send jobs by provider and result (sent, failed, failover, skipped = already sent)',
    labelNames: ['provider', 'status'],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_alerter_dlq_total',
    help: 'Records sent to the DLQ',
    labelNames: ['reason'],
  },
  publishFailed: {
    type: 'counter',
    name: 'offsite_alerter_event_publish_failures_total',
    help: 'notification.v1 events that could not be produced',
  },
  receiptsRejected: {
    type: 'counter',
    name: 'offsite_alerter_sms_receipts_rejected_total',
    help: 'SMS receipt callbacks refused with a 4xx (kept in OFFSITE_ALERTER_RECEIPT_REJECT_DIR), by provider and reason',
    labelNames: ['provider', 'reason'],
  },
  receipts: {
    type: 'counter',
    name: 'offsite_alerter_sms_receipts_total',
    help: 'SMS delivery receipts, by provider and outcome: new (stored), repeat (the provider pushed it again), unknown (no notification of ours)',
    labelNames: ['provider', 'outcome'],
  },
});

const topic = (name: string) => `${env.OFFSITE_ALERTER_TOPIC_PREFIX}${name}`;
const deviationTopic = topic(env.OFFSITE_ALERTER_DEVIATION_TOPIC);
const notificationTopic = topic(env.OFFSITE_ALERTER_NOTIFICATION_TOPIC);
const dlqTopic = topic(env.OFFSITE_ALERTER_DLQ_TOPIC);
const messageRequestTopic = topic(env.OFFSITE_ALERTER_MESSAGE_REQUEST_TOPIC);

const pool = new pg.Pool({
  connectionString: env.OFFSITE_PG_URL,
  options: alerterPgOptions(env.OFFSITE_PG_SCHEMA),
  max: 10,
});
pool.on('error', (err) => logger.warn({ err }, 'idle Postgres client error'));
const connection = redisConnectionOptions(env.OFFSITE_REDIS_URL, redisTls(env));
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-alerter',
  logger: logger.child({ component: 'kafka' }),
});
const producer = createDurableProducer(kafka, { logger: logger.child({ component: 'producer' }) });

// Channels: the outbox is the embedded default for email and SMS.
const outboxDir = path.resolve(env.OFFSITE_ALERTER_OUTBOX_DIR);
const email: Channel =
  env.OFFSITE_ALERTER_EMAIL_TRANSPORT === 'smtp'
    ? createEmailChannel(
        {
          host: env.OFFSITE_SMTP_HOST,
          port: env.OFFSITE_SMTP_PORT,
          secure: env.OFFSITE_SMTP_SECURE,
          ...(env.OFFSITE_SMTP_USER
            ? { auth: { user: env.OFFSITE_SMTP_USER, pass: env.OFFSITE_SMTP_PASSWORD } }
            : {}),
          from: { address: env.OFFSITE_ALERTER_MAIL_FROM, name: env.OFFSITE_ALERTER_MAIL_FROM_NAME },
          messageIdDomain: env.OFFSITE_ALERTER_MESSAGE_ID_DOMAIN,
          maxConnections: env.OFFSITE_SMTP_MAX_CONNECTIONS,
          maxMessages: env.OFFSITE_SMTP_MAX_MESSAGES,
        },
        logger,
      )
    : createOutboxChannel(
        { dir: path.join(outboxDir, 'email'), as: 'email', provider: 'outbox-email' },
        logger,
      );
const sms: Channel[] = env.OFFSITE_ALERTER_SMS_PROVIDERS.map((p) =>
  p === 'aliyun'
    ? createAliyunSmsChannel(
        {
          accessKeyId: env.OFFSITE_ALIYUN_SMS_ACCESS_KEY_ID,
          accessKeySecret: env.OFFSITE_ALIYUN_SMS_ACCESS_KEY_SECRET,
          signName: env.OFFSITE_ALIYUN_SMS_SIGN_NAME,
          templates: parsePairs(env.OFFSITE_ALIYUN_SMS_TEMPLATES),
          endpoint: env.OFFSITE_ALIYUN_SMS_ENDPOINT,
        },
        logger,
      )
    : createTencentSmsChannel(
        {
          secretId: env.OFFSITE_TENCENT_SMS_SECRET_ID,
          secretKey: env.OFFSITE_TENCENT_SMS_SECRET_KEY,
          smsSdkAppId: env.OFFSITE_TENCENT_SMS_APP_ID,
          signName: env.OFFSITE_TENCENT_SMS_SIGN_NAME,
          templates: Object.fromEntries(
            Object.entries(parsePairs(env.OFFSITE_TENCENT_SMS_TEMPLATES)).map(([k, v]) => {
              const [id, params] = v.split(':');
              return [k, { id: id!, params: (params ?? '').split('|').filter(Boolean) }];
            }),
          ),
          endpoint: env.OFFSITE_TENCENT_SMS_ENDPOINT,
        },
        logger,
      ),
);
if (sms.length === 0)
  sms.push(
    createOutboxChannel({ dir: path.join(outboxDir, 'sms'), as: 'sms', provider: 'outbox-sms' }, logger),
  );
const outbox = createOutboxChannel(
  { dir: path.join(outboxDir, 'outbox'), as: 'email', provider: 'outbox' },
  logger,
);

async function sendDlq(records: TelemetryDlqV1[]): Promise<void> {
  await producer.send(
    dlqTopic,
    records.map((r) => ({
      key: r.id,
      value: JSON.stringify(r),
      headers: { 'offsite-schema': 'telemetry.dlq.v1' },
    })),
  );
}

let alerter: Alerter | undefined;
let ackServer: FastifyInstance | undefined;
let consumer: BatchConsumer | undefined;
let messageConsumer: BatchConsumer | undefined;

lifecycle.register({
  name: 'postgres',
  start: async () => {
    if (env.OFFSITE_ALERTER_MIGRATE) await runMigrations(pool, { logger });
    else await pool.query('select 1');
  },
  stop: () => withTimeout(pool.end(), 5_000, 'pg pool end'),
});
lifecycle.register({
  name: 'channels',
  stop: async () => {
    await Promise.allSettled(
      [email, ...sms, outbox].map((c) => withTimeout(c.close(), 5_000, `close ${c.provider}`)),
    );
  },
});
lifecycle.register({
  name: 'kafka-producer',
  start: () => producer.connect(),
  stop: () => withTimeout(producer.disconnect(), 5_000, 'producer disconnect'),
});
lifecycle.register({
  name: 'alerter',
  start: async () => {
    alerter = createAlerter({
      db: pool,
      connection,
      prefix: env.OFFSITE_ALERTER_QUEUE_PREFIX,
      policy,
      channels: { email, sms, outbox },
      ack: { secret: env.OFFSITE_ALERTER_ACK_SECRET, baseUrl: env.OFFSITE_ALERTER_ACK_BASE_URL },
      logger,
      publish: async (e: NotificationV1) => {
        await producer.send(notificationTopic, [
          {
            key: kafkaTopics.notification.key(e),
            value: JSON.stringify(e),
            headers: { 'offsite-schema': 'notification.v1' },
          },
        ]);
      },
      jobLockMs: env.OFFSITE_ALERTER_JOB_LOCK_MS,
      timeScale: env.OFFSITE_ALERTER_TIME_SCALE,
      send: {
        attempts: env.OFFSITE_ALERTER_SEND_ATTEMPTS,
        backoffMs: env.OFFSITE_ALERTER_SEND_BACKOFF_MS,
        concurrency: env.OFFSITE_ALERTER_SEND_CONCURRENCY,
        planConcurrency: env.OFFSITE_ALERTER_PLAN_CONCURRENCY,
        rateLimits: parseRateLimits(env.OFFSITE_ALERTER_RATE_LIMITS),
      },
      counters: {
        deviation: (outcome) => metrics.deviations.inc({ outcome }),
        send: (provider, status) => metrics.sends.inc({ provider, status }),
        publishFailed: () => metrics.publishFailed.inc(),
      },
    });
    alerter.start();
  },
  // Workers finish their current jobs (a job cut short is re-run and skipped by its claim).
  stop: () => alerter?.close(),
  check: () => alerter?.isRunning() ?? false,
});
lifecycle.register({
  name: 'ack-server',
  start: async () => {
    ackServer = createAckServer({
      alerter: alerter!,
      receiptKey: env.OFFSITE_ALERTER_RECEIPT_KEY,
      onRejected: createRejectKeeper({
        dir: path.resolve(env.OFFSITE_ALERTER_RECEIPT_REJECT_DIR),
        logger,
        counted: (provider, reason) => metrics.receiptsRejected.inc({ provider, reason }),
      }),
      onReceipts: (provider, counts) => {
        for (const outcome of ['new', 'repeat', 'unknown'] as const)
          metrics.receipts.inc({ provider, outcome }, counts[outcome]);
      },
    });
    const at = await ackServer.listen({
      host: env.OFFSITE_ALERTER_ACK_HOST,
      port: env.OFFSITE_ALERTER_ACK_PORT,
    });
    logger.info({ at }, 'acknowledgement page listening');
  },
  stop: () => ackServer?.close(),
});
lifecycle.register({
  name: 'deviation-consumer',
  start: async () => {
    consumer = createBatchConsumer({
      kafka,
      groupId: env.OFFSITE_ALERTER_GROUP_ID,
      sessionTimeoutMs: env.OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS,
      // Partitions are keyed by enterprise: handling them side by side keeps each one's order.
      partitionsConsumedConcurrently: env.OFFSITE_ALERTER_KAFKA_PARTITIONS_CONCURRENTLY,
      topics: [deviationTopic],
      logger,
      handle: createIntake({
        alerter: alerter!,
        logger,
        dlq: sendDlq,
        counters: { dlq: (reason) => metrics.dlq.inc({ reason }) },
        concurrency: env.OFFSITE_ALERTER_INTAKE_CONCURRENCY,
      }),
    });
    consumer.consumer.on(consumer.consumer.events.CRASH, (e) => {
      if (!e.payload.restart)
        void lifecycle.shutdown('deviation consumer crashed', { error: e.payload.error });
    });
    await consumer.start();
  },
  stop: () => consumer?.stop(),
  check: () => consumer?.isRunning() ?? false,
});
lifecycle.register({
  name: 'message-request-consumer',
  start: async () => {
    messageConsumer = createBatchConsumer({
      kafka,
      groupId: `${env.OFFSITE_ALERTER_GROUP_ID}.message-requests`,
      sessionTimeoutMs: env.OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS,
      topics: [messageRequestTopic],
      logger,
      handle: createMessageIntake({
        alerter: alerter!,
        logger,
        dlq: sendDlq,
        counters: { dlq: (reason) => metrics.dlq.inc({ reason }) },
      }),
    });
    messageConsumer.consumer.on(messageConsumer.consumer.events.CRASH, (e) => {
      if (!e.payload.restart)
        void lifecycle.shutdown('message-request consumer crashed', { error: e.payload.error });
    });
    await messageConsumer.start();
  },
  stop: () => messageConsumer?.stop(),
  check: () => messageConsumer?.isRunning() ?? false,
});

await run();
