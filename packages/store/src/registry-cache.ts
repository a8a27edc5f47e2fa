import type pg from 'pg';
import { StoreError } from './errors.js';
import type { Queryable, Logger } from './logger.js';
import type { Listener } from './listener.js';
import { startRegistryListener } from './registry-listen.js';
import { loadRegistrySnapshot, type RegistrySnapshot } from './registry-snapshot.js';

/** An in-memory view of the registry, kept current by `registry_changed` notifications. */
export interface RegistryCache<T> {
  /** The current index (built from the last snapshot that loaded); throws `REGISTRY_NOT_LOADED` before the first. */
  current(): T;
  /** Loads the first snapshot (throws if it fails) and starts listening for `registry_changed`. */
  start(): Promise<void>;
  /** Stops listening and ends the pool (the cache owns it). */
  stop(): Promise<void>;
  /** Reads a snapshot now; on failure keeps the previous index (throws only when there is none). */
  reload(): Promise<void>;
}

export interface RegistryCacheOptions<T> {
  /** Reads the snapshots and holds the LISTEN connection (one of its clients, kept); ended by stop(). */
  pool: Queryable & Pick<pg.Pool, 'connect' | 'end'>;
  /** Only changes in this schema trigger a reload. */
  schema: string;
  /** Turns a snapshot into whatever the caller looks things up in. */
  index(snapshot: RegistrySnapshot): T;
  logger: Logger;
  /** Quiet time after the last notification before reloading (an import notifies once per table). Default 200 ms. */
  debounceMs?: number;
  /** Called after every load attempt, e.g. to count reloads in /metrics. */
  onReload?(ok: boolean): void;
  /** First LISTEN reconnect delay after a lost connection; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Keeps an index of the registry in memory: loaded at start, reloaded (debounced) whenever the
 * registry triggers NOTIFY registry_changed for `schema`, and after the LISTEN connection came back
 * from a loss (notifications sent meanwhile are lost). A failed reload is logged and the previous
 * index stays in use.
 */
export function createRegistryCache<T>(opts: RegistryCacheOptions<T>): RegistryCache<T> {
  const log = opts.logger.child({ component: 'registry' });
  let index: T | undefined;
  let loaded = false;
  let timer: NodeJS.Timeout | undefined;
  let listener: Listener | undefined;
  const reload = async () => {
    try {
      const snapshot = await loadRegistrySnapshot(opts.pool);
      index = opts.index(snapshot);
      loaded = true;
      opts.onReload?.(true);
      log.info({ enterprises: snapshot.enterprises.length, readAt: snapshot.readAt }, 'registry loaded');
    } catch (err) {
      opts.onReload?.(false);
      log.error({ err }, 'registry reload failed; keeping the previous snapshot');
      if (!loaded) throw err;
    }
  };
  return {
    current() {
      if (!loaded)
        throw new StoreError('REGISTRY_NOT_LOADED', 'registry not loaded yet', { retryable: true });
      return index as T;
    },
    reload,
    async start() {
      await reload();
      const reloadSoon = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void reload().catch(() => undefined), opts.debounceMs ?? 200);
      };
      listener = await startRegistryListener({
        pool: opts.pool,
        schema: opts.schema,
        onChange: reloadSoon,
        onResumed: reloadSoon,
        logger: opts.logger,
        ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
        ...(opts.maxRetryMs !== undefined ? { maxRetryMs: opts.maxRetryMs } : {}),
      });
    },
    async stop() {
      if (timer) clearTimeout(timer);
      await listener?.stop().catch(() => undefined);
      await opts.pool.end().catch(() => undefined);
    },
  };
}
