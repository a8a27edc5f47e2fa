// message.request.v1 batches → send jobs. The consumer commits a partition's offsets only after this
// resolves, i.e. after every enqueue and every DLQ produce is durable; a redelivered request is the
// same job id and, once sent, the same claim, so it is delivered once.
import { decodeKafkaRecord, validateMessageRequestV1, type TelemetryDlqV1 } from '@offsite/contracts';
import type { ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/notify';
import type { Alerter } from './app.js';

export interface MessageIntakeOptions {
  alerter: Pick<Alerter, 'handleMessageRequest'>;
  /** Produces DLQ records durably (acks = all) before resolving. */
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  logger: Logger;
  now?: () => Date;
  counters?: { dlq?(reason: string): void };
}

export function createMessageIntake(opts: MessageIntakeOptions): (batch: ConsumedBatch) => Promise<void> {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'message-intake' });
  return async function handle(batch) {
    const rejected: TelemetryDlqV1[] = [];
    for (const m of batch.messages) {
      const v = decodeKafkaRecord(m, validateMessageRequestV1, 'alerter', now);
      if (!v.ok) {
        rejected.push(v.dlq);
        opts.counters?.dlq?.(v.dlq.reason.code);
        continue;
      }
      await opts.alerter.handleMessageRequest(v.value);
    }
    if (rejected.length > 0) {
      await opts.dlq(rejected);
      log.warn(
        { count: rejected.length, topic: batch.topic, partition: batch.partition },
        'records sent to the DLQ',
      );
    }
  };
}
