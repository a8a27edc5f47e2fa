/**
 * Composition root of the HJ 212 gateway: config → logger → metrics → Postgres (registry) →
 * Kafka producer + publisher → TCP server → lifecycle → ops server → signals.
 */
import { kafkaTopics, type TelemetryDlqV1 } from '@offsite/contracts';
import {
  installKafkajsFastPaths,
  consumerComponent,
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  createPublisher,
  type DurableProducer,
  type Publisher,
} from '@offsite/kafka';
import { bootService, kafkaSecurity, withTimeout } from '@offsite/runtime';
import { createPgPool, findDeviceByMn, type Listener } from '@offsite/store';
import { serviceConfig, trustedProxies } from './config.js';
import { createCommandIntake } from './command-intake.js';
import { createCommandStore } from './command-store.js';
import { createDeviceDirectory } from './device-directory.js';
import { createGateway, type Gateway } from './gateway.js';
import { createGatewayMetrics } from './metrics.js';
import { followRegistry } from './registry-follow.js';
import { topicsWithPrefix } from './packet-handler.js';

const { env, logger, registry, lifecycle, run } = bootService({
  ...serviceConfig,
  process,
  stepDeadlineMs: (e) => e.OFFSITE_STEP_DEADLINE_MS,
});
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));
const metrics = createGatewayMetrics(registry);
const pgConn = { url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, connectionTimeoutMs: 5_000 };
// One connection is kept for the registry LISTEN; the others serve lookups and commands.
const pool = createPgPool({ ...pgConn, max: 6, logger });
const directory = createDeviceDirectory({
  find: (mn) => findDeviceByMn(pool, mn),
  ttlMs: env.OFFSITE_REGISTRY_CACHE_TTL_MS,
});
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: env.OFFSITE_KAFKA_CLIENT_ID,
  logger: logger.child({ component: 'kafka' }),
});
const producer: DurableProducer = createDurableProducer(kafka, {
  logger: logger.child({ component: 'producer' }),
  timeoutMs: env.OFFSITE_KAFKA_TIMEOUT_MS,
});
let producerConnected = false;
const publisher: Publisher = createPublisher({
  producer,
  lingerMs: env.OFFSITE_KAFKA_LINGER_MS,
  batchMax: env.OFFSITE_KAFKA_BATCH_MAX,
  batchMaxBytes: env.OFFSITE_KAFKA_BATCH_MAX_BYTES,
  maxPending: env.OFFSITE_KAFKA_MAX_PENDING,
  onBatch: (size, ok, error, seconds) => {
    metrics.kafkaBatch.observe(size);
    metrics.kafkaRequest.observe(seconds);
    if (!ok) {
      metrics.kafkaFailures.inc();
      logger.error({ err: (error as Error | undefined)?.message, size }, 'Kafka produce failed');
    }
  },
  onPending: (n) => metrics.pending.set(n),
});
const topics = topicsWithPrefix(env.OFFSITE_KAFKA_TOPIC_PREFIX);
const commandTopics = {
  deviation: `${env.OFFSITE_KAFKA_TOPIC_PREFIX}${kafkaTopics.deviation.name}`,
  command: `${env.OFFSITE_KAFKA_TOPIC_PREFIX}${kafkaTopics.hj212Command.name}`,
};
async function sendDlq(records: TelemetryDlqV1[]): Promise<void> {
  await publisher.publish(
    records.map((r) => ({ topic: topics.dlq, message: { key: r.id, value: JSON.stringify(r) } })),
  );
}
const commandStore = createCommandStore(pool);
const gateway: Gateway = createGateway({
  host: env.OFFSITE_HJ212_HOST,
  port: env.OFFSITE_HJ212_PORT,
  policy: env.OFFSITE_HJ212_POLICY,
  maxSegmentBytes: env.OFFSITE_HJ212_MAX_SEGMENT_BYTES,
  idleTimeoutMs: env.OFFSITE_HJ212_IDLE_TIMEOUT_MS,
  maxConnections: env.OFFSITE_HJ212_MAX_CONNECTIONS,
  listenBacklog: env.OFFSITE_HJ212_LISTEN_BACKLOG,
  splitTimeoutMs: env.OFFSITE_HJ212_SPLIT_TIMEOUT_MS,
  maxFramesInFlight: env.OFFSITE_HJ212_MAX_FRAMES_IN_FLIGHT,
  cipherEncoding: env.OFFSITE_HJ212_CIPHER_ENCODING,
  topics,
  directory,
  commandStore,
  publisher,
  metrics,
  logger,
  guard: {
    unauthenticated: {
      garbageBytes: env.OFFSITE_HJ212_UNAUTH_GARBAGE_BYTES,
      badFrames: env.OFFSITE_HJ212_UNAUTH_BAD_FRAMES,
      framesInFlight: env.OFFSITE_HJ212_UNAUTH_FRAMES_IN_FLIGHT,
    },
    authenticated: {
      garbageBytes: env.OFFSITE_HJ212_GARBAGE_BYTES,
      badFrames: env.OFFSITE_HJ212_BAD_FRAMES,
    },
    frameDeadlineMs: env.OFFSITE_HJ212_FRAME_DEADLINE_MS,
    authDeadlineMs: env.OFFSITE_HJ212_AUTH_DEADLINE_MS,
    maxConnectionsPerSource: env.OFFSITE_HJ212_MAX_CONNECTIONS_PER_SOURCE,
    auth: {
      windowMs: env.OFFSITE_HJ212_AUTH_WINDOW_MS,
      failuresPerSource: env.OFFSITE_HJ212_AUTH_FAILURES_PER_SOURCE,
      failuresPerMn: env.OFFSITE_HJ212_AUTH_FAILURES_PER_MN,
      attemptsPerPair: env.OFFSITE_HJ212_AUTH_ATTEMPTS_PER_PAIR,
    },
    logLinesPerSecond: env.OFFSITE_HJ212_LOG_LINES_PER_S,
    trustedProxies: trustedProxies(env.OFFSITE_HJ212_TRUSTED_PROXIES),
    proxyHeaderDeadlineMs: env.OFFSITE_HJ212_PROXY_HEADER_DEADLINE_MS,
  },
  commands: {
    timeoutMs: env.OFFSITE_HJ212_COMMAND_TIMEOUT_MS,
    maxAttempts: env.OFFSITE_HJ212_COMMAND_MAX_ATTEMPTS,
    backoffMs: env.OFFSITE_HJ212_COMMAND_BACKOFF_MS,
    maxBackoffMs: env.OFFSITE_HJ212_COMMAND_MAX_BACKOFF_MS,
    perSecond: env.OFFSITE_HJ212_COMMANDS_PER_S,
    burst: env.OFFSITE_HJ212_COMMAND_BURST,
    pollMs: env.OFFSITE_HJ212_COMMAND_POLL_MS,
    leaseMs: env.OFFSITE_HJ212_COMMAND_LEASE_MS,
    calibrationIntervalMs: env.OFFSITE_HJ212_CALIBRATION_INTERVAL_MS,
    clockDriftMaxS: env.OFFSITE_HJ212_CLOCK_DRIFT_MAX_S,
  },
});

