import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMigrationsDir, loadMigrations, runMigrations, StoreError } from '../src/index.js';
import { createTestSchema, type TestSchema } from '@offsite/testing';
import { recordingLogger } from './support.js';

const logger = recordingLogger();
let db: TestSchema;
// Every service adds migrations in its own number range: the tests follow the directory.
let shipped: string[];

beforeAll(async () => {
  shipped = (await loadMigrations()).map((m) => m.name);
});

beforeEach(async () => {
  db = await createTestSchema();
});
afterEach(async () => {
  await db.drop();
});

async function tables(schema: string): Promise<string[]> {
  const res = await db.pool.query<{ table_name: string }>(
    'select table_name from information_schema.tables where table_schema = $1 order by 1',
    [schema],
  );
  return res.rows.map((r) => r.table_name);
}

test('migrations apply on an empty schema, in that schema only', async () => {
  expect(await tables(db.schema)).toEqual([]);
  const result = await runMigrations(db.pool, { logger });
  expect(result.schema).toBe(db.schema);
  expect(result.applied).toEqual(shipped);
  expect(shipped.slice(0, 2)).toEqual(['001_registry.sql', '002_registry_mappings.sql']);
  expect(await tables(db.schema)).toEqual(
    expect.arrayContaining([
      'districts',
      'enterprises',
      'devices',
      'meters',
      'permit_limits',
      'schema_migrations',
    ]),
  );
  const comment = await db.pool.query<{ c: string }>(
    `select col_description('devices'::regclass, attnum) as c from pg_attribute where attrelid = 'devices'::regclass and attname = 'password'`,
  );
  expect(comment.rows[0]?.c).toMatch(/^SECRET/);
});

test('running migrations twice is a no-op', async () => {
  await runMigrations(db.pool, { logger });
  const before = await db.pool.query('select version, applied_at from schema_migrations');
  const second = await runMigrations(db.pool, { logger });
  expect(second.applied).toEqual([]);
  expect(second.alreadyApplied).toEqual(shipped);
  const after = await db.pool.query('select version, applied_at from schema_migrations');
  expect(after.rows).toEqual(before.rows);
});

test('concurrent starters do not race: exactly one applies each migration', async () => {
  const results = await Promise.all([1, 2, 3].map(() => runMigrations(db.pool, { logger })));
  const applied = results.flatMap((r) => r.applied);
  expect(applied).toEqual(shipped);
  const count = await db.pool.query<{ n: string }>('select count(*) as n from schema_migrations');
  expect(count.rows[0]?.n).toBe(String(shipped.length));
});

test('an edited, already applied migration is refused; a failing one rolls back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'store-migrations-'));
  try {
    await cp(defaultMigrationsDir, dir, { recursive: true });
    await runMigrations(db.pool, { logger, dir });
    await writeFile(join(dir, '001_registry.sql'), '-- edited\n', { flag: 'a' });
    await expect(runMigrations(db.pool, { logger, dir })).rejects.toMatchObject({
      code: 'MIGRATION_CHECKSUM_MISMATCH',
      retryable: false,
    });

    await cp(join(defaultMigrationsDir, '001_registry.sql'), join(dir, '001_registry.sql'));
    await writeFile(
      join(dir, '999_broken.sql'),
      'create table half_done (id int);\nselect no_such_function();\n',
    );
    const err: unknown = await runMigrations(db.pool, { logger, dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('MIGRATION_FAILED');
    expect((err as StoreError).cause).toBeDefined();
    expect(await tables(db.schema)).not.toContain('half_done');
    const versions = await db.pool.query<{ version: number }>('select version from schema_migrations');
    expect(versions.rows.map((r) => r.version)).toEqual((await loadMigrations()).map((m) => m.version));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a database migrated before 002 existed picks it up after the later ranges', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'store-migrations-'));
  try {
    await cp(defaultMigrationsDir, dir, { recursive: true });
    await rm(join(dir, '002_registry_mappings.sql'));
    const before = await runMigrations(db.pool, { logger, dir });
    expect(before.applied).not.toContain('002_registry_mappings.sql');
    await db.pool.query(`insert into districts (id, name_zh, name_en) values ('d1', '一区', 'D1')`);
    await db.pool.query(
      `insert into enterprises (id, name_zh, credit_code, district_id, industry, supervision_class)
       values ('e1', '企业', '9144030071526726XG', 'd1', 'other', 'general')`,
    );
    await db.pool.query(
      `insert into outlets (id, enterprise_id, kind, name_zh) values ('o1', 'e1', 'water', '排口')`,
    );
    const device = (mn: string, rt: number) =>
      db.pool.query(
        `insert into devices (mn, outlet_id, password, protocol_version, realtime_interval_s) values ($1, 'o1', 'pw', 2017, $2)`,
        [mn, rt],
      );
    await expect(device('MN0', 0)).rejects.toThrow(/realtime_interval_s/);

    const after = await runMigrations(db.pool, { logger });
    expect(after.applied).toEqual(['002_registry_mappings.sql']);
    await device('MN0', 0);
    await expect(device('MN1', -1)).rejects.toThrow(/devices_realtime_interval_s_check/);
    await expect(device('MN2', 3601)).rejects.toThrow(/devices_realtime_interval_s_check/);
    const col = await db.pool.query<{ is_nullable: string; data_type: string }>(
      `select is_nullable, data_type from information_schema.columns
        where table_schema = $1 and table_name = 'devices' and column_name = 'realtime_interval_s'`,
      [db.schema],
    );
    expect(col.rows).toEqual([{ is_nullable: 'NO', data_type: 'integer' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
