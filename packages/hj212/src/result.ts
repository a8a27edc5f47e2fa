/**
 * Typed results and errors of the codec. Decoding never throws: it returns `{ ok: false, error }`.
 * Builders that receive invalid input from our own code throw `Hj212Error` (a programming error).
 */
import type { Irregularity } from './irregularities.js';

/** Structural problems that no policy can accept. */
export type StructuralErrorCode =
  | 'frame-malformed'
  | 'frame-too-large'
  | 'frame-truncated'
  | 'garbage'
  | 'crc-malformed'
  | 'crc-mismatch'
  | 'invalid-utf8'
  | 'segment-malformed'
  | 'missing-st'
  | 'missing-cn'
  | 'missing-mn'
  | 'missing-pw'
  | 'missing-cp'
  | 'invalid-flag'
  | 'invalid-split'
  | 'invalid-datatime'
  | 'invalid-number'
  | 'cp-malformed'
  | 'decrypt-failed'
  | 'split-duplicate'
  | 'split-overflow'
  | 'split-timeout'
  | 'split-inconsistent';

/** A decode error code: a structural problem, or an irregularity rejected by the strict policy. */
export type DecodeErrorCode = StructuralErrorCode | Irregularity;

export interface DecodeError {
  readonly code: DecodeErrorCode;
  readonly message: string;
}

export type Result<T, E = DecodeError> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(code: DecodeErrorCode, message: string): { ok: false; error: DecodeError } {
  return { ok: false, error: { code, message } };
}

export type Hj212ErrorCode = 'encode-invalid' | 'cipher-failed' | 'cipher-key-invalid';

/** Thrown only by builders given invalid arguments and by cipher misuse; never by decoders. */
export class Hj212Error extends Error {
  readonly code: Hj212ErrorCode;
  readonly retryable = false;
  constructor(code: Hj212ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Hj212Error';
    this.code = code;
  }
}
