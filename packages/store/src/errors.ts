/** Machine-readable error codes of the store package; match on `code`, exhaustively. */
export type StoreErrorCode =
  | 'MIGRATION_FAILED'
  | 'MIGRATION_CHECKSUM_MISMATCH'
  | 'MIGRATION_FILE_INVALID'
  | 'REGISTRY_INVALID'
  | 'REGISTRY_IMPORT_FAILED'
  | 'REGISTRY_NOT_LOADED'
  | 'QUERY_FAILED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** Whether trying again later can succeed (lost connection, serialization failure) or not (bad input, bad schema). */
  readonly retryable: boolean;

  constructor(code: StoreErrorCode, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable;
  }
}

/**
 * Whether a driver error is transient: the one rule for Postgres. Connection failures (Node socket
 * errors such as ECONNREFUSED, pg's own without a code, or class 08), serialization
 * failures and deadlocks (40xxx), too many connections / out of resources (53xxx), operator
 * intervention / shutdown (57P0x) may succeed on retry; everything else is a bug or bad data.
 */
export function isRetryablePgError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') {
    // pg's own connection failures ("Connection terminated unexpectedly", a connect timeout) are
    // plain Errors without a code; a TypeError or another named error is a bug, not worth retrying.
    return (err as { name?: unknown }).name === 'Error';
  }
  if (/^E[A-Z]+$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('40') || code.startsWith('53') || code.startsWith('57P');
}