lifecycle.register({
  name: 'registry',
  start: async () => {
    await pool.query('select 1 from devices limit 1');
  },
  stop: () => withTimeout(pool.end(), 5_000, 'pg pool end'),
  check: async () => {
    await withTimeout(pool.query('select 1'), 1_500, 'registry ping');
    return true;
  },
});
let registryListener: Listener | undefined;
lifecycle.register({
  name: 'registry-listener',
  start: async () => {
    registryListener = await followRegistry({ directory, pool, schema: pgConn.schema, logger });
  },
  stop: () => registryListener?.stop(),
});
lifecycle.register({
  name: 'kafka-producer',
  start: async () => {
    await producer.connect();
    producerConnected = true;
  },
  stop: async (signal) => {
    await publisher
      .close(Math.max(100, env.OFFSITE_STEP_DEADLINE_MS - 1_000))
      .catch((err: Error) => logger.warn({ err: err.message }, 'publisher did not drain'));
    if (!signal.aborted) await producer.disconnect();
    producerConnected = false;
  },
  check: () => producerConnected && publisher.healthy,
});
lifecycle.register(
  consumerComponent({
    name: 'command-intake',
    onFatal: (reason, error) => void lifecycle.shutdown(reason, { error }),
    build: () =>
      createBatchConsumer({
        kafka,
        groupId: env.OFFSITE_HJ212_COMMANDS_GROUP_ID,
        topics: [commandTopics.deviation, commandTopics.command],
        logger,
        handle: createCommandIntake({
          store: commandStore,
          topics: commandTopics,
          isLogger: async (mn) => (await directory.lookup(mn)) !== null,
          backfillExpiryMs: env.OFFSITE_HJ212_BACKFILL_EXPIRY_MS,
          supervisorExpiryMs: env.OFFSITE_HJ212_SUPERVISOR_COMMAND_EXPIRY_MS,
          maxAttempts: env.OFFSITE_HJ212_COMMAND_MAX_ATTEMPTS,
          dlq: sendDlq,
          metrics,
          logger,
        }),
      }),
  }),
);
lifecycle.register({
  name: 'hj212-server',
  start: async () => {
    await gateway.listen();
  },
  stop: () => gateway.close(Math.max(100, env.OFFSITE_STEP_DEADLINE_MS - 1_000)),
  check: () => gateway.listening,
});

await run();
