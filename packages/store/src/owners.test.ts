// One owner per table: a service's code names only its own tables, the registry (reference data every
// service reads) and other owners' read APIs (views named `…_vN`). Owners follow the migration numbers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMigrations } from './migrate.js';

type Owner = 'registry' | 'alerter' | 'console' | 'analyzer' | 'hj212-gateway';
const repo = fileURLToPath(new URL('../../../', import.meta.url));

function ownerOf(version: number): Owner {
  if (version < 10) return 'registry';
  if (version < 20) return 'alerter';
  if (version < 30 || (version >= 40 && version < 50)) return 'console';
  if (version < 40) return 'analyzer';
  if (version >= 50 && version < 60) return 'hj212-gateway';
  if (version >= 60 && version < 65) return 'analyzer';
  if (version >= 75 && version < 85) return 'console';
  if (version >= 87 && version < 90) return 'console';
  throw new Error(`migration ${version} has no owner: extend ownerOf and docs/architecture.md`);
}

/** Source directories of each owning service. */
const CODE: Record<Exclude<Owner, 'registry'>, string[]> = {
  alerter: ['services/alerter/src'],
  console: ['services/console/src'],
  analyzer: ['services/analyzer/src'],
  'hj212-gateway': ['services/hj212-gateway/src'],
};

function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && /\.ts$/.test(f.name) && !/\.test\.ts$/.test(f.name))
    .map((f) => {
      const path = join(f.parentPath, f.name);
      return { path: path.slice(repo.length), text: readFileSync(path, 'utf8') };
    });
}

test("no service's code names a table another service owns", async () => {
  const tables = new Map<string, Owner>();
  for (const m of await loadMigrations()) {
    for (const t of m.sql.matchAll(/create table (?:if not exists )?([a-z_][a-z0-9_]*)/g))
      tables.set(t[1]!, ownerOf(m.version));
    // A view is the owner's too unless it is a read API (`…_vN`), e.g. the console's review_cases.
    for (const v of m.sql.matchAll(/create (?:or replace )?view ([a-z_][a-z0-9_]*)/g))
      if (!/_v\d+$/.test(v[1]!)) tables.set(v[1]!, ownerOf(m.version));
  }
  expect(tables.get('alert_cases')).toBe('alerter');
  expect(tables.get('review_decision_outbox')).toBe('console');
  expect(tables.get('review_cases')).toBe('console');
  expect(tables.has('alerter_cases_v1')).toBe(false);
  expect(tables.get('gateway_commands')).toBe('hj212-gateway');
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
