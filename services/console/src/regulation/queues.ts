// Closing a BullMQ worker and its queue within a bound, as each background job of the console does.
import type { Queue, Worker } from 'bullmq';
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
