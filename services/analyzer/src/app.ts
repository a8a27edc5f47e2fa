// The analyzer wired to its adapters: Kafka consumer group → partition processor → Kafka / InfluxDB,
// checkpoints and registry in Postgres, registry reload on NOTIFY, wall-clock tick. main.ts composes it.
import { kafkaTopics } from '@offsite/contracts';
import type { EngineConfig } from '@offsite/domain';
import { toLine, type InfluxWriter } from '@offsite/influx';
import { createBatchConsumer, createDurableProducer, type BatchConsumer } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import { listenRegistryChanges, loadRegistrySnapshot } from '@offsite/store';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { aggregatePoint } from './aggregate-points.js';
import { createPgCheckpointStore } from './checkpoints.js';
import { createPartitionProcessor, type PartitionProcessor, type ProcessorCounters } from './processor.js';
import { registryViewFromSnapshot } from './registry-view.js';

export interface AnalyzerOptions {
  kafka: Kafka;
  /** Queries (checkpoints, registry); its connections must use the schema holding the tables. */
  pool: pg.Pool;
  /** Postgres schema whose registry_changed notifications count (the pool's search_path). */
  registrySchema: string;
  influx: InfluxWriter;
  engineConfig: EngineConfig;
  groupId: string;
  telemetryTopic?: string;
  deviationTopic?: string;
  dlqTopic?: string;
  allowedLatenessMs: number;
  tickLagMs: number;
  /** 0 disables the wall-clock tick (replays of historical data). */
  tickIntervalMs: number;
  logger: Logger;
  counters?: ProcessorCounters;
}

export interface Analyzer {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
  reloadRegistry(): Promise<void>;
  readonly processor: PartitionProcessor;
}

export async function createAnalyzer(opts: AnalyzerOptions): Promise<Analyzer> {
  const log = opts.logger.child({ component: 'analyzer' });
  const telemetryTopic = opts.telemetryTopic ?? kafkaTopics.telemetry.name;
  const deviationTopic = opts.deviationTopic ?? kafkaTopics.deviation.name;
  const dlqTopic = opts.dlqTopic ?? kafkaTopics.telemetryDlq.name;
  const producer = createDurableProducer(opts.kafka, { logger: opts.logger });
  const registry = registryViewFromSnapshot(await loadRegistrySnapshot(opts.pool));

  const processor = createPartitionProcessor({
    engineConfig: opts.engineConfig,
    registry,
    checkpoints: createPgCheckpointStore(opts.pool, opts.groupId),
    logger: opts.logger,
    allowedLatenessMs: opts.allowedLatenessMs,
    tickLagMs: opts.tickLagMs,
    ...(opts.counters ? { counters: opts.counters } : {}),
    sinks: {
      async deviations(events) {
        await producer.send(
          deviationTopic,
          events.map((e) => ({
            key: e.enterpriseId,
            value: JSON.stringify(e),
            headers: {
              'offsite-schema': 'deviation.v1',
              'offsite-id': e.id,
              'offsite-revision': String(e.revision),
            },
          })),
        );
      },
      async aggregates(aggs) {
        await opts.influx.write(aggs.map((a) => toLine(aggregatePoint(a))));
      },
      async dlq(records) {
        await producer.send(
          dlqTopic,
          records.map((r) => ({
            key: r.id,
            value: JSON.stringify(r),
            headers: { 'offsite-schema': 'telemetry.dlq.v1' },
          })),
        );
      },
    },
  });

  let consumer: BatchConsumer | undefined;
  let listener: pg.PoolClient | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;
  let ticking = false;

  async function reloadRegistry(): Promise<void> {
    const view = registryViewFromSnapshot(await loadRegistrySnapshot(opts.pool));
    await processor.setRegistry(view);
  }

  return {
    processor,
    reloadRegistry,
    isRunning: () => consumer?.isRunning() ?? false,
    async start() {
      await producer.connect();
      listener = await opts.pool.connect();
      unlisten = await listenRegistryChanges(listener, opts.registrySchema, (change) => {
        // An import touches several tables: one reload after the burst.
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => {
          reloadRegistry().catch((err: unknown) => log.error({ err, change }, 'registry reload failed'));
        }, 200);
      });
      consumer = createBatchConsumer({
        kafka: opts.kafka,
        groupId: opts.groupId,
        topics: [telemetryTopic],
        logger: opts.logger,
        handle: (batch) => processor.handleBatch(batch.topic, batch.partition, batch.messages),
        onAssignment: (assigned) => {
          processor
            .assigned(assigned)
            .catch((err: unknown) => log.error({ err }, 'assignment handling failed'));
        },
      });
      await consumer.start();
      if (opts.tickIntervalMs > 0) {
        tickTimer = setInterval(() => {
          if (ticking) return;
          ticking = true;
          processor
            .tick()
            .catch((err: unknown) => log.error({ err }, 'tick failed'))
            .finally(() => (ticking = false));
        }, opts.tickIntervalMs);
      }
    },
    async stop() {
      clearInterval(tickTimer);
      clearTimeout(reloadTimer);
      await consumer?.stop();
      await unlisten?.().catch((err: unknown) => log.warn({ err }, 'unlisten failed'));
      listener?.release();
      await producer.disconnect();
    },
  };
}
