import type pg from 'pg';
import type { Logger } from '@offsite/runtime';
import { listenChannel, startListener, type Listener } from '@offsite/store';

/**
 * The channels whose payload is a changed case's deviation id: the alerter's (its case, notifications
 * and acknowledgements; migration 065) and the console's own (review states; migration 021).
 */
export const CASE_CHANNELS = ['alerter_cases_changed', 'console_cases_changed'] as const;

/** A changed case, or `resync`: the LISTEN connection came back after a loss and changes may have been missed. */
export type LiveEvent = { kind: 'case'; id: string } | { kind: 'resync' };

/**
 * Fans out Postgres NOTIFYs on `CASE_CHANNELS` (payload: deviation id) to SSE subscribers. The
 * LISTEN connection is the store's `startListener`: replaced with backoff when Postgres restarts.
 */
export interface LiveHub {
  subscribe(fn: (e: LiveEvent) => void): () => void;
  start(): Promise<void>;
  close(): Promise<void>;
  subscribers(): number;
  /** True while the LISTEN connection is up (readiness). */
  isListening(): boolean;
  /** Reconnects after a loss so far. */
  resumes(): number;
}

export interface LiveHubOptions {
  retryMs?: number;
  maxRetryMs?: number;
  /** Metrics hooks: the connection was lost, came back, or a reconnect attempt failed. */
  onLost?(): void;
  onResumed?(): void;
  onRetryFailed?(): void;
}

export function createLiveHub(pool: pg.Pool, logger: Logger, opts: LiveHubOptions = {}): LiveHub {
  const subs = new Set<(e: LiveEvent) => void>();
  let listener: Listener | undefined;
  const emit = (e: LiveEvent) => {
    for (const fn of subs) fn(e);
  };
  return {
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    subscribers: () => subs.size,
    isListening: () => listener?.isListening() ?? false,
    resumes: () => listener?.resumes ?? 0,
    async start() {
      listener = await startListener({
        pool,
        name: 'live updates',
        subscribe: async (client) => {
          const stops: (() => Promise<void>)[] = [];
          for (const channel of CASE_CHANNELS)
            stops.push(
              await listenChannel(client, channel, (id) => {
                if (id) emit({ kind: 'case', id });
              }),
            );
          return async () => {
            for (const stop of stops) await stop();
          };
        },
        onResumed: () => {
          opts.onResumed?.();
          emit({ kind: 'resync' });
        },
        ...(opts.onLost ? { onLost: opts.onLost } : {}),
        ...(opts.onRetryFailed ? { onRetryFailed: opts.onRetryFailed } : {}),
        logger,
        ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
        ...(opts.maxRetryMs !== undefined ? { maxRetryMs: opts.maxRetryMs } : {}),
      });
    },
    async close() {
      subs.clear();
      const l = listener;
      listener = undefined;
      await l?.stop();
    },
  };
}
