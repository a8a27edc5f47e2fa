/**
 * Complaints other services pass on over `complaint.intake.v1` (today: users' text messages to the WeChat
 * official account, from the alerter, which owns that callback). Each id is recorded once as an
 * unassigned complaint; a record that fails its schema goes to the DLQ. The consumer commits offsets
 * after this resolves, so a crash redelivers the batch and the intake id keeps it one complaint.
 * Its deadline reminders are scheduled before that (to the city supervisors while no enterprise is named;
 * to the district once one is): again on a redelivery, where the reminder job ids make it a no-op.
 * The sender's openid is personal data: it is never logged.
 */
import { decodeKafkaRecord, validateComplaintIntakeV1, type TelemetryDlqV1 } from '@offsite/contracts';
import type { ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import type { ComplaintDeadlineConfig } from '@offsite/regulation';
import type { Db } from './regulation/db.js';
import { complaintByIntakeId, recordIntakeComplaint, type Complaint } from './regulation/complaints-repo.js';

export interface ComplaintIntakeOptions {
  db: Db;
  dlq: (records: TelemetryDlqV1[]) => Promise<void>;
  logger: Logger;
  config?: ComplaintDeadlineConfig;
  /** Counts each record: `new`, `repeat` (an id recorded before) or `rejected`. */
  counted?: (outcome: 'new' | 'repeat' | 'rejected') => void;
  /** Schedules a complaint's deadline reminders (idempotent). */
  schedule?: (c: Complaint) => Promise<unknown>;
  now?: () => Date;
}

export function createComplaintIntake(o: ComplaintIntakeOptions): (batch: ConsumedBatch) => Promise<void> {
  const now = o.now ?? (() => new Date());
  const log = o.logger.child({ component: 'complaint-intake' });
  return async function handle(batch) {
    const rejected: TelemetryDlqV1[] = [];
    for (const m of batch.messages) {
      const v = decodeKafkaRecord(m, validateComplaintIntakeV1, 'console', now);
      if (!v.ok) {
        rejected.push(v.dlq);
        o.counted?.('rejected');
        continue;
      }
      const c = await recordIntakeComplaint(
        o.db,
        { ...v.value, receivedAt: new Date(v.value.receivedAt) },
        o.config,
      );
      o.counted?.(c ? 'new' : 'repeat');
      if (c) log.info({ complaintId: c.id, channel: c.channel }, 'complaint recorded from intake');
      else log.info({ intakeId: v.value.id }, 'intake complaint recorded before (redelivered)');
      // A redelivery schedules again: the first delivery may have failed between the row and Redis.
      const recorded = c ?? (o.schedule ? await complaintByIntakeId(o.db, v.value.id) : null);
      if (o.schedule && recorded) await o.schedule(recorded);
    }
    if (rejected.length > 0) {
      await o.dlq(rejected);
      log.warn({ count: rejected.length, topic: batch.topic }, 'complaint intake records sent to the DLQ');
    }
  };
}
