import { kafkaMessage, kafkaTopics } from '@offsite/contracts';
import {
  createBatchConsumer,
  type BatchConsumer,
  type ConsumedBatch,
  type DurableProducer,
} from '@offsite/kafka';
import type { Logger, Metrics } from '@offsite/runtime';
import type { Kafka } from 'kafkajs';
import type { RegistryIndex } from '@offsite/store';
import { routeUpstreamRecord } from './router.js';

export const ingestorMetricDefinitions = {
  records: {
    type: 'counter',
    name: 'offsite_upstream_records_total',
    help: 'Upstream records handled, by outcome',
    labelNames: ['outcome'],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_dlq_messages_total',
    help: 'Messages sent to telemetry.dlq.v1, by reason',
    labelNames: ['reason'],
  },
} as const;
export type IngestorMetrics = Metrics<typeof ingestorMetricDefinitions>;

export interface KafkaIngestorOptions {
  kafka: Kafka;
  producer: Pick<DurableProducer, 'sendBatch'>;
  upstreamTopics: string[];
  groupId: string;
  telemetryTopic: string;
  dlqTopic: string;
  registry: () => RegistryIndex;
  logger: Logger;
  metrics: IngestorMetrics;
}

/** Routes one upstream partition batch and produces the results; resolves only after Kafka acknowledged. */
export function createBatchHandler(opts: Omit<KafkaIngestorOptions, 'kafka' | 'upstreamTopics' | 'groupId'>) {
  return async (batch: Pick<ConsumedBatch, 'messages'>): Promise<void> => {
    const receivedAt = new Date().toISOString();
    const index = opts.registry();
    const telemetry: { key: string; value: string }[] = [];
    const dlq: { key: string; value: string }[] = [];
    for (const m of batch.messages) {
      const r = routeUpstreamRecord(m, index, receivedAt);
      opts.metrics.records.inc({ outcome: r.kind });
      if (r.kind === 'telemetry') telemetry.push(kafkaMessage(kafkaTopics.telemetry, r.event));
      else if (r.kind === 'dlq') {
        dlq.push(kafkaMessage(kafkaTopics.telemetryDlq, r.record));
        opts.metrics.dlq.inc({ reason: r.record.reason.code });
        opts.logger.warn(
          { origin: r.record.origin, reason: r.record.reason },
          'upstream record sent to the DLQ',
        );
      }
    }
    const batches = [
      ...(telemetry.length ? [{ topic: opts.telemetryTopic, messages: telemetry }] : []),
      ...(dlq.length ? [{ topic: opts.dlqTopic, messages: dlq }] : []),
    ];
    // A failure throws: the batch consumer does not commit, and the batch is consumed again.
    if (batches.length) await opts.producer.sendBatch(batches);
  };
}

export function createKafkaIngestor(opts: KafkaIngestorOptions): BatchConsumer {
  return createBatchConsumer({
    kafka: opts.kafka,
    groupId: opts.groupId,
    topics: opts.upstreamTopics,
    fromBeginning: true,
    logger: opts.logger,
    partitionsConsumedConcurrently: 3,
    handle: createBatchHandler(opts),
  });
}
