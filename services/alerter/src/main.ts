// Composition root of the alerter: config → logger → adapters → alerter → lifecycle → ops → signals.
import path from 'node:path';
import { kafkaMessage, kafkaTopics, type TelemetryDlqV1 } from '@offsite/contracts';
import {
  installKafkajsFastPaths,
  consumerComponent,
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
} from '@offsite/kafka';
import {
  bootService,
  defineMetrics,
  kafkaSecurity,
  redisConnectionOptions,
  redisTls,
  withTimeout,
} from '@offsite/runtime';
import { createPgPool, runMigrations } from '@offsite/store';
import type { FastifyInstance } from 'fastify';
import { createAckServer, receiptChannel } from './ack-server.js';
import { createAlerter, type Alerter, type AlerterOptions } from './app.js';
import { createChannels } from './channels.js';
import { createComplaintHandoff } from './complaint-handoff.js';
import { parseRateLimits, serviceConfig } from './config.js';
import { createIntake } from './intake.js';
import { createMessageIntake } from './message-intake.js';
import { alerterMetricDefinitions } from './metrics.js';
import { defaultPolicy, type AlertPolicy } from './policy.js';
import { readPolicyFile } from './policy-file.js';
import { createRejectKeeper } from './receipt-rejects.js';
import { ALERTER_PG_SETTINGS } from './repo.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));

let policy: AlertPolicy;
try {
  policy = env.OFFSITE_ALERTER_POLICY_FILE
    ? await readPolicyFile(env.OFFSITE_ALERTER_POLICY_FILE)
    : defaultPolicy();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(78);
}

const metrics = defineMetrics(registry, alerterMetricDefinitions);
const topic = (name: string) => `${env.OFFSITE_ALERTER_TOPIC_PREFIX}${name}`;
const pool = createPgPool({
  url: env.OFFSITE_PG_URL,
  schema: env.OFFSITE_PG_SCHEMA,
  settings: ALERTER_PG_SETTINGS,
  max: 10,
  logger,
});
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-alerter',
  logger: logger.child({ component: 'kafka' }),
});
const producer = createDurableProducer(kafka, { logger: logger.child({ component: 'producer' }) });
const channels = createChannels(env, logger);

async function sendDlq(records: TelemetryDlqV1[]): Promise<void> {
  await producer.send(
    topic(env.OFFSITE_ALERTER_DLQ_TOPIC),
    records.map((r) => kafkaMessage(kafkaTopics.telemetryDlq, r)),
  );
}
const dlqCounters = { dlq: (reason: string) => metrics.dlq.inc({ reason }) };

const alerterOptions: AlerterOptions = {
  db: pool,
  connection: redisConnectionOptions(env.OFFSITE_REDIS_URL, redisTls(env)),
  prefix: env.OFFSITE_ALERTER_QUEUE_PREFIX,
  policy,
  channels,
  ack: { secret: env.OFFSITE_ALERTER_ACK_SECRET, baseUrl: env.OFFSITE_ALERTER_ACK_BASE_URL },
  logger,
  publish: async (e) => {
    await producer.send(topic(env.OFFSITE_ALERTER_NOTIFICATION_TOPIC), [
      kafkaMessage(kafkaTopics.notification, e),
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
};

// The alerter's queues connect to Redis when it is built, so it is built when its step starts.
let alerter: Alerter | undefined;
let ackServer: FastifyInstance | undefined;

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
      [channels.email, ...channels.sms, channels.wechat, channels.outbox].map((c) =>
        withTimeout(c.close(), 5_000, `close ${c.provider}`),
      ),
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
    alerter = createAlerter(alerterOptions);
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
      wechat: {
        token: env.OFFSITE_WECHAT_CALLBACK_TOKEN,
        provider: channels.wechat.provider,
        // A user's text message is a complaint: passed on to the console before WeChat gets its answer.
        onText: createComplaintHandoff(
          async (e) => {
            await producer.send(topic(env.OFFSITE_ALERTER_COMPLAINT_INTAKE_TOPIC), [
              kafkaMessage(kafkaTopics.complaintIntake, e),
            ]);
          },
          (outcome) => metrics.wechatComplaints.inc({ outcome }),
        ),
      },
      onRejected: createRejectKeeper({
        dir: path.resolve(env.OFFSITE_ALERTER_RECEIPT_REJECT_DIR),
        logger,
        counted: (provider, reason) =>
          metrics.receiptsRejected.inc({ channel: receiptChannel(provider), provider, reason }),
      }),
      onReceipts: (provider, counts) => {
        for (const outcome of ['new', 'repeat', 'unknown'] as const)
          metrics.receipts.inc({ channel: receiptChannel(provider), provider, outcome }, counts[outcome]);
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
const onFatal = (reason: string, error: unknown) => void lifecycle.shutdown(reason, { error });
lifecycle.register(
  consumerComponent({
    name: 'deviation-consumer',
    sessionTimeoutMs: env.OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS,
    onFatal,
    build: () =>
      createBatchConsumer({
        kafka,
        groupId: env.OFFSITE_ALERTER_GROUP_ID,
        sessionTimeoutMs: env.OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS,
        // Partitions are keyed by enterprise: handling them side by side keeps each one's order.
        partitionsConsumedConcurrently: env.OFFSITE_ALERTER_KAFKA_PARTITIONS_CONCURRENTLY,
        topics: [topic(env.OFFSITE_ALERTER_DEVIATION_TOPIC)],
        logger,
        handle: createIntake({
          alerter: alerter!,
          logger,
          dlq: sendDlq,
          counters: dlqCounters,
          concurrency: env.OFFSITE_ALERTER_INTAKE_CONCURRENCY,
        }),
      }),
  }),
);
lifecycle.register(
  consumerComponent({
    name: 'message-request-consumer',
    sessionTimeoutMs: env.OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS,
    onFatal,
    build: () =>
      createBatchConsumer({
        kafka,
        groupId: `${env.OFFSITE_ALERTER_GROUP_ID}.message-requests`,
        sessionTimeoutMs: env.OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS,
        topics: [topic(env.OFFSITE_ALERTER_MESSAGE_REQUEST_TOPIC)],
        logger,
        handle: createMessageIntake({ alerter: alerter!, logger, dlq: sendDlq, counters: dlqCounters }),
      }),
  }),
);

await run();
