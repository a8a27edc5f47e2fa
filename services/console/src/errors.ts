import { OffsiteError } from '@offsite/runtime';

export type ConsoleErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CSRF_INVALID'
  | 'NOT_FOUND'
  | 'NO_DATA'
  | 'INVALID_TRANSITION'
  | 'INVALID_INPUT'
  | 'NOT_ELIGIBLE'
  | 'EVIDENCE_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'TOO_MANY_STREAMS'
  | 'BUSY';

const STATUS: Record<ConsoleErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CSRF_INVALID: 403,
  NOT_FOUND: 404,
  NO_DATA: 404,
  INVALID_TRANSITION: 409,
  INVALID_INPUT: 400,
  NOT_ELIGIBLE: 409,
  EVIDENCE_UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 429,
  BUSY: 503,
};

/** Errors the API answers with; `statusCode` follows from the code. */
export class ConsoleError extends OffsiteError<ConsoleErrorCode> {
  get statusCode(): number {
    return STATUS[this.code];
  }
}
