// Composition root of the influx-writer: config → logger → adapters → app → lifecycle → ops → signals.
import { createInfluxWriter } from '@offsite/influx';
import { installKafkajsFastPaths, createKafkaClient, groupJoinDeadlineMs } from '@offsite/kafka';
import { bootService, influxConnection, kafkaSecurity } from '@offsite/runtime';
import { createWriterApp } from './app.js';
import { serviceConfig } from './config.js';
import { createWriterMetrics } from './metrics.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));
const metrics = createWriterMetrics(registry);
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-influx-writer',
  logger: logger.child({ component: 'kafka' }),
});
const influx = createInfluxWriter({
  ...influxConnection(env),
  timeoutMs: env.OFFSITE_INFLUX_TIMEOUT_MS,
  gzip: env.OFFSITE_INFLUX_GZIP === 'auto' ? 'auto' : env.OFFSITE_INFLUX_GZIP === 'true',
  maxSockets: env.OFFSITE_INFLUX_CONCURRENCY,
  logger: logger.child({ component: 'influx' }),
});
const app = createWriterApp({
  kafka,
  influx,
  logger,
  metrics,
  topic: env.OFFSITE_TELEMETRY_TOPIC,
  dlqTopic: env.OFFSITE_DLQ_TOPIC,
  lateTopic: env.OFFSITE_WRITER_LATE_TOPIC,
  groupId: env.OFFSITE_INFLUX_WRITER_GROUP,
  maxBatchPoints: env.OFFSITE_BATCH_MAX_POINTS,
  maxBatchDelayMs: env.OFFSITE_BATCH_MAX_DELAY_MS,
  retryInitialMs: env.OFFSITE_RETRY_INITIAL_MS,
  retryMaxMs: env.OFFSITE_RETRY_MAX_MS,
  partitionsConsumedConcurrently: env.OFFSITE_PARTITIONS_CONCURRENTLY,
  maxConcurrentWrites: env.OFFSITE_INFLUX_CONCURRENCY,
  sessionTimeoutMs: env.OFFSITE_KAFKA_SESSION_TIMEOUT_MS,
});

lifecycle.register({
  name: 'producer',
  start: () => app.startProducer(),
  stop: () => app.stopProducer(),
});
lifecycle.register({
  name: 'consumer',
  startTimeoutMs: groupJoinDeadlineMs(env.OFFSITE_KAFKA_SESSION_TIMEOUT_MS),
  start: () => app.startConsumer(),
  stop: () => app.stopConsumer(),
  check: () => app.ready(),
});

// KafkaJS restarts the consumer after retryable crashes; any other crash ends the process (exit 1).
app.consumer.consumer.on(app.consumer.consumer.events.CRASH, (e) => {
  if (!e.payload.restart) void lifecycle.shutdown('consumer crashed', { error: e.payload.error });
});

await run();
