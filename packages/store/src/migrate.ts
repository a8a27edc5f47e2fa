import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { isRetryablePgError, StoreError } from './errors.js';
import type { Logger } from './logger.js';
import { inTransaction } from './pg.js';

/** The migrations shipped with this package (`packages/store/migrations`). */
export const defaultMigrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface Migration {
  /** `NNN` from the file name, e.g. 1 for `001_registry.sql`. */
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file; an applied migration whose file changed afterwards is an error. */
  checksum: string;
}

export interface MigrateOptions {
  logger: Logger;
  /** Directory of `NNN_name.sql` files; defaults to the package's own migrations. */
  dir?: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
  schema: string;
}

const FILE_RE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: string = defaultMigrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = FILE_RE.exec(file);
    if (!m) {
      throw new StoreError('MIGRATION_FILE_INVALID', `migration file name must be NNN_name.sql: ${file}`, {
        retryable: false,
      });
    }
    const sql = await readFile(`${dir.replace(/\/$/, '')}/${file}`, 'utf8');
    const version = Number(m[1]);
    if (migrations.some((x) => x.version === version)) {
      throw new StoreError('MIGRATION_FILE_INVALID', `two migrations share version ${m[1]}`, {
        retryable: false,
      });
    }
    migrations.push({ version, name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

/**
 * Apply pending migrations to the first schema of the connection's search_path, in order, each in
 * its own transaction together with its `schema_migrations` row. A session advisory lock keyed by
 * the schema makes concurrent starters wait for each other; the loser then finds nothing to do.
 */
export async function runMigrations(pool: pg.Pool, options: MigrateOptions): Promise<MigrateResult> {
  const log = options.logger.child({ component: 'store.migrate' });
  const migrations = await loadMigrations(options.dir);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new StoreError('MIGRATION_FAILED', 'cannot connect to Postgres to migrate', {
      retryable: isRetryablePgError(err),
      cause: err,
    });
  }
  let lockKey: string | undefined;
  const result: MigrateResult = { applied: [], alreadyApplied: [], schema: '' };
  try {
    const schemaRow = await client.query<{ schema: string | null }>('select current_schema() as schema');
    const schema = schemaRow.rows[0]?.schema;
    if (!schema) {
      throw new StoreError(
        'MIGRATION_FAILED',
        'no schema to migrate: the search_path names no existing schema',
        {
          retryable: false,
        },
      );
    }
    result.schema = schema;
    lockKey = `offsite.store.migrations:${schema}`;
    await client.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`create table if not exists schema_migrations (
      version     integer primary key,
      name        text not null,
      checksum    text not null,
      applied_at  timestamptz not null default now()
    )`);
    const done = await client.query<{ version: number; name: string; checksum: string }>(
      'select version, name, checksum from schema_migrations order by version',
    );
    const applied = new Map(done.rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const prior = applied.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new StoreError(
            'MIGRATION_CHECKSUM_MISMATCH',
            `migration ${m.name} was applied as ${prior.name} with a different content; add a new migration instead of editing it`,
            { retryable: false },
          );
        }
        result.alreadyApplied.push(m.name);
        continue;
      }
      const c = client;
      try {
        await inTransaction(c, async () => {
          await c.query(m.sql);
          await c.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
            m.version,
            m.name,
            m.checksum,
          ]);
        });
      } catch (err) {
        throw new StoreError('MIGRATION_FAILED', `migration ${m.name} failed: ${(err as Error).message}`, {
          retryable: isRetryablePgError(err),
          cause: err,
        });
      }
      log.info({ schema, migration: m.name }, 'migration applied');
      result.applied.push(m.name);
    }
    return result;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('MIGRATION_FAILED', `migrating failed: ${(err as Error).message}`, {
      retryable: isRetryablePgError(err),
      cause: err,
    });
  } finally {
    let unlockFailed: Error | undefined;
    if (lockKey !== undefined) {
      await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey]).catch((err: Error) => {
        unlockFailed = err;
      });
    }
    // A connection that may still hold the lock must not go back to the pool.
    client.release(unlockFailed);
  }
}
