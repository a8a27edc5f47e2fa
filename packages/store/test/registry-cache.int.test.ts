import pg from 'pg';
import {
  createRegistryCache,
  importRegistry,
  runMigrations,
  type RegistryCache,
  type RegistrySnapshot,
} from '../src/index.js';
import { createTestSchema, type TestSchema } from '@offsite/testing';
import { examplePath, recordingLogger } from './support.js';

const logger = recordingLogger();
let db: TestSchema;
let other: TestSchema;

beforeEach(async () => {
  [db, other] = await Promise.all([createTestSchema(), createTestSchema()]);
  await runMigrations(db.pool, { logger });
  await runMigrations(other.pool, { logger });
  await importRegistry(db.pool, { path: examplePath }, { logger });
  await importRegistry(other.pool, { path: examplePath }, { logger });
});
afterEach(async () => {
  await Promise.all([db.drop(), other.drop()]);
});

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

/** Devices by MN → enabled. */
const enabledByMn = (s: RegistrySnapshot): Map<string, boolean> =>
  new Map(s.enterprises.flatMap((e) => e.outlets.flatMap((o) => o.devices.map((d) => [d.mn, d.enabled]))));

/** A cache over `db` indexing devices by MN → enabled, with its own connections (it ends them). */
function cacheOf(reloads: boolean[]): RegistryCache<Map<string, boolean>> {
  const options = `-c search_path=${db.schema}`;
  return createRegistryCache({
    pool: new pg.Pool({ connectionString: db.url, options, max: 3 }),
    schema: db.schema,
    index: enabledByMn,
    logger,
    debounceMs: 50,
    onReload: (ok) => reloads.push(ok),
  });
}

const MN = '99010201FG00010000000001';

test('loads at start and reloads once after a burst of changes in its own schema only', async () => {
  const reloads: boolean[] = [];
  const cache = cacheOf(reloads);
  await cache.start();
  try {
    expect(reloads).toEqual([true]);
    expect(cache.current().size).toBe(12);
    expect(cache.current().get(MN)).toBe(true);

    // Another schema's changes are not ours.
    await other.pool.query(`update devices set enabled = false where mn = $1`, [MN]);
    await settle();
    expect(reloads).toEqual([true]);

    // Two changes within the debounce window: one reload.
    await db.pool.query(`update devices set enabled = false where mn = $1`, [MN]);
    await db.pool.query(`delete from contacts where name = '孙涛'`);
    await until(() => reloads.length === 2, 5_000, 'the reload');
    await settle();
    expect(reloads).toEqual([true, true]);
    expect(cache.current().get(MN)).toBe(false);
  } finally {
    await cache.stop();
  }
});

test('a failed reload keeps the previous index', async () => {
  const reloads: boolean[] = [];
  const cache = cacheOf(reloads);
  await cache.start();
  try {
    const before = cache.current();
    await db.pool.query('alter table devices rename to devices_gone');
    await cache.reload(); // resolves: there is an index to keep
    expect(reloads).toEqual([true, false]);
    expect(cache.current()).toBe(before);
    await db.pool.query('alter table devices_gone rename to devices');
    await cache.reload();
    expect(reloads).toEqual([true, false, true]);
    expect(cache.current()).not.toBe(before);
  } finally {
    await cache.stop();
  }
});

test('a terminated LISTEN connection is replaced and the registry reloaded: changes made while it was gone arrive', async () => {
  const appName = `test-registry-cache-${db.schema}`;
  const pool = new pg.Pool({
    connectionString: db.url,
    options: `-c search_path=${db.schema}`,
    application_name: appName,
    max: 3,
  });
  pool.on('error', () => undefined);
  // While `blocked`, new connections fail (Postgres still down), so the change below is made while
  // nothing listens: only the reload after the reconnect can bring it.
  let blocked = false;
  let connects = 0;
  const gated = {
    query: pool.query.bind(pool),
    end: () => pool.end(),
    connect: () => {
      connects++;
      return blocked ? Promise.reject(new Error('connect ECONNREFUSED (test)')) : pool.connect();
    },
  } as unknown as pg.Pool;
  const reloads: boolean[] = [];
  const cache = createRegistryCache({
    pool: gated,
    schema: db.schema,
    index: enabledByMn,
    logger,
    debounceMs: 50,
    retryMs: 100,
    maxRetryMs: 200,
    onReload: (ok) => reloads.push(ok),
  });
  await cache.start();
  try {
    expect(cache.current().get(MN)).toBe(true);
    blocked = true;
    const terminated = await db.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and query ilike 'listen%'`,
      [appName],
    );
    expect(terminated.rowCount).toBe(1);
    await until(() => connects >= 2, 10_000, 'a failed reconnect');
    await db.pool.query(`update devices set enabled = false where mn = $1`, [MN]);
    await settle();
    expect(cache.current().get(MN)).toBe(true);

    blocked = false;
    await until(() => cache.current().get(MN) === false, 10_000, 'the reload after the reconnect');
    expect(logger.entries.some((e) => e.msg?.includes('LISTEN connection restored'))).toBe(true);

    // Listening again: a later change arrives as a notification.
    await db.pool.query(`update devices set enabled = true where mn = $1`, [MN]);
    await until(() => cache.current().get(MN) === true, 10_000, 'the change after the reconnect');
  } finally {
    await cache.stop();
  }
});
