import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Type } from '@sinclair/typebox';
import { ConfigError, loadConfig, redact, secretKeys } from './config.js';
import { isRetryable } from './errors.js';

const Schema = Type.Object({
  OFFSITE_HTTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 9464 }),
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_PG_URL: Type.String({ format: 'uri' }),
  OFFSITE_PG_PASSWORD: Type.String({ minLength: 8, secret: true }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  OFFSITE_TLS: Type.Boolean({ default: false }),
  OFFSITE_BATCH_MIN: Type.Integer({ default: 10 }),
  OFFSITE_BATCH_MAX: Type.Integer({ default: 5000 }),
  OFFSITE_SMTP_HOST: Type.Optional(Type.String()),
});

const valid = {
  OFFSITE_PG_URL: 'postgres://offsite@127.0.0.1:25432/offsite',
  OFFSITE_PG_PASSWORD: 'correct horse',
  OFFSITE_KAFKA_BROKERS: '127.0.0.1:29092, 127.0.0.2:29092',
};

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offsite-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('coerces strings, splits lists and applies defaults', () => {
    const config = loadConfig(Schema, { ...valid, OFFSITE_TLS: 'yes', OFFSITE_HTTP_PORT: ' 8080 ' });
    expect(config).toEqual({
      OFFSITE_HTTP_PORT: 8080,
      OFFSITE_LOG_LEVEL: 'info',
      OFFSITE_PG_URL: valid.OFFSITE_PG_URL,
      OFFSITE_PG_PASSWORD: 'correct horse',
      OFFSITE_KAFKA_BROKERS: ['127.0.0.1:29092', '127.0.0.2:29092'],
      OFFSITE_TLS: true,
      OFFSITE_BATCH_MIN: 10,
      OFFSITE_BATCH_MAX: 5000,
    });
    expect(loadConfig(Schema, { ...valid, OFFSITE_TLS: 'off' }).OFFSITE_TLS).toBe(false);
  });

  it('treats an empty string as unset, so the default applies', () => {
    expect(loadConfig(Schema, { ...valid, OFFSITE_HTTP_PORT: '' }).OFFSITE_HTTP_PORT).toBe(9464);
  });

  it('ignores variables the schema does not name', () => {
    const config = loadConfig(Schema, { ...valid, PATH: '/usr/bin', OFFSITE_UNKNOWN: 'x' });
    expect(Object.keys(config)).not.toContain('PATH');
    expect(Object.keys(config)).not.toContain('OFFSITE_UNKNOWN');
  });

  it('returns a deeply frozen result', () => {
    const config = loadConfig(Schema, valid);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.OFFSITE_KAFKA_BROKERS)).toBe(true);
    expect(() => {
      (config as { OFFSITE_HTTP_PORT: number }).OFFSITE_HTTP_PORT = 1;
    }).toThrow(TypeError);
  });

  it('reports every problem at once, each with its variable name', () => {
    const error = catchConfigError(() =>
      loadConfig(Schema, {
        OFFSITE_HTTP_PORT: 'eighty',
        OFFSITE_LOG_LEVEL: 'verbose',
        OFFSITE_PG_URL: 'not a url',
        OFFSITE_PG_PASSWORD: 'short',
        OFFSITE_TLS: 'maybe',
        // OFFSITE_KAFKA_BROKERS missing
      }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(isRetryable(error)).toBe(false);
    const byVariable = Object.fromEntries(error.issues.map((issue) => [issue.variable, issue.message]));
    expect(Object.keys(byVariable).sort()).toEqual(
      [
        'OFFSITE_HTTP_PORT',
        'OFFSITE_KAFKA_BROKERS',
        'OFFSITE_LOG_LEVEL',
        'OFFSITE_PG_PASSWORD',
        'OFFSITE_PG_URL',
        'OFFSITE_TLS',
      ].sort(),
    );
    expect(byVariable['OFFSITE_HTTP_PORT']).toBe('must be integer (got "eighty")');
    expect(byVariable['OFFSITE_LOG_LEVEL']).toBe('must be one of: debug, info, warn (got "verbose")');
    expect(byVariable['OFFSITE_KAFKA_BROKERS']).toBe('is required but not set');
    expect(error.message).toContain('6 problems');
    for (const issue of error.issues) expect(error.message).toContain(issue.variable);
  });

  it('never echoes the value of a secret in an error', () => {
    const error = catchConfigError(() => loadConfig(Schema, { ...valid, OFFSITE_PG_PASSWORD: 'hunter2' }));
    expect(error.issues).toEqual([
      { variable: 'OFFSITE_PG_PASSWORD', message: 'must NOT have fewer than 8 characters' },
    ]);
    expect(error.message).not.toContain('hunter2');
  });

  it('reads X_FILE variables for secrets and trims the content', () => {
    const file = join(dir, 'pg-password');
    writeFileSync(file, '  s3cret-from-file\n');
    const { OFFSITE_PG_PASSWORD: _omit, ...rest } = valid;
    const config = loadConfig(Schema, { ...rest, OFFSITE_PG_PASSWORD_FILE: file });
    expect(config.OFFSITE_PG_PASSWORD).toBe('s3cret-from-file');
  });

  it('coerces values read from files like any other', () => {
    const file = join(dir, 'port');
    writeFileSync(file, '1883\n');
    expect(loadConfig(Schema, { ...valid, OFFSITE_HTTP_PORT_FILE: file }).OFFSITE_HTTP_PORT).toBe(1883);
  });

  it('reports an unreadable X_FILE and a variable set both ways, alongside other problems', () => {
    const error = catchConfigError(() =>
      loadConfig(Schema, {
        ...valid,
        OFFSITE_PG_PASSWORD: undefined,
        OFFSITE_PG_PASSWORD_FILE: join(dir, 'missing'),
        OFFSITE_PG_URL_FILE: join(dir, 'also-missing'),
        OFFSITE_HTTP_PORT: '0',
      }),
    );
    expect(error.issues).toEqual([
      { variable: 'OFFSITE_PG_URL', message: expect.stringContaining('set both directly and through') },
      { variable: 'OFFSITE_PG_PASSWORD_FILE', message: expect.stringContaining('ENOENT') },
      { variable: 'OFFSITE_HTTP_PORT', message: 'must be >= 1 (got "0")' },
    ]);
  });

  it('can turn X_FILE off or read through an injected reader', () => {
    const { OFFSITE_PG_PASSWORD: _omit, ...rest } = valid;
    const env = { ...rest, OFFSITE_PG_PASSWORD_FILE: '/run/secrets/pg' };
    expect(() => loadConfig(Schema, env, { files: false })).toThrow(/OFFSITE_PG_PASSWORD: is required/);
    const config = loadConfig(Schema, env, { files: (path) => `${path}-content ` });
    expect(config.OFFSITE_PG_PASSWORD).toBe('/run/secrets/pg-content');
  });

  it('runs cross-checks and reports them with the schema problems', () => {
    const error = catchConfigError(() =>
      loadConfig(
        Schema,
        { ...valid, OFFSITE_BATCH_MIN: '100', OFFSITE_BATCH_MAX: '50', OFFSITE_HTTP_PORT: 'x' },
        {
          checks: [
            {
              variables: ['OFFSITE_BATCH_MIN', 'OFFSITE_BATCH_MAX'],
              check: (c) =>
                c.OFFSITE_BATCH_MIN <= c.OFFSITE_BATCH_MAX ? undefined : 'must satisfy MIN <= MAX',
            },
            {
              variables: ['OFFSITE_TLS', 'OFFSITE_SMTP_HOST'],
              check: (c) => (c.OFFSITE_TLS && !c.OFFSITE_SMTP_HOST ? 'TLS needs a host' : undefined),
            },
          ],
        },
      ),
    );
    expect(error.issues).toEqual([
      { variable: 'OFFSITE_HTTP_PORT', message: 'must be integer (got "x")' },
      { variable: 'OFFSITE_BATCH_MIN, OFFSITE_BATCH_MAX', message: 'must satisfy MIN <= MAX' },
    ]);
  });

  it('skips a cross-check whose variables already failed the schema', () => {
    const check = jest.fn((): string | undefined => 'should not run');
    const error = catchConfigError(() =>
      loadConfig(
        Schema,
        { ...valid, OFFSITE_BATCH_MIN: 'x' },
        { checks: [{ variables: ['OFFSITE_BATCH_MIN'], check }] },
      ),
    );
    expect(error.issues).toHaveLength(1);
    expect(check).not.toHaveBeenCalled();
  });
});

describe('secretKeys and redact', () => {
  it('lists properties marked secret', () => {
    expect(secretKeys(Schema)).toEqual(['OFFSITE_PG_PASSWORD']);
  });

  it('replaces secret values at any depth and leaves the original untouched', () => {
    const config = {
      OFFSITE_PG_PASSWORD: 'pw',
      nested: { token: 't', keep: 1 },
      list: [{ token: 'x' }],
      unset: undefined,
    };
    const safe = redact(config, ['OFFSITE_PG_PASSWORD', 'token', 'unset']);
    expect(safe).toEqual({
      OFFSITE_PG_PASSWORD: '[REDACTED]',
      nested: { token: '[REDACTED]', keep: 1 },
      list: [{ token: '[REDACTED]' }],
      unset: undefined,
    });
    expect(config.OFFSITE_PG_PASSWORD).toBe('pw');
    expect(JSON.stringify(safe)).not.toMatch(/"pw"|"t"|"x"/);
  });
});
