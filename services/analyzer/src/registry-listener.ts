// The registry LISTEN connection, kept alive across Postgres restarts by the store's `startListener`:
// after a reconnect `onResumed` runs (reload the registry: NOTIFYs sent while it was gone are lost).
import type { Logger } from '@offsite/runtime';
import { listenRegistryChanges, startListener, type Listener, type RegistryChange } from '@offsite/store';
import type pg from 'pg';

export interface RegistryListenerOptions {
  pool: Pick<pg.Pool, 'connect'>;
  schema: string;
  onChange(change: RegistryChange): void;
  /** The connection came back after a loss: changes may have been missed (reload the registry). */
  onResumed(): void;
  logger: Logger;
  /** First retry delay; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

export type RegistryListener = Listener;

/** Connects and LISTENs once (a failure here fails the start); later losses are repaired in the background. */
export function startRegistryListener(opts: RegistryListenerOptions): Promise<RegistryListener> {
  return startListener({
    pool: opts.pool,
    name: 'registry',
    subscribe: (client) => listenRegistryChanges(client, opts.schema, (change) => opts.onChange(change)),
    onResumed: opts.onResumed,
    logger: opts.logger.child({ component: 'registry-listener' }),
    ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
    ...(opts.maxRetryMs !== undefined ? { maxRetryMs: opts.maxRetryMs } : {}),
  });
}
