import { isRetryablePgError } from './errors.js';
import { pgConfig } from './pg.js';

test('pgConfig puts the schema first in the search_path, adds the settings and the connect timeout', () => {
  expect(
    pgConfig({
      url: 'postgres://u@h/db',
      schema: 'offsite',
      settings: { synchronous_commit: 'on' },
      connectionTimeoutMs: 5_000,
    }),
  ).toEqual({
    connectionString: 'postgres://u@h/db',
    options: '-c search_path=offsite -c synchronous_commit=on',
    connectionTimeoutMillis: 5_000,
  });
  expect(pgConfig({ url: 'postgres://h/db', schema: 'public' })).toEqual({
    connectionString: 'postgres://h/db',
    options: '-c search_path=public',
  });
});

test('pgConfig refuses a schema or a setting that could smuggle more options', () => {
  expect(() => pgConfig({ url: 'postgres://h/db', schema: 'a -c role=postgres' })).toThrow(RangeError);
  expect(() => pgConfig({ url: 'postgres://h/db', schema: 'Public' })).toThrow(/not a schema name/);
  expect(() =>
    pgConfig({ url: 'postgres://h/db', schema: 'x', settings: { synchronous_commit: 'on -c role=x' } }),
  ).toThrow(/not a Postgres setting/);
});

test('isRetryablePgError: connection loss, serialization and overload retry; bad data and bugs do not', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  for (const code of ['ECONNREFUSED', 'ECONNRESET', '08006', '40001', '40P01', '53300', '57P01'])
    expect([code, isRetryablePgError(withCode(code))]).toEqual([code, true]);
  for (const code of ['23505', '42P01', '22P02', '42501'])
    expect([code, isRetryablePgError(withCode(code))]).toEqual([code, false]);
  expect(isRetryablePgError(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isRetryablePgError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
  expect(isRetryablePgError('down')).toBe(false);
  expect(isRetryablePgError(null)).toBe(false);
});
