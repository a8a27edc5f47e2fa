// One owner per table: a service's code names only its own tables, the registry (reference data every
// service reads) and other owners' read APIs (views named `…_vN`). Owners follow the migration numbers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMigrations } from './migrate.js';

type Owner = 'registry' | 'alerter' | 'console' | 'analyzer' | 'hj212-gateway' | 'video-gateway';
const repo = fileURLToPath(new URL('../../../', import.meta.url));

function ownerOf(version: number): Owner {
  if (version < 10) return 'registry';
  if (version < 20) return 'alerter';
  if (version < 30 || (version >= 40 && version < 50)) return 'console';
  if (version < 40) return 'analyzer';
  if (version >= 50 && version < 60) return 'hj212-gateway';
  if (version >= 60 && version < 65) return 'analyzer';
  if (version === 65) return 'alerter';
  if (version === 66) return 'console';
  if (version >= 75 && version < 85) return 'console';
  if (version >= 87 && version < 100) return 'console';
  if (version === 100) return 'registry';
  if (version === 101) return 'analyzer';
  if (version >= 105 && version <= 115) return 'console';
  if (version === 116) return 'alerter';
  if (version === 125) return 'analyzer';
  if (version === 145) return 'analyzer';
  if (version === 150) return 'console';
  if (version === 190) return 'registry';
  if (version === 191) return 'alerter';
  if (version === 205) return 'registry';
  if (version === 215) return 'registry';
  if (version === 216) return 'video-gateway';
  if (version === 225) return 'analyzer';
  if (version === 230) return 'registry';
  if (version === 231) return 'analyzer';
  if (version === 240) return 'video-gateway';
  throw new Error(`migration ${version} has no owner: extend ownerOf and docs/architecture.md`);
}

/** Source directories of each owning service. */
const CODE: Record<Exclude<Owner, 'registry'>, string[]> = {
  alerter: ['services/alerter/src'],
  console: ['services/console/src'],
  analyzer: ['services/analyzer/src'],
  'hj212-gateway': ['services/hj212-gateway/src'],
  'video-gateway': ['services/video-gateway/src'],
};

function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && /\.ts$/.test(f.name) && !/\.test\.ts$/.test(f.name))
    .map((f) => {
      const path = join(f.parentPath, f.name);
      return { path: path.slice(repo.length), text: readFileSync(path, 'utf8') };
    });
}

type Migration = { version: number; sql: string };

/** The owner of every table and of every view that is not a read API (`…_vN`, e.g. the console's review_cases). */
function tableOwners(migrations: readonly Migration[]): Map<string, Owner> {
  const tables = new Map<string, Owner>();
  for (const m of migrations) {
    for (const t of m.sql.matchAll(/create table (?:if not exists )?([a-z_][a-z0-9_]*)/g))
      tables.set(t[1]!, ownerOf(m.version));
    for (const t of m.sql.matchAll(/drop table (?:if exists )?([a-z_][a-z0-9_]*)/g)) {
      // Only its owner drops a table.
      expect(`${t[1]} dropped by ${ownerOf(m.version)}`).toBe(`${t[1]} dropped by ${tables.get(t[1]!)}`);
      tables.delete(t[1]!);
    }
    for (const v of m.sql.matchAll(/create (?:or replace )?view ([a-z_][a-z0-9_]*)/g))
      if (!/_v\d+$/.test(v[1]!)) tables.set(v[1]!, ownerOf(m.version));
  }
  return tables;
}

/**
 * Triggers that remain after every migration, each with its table and the owner of the migration that
 * created it, in `owner: trigger on table (table's owner)` form when the two owners differ.
 * (The registry's triggers, created by `execute format(...)` loops over its own tables, are not named.)
 */
function foreignTriggers(migrations: readonly Migration[]): string[] {
  const tables = tableOwners(migrations);
  const triggers = new Map<string, { table: string; owner: Owner }>();
  const statement =
    /\b(create|drop) trigger (?:if exists )?([a-z_][a-z0-9_]*)\s[^;]*?\bon ([a-z_][a-z0-9_]*)/g;
  for (const m of migrations) {
    for (const [, verb, name, table] of m.sql.replace(/--[^\n]*/g, '').matchAll(statement)) {
      const key = `${name} on ${table}`;
      if (verb === 'drop') triggers.delete(key);
      else triggers.set(key, { table: table!, owner: ownerOf(m.version) });
    }
  }
  return [...triggers]
    .filter(([, t]) => tables.get(t.table) !== t.owner)
    .map(([key, t]) => `${t.owner}: ${key} (${tables.get(t.table) ?? 'unknown'})`);
}

test("no service's code names a table another service owns", async () => {
  const tables = tableOwners(await loadMigrations());
  expect(tables.get('alert_cases')).toBe('alerter');
  expect(tables.get('review_decision_outbox')).toBe('console');
  expect(tables.get('review_cases')).toBe('console');
  expect(tables.has('alerter_cases_v1')).toBe(false);
  expect(tables.get('gateway_commands')).toBe('hj212-gateway');
  // Retired by its owner (110): the monthly submission is the one submission.
  expect(tables.has('district_reports')).toBe(false);
  expect(tables.get('submission_versions')).toBe('console');
  const found: string[] = [];
  for (const [owner, dirs] of Object.entries(CODE)) {
    const foreign = [...tables].filter(([, o]) => o !== owner && o !== 'registry').map(([t]) => t);
    const re = new RegExp(`\\b(${foreign.join('|')})\\b`, 'g');
    for (const dir of dirs)
      for (const f of sources(dir))
        for (const hit of f.text.matchAll(re)) found.push(`${f.path}: ${hit[1]} (${tables.get(hit[1]!)})`);
  }
  expect(found).toEqual([]);
});

test('no service probes for tables with to_regclass', () => {
  const found = ['services', 'packages'].flatMap((root) =>
    readdirSync(join(repo, root)).flatMap((d) => {
      try {
        return sources(join(root, d, 'src'))
          .filter((f) => f.text.includes('to_regclass'))
          .map((f) => f.path);
      } catch {
        return [];
      }
    }),
  );
  expect(found).toEqual([]);
});

test("each table has triggers of its owner only: a trigger on another owner's table fails", async () => {
  const migrations = await loadMigrations();
  expect(foreignTriggers(migrations)).toEqual([]);
  // The check sees a trigger another owner's migration puts on a table, and its removal.
  const console021 = {
    version: 21,
    sql: 'create trigger t_notify after insert or update of status on alert_cases for each row execute function f();',
  };
  expect(foreignTriggers([...migrations, console021])).toEqual([
    'console: t_notify on alert_cases (alerter)',
  ]);
  const alerter065 = { version: 65, sql: 'drop trigger t_notify on alert_cases;' };
  expect(foreignTriggers([...migrations, console021, alerter065])).toEqual([]);
});
