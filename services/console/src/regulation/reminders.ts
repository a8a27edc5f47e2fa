// Complaint deadline reminders on a BullMQ queue: delayed jobs, one per stage and time, ids make
// scheduling idempotent. The worker re-reads the state before sending, so a reminder for a complaint
// that was acknowledged meanwhile is skipped even if its job was not removed.
// Districts' monthly submissions are reminded by ../submissions-reminders.ts, against their one due
// date (the 25th of their month). A Redis that an earlier console used may still hold that console's
// own monthly report scheduler (`monthly-report-reminder`, the 20th of the following month): start-up
// removes it with its next job (`retireMonthlyReportScheduler`), and the worker completes any such job
// already queued without sending anything.
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '@offsite/runtime';
import { closeWorkerAndQueue } from './queues.js';
import {
  defaultComplaintConfig,
  reminderStillDue,
  reminderTimes,
  type ComplaintDeadlineConfig,
  type ReminderStage,
} from '@offsite/regulation';
import type { Complaint } from './complaints-repo.js';
import { query, type Queryable } from './db.js';

export interface Reminder {
  kind: 'complaint';
  complaintId: number;
  stage: ReminderStage;
  dueAt: string;
  overdue: boolean;
  assignee: string | null;
  /** Null until an officer names the enterprise of a complaint from an intake (WeChat). */
  districtId: string | null;
  enterpriseId: string | null;
}

/** The retired scheduler of the old monthly report's own reminder (and the name of its jobs). */
export const RETIRED_REPORT_SCHEDULER = 'monthly-report-reminder';

/** Where reminders go (the notify outbox); narrow on purpose. */
export type ReminderSink = (reminder: Reminder) => Promise<void>;

export interface RemindersOptions {
  connection: ConnectionOptions;
  queueName: string;
  /** Redis key prefix (tests use their own). */
  prefix?: string;
  db: Queryable;
  sink: ReminderSink;
  logger: Logger;
  config?: ComplaintDeadlineConfig;
  now?: () => Date;
}

interface ComplaintJob {
  complaintId: number;
  stage: ReminderStage;
  dueAt: string;
}

export interface Reminders {
  scheduleComplaint(c: Complaint): Promise<string[]>;
  cancelComplaint(complaintId: number, stage?: ReminderStage): Promise<number>;
  /** Removes the old monthly report scheduler and its queued jobs; resolves to how many things it removed. */
  retireMonthlyReportScheduler(): Promise<number>;
  startWorker(): Worker;
  close(timeoutMs?: number): Promise<void>;
}

export function createReminders(o: RemindersOptions): Reminders {
  const log = o.logger.child({ component: 'regulation.reminders', queue: o.queueName });
  const now = o.now ?? (() => new Date());
  const config = o.config ?? defaultComplaintConfig;
  const queue = new Queue(o.queueName, { connection: o.connection, prefix: o.prefix });
  let worker: Worker | null = null;

  const jobId = (id: number, stage: ReminderStage, at: Date): string =>
    `complaint-${id}-${stage}-${at.getTime()}`;

  async function scheduleComplaint(c: Complaint): Promise<string[]> {
    const ids: string[] = [];
    const t = now();
    for (const [stage, due] of [
      ['acknowledge', c.ackDueAt],
      ['resolve', c.resolveDueAt],
    ] as const) {
      if (!reminderStillDue(stage, c.status)) continue;
      for (const at of reminderTimes(new Date(due), t, config)) {
        const id = jobId(c.id, stage, at);
        await queue.add(
          'complaint-reminder',
          { complaintId: c.id, stage, dueAt: due } satisfies ComplaintJob,
          {
            jobId: id,
            delay: at.getTime() - t.getTime(),
            attempts: 5,
            backoff: { type: 'exponential', delay: 5_000 },
            removeOnComplete: { count: 1000 },
            removeOnFail: { count: 1000 },
          },
        );
        ids.push(id);
      }
    }
    return ids;
  }

  async function cancelComplaint(complaintId: number, stage?: ReminderStage): Promise<number> {
    const jobs = await queue.getJobs(['delayed', 'waiting']);
    let removed = 0;
    for (const j of jobs) {
      const d = j.data as Partial<ComplaintJob>;
      if (
        j.name === 'complaint-reminder' &&
        d.complaintId === complaintId &&
        (!stage || d.stage === stage) &&
        j.id
      ) {
        removed += await queue.remove(j.id);
      }
    }
    return removed;
  }

  async function retireMonthlyReportScheduler(): Promise<number> {
    let removed = (await queue.removeJobScheduler(RETIRED_REPORT_SCHEDULER)) ? 1 : 0;
    for (const j of await queue.getJobs(['delayed', 'waiting', 'prioritized']))
      if (j.name === RETIRED_REPORT_SCHEDULER && j.id) removed += await queue.remove(j.id);
    if (removed > 0) log.info({ removed }, 'retired the old monthly report reminder scheduler');
    return removed;
  }

  async function process(job: Job): Promise<string> {
    if (job.name === RETIRED_REPORT_SCHEDULER) {
      log.info({ jobId: job.id }, 'old monthly report reminder job completed without sending (retired)');
      return 'retired';
    }
    const d = job.data as ComplaintJob;
    const [row] = await query<{
      status: Complaint['status'];
      assignee: string | null;
      district_id: string | null;
      enterprise_id: string | null;
    }>(
      o.db,
      'load complaint for reminder',
      `select status, assignee, district_id, enterprise_id from complaints where id = $1`,
      [d.complaintId],
    );
    if (!row || !reminderStillDue(d.stage, row.status)) return 'skipped';
    await o.sink({
      kind: 'complaint',
      complaintId: d.complaintId,
      stage: d.stage,
      dueAt: d.dueAt,
      overdue: now().getTime() >= new Date(d.dueAt).getTime(),
      assignee: row.assignee,
      districtId: row.district_id,
      enterpriseId: row.enterprise_id,
    });
    return 'sent';
  }

  return {
    scheduleComplaint,
    cancelComplaint,
    retireMonthlyReportScheduler,
    startWorker() {
      worker ??= new Worker(o.queueName, process, {
        connection: o.connection,
        prefix: o.prefix,
        concurrency: 4,
      });
      worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err }, 'reminder job failed'));
      return worker;
    },
    async close(timeoutMs = 10_000) {
      await closeWorkerAndQueue(worker, queue, timeoutMs, 'close reminders');
    },
  };
}
