// Keeps the device directory true to the registry: every `registry_changed` clears it, and so does
// the LISTEN connection coming back after a loss (changes made while it was gone sent no notification
// that arrived). The connection is the store's registry listener, replaced with backoff when lost.
import type { Logger } from '@offsite/runtime';
import { startRegistryListener, type Listener } from '@offsite/store';
import type pg from 'pg';
import type { DeviceDirectory } from './device-directory.js';

export interface FollowRegistryOptions {
  directory: Pick<DeviceDirectory, 'clear'>;
  /** The listener checks one connection out of it and keeps it. */
  pool: Pick<pg.Pool, 'connect'>;
  schema: string;
  logger: Logger;
  retryMs?: number;
  maxRetryMs?: number;
}

export function followRegistry(opts: FollowRegistryOptions): Promise<Listener> {
  return startRegistryListener({
    pool: opts.pool,
    schema: opts.schema,
    onChange: (change) => {
      opts.logger.info({ table: change.table }, 'registry changed; device cache cleared');
      opts.directory.clear();
    },
    onResumed: () => {
      opts.logger.info({}, 'registry LISTEN restored; device cache cleared');
      opts.directory.clear();
    },
    logger: opts.logger,
    ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
    ...(opts.maxRetryMs !== undefined ? { maxRetryMs: opts.maxRetryMs } : {}),
  });
}
