import { StoreError, isRetryablePgError } from '@offsite/store';
import type { Logger } from '@offsite/notify';

export interface RecordRetry {
  /** First wait after a failed attempt; doubled each time up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** How long an outage is waited out before the job fails (and its retry may send again). */
  giveUpAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const transient = (err: unknown) => (err instanceof StoreError ? err.retryable : isRetryablePgError(err));

/**
 * Records a send the provider has accepted, trying again while Postgres is unreachable: once the
 * provider took the message, a failed write must not turn into a failed send, whose job retry would
 * claim and send it a second time. A non-transient error (a bug, bad data) is thrown at once.
 */
export async function recordAccepted(
  record: () => Promise<unknown>,
  opts: RecordRetry & { log: Logger; notificationId: string },
): Promise<void> {
  const first = opts.firstDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 5_000;
  const giveUpAfter = opts.giveUpAfterMs ?? 600_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (let attempt = 1, delay = first; ; attempt++, delay = Math.min(delay * 2, max)) {
    try {
      await record();
      if (attempt > 1)
        opts.log.info({ notificationId: opts.notificationId, attempts: attempt }, 'accepted send recorded');
      return;
    } catch (err) {
      if (!transient(err) || Date.now() - started + delay > giveUpAfter) throw err;
      if (attempt === 1)
        opts.log.warn(
          { notificationId: opts.notificationId, err: (err as Error).message },
          'the provider accepted the send; recording it failed, trying again',
        );
      await sleep(delay);
    }
  }
}
