import { OffsiteError } from '@offsite/runtime/errors';

/** Machine-readable codes of the regulation package; match on `code`, exhaustively. */
export type RegulationErrorCode =
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'OUT_OF_SCOPE'
  | 'INVALID_INPUT'
  | 'INVALID_TRANSITION'
  | 'DRAW_EXISTS'
  | 'NOT_ELIGIBLE'
  | 'INSUFFICIENT_INSPECTORS'
  | 'QUERY_FAILED';

const HTTP_STATUS: Record<RegulationErrorCode, number> = {
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  OUT_OF_SCOPE: 404,
  INVALID_INPUT: 400,
  INVALID_TRANSITION: 409,
  DRAW_EXISTS: 409,
  NOT_ELIGIBLE: 409,
  INSUFFICIENT_INSPECTORS: 422,
  QUERY_FAILED: 503,
};

export class RegulationError extends OffsiteError<RegulationErrorCode> {
  get statusCode(): number {
    return HTTP_STATUS[this.code];
  }
}

export function regulationError(
  code: RegulationErrorCode,
  message: string,
  options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
): RegulationError {
  return new RegulationError(code, message, options);
}
