import { OffsiteError } from './errors.js';

export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

export class DeadlineExceededError extends OffsiteError<typeof DEADLINE_EXCEEDED> {
  readonly label: string;
  readonly timeoutMs: number;

  constructor(label: string, timeoutMs: number) {
    // Retryable: the operation may well succeed on another attempt; whether to try is the caller's call.
    super(DEADLINE_EXCEEDED, `${label} did not finish within ${timeoutMs} ms`, {
      retryable: true,
      details: { label, timeoutMs },
    });
    this.label = label;
    this.timeoutMs = timeoutMs;
  }
}

/** An operation that can be told to give up: the signal aborts when the deadline passes. */
export type Abortable<T> = (signal: AbortSignal) => Promise<T> | T;

/**
 * Settles like `work`, or rejects with DeadlineExceededError after `ms` milliseconds, whichever
 * comes first. The timer is cleared as soon as the work settles, so it never keeps the process
 * alive. When `work` is a function it receives an AbortSignal that aborts at the deadline, so the
 * operation can release what it holds; a plain promise is simply abandoned (it keeps running).
 */
export function withTimeout<T>(work: Promise<T> | Abortable<T>, ms: number, label: string): Promise<T> {
  if (!Number.isFinite(ms) || ms < 0) {
    return Promise.reject(
      new RangeError(`withTimeout(${label}): ms must be a finite number >= 0, got ${ms}`),
    );
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new DeadlineExceededError(label, ms);
      controller.abort(error);
      reject(error);
    }, ms);
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(typeof work === 'function' ? work(controller.signal) : work);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
