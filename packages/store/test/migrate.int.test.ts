import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMigrationsDir, runMigrations, StoreError } from '../src/index.js';
import { createTestSchema, recordingLogger, type TestSchema } from './pg-test-schema.js';

const logger = recordingLogger();
let db: TestSchema;

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
  expect(result.applied).toEqual(['001_registry.sql']);
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
  expect(second.alreadyApplied).toEqual(['001_registry.sql']);
  const after = await db.pool.query('select version, applied_at from schema_migrations');
  expect(after.rows).toEqual(before.rows);
});

test('concurrent starters do not race: exactly one applies each migration', async () => {
  const results = await Promise.all([1, 2, 3].map(() => runMigrations(db.pool, { logger })));
  const applied = results.flatMap((r) => r.applied);
  expect(applied).toEqual(['001_registry.sql']);
  const count = await db.pool.query<{ n: string }>('select count(*) as n from schema_migrations');
  expect(count.rows[0]?.n).toBe('1');
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
      join(dir, '002_broken.sql'),
      'create table half_done (id int);\nselect no_such_function();\n',
    );
    const err: unknown = await runMigrations(db.pool, { logger, dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('MIGRATION_FAILED');
    expect((err as StoreError).cause).toBeDefined();
    expect(await tables(db.schema)).not.toContain('half_done');
    const versions = await db.pool.query<{ version: number }>('select version from schema_migrations');
    expect(versions.rows.map((r) => r.version)).toEqual([1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
