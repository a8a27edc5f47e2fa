// The Postgres toolkit on the real server: the pool's sessions use the configured schema and
// settings, transaction commits or rolls back, and a connection lost inside a transaction is
// classified as retryable and not handed out again.
import pg from 'pg';
import { createPgClient, createPgPool, isRetryablePgError, transaction } from '../src/index.js';
import { createTestSchema, type TestSchema } from '@offsite/testing';
import { recordingLogger } from './support.js';

let t: TestSchema;
let pool: pg.Pool;
const logger = recordingLogger();

beforeAll(async () => {
  t = await createTestSchema();
  pool = createPgPool({
    url: t.url,
    schema: t.schema,
    settings: { synchronous_commit: 'on' },
    max: 2,
    logger,
  });
  await pool.query('create table items (id int primary key)');
});
afterAll(async () => {
  await pool.end();
  await t.drop();
});

test('every session of the pool and of a client works in the configured schema with the settings', async () => {
  const clients = await Promise.all([pool.connect(), pool.connect()]);
  try {
    for (const c of clients) {
      const r = await c.query<{ schema: string; sync: string }>(
        `select current_schema() as schema, current_setting('synchronous_commit') as sync`,
      );
      expect(r.rows[0]).toEqual({ schema: t.schema, sync: 'on' });
    }
  } finally {
    for (const c of clients) c.release();
  }
  const client = createPgClient({ url: t.url, schema: t.schema });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(`select count(*) as n from items`);
    expect(r.rows[0]?.n).toBe('0');
  } finally {
    await client.end();
  }
});

test('transaction commits what fn did when it resolves', async () => {
  const out = await transaction(pool, async (c) => {
    await c.query('insert into items (id) values (1), (2)');
    return 'done';
  });
  expect(out).toBe('done');
  expect((await pool.query('select id from items order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
});

test('transaction rolls back and rethrows the same error when fn throws', async () => {
  const boom = new Error('refused halfway');
  await expect(
    transaction(pool, async (c) => {
      await c.query('insert into items (id) values (3)');
      throw boom;
    }),
  ).rejects.toBe(boom);
  const dup = await transaction(pool, async (c) => {
    await c.query('insert into items (id) values (4)');
    await c.query('insert into items (id) values (1)');
  }).catch((e: unknown) => e);
  expect((dup as { code?: string }).code).toBe('23505');
  expect(isRetryablePgError(dup)).toBe(false);
  expect((await pool.query('select id from items order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  expect(pool.idleCount).toBeGreaterThan(0);
});

test('a connection lost inside a transaction is retryable and closed, and the pool carries on', async () => {
  let pid = 0;
  const lost = await transaction(pool, async (c) => {
    pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await c.query('insert into items (id) values (5)');
    const other = new pg.Client({ connectionString: t.url });
    await other.connect();
    try {
      await other.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await other.end();
    }
    await c.query('select 1');
  }).catch((e: unknown) => e);
  expect(lost).toBeInstanceOf(Error);
  expect(isRetryablePgError(lost)).toBe(true);
  const pids = await Promise.all(
    [0, 1].map(() =>
      pool.query<{ pid: number }>('select pg_backend_pid() as pid').then((r) => r.rows[0]!.pid),
    ),
  );
  expect(pids).not.toContain(pid);
  expect((await pool.query('select id from items order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
});

test('an idle connection that fails is logged by its message and code, without the client it came from', async () => {
  const c = await pool.connect();
  const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  c.release();
  const other = new pg.Client({ connectionString: t.url });
  await other.connect();
  try {
    await other.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await other.end();
  }
  const deadline = Date.now() + 10_000;
  const failed = () => logger.entries.find((e) => e.msg === 'idle Postgres connection failed');
  while (!failed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const entry = failed();
  expect(entry?.level).toBe('warn');
  // pg-pool hangs the client on the error; its connection settings must not reach the log.
  expect(entry!.obj).toEqual({ err: { message: expect.any(String), code: expect.anything() } });
  expect(JSON.stringify(entry!.obj)).not.toMatch(/connectionParameters|_poolUseCount|secretKey/);
});
