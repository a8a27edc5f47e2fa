import { Writable } from 'node:stream';
import { createLogger, createSilentLogger, type Logger } from './logger.js';
import { OffsiteError } from './errors.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines, text };
}

describe('createLogger', () => {
  it('writes JSON lines with service, textual level and UTC ISO time', () => {
    const out = capture();
    const logger = createLogger({ service: 'analyzer', destination: out.stream });
    logger.info({ enterprise: 'E1' }, 'window closed');
    logger.debug({}, 'not at info level');
    const [line, ...rest] = out.lines();
    expect(rest).toHaveLength(0);
    expect(line).toMatchObject({
      service: 'analyzer',
      level: 'info',
      enterprise: 'E1',
      msg: 'window closed',
    });
    expect(String(line?.['time'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts passwords and tokens at the top level and nested', () => {
    const out = capture();
    const logger = createLogger({ service: 's', destination: out.stream, redact: ['OFFSITE_PG_PASSWORD'] });
    logger.info(
      {
        password: 'p1',
        token: 't1',
        db: { password: 'p2', host: 'localhost' },
        req: { headers: { authorization: 'Bearer abc' } },
        OFFSITE_PG_PASSWORD: 'p3',
      },
      'connecting',
    );
    const text = out.text();
    for (const secret of ['p1', 't1', 'p2', 'Bearer abc', 'p3']) expect(text).not.toContain(`"${secret}"`);
    expect(out.lines()[0]).toMatchObject({
      password: '[REDACTED]',
      db: { password: '[REDACTED]', host: 'localhost' },
    });
  });

  it('keeps child bindings and serializes an error with its code, retry flag and cause', () => {
    const out = capture();
    const logger: Logger = createLogger({ service: 's', destination: out.stream });
    const cause = new Error('socket hang up');
    logger
      .child({ component: 'kafka' })
      .error(
        { err: new OffsiteError('KAFKA_PRODUCE_FAILED', 'produce failed', { retryable: true, cause }) },
        'x',
      );
    const line = out.lines()[0];
    expect(line).toMatchObject({
      component: 'kafka',
      err: { code: 'KAFKA_PRODUCE_FAILED', retryable: true, type: 'OffsiteError' },
    });
    expect(JSON.stringify(line)).toContain('socket hang up');
  });

  it('writes readable lines when pretty', () => {
    const out = capture();
    const logger = createLogger({ service: 'gateway', pretty: true, destination: out.stream });
    logger.warn({ mn: '010000A8900016F000169DC0', password: 'nope' }, 'login refused');
    const text = out.text();
    expect(text).toContain('WARN');
    expect(text).toContain('login refused');
    expect(text).toContain('010000A8900016F000169DC0');
    expect(text).not.toContain('nope');
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe('createSilentLogger', () => {
  it('accepts every call and returns itself as a child', () => {
    const logger = createSilentLogger();
    expect(() => logger.error({ a: 1 }, 'x')).not.toThrow();
    expect(logger.child({ component: 'c' })).toBe(logger);
  });
});
