// Composition root of the mqtt-ingestor: config → logger → adapters → app → lifecycle → ops → signals.
import {
  installKafkajsFastPaths,
  createDurableProducer,
  createKafkaClient,
  createPublisher,
  resolveCompression,
} from '@offsite/kafka';
import { bootService, kafkaSecurity, readCaFile } from '@offsite/runtime';
import { createPgPool, createRegistryCache, indexRegistry } from '@offsite/store';
import { serviceConfig } from './config.js';
import { createMqttIngestor } from './ingestor.js';
import { createIngestorMetrics } from './metrics.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));
const metrics = createIngestorMetrics(registry);
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-mqtt-ingestor',
  logger: logger.child({ component: 'kafka' }),
});
const producer = createDurableProducer(kafka, {
  logger: logger.child({ component: 'producer' }),
  compression: resolveCompression(env.OFFSITE_KAFKA_COMPRESSION, env.OFFSITE_KAFKA_BROKERS),
});
const produceLog = logger.child({ component: 'produce' });
const publisher = createPublisher({
  producer,
  batchMax: env.OFFSITE_PRODUCE_MAX_BATCH,
  batchMaxBytes: env.OFFSITE_PRODUCE_MAX_BYTES,
  lingerMs: env.OFFSITE_PRODUCE_LINGER_MS,
  // MQTT's receive maximum bounds what waits; the publisher never reports itself full.
  maxPending: Number.MAX_SAFE_INTEGER,
  retry: { initialMs: env.OFFSITE_RETRY_INITIAL_MS, maxMs: env.OFFSITE_RETRY_MAX_MS },
  onBatch: (n, ok) => (ok ? metrics.produceBatch.observe(n) : metrics.produceErrors.inc()),
  onRetry: (err, attempt, delayMs, records) =>
    produceLog.warn(
      { err, attempt, delayMs, records },
      'produce failed; retrying (upstream not acknowledged)',
    ),
});
const pgConn = { url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA };
const registrySource = createRegistryCache({
  index: indexRegistry,
  // One connection is kept for LISTEN; the others read snapshots.
  pool: createPgPool({ ...pgConn, max: 3, logger }),
  schema: env.OFFSITE_PG_SCHEMA,
  logger,
  onReload: (ok) => metrics.registryReloads.inc({ result: ok ? 'ok' : 'error' }),
});
const ingestor = createMqttIngestor({
  url: env.OFFSITE_MQTT_URL,
  ca: readCaFile(env.OFFSITE_MQTT_CA_FILE),
  username: env.OFFSITE_MQTT_USERNAME,
  password: env.OFFSITE_MQTT_PASSWORD,
  clientId: env.OFFSITE_MQTT_CLIENT_ID,
  sessionExpirySeconds: env.OFFSITE_MQTT_SESSION_EXPIRY_S,
  receiveMaximum: env.OFFSITE_MQTT_RECEIVE_MAXIMUM,
  telemetryTopic: env.OFFSITE_TELEMETRY_TOPIC,
  dlqTopic: env.OFFSITE_DLQ_TOPIC,
  registry: () => registrySource.current(),
  producer: publisher,
  logger,
  metrics,
});

lifecycle.register({
  name: 'registry',
  start: () => registrySource.start(),
  stop: () => registrySource.stop(),
});
lifecycle.register({
  name: 'kafka-producer',
  start: () => producer.connect(),
  stop: () => producer.disconnect(),
  check: () => publisher.healthy,
});
lifecycle.register({
  name: 'mqtt',
  start: () => ingestor.start(),
  stop: () => ingestor.stop(),
  check: () => ingestor.isConnected(),
});

await run();
