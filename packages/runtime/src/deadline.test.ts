import { DeadlineExceededError, withTimeout } from './deadline.js';
import { isRetryable } from './errors.js';

describe('withTimeout', () => {
  it('resolves with the value when the work finishes in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 100, 'answer')).resolves.toBe(42);
  });

  it('passes the work rejection through untouched', async () => {
    const error = new Error('nope');
    await expect(withTimeout(Promise.reject(error), 100, 'x')).rejects.toBe(error);
  });

  it('rejects with DEADLINE_EXCEEDED naming the label when the work hangs', async () => {
    const error = await withTimeout(new Promise(() => undefined), 20, 'kafka disconnect').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', label: 'kafka disconnect', timeoutMs: 20 });
    expect((error as Error).message).toBe('kafka disconnect did not finish within 20 ms');
    expect(isRetryable(error)).toBe(true);
  });

  it('aborts the signal given to abortable work at the deadline', async () => {
    let seen: AbortSignal | undefined;
    await expect(
      withTimeout(
        (signal) => {
          seen = signal;
          return new Promise<void>(() => undefined);
        },
        10,
        'flush',
      ),
    ).rejects.toThrow(DeadlineExceededError);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('does not abort the signal when the work finishes first, and turns a synchronous throw into a rejection', async () => {
    let seen: AbortSignal | undefined;
    await withTimeout(
      (signal) => {
        seen = signal;
        return 'done';
      },
      50,
      'sync',
    );
    expect(seen?.aborted).toBe(false);
    await expect(
      withTimeout(
        () => {
          throw new Error('sync throw');
        },
        50,
        'sync',
      ),
    ).rejects.toThrow('sync throw');
  });

  it('rejects a negative or non-finite timeout', async () => {
    await expect(withTimeout(Promise.resolve(1), -1, 'x')).rejects.toThrow(RangeError);
    await expect(withTimeout(Promise.resolve(1), Number.NaN, 'x')).rejects.toThrow(RangeError);
  });
});
