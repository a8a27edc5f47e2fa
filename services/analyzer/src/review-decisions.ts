// review.decision.v1 (the console's review decisions) → analyzer_review_decisions. The consumer
// commits a partition's offsets only after this resolved: every valid decision upserted, every
// invalid record produced to the DLQ.
import { decodeKafkaRecord, validateReviewDecisionV1, type TelemetryDlqV1 } from '@offsite/contracts';
import type { ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import { recordReviewDecisions, type Db, type ReviewDecisionRow } from './analyzer-db.js';

export interface ReviewDecisionIntakeOptions {
  db: Db;
  /** Produces DLQ records durably before resolving. */
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  logger: Logger;
  now?: () => Date;
  counters?: { dlq?(reason: string): void; decisions?(n: number): void };
}

export function createReviewDecisionIntake(
  opts: ReviewDecisionIntakeOptions,
): (batch: ConsumedBatch) => Promise<void> {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'review-decisions' });
  return async function handle(batch) {
    const rows: ReviewDecisionRow[] = [];
    const rejected: TelemetryDlqV1[] = [];
    for (const m of batch.messages) {
      const v = decodeKafkaRecord(m, validateReviewDecisionV1, 'analyzer', now);
      if (!v.ok) {
        rejected.push(v.dlq);
        opts.counters?.dlq?.(v.dlq.reason.code);
        continue;
      }
      rows.push({
        deviationId: v.value.deviationId,
        sequence: v.value.sequence,
        enterpriseId: v.value.enterpriseId,
        reviewState: v.value.reviewState,
        suspectedFalsification: v.value.suspectedFalsification,
        decidedAt: v.value.decidedAt,
      });
    }
    await recordReviewDecisions(opts.db, rows);
    opts.counters?.decisions?.(rows.length);
    if (rejected.length > 0) {
      await opts.dlq(rejected);
      log.warn(
        { count: rejected.length, topic: batch.topic, partition: batch.partition },
        'records sent to the DLQ',
      );
    }
  };
}
