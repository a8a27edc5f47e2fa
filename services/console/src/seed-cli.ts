// `npm run seed`: creates the demo users with the password from OFFSITE_CONSOLE_DEMO_PASSWORD and prints them.
import pg from 'pg';
import { ConfigError, createLogger, loadConfig } from '@offsite/runtime';
import { runMigrations } from '@offsite/store';
import { Type } from '@sinclair/typebox';
import { seedDemoUsers } from './seed.js';

const SeedEnv = Type.Object({
  OFFSITE_PG_URL: Type.String({ secret: true }),
  OFFSITE_CONSOLE_DEMO_PASSWORD: Type.String({ minLength: 8, secret: true }),
});
let env;
try {
  env = loadConfig(SeedEnv, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}
const pool = new pg.Pool({ connectionString: env.OFFSITE_PG_URL, max: 2 });
try {
  await runMigrations(pool, { logger: createLogger({ service: 'console-seed', level: 'warn' }) });
  const pw = env.OFFSITE_CONSOLE_DEMO_PASSWORD;
  const users = await seedDemoUsers(pool, { admin: pw, supervisor: pw, officer: pw, viewer: pw });
  for (const u of users)
    process.stdout.write(`${u.username}\t${u.role}\t${u.districtId ?? '-'}\tpassword: ${pw}\n`);
} finally {
  await pool.end();
}
