import { kafkaMessage, kafkaTopics, type TelemetryDlqV1, type TelemetryLateV1 } from '@offsite/contracts';
import { createBatchConsumer, createDurableProducer, type BatchConsumer } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import type { Kafka } from 'kafkajs';
import type { WriterMetrics } from './metrics.js';
import { createPipeline, type LineSink, type Pipeline } from './pipeline.js';

export interface WriterAppOptions {
  kafka: Kafka;
  influx: LineSink;
  logger: Logger;
  metrics: WriterMetrics;
  topic: string;
  dlqTopic: string;
  /** Where late minute data is reported (telemetry.late.v1). */
  lateTopic: string;
  groupId: string;
  maxBatchPoints: number;
  maxBatchDelayMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  partitionsConsumedConcurrently: number;
  /** InfluxDB writes in flight at once. */
  maxConcurrentWrites?: number;
  sessionTimeoutMs?: number;
}

export interface WriterApp {
  readonly pipeline: Pipeline;
  readonly consumer: BatchConsumer;
  /** Connects the producer (DLQ records and late-data events). */
  startProducer(): Promise<void>;
  stopProducer(): Promise<void>;
  /** Joins the consumer group and starts writing. */
  startConsumer(): Promise<void>;
  /** Flushes what is buffered, abandons retries and leaves the group. */
  stopConsumer(): Promise<void>;
  /** Ready: a group member and InfluxDB accepting writes. */
  ready(): boolean;
}

export function createWriterApp(opts: WriterAppOptions): WriterApp {
  const producer = createDurableProducer(opts.kafka, {
    logger: opts.logger.child({ component: 'producer' }),
    compression: 'gzip',
  });
  let consumer: BatchConsumer | undefined = undefined;
  const pipeline = createPipeline({
    influx: opts.influx,
    dlq: {
      async send(records: TelemetryDlqV1[]) {
        await producer.send(
          opts.dlqTopic,
          records.map((r) => kafkaMessage(kafkaTopics.telemetryDlq, r)),
        );
      },
    },
    late: {
      async send(events: TelemetryLateV1[]) {
        await producer.send(
          opts.lateTopic,
          events.map((e) => kafkaMessage(kafkaTopics.telemetryLate, e)),
        );
      },
    },
    logger: opts.logger,
    metrics: opts.metrics,
    maxBatchPoints: opts.maxBatchPoints,
    maxBatchDelayMs: opts.maxBatchDelayMs,
    ...(opts.maxConcurrentWrites ? { maxConcurrentWrites: opts.maxConcurrentWrites } : {}),
    retryInitialMs: opts.retryInitialMs,
    retryMaxMs: opts.retryMaxMs,
    // Stop fetching while InfluxDB is away (the batches in hand keep retrying) and resume by itself.
    onAvailabilityChange: (up) => (up ? consumer?.resume() : consumer?.pause()),
  });
  consumer = createBatchConsumer({
    kafka: opts.kafka,
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    logger: opts.logger,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
    ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    handle: (batch) => pipeline.handle(batch),
  });
  const c = consumer;
  return {
    pipeline,
    consumer: c,
    startProducer: () => producer.connect(),
    stopProducer: () => producer.disconnect(),
    startConsumer: () => c.start(),
    async stopConsumer() {
      pipeline.shutdown();
      await c.stop();
    },
    ready: () => c.isRunning() && pipeline.isAvailable(),
  };
}
