import type pg from 'pg';
import { listenChannel } from './listener.js';

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
