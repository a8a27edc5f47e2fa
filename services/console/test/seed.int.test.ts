// `npm run seed` (the demo's console users): one generated password per account, kept only in the
// credentials file (mode 600), never printed; a second run keeps the passwords.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger } from '@offsite/testing';
import { login } from '../src/auth.js';
import { examplePath } from './fixture.js';

const run = promisify(execFile);
const serviceDir = path.resolve(import.meta.dirname, '..');
const schema = `test_seed_${randomBytes(4).toString('hex')}`;
const url = requireEnv('OFFSITE_PG_URL');
const schemaUrl = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
let pool: pg.Pool;
let dir: string;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  pool = new pg.Pool({ connectionString: schemaUrl, max: 2 });
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });
  dir = await mkdtemp(path.join(tmpdir(), 'offsite-seed-'));
});
afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
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
