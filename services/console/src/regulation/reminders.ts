// Reminders on a BullMQ queue: complaint deadlines (delayed jobs, one per stage and time, ids make
// scheduling idempotent) and the monthly district report (a job scheduler on the 20th, 09:00
// Asia/Shanghai). The worker re-reads the state before sending, so a reminder for a complaint that
// was acknowledged meanwhile is skipped even if its job was not removed. Every console instance
// upserts the same scheduler: BullMQ keeps one next job per period (id `repeat:<scheduler>:<time>`),
// so the reminder fires once per period whatever the number of instances.
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '@offsite/runtime';
import { closeWorkerAndQueue } from './queues.js';
import {
  defaultComplaintConfig,
  reminderStillDue,
  reminderTimes,
  type ComplaintDeadlineConfig,
  type ReminderStage,
  type ReportReminder,
} from '@offsite/regulation';
import type { Complaint } from './complaints-repo.js';
import { query, type Queryable } from './db.js';
import { dueReportReminders } from './reports.js';

export type Reminder =
  | {
      kind: 'complaint';
      complaintId: number;
      stage: ReminderStage;
      dueAt: string;
      overdue: boolean;
      assignee: string | null;
      districtId: string;
      enterpriseId: string;
    }
  | ({ kind: 'monthly-report' } & ReportReminder);

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
  /** When the monthly report reminder fires (cron; default the 20th at 09:00 Asia/Shanghai). */
  monthlyReportSchedule?: { pattern: string; tz: string };
}

interface ComplaintJob {
  complaintId: number;
  stage: ReminderStage;
  dueAt: string;
}

export interface Reminders {
  scheduleComplaint(c: Complaint): Promise<string[]>;
  cancelComplaint(complaintId: number, stage?: ReminderStage): Promise<number>;
  scheduleMonthlyReportReminder(): Promise<void>;
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

  async function scheduleMonthlyReportReminder(): Promise<void> {
    await queue.upsertJobScheduler(
      'monthly-report-reminder',
      o.monthlyReportSchedule ?? { pattern: '0 9 20 * *', tz: 'Asia/Shanghai' },
      { name: 'monthly-report-reminder', data: {} },
    );
  }

  async function process(job: Job): Promise<string> {
    if (job.name === 'monthly-report-reminder') {
      const due = await dueReportReminders(o.db, now());
      for (const r of due) await o.sink({ kind: 'monthly-report', ...r });
      log.info({ districts: due.length }, 'monthly report reminders sent');
      return `sent:${due.length}`;
    }
    const d = job.data as ComplaintJob;
    const [row] = await query<{
      status: Complaint['status'];
      assignee: string | null;
      district_id: string;
      enterprise_id: string;
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
    scheduleMonthlyReportReminder,
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
