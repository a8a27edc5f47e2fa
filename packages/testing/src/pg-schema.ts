// A Postgres schema of a test's own on the shared server (OFFSITE_PG_URL, or a server the test names), so test
// files can run in parallel: `test_<random>` (or `<prefix>_<random>`), a pool whose sessions use only it (with the
// service's own session settings when given), and drop().
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pgSessionOptions } from '@offsite/runtime';
import { requireEnv } from './env.js';

export interface TestSchema {
  schema: string;
  url: string;
  /** The pool's session `options` (search_path and settings), for a test's own further clients. */
  options: string;
  /** A pool whose connections use only this schema (search_path). */
  pool: pg.Pool;
  /** Ends the pool and drops the schema with everything in it. */
  drop(): Promise<void>;
}

export interface TestSchemaOptions {
  /** Schema name prefix (a lower-case identifier); default `test`. */
  prefix?: string;
  /** The pool's most connections; default 5. */
  max?: number;
  /** application_name of the pool's sessions, e.g. to find (and terminate) a test's own backends. */
  applicationName?: string;
  /** Further settings of every session, as the service's own pool sets them (e.g. `{ synchronous_commit: 'on' }`). */
  settings?: Readonly<Record<string, string>>;
  /** Another Postgres server than OFFSITE_PG_URL (e.g. a test's private one). */
  url?: string;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestSchema(o: TestSchemaOptions = {}): Promise<TestSchema> {
  const url = o.url ?? requireEnv('OFFSITE_PG_URL');
  const schema = `${o.prefix ?? 'test'}_${randomBytes(6).toString('hex')}`;
  const options = pgSessionOptions(schema, o.settings);
  await admin(url, (c) => c.query(`create schema ${schema}`));
  const pool = new pg.Pool({
    connectionString: url,
    options,
    max: o.max ?? 5,
    ...(o.applicationName ? { application_name: o.applicationName } : {}),
  });
  // A test that terminates backends must not crash on an idle client's error.
  pool.on('error', () => undefined);
  return {
    schema,
    url,
    options,
    pool,
    async drop() {
      await pool.end();
      await admin(url, (c) => c.query(`drop schema if exists ${schema} cascade`));
    },
  };
}
