import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../src/index.js';

export interface TestSchema {
  schema: string;
  url: string;
  /** A pool whose connections use only this schema (search_path). */
  pool: pg.Pool;
  drop(): Promise<void>;
}

export function pgUrl(): string {
  const url = process.env.OFFSITE_PG_URL;
  if (!url) {
    throw new Error(
      'OFFSITE_PG_URL is not set: start the servers with `infra/bin/offsite-infra up` (writes .offsite/env) or export it',
    );
  }
  return url;
}

/** A fresh schema `test_<random>` so test files can run in parallel; drop() removes it. */
export async function createTestSchema(): Promise<TestSchema> {
  const url = pgUrl();
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 5 });
  return {
    schema,
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: object;
  msg?: string;
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const make = (): Logger & { entries: LogEntry[] } => ({
    entries,
    info: (obj, msg) => void entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void entries.push({ level: 'error', obj, msg }),
    debug: (obj, msg) => void entries.push({ level: 'debug', obj, msg }),
    child: () => make(),
  });
  return make();
}
