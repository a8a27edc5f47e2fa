/** `offsite migrate`: applies the store's pending Postgres migrations (what the console and alerter may also do at start). */
import { runMigrations } from '@offsite/store';
import { parse } from '../args.js';
import { EXIT_OK, UsageError, type CliIo, type Command } from '../command.js';
import { SETTINGS_USAGE, settingsOptions, withPool } from '../settings.js';
import { operatorLogger } from '../operator-log.js';

export const migrateCommand: Command = {
  path: ['migrate'],
  summary: 'apply pending Postgres migrations (idempotent; safe while services run)',
  usage: [
    'Usage: offsite migrate [--env-file FILE] [--unit FILE]',
    '',
    'Applies the pending migrations of @offsite/store to OFFSITE_PG_SCHEMA (default public) of the',
    'database at OFFSITE_PG_URL (or OFFSITE_PG_URL_FILE), each in its own transaction, and prints',
    'the ones applied. A session lock makes concurrent runs (or a service migrating at start) wait.',
    ...SETTINGS_USAGE,
    'Exit code: 0 done, 1 a migration failed (nothing of it applied), 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, settingsOptions);
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    return withPool(io, 'migrate', values, async (pool) => {
      const result = await runMigrations(pool, { logger: operatorLogger(io) });
      for (const name of result.applied) io.stdout.write(`applied ${name}\n`);
      io.stdout.write(
        `schema ${result.schema}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied\n`,
      );
      return EXIT_OK;
    });
  },
};
