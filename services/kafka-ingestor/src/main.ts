// Composition root of the kafka-ingestor: config → logger → adapters → app → lifecycle → ops → signals.
import {
  installKafkajsFastPaths,
  consumerComponent,
  createDurableProducer,
  createKafkaClient,
  resolveCompression,
} from '@offsite/kafka';
import { bootService, defineMetrics, kafkaSecurity } from '@offsite/runtime';
import { createPgPool, createRegistryCache, indexRegistry } from '@offsite/store';
import { createKafkaIngestor, ingestorMetricDefinitions } from './app.js';
import { serviceConfig } from './config.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));
const metrics = defineMetrics(registry, ingestorMetricDefinitions);
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-kafka-ingestor',
  logger: logger.child({ component: 'kafka' }),
});
const producer = createDurableProducer(kafka, {
  logger: logger.child({ component: 'producer' }),
  compression: resolveCompression(env.OFFSITE_KAFKA_COMPRESSION, env.OFFSITE_KAFKA_BROKERS),
});
const pgConn = { url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA };
const registrySource = createRegistryCache({
  index: indexRegistry,
  // One connection is kept for LISTEN; the others read snapshots.
  pool: createPgPool({ ...pgConn, max: 3, logger }),
  schema: env.OFFSITE_PG_SCHEMA,
  logger,
});
const ingestor = () =>
  createKafkaIngestor({
    kafka,
    producer,
    upstreamTopics: [...env.OFFSITE_UPSTREAM_TOPICS],
    groupId: env.OFFSITE_KAFKA_INGESTOR_GROUP,
    telemetryTopic: env.OFFSITE_TELEMETRY_TOPIC,
    dlqTopic: env.OFFSITE_DLQ_TOPIC,
    registry: () => registrySource.current(),
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
});
lifecycle.register(
  consumerComponent({
    name: 'consumer',
    build: ingestor,
    onFatal: (reason, error) => void lifecycle.shutdown(reason, { error }),
  }),
);

await run();
