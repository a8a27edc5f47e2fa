/**
 * The error shape every Offsite package throws: a machine-readable `code`, a retry decision and
 * the original `cause`. Callers match on `code` (never on the message) and decide whether to retry
 * from `retryable`.
 */

export interface OffsiteErrorOptions {
  /** True when the same operation may succeed if tried again (network blip, broker rebalance). */
  retryable?: boolean;
  cause?: unknown;
  /** Extra machine-readable facts for logs; never secrets. */
  details?: Readonly<Record<string, unknown>>;
}

export class OffsiteError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: OffsiteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

export function isOffsiteError(error: unknown): error is OffsiteError {
  return error instanceof OffsiteError;
}

/** True if `error` is an OffsiteError with the given code; narrows the code's type. */
export function hasCode<C extends string>(error: unknown, code: C): error is OffsiteError<C> {
  return isOffsiteError(error) && error.code === code;
}

/** Node system error codes that describe a transient network or resource condition. */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'EBUSY',
  'EMFILE',
  'ENFILE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
]);

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

/**
 * Decides whether an unknown error is worth retrying.
 * - OffsiteError: its own `retryable` flag.
 * - Errors that say so themselves: a boolean `retryable` or `retriable` property (KafkaJS uses `retriable`).
 * - Node system errors with a transient code (ECONNRESET, ETIMEDOUT, …) and timeouts/aborts.
 * - Anything else: not retryable (retrying an unknown failure forever hides bugs).
 */
export function isRetryable(error: unknown): boolean {
  if (isOffsiteError(error)) return error.retryable;
  for (const name of ['retryable', 'retriable']) {
    const flag = field(error, name);
    if (typeof flag === 'boolean') return flag;
  }
  const code = field(error, 'code');
  if (typeof code === 'string' && TRANSIENT_SYSTEM_CODES.has(code)) return true;
  const errName = field(error, 'name');
  return errName === 'TimeoutError';
}

/** The machine-readable code of an unknown error, or `fallback` when it has none. */
export function errorCode(error: unknown, fallback = 'UNKNOWN'): string {
  const code = field(error, 'code');
  return typeof code === 'string' && code.length > 0 ? code : fallback;
}

/** A human-readable message for any thrown value (strings and non-Errors get thrown too). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * Wraps an unknown error as an OffsiteError, keeping it as `cause` and classifying it with
 * `isRetryable`. An OffsiteError is returned unchanged.
 */
export function toOffsiteError(error: unknown, code = 'UNEXPECTED', message?: string): OffsiteError {
  if (isOffsiteError(error)) return error;
  return new OffsiteError(code, message ?? errorMessage(error), {
    retryable: isRetryable(error),
    cause: error,
    details: { causeCode: errorCode(error) },
  });
}
