import type pg from 'pg';
import { isRetryable } from '@offsite/runtime/errors';
import { RegulationError, regulationError } from '@offsite/regulation';

/** A `pg.Pool` (or anything that hands out clients and runs queries). */
export type Db = Pick<pg.Pool, 'query' | 'connect'>;
export type Queryable = Pick<pg.ClientBase, 'query'>;

const RETRYABLE_SQLSTATE = /^(08|40|53|57P)/;

/** Wraps driver errors as QUERY_FAILED (retryable for connection loss, serialization failure, overload). */
export function wrapPgError(err: unknown, what: string): RegulationError {
  if (err instanceof RegulationError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const retryable =
    typeof code === 'string' ? RETRYABLE_SQLSTATE.test(code) || isRetryable(err) : isRetryable(err);
  return regulationError('QUERY_FAILED', `${what} failed`, {
    retryable,
    cause: err,
    details: { sqlstate: code },
  });
}

export async function query<R extends pg.QueryResultRow>(
  db: Queryable,
  what: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  try {
    return (await db.query<R>(sql, params)).rows;
  } catch (err) {
    throw wrapPgError(err, what);
  }
}

export async function transaction<T>(db: Db, what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await db.connect();
  } catch (err) {
    throw wrapPgError(err, what);
  }
  try {
    await client.query('begin');
    const out = await fn(client);
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw wrapPgError(err, what);
  } finally {
    client.release();
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const cause = err instanceof RegulationError ? err.cause : err;
  return typeof cause === 'object' && cause !== null && (cause as { code?: unknown }).code === '23505';
}
