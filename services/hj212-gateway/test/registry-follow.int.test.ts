// The gateway's device directory follows the registry through the store's registry listener: when
// the LISTEN backend is terminated (what a Postgres restart does), the connection is replaced, the
// directory is cleared (changes made meanwhile sent no notification that arrived), and later changes
// still reach the gateway. Only this file's own LISTEN backend is terminated (unique application_name).
import { createMemoryLogger } from '@offsite/runtime';
import { findDeviceByMn, importRegistry, runMigrations, type Listener } from '@offsite/store';
import { createTestSchema, silentLogger, until, type TestSchema } from '@offsite/testing';
import pg from 'pg';
import { createDeviceDirectory } from '../src/device-directory.js';
import { followRegistry } from '../src/registry-follow.js';

const examplePath = new URL('../../../registry/example.yaml', import.meta.url).pathname;
const MN = '99010201FG00010000000001';
const logger = createMemoryLogger();
let db: TestSchema;
let appName: string;
let pool: pg.Pool;
let schema: string;
let admin: pg.Client;
let listener: Listener | undefined;

beforeAll(async () => {
  appName = `test-gw-follow-${process.pid}-${Date.now()}`;
  db = await createTestSchema({ prefix: 'test_gw_follow', applicationName: appName, max: 4 });
  ({ pool, schema } = db);
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });
});

afterAll(async () => {
  await listener?.stop();
  await admin.end();
  await db.drop();
});

test('after the LISTEN backend is terminated, a change made while it was gone and a later one both reach the directory', async () => {
  // A TTL far beyond the test: only a clear() can make the directory read the registry again.
  const directory = createDeviceDirectory({ find: (mn) => findDeviceByMn(pool, mn), ttlMs: 3_600_000 });
  // While `blocked`, new connections fail (Postgres still down): the change below is made while
  // nothing listens, so only the reaction to the reconnect can bring it.
  let blocked = false;
  let connects = 0;
  const gated = {
    connect: () => {
      connects++;
      return blocked ? Promise.reject(new Error('connect ECONNREFUSED (test)')) : pool.connect();
    },
  } as Pick<pg.Pool, 'connect'>;
  listener = await followRegistry({ directory, pool: gated, schema, logger, retryMs: 100, maxRetryMs: 200 });
  const before = (await directory.lookup(MN))?.password;
  expect(before).toBeDefined();

  blocked = true;
  const terminated = await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and query ilike 'listen%'`,
    [appName],
  );
  expect(terminated.rowCount).toBe(1);
  await until(() => connects >= 2, 10_000, 'a failed reconnect');
  expect(listener.isListening()).toBe(false);
  await admin.query(`update ${schema}.devices set password = 'pw-while-down' where mn = $1`, [MN]);
  expect((await directory.lookup(MN))?.password).toBe(before);

  blocked = false;
  await until(() => listener!.resumes === 1, 10_000, 'listener resumed');
  expect((await directory.lookup(MN))?.password).toBe('pw-while-down');

  await admin.query(`update ${schema}.devices set password = 'pw-after' where mn = $1`, [MN]);
  await until(
    async () => (await directory.lookup(MN))?.password === 'pw-after',
    10_000,
    'the change after the reconnect',
  );
  expect(logger.entries.some((e) => e.message.includes('LISTEN connection lost'))).toBe(true);
});
