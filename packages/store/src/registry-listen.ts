import type pg from 'pg';
import { isRetryablePgError, StoreError } from './errors.js';

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
export async function listenRegistryChanges(
  client: pg.ClientBase,
  schema: string,
  onChange: (change: RegistryChange) => void,
): Promise<() => Promise<void>> {
  const handler = (msg: pg.Notification) => {
    if (msg.channel !== REGISTRY_CHANNEL || !msg.payload) return;
    const dot = msg.payload.indexOf('.');
    const change = { schema: msg.payload.slice(0, dot), table: msg.payload.slice(dot + 1) };
    if (dot > 0 && change.schema === schema) onChange(change);
  };
  client.on('notification', handler);
  try {
    await client.query(`listen ${REGISTRY_CHANNEL}`);
  } catch (err) {
    client.off('notification', handler);
    throw new StoreError('QUERY_FAILED', `listen ${REGISTRY_CHANNEL} failed: ${(err as Error).message}`, {
      retryable: isRetryablePgError(err),
      cause: err,
    });
  }
  return async () => {
    client.off('notification', handler);
    await client.query(`unlisten ${REGISTRY_CHANNEL}`);
  };
}
