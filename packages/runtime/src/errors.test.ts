import { errorCode, errorMessage, hasCode, isRetryable, OffsiteError, toOffsiteError } from './errors.js';

describe('OffsiteError', () => {
  it('carries code, retry decision, cause and details', () => {
    const cause = new Error('socket closed');
    const error = new OffsiteError('INFLUX_WRITE_FAILED', 'write failed', {
      retryable: true,
      cause,
      details: { points: 5000 },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('OffsiteError');
    expect(error.code).toBe('INFLUX_WRITE_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ points: 5000 });
  });

  it('is not retryable unless it says so, and subclasses keep their name', () => {
    class CodecError extends OffsiteError<'HJ212_CRC_MISMATCH'> {}
    const error = new CodecError('HJ212_CRC_MISMATCH', 'bad crc');
    expect(error.retryable).toBe(false);
    expect(error.name).toBe('CodecError');
    expect(hasCode(error, 'HJ212_CRC_MISMATCH')).toBe(true);
    expect(hasCode(error, 'OTHER')).toBe(false);
    expect(hasCode(new Error('x'), 'HJ212_CRC_MISMATCH')).toBe(false);
  });
});

describe('classifying unknown errors', () => {
  it.each([
    ['an OffsiteError marked retryable', new OffsiteError('X', 'x', { retryable: true }), true],
    ['an OffsiteError not marked', new OffsiteError('X', 'x'), false],
    [
      'a KafkaJS-style retriable error',
      Object.assign(new Error('leader not available'), { retriable: true }),
      true,
    ],
    [
      'an error that says it is not retryable',
      Object.assign(new Error('auth'), { retryable: false, code: 'ECONNRESET' }),
      false,
    ],
    ['ECONNREFUSED', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), true],
    ['ETIMEDOUT', Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }), true],
    ['a TimeoutError (AbortSignal.timeout)', new DOMException('timed out', 'TimeoutError'), true],
    ['a validation bug', new TypeError('cannot read properties of undefined'), false],
    ['a thrown string', 'oops', false],
    ['null', null, false],
  ])('%s → retryable %s', (_label, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });

  it('reads codes and messages from anything thrown', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBe('EPIPE');
    expect(errorCode(new Error('x'))).toBe('UNKNOWN');
    expect(errorCode('x', 'FALLBACK')).toBe('FALLBACK');
    expect(errorMessage(new Error('m'))).toBe('m');
    expect(errorMessage('s')).toBe('s');
    expect(errorMessage({ a: 1 })).toBe('{"a":1}');
  });

  it('wraps an unknown error keeping it as cause and classifying it', () => {
    const cause = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const wrapped = toOffsiteError(cause, 'REDIS_UNAVAILABLE');
    expect(wrapped).toMatchObject({ code: 'REDIS_UNAVAILABLE', retryable: true, message: 'read ECONNRESET' });
    expect(wrapped.cause).toBe(cause);
    expect(wrapped.details).toEqual({ causeCode: 'ECONNRESET' });
    const already = new OffsiteError('A', 'a');
    expect(toOffsiteError(already, 'B')).toBe(already);
  });
});
