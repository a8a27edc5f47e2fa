// telemetry.late.v1 (the influx-writer's late minute data) → console_transmission_late via noteLateData, so a
// stored transmission figure of the device and day is computed again (transmission-days.ts). The consumer
// commits a partition's offsets only after this resolved: every valid event's counter raised in Postgres, every
// invalid record produced to the DLQ. A redelivered event raises a counter once more: one more computation.
import {
  decodeKafkaRecord,
  kafkaMessage,
  kafkaTopics,
  validateTelemetryLateV1,
  type TelemetryDlqV1,
} from '@offsite/contracts';
import { createBatchConsumer, type BatchConsumer, type ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import type { Queryable } from '@offsite/store';
import type { Kafka } from 'kafkajs';
import { noteLateData, type LateMinuteData } from './transmission-days.js';

export interface LateDataIntakeOptions {
  db: Queryable;
  /** Produces DLQ records durably before resolving. */
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  logger: Logger;
  now?: () => Date;
  /** Events by outcome: `noted` (counter raised) or `dlq`. */
  count?(outcome: 'noted' | 'dlq', n: number): void;
}

export function createLateDataIntake(opts: LateDataIntakeOptions): (batch: ConsumedBatch) => Promise<void> {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'late-data' });
  return async function handle(batch) {
    const notes: LateMinuteData[] = [];
    const rejected: TelemetryDlqV1[] = [];
    for (const m of batch.messages) {
      const v = decodeKafkaRecord(m, validateTelemetryLateV1, 'console', now);
      if (!v.ok) rejected.push(v.dlq);
      else
        notes.push({ deviceMn: v.value.deviceId, day: v.value.day, writtenAt: new Date(v.value.observedAt) });
    }
    await noteLateData(opts.db, notes);
    if (notes.length > 0) opts.count?.('noted', notes.length);
    if (rejected.length > 0) {
      await opts.dlq(rejected);
      opts.count?.('dlq', rejected.length);
      log.warn(
        { count: rejected.length, topic: batch.topic, partition: batch.partition },
        'records sent to the DLQ',
      );
    }
  };
}

export interface LateDataConsumerOptions extends Omit<LateDataIntakeOptions, 'dlq'> {
  kafka: Kafka;
  topic: string;
  groupId: string;
  dlqTopic: string;
  /** Sends to Kafka durably (acks=-1); the console's one producer. */
  send(topic: string, messages: ReturnType<typeof kafkaMessage>[]): Promise<unknown>;
  sessionTimeoutMs?: number;
  /** Called when the consumer gets its partitions, and when it loses its group membership. */
  onAssignment?(): void;
  onMembershipLost?(): void;
}

/** The console's consumer of telemetry.late.v1: from the topic's beginning for a new group. */
export function createLateDataConsumer(opts: LateDataConsumerOptions): BatchConsumer {
  return createBatchConsumer({
    kafka: opts.kafka,
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: true,
    logger: opts.logger,
    ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    ...(opts.onAssignment ? { onAssignment: opts.onAssignment } : {}),
    ...(opts.onMembershipLost ? { onMembershipLost: opts.onMembershipLost } : {}),
    handle: createLateDataIntake({
      ...opts,
      dlq: async (records) => {
        await opts.send(
          opts.dlqTopic,
          records.map((r) => kafkaMessage(kafkaTopics.telemetryDlq, r)),
        );
      },
    }),
  });
}
