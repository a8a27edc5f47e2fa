import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { kafkaMessage, kafkaTopics, type MessageRequestV1, type TelemetryDlqV1 } from '@offsite/contracts';
import {
  bootService,
  defineMetrics,
  kafkaSecurity,
  influxConnection,
  redisConnectionOptions,
  redisTls,
  withTimeout,
} from '@offsite/runtime';
import { createInfluxClient } from '@offsite/influx';
import {
  installKafkajsFastPaths,
  consumerComponent,
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
} from '@offsite/kafka';
import { createPgPool, runMigrations } from '@offsite/store';
import { buildApp } from './app.js';
import { createComplaintIntake } from './complaint-intake.js';
import { cityBounds, serviceConfig } from './config.js';
import { createArgonGate, createLoginGuard } from './login-guard.js';
import { createLiveHub } from './live.js';
import { sweepEvidenceDir } from './portal-evidence-store.js';
import { createRegulationWork } from './regulation-work.js';
import { createTransmissionWarm } from './transmission-warm.js';
import { checkCalendar } from './submissions-rules.js';
import { createReviewDecisionRelay } from './review-decisions.js';
import { createLateDataConsumer } from './late-data.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));

const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 10, logger });
const influx = createInfluxClient(influxConnection(env), logger);
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-console',
  logger: logger.child({ component: 'kafka' }),
});
const producer = createDurableProducer(kafka, { logger: logger.child({ component: 'producer' }) });
const decisions = createReviewDecisionRelay({
  pool,
  send: (topic, messages) => producer.send(topic, messages),
  topic: env.OFFSITE_CONSOLE_REVIEW_DECISION_TOPIC,
  logger,
});

