// Composition root of the video-gateway: config → logger → Postgres, Kafka producer → webhook, relay → signals.
import {
  createDurableProducer,
  createKafkaClient,
  installKafkajsFastPaths,
  resolveCompression,
} from '@offsite/kafka';
import { bootService, defineMetrics, kafkaSecurity } from '@offsite/runtime';
import { createPgPool, runMigrations } from '@offsite/store';
import type { FastifyInstance } from 'fastify';
import { parsePlatforms } from './auth.js';
import { createRefusalLimiter } from './refusal-limit.js';
import { createAlarmRelay } from './relay.js';
import { serviceConfig } from './config.js';
import { createVideoServer, videoMetricDefinitions } from './server.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
installKafkajsFastPaths(logger.child({ component: 'kafka' }));
const metrics = defineMetrics(registry, videoMetricDefinitions);
const platforms = parsePlatforms(env.OFFSITE_VIDEO_PLATFORMS);
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-video-gateway',
  logger: logger.child({ component: 'kafka' }),
});
const producer = createDurableProducer(kafka, {
  logger: logger.child({ component: 'producer' }),
  compression: resolveCompression('auto', env.OFFSITE_KAFKA_BROKERS),
});
const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 5, logger });
let server: FastifyInstance | undefined;

lifecycle.register({
  name: 'postgres',
  start: async () => {
    if (env.OFFSITE_VIDEO_MIGRATE) await runMigrations(pool, { logger });
    else await pool.query('select 1');
  },
  stop: () => pool.end(),
});
lifecycle.register({
  name: 'kafka-producer',
  start: () => producer.connect(),
  stop: () => producer.disconnect(),
});
lifecycle.register({
  name: 'webhook',
  start: async () => {
    server = createVideoServer({
      pool,
      producer,
      platforms,
      alarmTopic: env.OFFSITE_VIDEO_ALARM_TOPIC,
      dlqTopic: env.OFFSITE_DLQ_TOPIC,
      replayWindowS: env.OFFSITE_VIDEO_REPLAY_WINDOW_S,
      maxSnapshotBytes: env.OFFSITE_VIDEO_SNAPSHOT_MAX_BYTES,
      logger,
      metrics,
      refusalLimiter: createRefusalLimiter({
        perMinute: env.OFFSITE_VIDEO_REFUSALS_PER_MIN,
        burst: env.OFFSITE_VIDEO_REFUSAL_BURST,
      }),
      trustProxy: env.OFFSITE_VIDEO_TRUST_PROXY,
    });
    const at = await server.listen({ host: env.OFFSITE_VIDEO_HOST, port: env.OFFSITE_VIDEO_PORT });
    logger.info({ at, platforms: [...platforms.keys()] }, 'video webhook listening');
  },
  stop: () => server?.close(),
});

const relay = createAlarmRelay({
  pool,
  producer,
  alarmTopic: env.OFFSITE_VIDEO_ALARM_TOPIC,
  logger,
  intervalMs: env.OFFSITE_VIDEO_RELAY_INTERVAL_MS,
  minAgeS: env.OFFSITE_VIDEO_RELAY_MIN_AGE_S,
  onRelayed: (n) => metrics.relayed.inc(n),
  onBacklog: ({ count, oldestAgeS }) => {
    metrics.unpublished.set(count);
    metrics.unpublishedOldestAge.set(oldestAgeS);
  },
});
lifecycle.register({
  name: 'alarm-relay',
  start: () => relay.start(),
  stop: () => relay.stop(),
});

await run();
