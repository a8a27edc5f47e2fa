import type pg from 'pg';
import { listenChannel, startListener, type Listener } from './listener.js';
import type { Logger } from './logger.js';

/** The NOTIFY channel the registry triggers publish on; the payload is `schema.table`. */
export const REGISTRY_CHANNEL = 'registry_changed';

export interface RegistryChange {
  schema: string;
  table: string;
}

/**
 * LISTEN for registry changes on a dedicated connection (a `pg.Client`, or a client checked out
 * of a pool and kept). Only changes in `schema` are passed on (several schemas share one database
 * in tests). Postgres folds duplicates within a transaction, so an import yields one callback per
 * changed table. Returns a function that stops listening; the caller owns the connection.
 */
export function listenRegistryChanges(
  client: pg.ClientBase,
  schema: string,
  onChange: (change: RegistryChange) => void,
): Promise<() => Promise<void>> {
  return listenChannel(client, REGISTRY_CHANNEL, (payload) => {
    const dot = payload.indexOf('.');
    const change = { schema: payload.slice(0, dot), table: payload.slice(dot + 1) };
    if (dot > 0 && change.schema === schema) onChange(change);
  });
}

export interface RegistryListenerOptions {
  /** The listener checks one connection out of it and keeps it. */
  pool: Pick<pg.Pool, 'connect'>;
  schema: string;
  onChange(change: RegistryChange): void;
  /** The connection came back after a loss: changes may have been missed (reload the registry). */
  onResumed(): void;
  /**
   * Further LISTENs of the service on the same connection (the analyzer's finished job rounds): they
   * share its reconnects and `onResumed`. Resolves to the function that stops them.
   */
  alsoListen?(client: pg.PoolClient): Promise<() => Promise<void>>;
  logger: Logger;
  /** First retry delay; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * The one way a service follows the registry: LISTEN for `registry_changed` on a connection kept
 * alive by `startListener` (a lost connection is replaced with backoff and `onResumed` runs, since
 * NOTIFYs sent while it was gone are lost). Connects and LISTENs once (a failure here fails the
 * start); later losses are repaired in the background.
 */
export function startRegistryListener(opts: RegistryListenerOptions): Promise<Listener> {
  return startListener({
    pool: opts.pool,
    name: 'registry',
    subscribe: async (client) => {
      const offRegistry = await listenRegistryChanges(client, opts.schema, (change) => opts.onChange(change));
      if (!opts.alsoListen) return offRegistry;
      const offOthers = await opts.alsoListen(client);
      return async () => {
        await offOthers();
        await offRegistry();
      };
    },
    onResumed: opts.onResumed,
    logger: opts.logger.child({ component: 'registry-listener' }),
    ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
    ...(opts.maxRetryMs !== undefined ? { maxRetryMs: opts.maxRetryMs } : {}),
  });
}
