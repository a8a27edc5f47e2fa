// The BullMQ plumbing every background job of the console shares: closing a worker and its queue
// within a bound, and a tick run by a job scheduler (every console instance upserts the same
// scheduler; BullMQ keeps one next job, and one worker of one instance runs it).
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@offsite/runtime';
import { withTimeout } from '@offsite/runtime/deadline';

/** Waits for the worker's running jobs, then closes the queue; rejects after `timeoutMs`. */
export async function closeWorkerAndQueue(
  worker: Worker | null,
  queue: Queue,
  timeoutMs: number,
  what: string,
): Promise<void> {
  await withTimeout(
    (async () => {
      await worker?.close();
      await queue.close();
    })(),
    timeoutMs,
    what,
  );
}

export interface ScheduledTickOptions {
  /** The queue's name. */
  name: string;
  /** The scheduler's key and its jobs' name (default: the queue's name). */
  schedulerId?: string;
  connection: ConnectionOptions;
  prefix?: string | undefined;
  schedule: { pattern: string; tz: string };
  /** One tick; its answer is the job's return value. */
  run: () => Promise<string>;
  log: Logger;
}

export interface ScheduledTick {
  start(): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}

export function createScheduledTick(o: ScheduledTickOptions): ScheduledTick {
  const queue = new Queue(o.name, { connection: o.connection, prefix: o.prefix });
  let worker: Worker | null = null;
  return {
    async start() {
      const id = o.schedulerId ?? o.name;
      await queue.upsertJobScheduler(id, o.schedule, { name: id, data: {} });
      worker ??= new Worker(o.name, o.run, { connection: o.connection, prefix: o.prefix, concurrency: 1 });
      worker.on('failed', (job, err) => o.log.warn({ jobId: job?.id, err }, `${o.name} tick failed`));
    },
    async close(timeoutMs = 10_000) {
      await closeWorkerAndQueue(worker, queue, timeoutMs, `close ${o.name}`);
    },
  };
}
