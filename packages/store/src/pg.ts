// The one way every service and the CLI open Postgres: a pool (or a client, for LISTEN) on
// OFFSITE_PG_URL with OFFSITE_PG_SCHEMA as the search_path, a transaction helper, and the rule that
// says which driver errors are worth retrying (isRetryablePgError in errors.ts).
import pg from 'pg';
import { pgSessionOptions } from '@offsite/runtime';
import type { Logger } from './logger.js';

export interface PgConnectionOptions {
  /** OFFSITE_PG_URL; TLS as `?sslmode=verify-full&sslrootcert=/path/ca.pem`. */
  url: string;
  /** OFFSITE_PG_SCHEMA: the search_path of every session (a lower-case identifier). */
  schema: string;
  /** Further settings of every session, e.g. `{ synchronous_commit: 'on' }`. */
  settings?: Readonly<Record<string, string>>;
  /** How long to wait for a connection before failing (pg's default: no limit). */
  connectionTimeoutMs?: number;
}

export interface PgPoolOptions extends PgConnectionOptions {
  /** Most connections the pool opens. */
  max: number;
  /**
   * Logs an idle client's failure (its backend went away, e.g. a Postgres restart): without a
   * listener that 'error' would crash the process. The pool drops the client; the next query
   * opens a new connection.
   */
  logger?: Pick<Logger, 'warn'>;
}

/** The pg client configuration for these options (for `new pg.Client` / `new pg.Pool`). */
export function pgConfig(o: PgConnectionOptions): pg.ClientConfig {
  return {
    connectionString: o.url,
    options: pgSessionOptions(o.schema, o.settings),
    ...(o.connectionTimeoutMs === undefined ? {} : { connectionTimeoutMillis: o.connectionTimeoutMs }),
  };
}

export function createPgPool(o: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({ ...pgConfig(o), max: o.max });
  // pg-pool attaches the failed client to the error (`err.client`): log the error's own fields only,
  // not the client with its connection settings.
  pool.on('error', (err) =>
    o.logger?.warn(
      { err: { message: err.message, code: (err as { code?: unknown }).code } },
      'idle Postgres connection failed',
    ),
  );
  return pool;
}

/** A dedicated, not yet connected client (e.g. for LISTEN) with the same settings. */
export function createPgClient(o: PgConnectionOptions): pg.Client {
  return new pg.Client(pgConfig(o));
}

export interface TransactionOptions {
  /** Roll back instead of committing when `fn` resolves (a dry run); `fn`'s result is returned. */
  rollback?: boolean;
}

/**
 * Runs `fn` between `begin` and `commit` on a connection the caller holds (e.g. one that holds a session
 * lock): rollback and the error rethrown unchanged when it throws. A failed rollback is returned in
 * `broken` (the connection must then not be reused) beside the error.
 */
export async function inTransaction<T>(
  client: Pick<pg.ClientBase, 'query'>,
  fn: () => Promise<T>,
  opts: TransactionOptions = {},
  onBroken: (err: Error) => void = () => undefined,
): Promise<T> {
  try {
    await client.query('begin');
    const out = await fn();
    await client.query(opts.rollback ? 'rollback' : 'commit');
    return out;
  } catch (err) {
    await client
      .query('rollback')
      .catch((e: unknown) => onBroken(e instanceof Error ? e : new Error(String(e))));
    throw err;
  }
}

/**
 * Runs `fn` in one transaction on one connection of the pool: commit when it resolves (or rollback with
 * `rollback: true`), rollback (and the error rethrown unchanged) when it throws. Classify a failure with
 * `isRetryablePgError`.
 */
export async function transaction<T>(
  pool: Pick<pg.Pool, 'connect'>,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no 'error' listener of the pool's: a backend that goes away between two
  // statements (Postgres restart, admin command) would emit an unhandled 'error' and crash the
  // process. Kept here, it fails the transaction's next statement instead.
  let lost: Error | undefined;
  const onError = (err: Error): void => {
    lost ??= err;
  };
  client.on('error', onError);
  // A connection that was lost or whose rollback failed is closed, not given back for reuse.
  let broken: Error | undefined;
  try {
    return await inTransaction(
      client,
      () => fn(client),
      opts,
      (e) => {
        broken = e;
      },
    );
  } finally {
    client.off('error', onError);
    client.release(broken ?? lost);
  }
}
