import { isLoopbackHost, resolveCompression } from './compression.js';

describe('resolveCompression', () => {
  it('auto: none when every broker is on loopback, gzip as soon as one is remote', () => {
    expect(resolveCompression('auto', ['127.0.0.1:59092', 'localhost:9092', '[::1]:9092'])).toBe('none');
    expect(resolveCompression('auto', ['127.0.0.1:59092', 'kafka-2.internal:9092'])).toBe('gzip');
    expect(resolveCompression('auto', ['10.0.0.5:9092'])).toBe('gzip');
  });

  it('an explicit setting wins', () => {
    expect(resolveCompression('gzip', ['127.0.0.1:9092'])).toBe('gzip');
    expect(resolveCompression('none', ['kafka.example:9092'])).toBe('none');
  });

  it('recognises loopback names and addresses only', () => {
    expect(['127.0.0.1', '127.1.2.3', 'LOCALHOST', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['128.0.0.1', 'localhost.evil', '10.0.0.1', '1127.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});
