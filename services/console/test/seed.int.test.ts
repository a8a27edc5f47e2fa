// `npm run seed` (the demo's console users): one generated password per account, kept only in the
// credentials file (mode 600), never printed; a second run keeps the passwords.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { importRegistry, runMigrations } from '@offsite/store';
import { createTestSchema, silentLogger, type TestSchema } from '@offsite/testing';
import { login } from '../src/auth.js';
import { examplePath } from './fixture.js';

const run = promisify(execFile);
const serviceDir = path.resolve(import.meta.dirname, '..');
let db: TestSchema;
let schemaUrl: string;
let pool: pg.Pool;
let dir: string;

beforeAll(async () => {
  db = await createTestSchema({ prefix: 'test_seed', max: 2 });
  pool = db.pool;
  const url = db.url;
  schemaUrl = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(db.options)}`;
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });
  dir = await mkdtemp(path.join(tmpdir(), 'offsite-seed-'));
});
afterAll(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

const seed = (file: string) =>
  run('node', ['--conditions=offsite-source', '--import', 'tsx', 'src/seed-cli.ts'], {
    cwd: serviceDir,
    env: { ...process.env, OFFSITE_PG_URL: schemaUrl, OFFSITE_CONSOLE_DEMO_CREDENTIALS: file },
  });

test('each demo account gets its own password, only in a mode-600 file, never on stdout', async () => {
  const file = path.join(dir, 'credentials');
  const first = await seed(file);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const entries = [...(await readFile(file, 'utf8')).matchAll(/^([a-z0-9._-]+)=(\S+)$/gm)].map(
    (m) => [m[1]!, m[2]!] as const,
  );
  const users = entries.map(([u]) => u);
  expect(users).toEqual(expect.arrayContaining(['admin', 'supervisor', 'viewer', 'officer-dist-landong']));
  const passwords = entries.map(([, p]) => p);
  expect(new Set(passwords).size).toBe(passwords.length);
  for (const p of passwords) {
    expect(p.length).toBeGreaterThanOrEqual(16);
    expect(first.stdout + first.stderr).not.toContain(p);
  }
  const policy = { idleMs: 60_000, absoluteMs: 60_000 };
  const sup = Object.fromEntries(entries)['supervisor']!;
  expect(await login(pool, 'supervisor', sup, policy)).toBeDefined();
  // Another account's password does not open this one.
  expect(await login(pool, 'supervisor', Object.fromEntries(entries)['viewer']!, policy)).toBeUndefined();

  // A second run (the demo starts again) keeps every password.
  await seed(file);
  expect(await readFile(file, 'utf8')).toContain(`supervisor=${sup}\n`);
  expect(await login(pool, 'supervisor', sup, policy)).toBeDefined();
});
