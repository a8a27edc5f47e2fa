export type DomainErrorCode = 'invalid-snapshot' | 'invalid-watermark' | 'resolved-is-final';

/** Errors thrown by the engine. None is retryable: they are programming or data errors. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly retryable = false;
  constructor(code: DomainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
  }
}