// Regulatory background work on BullMQ; the messages it renders are delivered by the alerter.
const connection = redisConnectionOptions(env.OFFSITE_REDIS_URL, redisTls(env));
const metrics = defineMetrics(registry, {
  messages: {
    type: 'counter',
    name: 'offsite_console_regulation_messages_total',
    help: 'Regulatory messages (complaint/report reminders, outreach) requested from the alerter, or that could not be',
    labelNames: ['kind', 'medium', 'result'],
  },
  complaintIntake: {
    type: 'counter',
    name: 'offsite_console_complaint_intake_total',
    help: 'Records of complaint.intake.v1 (WeChat complaints), by outcome: new, repeat (redelivered), rejected (DLQ)',
    labelNames: ['outcome'],
  },
  consumerMember: {
    type: 'gauge',
    name: 'offsite_console_consumer_member',
    help: '1 while the console consumer is a member of its Kafka group, 0 while it joins or rebalances (requests are served either way)',
    labelNames: ['consumer'],
  },
  lateData: {
    type: 'counter',
    name: 'offsite_console_late_data_events_total',
    help: 'telemetry.late.v1 events consumed, by outcome (noted: late-data counter raised; dlq: not a valid event)',
    labelNames: ['outcome'],
  },
  liveListening: {
    type: 'gauge',
    name: 'offsite_console_live_listening',
    help: '1 while the LISTEN connection for live updates is up, 0 while it is being re-established',
  },
  liveLosses: {
    type: 'counter',
    name: 'offsite_console_live_connection_losses_total',
    help: 'Losses of the live-updates LISTEN connection (Postgres restart, terminated backend)',
  },
  liveReconnects: {
    type: 'counter',
    name: 'offsite_console_live_reconnects_total',
    help: 'Attempts to re-establish the live-updates LISTEN connection, by result',
    labelNames: ['result'],
  },
});
const live = createLiveHub(pool, logger.child({ component: 'live' }), {
  onLost: () => {
    metrics.liveListening.set(0);
    metrics.liveLosses.inc();
  },
  onResumed: () => {
    metrics.liveListening.set(1);
    metrics.liveReconnects.inc({ result: 'ok' });
  },
  onRetryFailed: () => metrics.liveReconnects.inc({ result: 'failed' }),
});
const submissionCalendar = checkCalendar({
  summaryDue: env.OFFSITE_CONSOLE_SUMMARY_DUE,
  summaryFrom: env.OFFSITE_CONSOLE_SUMMARY_FROM,
  remindDaysBefore: env.OFFSITE_CONSOLE_SUBMISSION_REMIND_DAYS,
});
// The console's one way to ask the alerter for a message (message.request.v1).
const publishMessage = async (request: MessageRequestV1) => {
  await producer.send(env.OFFSITE_CONSOLE_MESSAGE_REQUEST_TOPIC, [
    kafkaMessage(kafkaTopics.messageRequest, request),
  ]);
};
const work = createRegulationWork({
  db: pool,
  submissionCalendar,
  taskEscalationCityHours: env.OFFSITE_CONSOLE_TASK_ESCALATE_CITY_HOURS,
  connection,
  queuePrefix: env.OFFSITE_CONSOLE_QUEUE_PREFIX,
  publish: publishMessage,
  outreachRate: {
    max: env.OFFSITE_CONSOLE_OUTREACH_RATE_MAX,
    durationMs: env.OFFSITE_CONSOLE_OUTREACH_RATE_DURATION_MS,
  },
  outreachAttempts: env.OFFSITE_CONSOLE_OUTREACH_ATTEMPTS,
  logger,
  onMessage: (kind, medium, result) => metrics.messages.inc({ kind, medium, result }),
});
// Login limits in Redis: commands fail at once while Redis is away (a login then answers 500, it is
// never let through unlimited) instead of queueing behind a reconnect.
const limitsRedis = new Redis({
  ...connection,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  lazyConnect: true,
});
limitsRedis.on('error', (err) => logger.warn({ err: err.message }, 'login-limits Redis connection failed'));
const loginGuard = createLoginGuard(limitsRedis, {
  prefix: env.OFFSITE_CONSOLE_QUEUE_PREFIX,
  windowMs: env.OFFSITE_CONSOLE_LOGIN_WINDOW_MIN * 60_000,
  maxPerSource: env.OFFSITE_CONSOLE_LOGIN_FAILURES_PER_SOURCE,
  maxPerUser: env.OFFSITE_CONSOLE_LOGIN_FAILURES_PER_USER,
  maxOverall: env.OFFSITE_CONSOLE_LOGIN_FAILURES_OVERALL,
  maxPerDevice: env.OFFSITE_CONSOLE_LOGIN_FAILURES_PER_DEVICE,
  deviceTtlMs: env.OFFSITE_CONSOLE_LOGIN_DEVICE_DAYS * 86_400_000,
});
const transmission = {
  client: influx,
  bucket: env.OFFSITE_INFLUX_BUCKET,
  emissionMeasurement: env.OFFSITE_INFLUX_EMISSION_MEASUREMENT,
  threshold: env.OFFSITE_CONSOLE_TRANSMISSION_THRESHOLD,
  storeDays: env.OFFSITE_CONSOLE_TRANSMISSION_STORE_DAYS,
};
const app = await buildApp({
  pool,
  logger: logger.child({ component: 'http' }),
  session: {
    idleMs: env.OFFSITE_CONSOLE_SESSION_IDLE_MIN * 60_000,
    absoluteMs: env.OFFSITE_CONSOLE_SESSION_MAX_HOURS * 3_600_000,
  },
  secureCookies: env.OFFSITE_CONSOLE_SECURE_COOKIES,
  loginRateLimit: { max: env.OFFSITE_CONSOLE_LOGIN_MAX_PER_MIN, windowMs: 60_000 },
  loginGuard,
  argonGate: createArgonGate({
    concurrency: env.OFFSITE_CONSOLE_ARGON2_CONCURRENCY,
    queue: env.OFFSITE_CONSOLE_ARGON2_QUEUE,
  }),
  evidence: {
    client: influx,
    bucket: env.OFFSITE_INFLUX_BUCKET,
    emissionMeasurement: env.OFFSITE_INFLUX_EMISSION_MEASUREMENT,
    energyMeasurement: env.OFFSITE_INFLUX_ENERGY_MEASUREMENT,
    statusMeasurement: env.OFFSITE_INFLUX_STATUS_MEASUREMENT,
    aggregateMeasurement: env.OFFSITE_INFLUX_AGGREGATE_MEASUREMENT,
    marginHours: env.OFFSITE_CONSOLE_EVIDENCE_MARGIN_HOURS,
  },
  transmission,
  live,
  streamsPerSession: env.OFFSITE_CONSOLE_STREAMS_PER_SESSION,
  registryEdit: {
    maintenanceApprovalHours: env.OFFSITE_CONSOLE_MAINTENANCE_APPROVAL_HOURS,
    enterpriseDeclarations: env.OFFSITE_CONSOLE_PORTAL_DECLARATIONS,
    ...cityBounds(env.OFFSITE_CITY_BOUNDS),
  },
  portal: {
    invitationHours: env.OFFSITE_CONSOLE_PORTAL_INVITATION_HOURS,
    publicUrl: env.OFFSITE_CONSOLE_PUBLIC_URL,
    publish: publishMessage,
    evidence: {
      dir: env.OFFSITE_CONSOLE_PORTAL_EVIDENCE_DIR,
      maxBytes: env.OFFSITE_CONSOLE_PORTAL_EVIDENCE_MAX_MB * 1024 * 1024,
    },
  },
  discretion: {
    firstViolationMonths: env.OFFSITE_CONSOLE_FIRST_VIOLATION_MONTHS,
    approverLevel: env.OFFSITE_CONSOLE_DISCRETION_APPROVER,
  },
  regulation: {
    reminders: work.reminders,
    outreach: work.outreach,
    ...(env.OFFSITE_CONSOLE_ELIGIBILITY_AS_OF
      ? { eligibilityAsOf: new Date(env.OFFSITE_CONSOLE_ELIGIBILITY_AS_OF) }
      : {}),
  },
  submissions: { calendar: submissionCalendar },
  decisions,
  deviceCommands: {
    publish: async (request) => {
      await producer.send(env.OFFSITE_CONSOLE_HJ212_COMMAND_TOPIC, [
        kafkaMessage(kafkaTopics.hj212Command, request),
      ]);
    },
  },
  webRoot: fileURLToPath(new URL('../web/dist/', import.meta.url)),
});

