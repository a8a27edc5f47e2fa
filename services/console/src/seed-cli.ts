// `npm run seed`: creates the demo users, each with its own generated password, kept in the
// credentials file OFFSITE_CONSOLE_DEMO_CREDENTIALS (mode 600; `username=password` lines, existing
// entries reused). Prints the usernames and roles, never a password.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, createLogger, loadConfig, PgSchema, PgUrl } from '@offsite/runtime';
import { createPgPool, runMigrations } from '@offsite/store';
import { Type } from '@sinclair/typebox';
import { seedDemoUsers } from './seed.js';

const SeedEnv = Type.Object({
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
  OFFSITE_CONSOLE_DEMO_CREDENTIALS: Type.String({ minLength: 1 }),
});
let env;
try {
  env = loadConfig(SeedEnv, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}
const file = env.OFFSITE_CONSOLE_DEMO_CREDENTIALS;
const known = new Map<string, string>();
const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'ENOENT') return '';
  throw e;
});
for (const m of text.matchAll(/^([a-z0-9._-]+)=(\S{12,})$/gm)) known.set(m[1]!, m[2]!);
const passwordFor = (username: string): string => {
  let pw = known.get(username);
  if (!pw) known.set(username, (pw = randomBytes(15).toString('base64url')));
  return pw;
};

const logger = createLogger({ service: 'console-seed', level: 'warn' });
const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 2, logger });
try {
  await runMigrations(pool, { logger });
  const users = await seedDemoUsers(pool, passwordFor);
  await mkdir(dirname(file), { recursive: true });
  const lines = users.map((u) => `${u.username}=${known.get(u.username)}`);
  await writeFile(
    file,
    `# Console demo users, one generated password each (npm run seed -w @offsite/console).\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
  await chmod(file, 0o600);
  for (const u of users) process.stdout.write(`${u.username}\t${u.role}\t${u.districtId ?? '-'}\n`);
  process.stdout.write(`passwords: ${file}\n`);
} finally {
  await pool.end();
}
