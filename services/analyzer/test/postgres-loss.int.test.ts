// The analyzer's Postgres connections when their backends are terminated (what a Postgres restart does to them):
// the registry LISTEN connection is replaced and the registry reloaded, idle pool clients are dropped, and
// nothing emits an unhandled 'error' (which would fail this test file by crashing the worker).
// Only this file's own backends are terminated (matched by a unique application_name).
import { randomBytes } from 'node:crypto';
import { createMemoryLogger } from '@offsite/runtime';
import { REGISTRY_CHANNEL, startRegistryListener, type Listener } from '@offsite/store';
import { requireEnv, until } from '@offsite/testing';
import pg from 'pg';

const suffix = randomBytes(4).toString('hex');
const schema = `test_analyzer_pgloss_${suffix}`;
const appName = `test-analyzer-pgloss-${suffix}`;
const logger = createMemoryLogger();
let pool: pg.Pool;
let admin: pg.Client;
let listener: Listener | undefined;
const poolErrors: Error[] = [];

async function terminateOurBackends(filter = ''): Promise<number> {
  const res = await admin.query<{ pid: number }>(
    `select pg_terminate_backend(pid) as t, pid from pg_stat_activity where application_name = $1 ${filter}`,
    [appName],
  );
  return res.rowCount ?? 0;
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: requireEnv('OFFSITE_PG_URL') });
  await admin.connect();
  pool = new pg.Pool({
    connectionString: requireEnv('OFFSITE_PG_URL'),
    application_name: appName,
    max: 4,
  });
  // As services/analyzer/src/main.ts does: an idle client's error is logged, not thrown.
  pool.on('error', (err) => poolErrors.push(err));
});

afterAll(async () => {
  await listener?.stop();
  await pool.end();
  await admin.end();
});

test('a terminated LISTEN connection is replaced, the registry reloaded, later changes still arrive', async () => {
  const changes: string[] = [];
  let resumed = 0;
  listener = await startRegistryListener({
    pool,
    schema,
    onChange: (c) => changes.push(c.table),
    onResumed: () => resumed++,
    logger,
    retryMs: 100,
    maxRetryMs: 400,
  });
  await admin.query(`select pg_notify($1, $2)`, [REGISTRY_CHANNEL, `${schema}.permit_limits`]);
  await until(() => changes.length === 1, 5_000, 'first notification');

  expect(await terminateOurBackends(`and query ilike 'listen%'`)).toBe(1);
  await until(() => resumed === 1, 10_000, 'listener resumed');
  expect(listener.isListening()).toBe(true);
  expect(listener.resumes).toBe(1);
  expect(logger.entries.some((e) => e.message.includes('LISTEN connection lost'))).toBe(true);

  await admin.query(`select pg_notify($1, $2)`, [REGISTRY_CHANNEL, `${schema}.outlets`]);
  await until(() => changes.length === 2, 5_000, 'notification after the reconnect');
  expect(changes).toEqual(['permit_limits', 'outlets']);
});

test('idle pool clients terminated together with the listener: pool queries work again, the listener resumes', async () => {
  // Put idle clients in the pool next to the listener's checked-out one.
  await Promise.all([pool.query('select pg_sleep(0.05)'), pool.query('select pg_sleep(0.05)')]);
  const before = listener!.resumes;
  expect(await terminateOurBackends()).toBeGreaterThanOrEqual(3);
  await until(() => listener!.resumes === before + 1, 10_000, 'listener resumed again');
  // The pool dropped the dead idle clients (reported on its 'error' event) and connects anew.
  await until(() => poolErrors.length >= 2, 5_000, 'idle client errors reported');
  const res = await pool.query<{ one: number }>('select 1 as one');
  expect(res.rows[0]?.one).toBe(1);
});

test('the first connection failing fails the start (the lifecycle reports it; only later losses are retried)', async () => {
  const failing = {
    attempts: 0,
    connect(): Promise<pg.PoolClient> {
      this.attempts++;
      return Promise.reject(new Error('connect ECONNREFUSED (test)'));
    },
  };
  await expect(
    startRegistryListener({
      pool: failing,
      schema,
      onChange: () => undefined,
      onResumed: () => undefined,
      logger,
    }),
  ).rejects.toThrow('ECONNREFUSED');
  expect(failing.attempts).toBe(1);
});
