import { isRetryablePgError, StoreError } from './errors.js';
import type { Queryable } from './logger.js';

/** Runs one parameterised statement; a failure becomes `QUERY_FAILED` named by `what` (retryable per the one rule). */
export async function queryRows<R extends object>(
  db: Queryable,
  what: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  try {
    const res = await db.query<R & Record<string, unknown>>(text, values);
    return res.rows;
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `${what} failed: ${(err as Error).message}`, {
      retryable: isRetryablePgError(err),
      cause: err,
    });
  }
}