lifecycle.register({
  name: 'postgres',
  start: async () => {
    await runMigrations(pool, { logger });
  },
  stop: () => withTimeout(pool.end(), 5_000, 'pg pool end'),
  check: async () => {
    await pool.query('select 1');
    return true;
  },
});
// After Postgres (the outbox is there); stopped after HTTP, so every committed decision gets a try.
lifecycle.register({
  name: 'review-decisions',
  start: async () => {
    await producer.connect();
    decisions.start();
  },
  stop: async () => {
    await decisions.stop();
    await withTimeout(producer.disconnect(), 5_000, 'producer disconnect');
  },
});
// After Postgres and the producer (its DLQ records). Like the complaint consumer, it does not hold back HTTP and
// its membership does not gate /readyz: while it joins, late data waits on the topic, as it does behind any lag.
lifecycle.register(
  consumerComponent({
    name: 'late-data',
    sessionTimeoutMs: env.OFFSITE_KAFKA_SESSION_TIMEOUT_MS,
    gatesReadiness: false,
    logger,
    onFatal: (reason, error) => void lifecycle.shutdown(reason, { error }),
    build: () =>
      createLateDataConsumer({
        kafka,
        db: pool,
        topic: env.OFFSITE_CONSOLE_LATE_DATA_TOPIC,
        groupId: `${env.OFFSITE_CONSOLE_GROUP_ID}.late-data`,
        dlqTopic: env.OFFSITE_CONSOLE_DLQ_TOPIC,
        send: (topic, messages) => producer.send(topic, messages),
        sessionTimeoutMs: env.OFFSITE_KAFKA_SESSION_TIMEOUT_MS,
        logger,
        count: (outcome, n) => metrics.lateData.inc({ outcome }, n),
        onAssignment: () => metrics.consumerMember.set({ consumer: 'late-data' }, 1),
        onMembershipLost: () => metrics.consumerMember.set({ consumer: 'late-data' }, 0),
      }),
  }),
);
// After Postgres: evidence files a crash left between writing and committing are settled.
lifecycle.register({
  name: 'portal-evidence-sweep',
  start: async () => {
    await sweepEvidenceDir(pool, env.OFFSITE_CONSOLE_PORTAL_EVIDENCE_DIR, {
      olderThanMs: env.OFFSITE_CONSOLE_PORTAL_EVIDENCE_SWEEP_MIN * 60_000,
      logger: logger.child({ component: 'portal-evidence' }),
    });
  },
});
lifecycle.register({
  name: 'live-updates',
  start: async () => {
    await live.start();
    metrics.liveListening.set(1);
  },
  stop: () => live.close(),
  // Not ready while the LISTEN connection is being re-established: live updates would be missing.
  check: () =>
    live.isListening()
      ? true
      : { healthy: false, detail: 'live updates: LISTEN connection is being re-established' },
});
// After Postgres (the workers read the regulation tables), before HTTP (stopped after it, so no
// request enqueues into a closed queue). Workers wait for running jobs within the deadline.
lifecycle.register({
  name: 'regulation-work',
  start: () => work.start(),
  stop: () => work.close(10_000),
  stopTimeoutMs: 12_000,
});
// The stored transmission days filled ahead of the requests (nothing to fill when storing is off).
if (transmission.storeDays) {
  const warm = createTransmissionWarm({
    db: pool,
    source: transmission,
    connection,
    prefix: env.OFFSITE_CONSOLE_QUEUE_PREFIX,
    logger,
  });
  lifecycle.register({
    name: 'transmission-warm',
    start: () => warm.start(),
    stop: () => warm.close(10_000),
    stopTimeoutMs: 12_000,
  });
}
lifecycle.register({
  name: 'login-limits',
  start: () => limitsRedis.connect(),
  stop: async () => {
    await withTimeout(limitsRedis.quit(), 2_000, 'redis quit').catch(() => limitsRedis.disconnect());
  },
  check: () => limitsRedis.status === 'ready' || { healthy: false, detail: 'login-limits Redis not ready' },
});
// After Postgres: complaints from the WeChat official account, passed on by the alerter. The step does not
// wait for the group join and membership does not gate /readyz: a console started after a kill would
// otherwise serve no page until the dead member left the group (up to a session timeout).
lifecycle.register(
  consumerComponent({
    name: 'complaint-intake-consumer',
    gatesReadiness: false,
    logger,
    onFatal: (reason, error) => void lifecycle.shutdown(reason, { error }),
    build: () =>
      createBatchConsumer({
        kafka,
        groupId: env.OFFSITE_CONSOLE_GROUP_ID,
        topics: [env.OFFSITE_CONSOLE_COMPLAINT_INTAKE_TOPIC],
        logger,
        onAssignment: () => metrics.consumerMember.set({ consumer: 'complaint-intake' }, 1),
        onMembershipLost: () => metrics.consumerMember.set({ consumer: 'complaint-intake' }, 0),
        handle: createComplaintIntake({
          db: pool,
          logger,
          dlq: async (records: TelemetryDlqV1[]) => {
            await producer.send(
              env.OFFSITE_CONSOLE_DLQ_TOPIC,
              records.map((r) => kafkaMessage(kafkaTopics.telemetryDlq, r)),
            );
          },
          counted: (outcome) => metrics.complaintIntake.inc({ outcome }),
          schedule: (c) => work.reminders.scheduleComplaint(c),
        }),
      }),
  }),
);
lifecycle.register({
  name: 'http',
  start: async () => {
    await app.listen({ host: env.OFFSITE_CONSOLE_HOST, port: env.OFFSITE_CONSOLE_PORT });
  },
  stop: () => withTimeout(app.close(), 10_000, 'http close'),
});

await run();
