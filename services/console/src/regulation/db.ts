import type pg from 'pg';
import { regulationError, RegulationError } from '@offsite/regulation';
import { isRetryablePgError, transaction as pgTransaction, type Queryable } from '@offsite/store';

/** A `pg.Pool` (or anything that hands out clients and runs queries). */
export type Db = Pick<pg.Pool, 'query' | 'connect'>;
export type { Queryable };

/** Wraps driver errors as QUERY_FAILED (retryable as the store's rule says: connection loss, serialization failure, overload). */
export function wrapPgError(err: unknown, what: string): RegulationError {
  if (err instanceof RegulationError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return regulationError('QUERY_FAILED', `${what} failed`, {
    retryable: isRetryablePgError(err),
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
  try {
    return await pgTransaction(db, fn);
  } catch (err) {
    throw wrapPgError(err, what);
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const cause = err instanceof RegulationError ? err.cause : err;
  return typeof cause === 'object' && cause !== null && (cause as { code?: unknown }).code === '23505';
}
