// A job run once at start and then every interval, never overlapping itself; stop() waits for the
// running round under a deadline.
import type { Logger } from '@offsite/runtime';
import { withTimeout } from '@offsite/runtime';

export interface PeriodicJob {
  start(): void;
  stop(deadlineMs: number): Promise<void>;
  /** Runs a round now (or waits for the running one). */
  runNow(): Promise<void>;
}

export function createPeriodicJob(opts: {
  name: string;
  intervalMs: number;
  run: () => Promise<void>;
  logger: Logger;
}): PeriodicJob {
  const log = opts.logger.child({ component: 'schedule', job: opts.name });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const round = (): Promise<void> => {
    if (running) return running;
    const started = Date.now();
    running = opts
      .run()
      .then(() => log.debug({ ms: Date.now() - started }, 'job round done'))
      .catch((err: unknown) => log.error({ err }, 'job round failed'))
      .finally(() => (running = undefined));
    return running;
  };
  return {
    start() {
      if (opts.intervalMs <= 0) return;
      void round();
      timer = setInterval(() => {
        if (!stopped) void round();
      }, opts.intervalMs);
      timer.unref();
    },
    runNow: round,
    async stop(deadlineMs) {
      stopped = true;
      clearInterval(timer);
      if (running) await withTimeout(running, deadlineMs, `${opts.name} job`).catch(() => undefined);
    },
  };
}
