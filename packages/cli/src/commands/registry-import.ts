/** `offsite registry import FILE [--prune] [--dry-run]`: the registry file into Postgres, printing what changed. */
import { Type } from '@sinclair/typebox';
import { RegistryInvalidError, cityBoundsFrom, importRegistry, type ImportResult } from '@offsite/store';
import { parse } from '../args.js';
import {
  EXIT_CONFIG,
  EXIT_INPUT_PROBLEM,
  EXIT_OK,
  UsageError,
  type CliIo,
  type Command,
} from '../command.js';
import { operatorLogger } from '../operator-log.js';
import {
  PgSettings,
  SETTINGS_USAGE,
  environmentOf,
  openPool,
  settingsOptions,
  withSettings,
} from '../settings.js';

/** Postgres, and the city's bounds (south,west,north,east in WGS-84 degrees) that every registry position must lie in. */
const ImportSettings = Type.Object({
  ...PgSettings.properties,
  OFFSITE_CITY_BOUNDS: Type.Optional(Type.Array(Type.Number(), { minItems: 4, maxItems: 4 })),
});

/**
 * The diff as lines: `+` inserted, `~` updated, `-` deleted, `!` in the database but no longer in the
 * file (kept), `≠` edited in the console and different in the file (kept unless overwritten).
 */
export function diffLines(result: ImportResult): string[] {
  const mark = { inserted: '+', updated: '~', deleted: '-' } as const;
  const lines = result.changes.map((c) => `${mark[c.change]} ${c.table} ${c.key}`);
  if (!result.pruned)
    for (const r of result.removed)
      lines.push(`! ${r.table} ${r.key} (not in the file; kept, --prune deletes it)`);
  for (const c of result.conflicts)
    lines.push(
      `≠ ${c.table} ${c.key} (edited in the console by ${c.editedBy} at ${c.editedAt}; the file would ${c.change === 'updated' ? 'change' : 'delete'} it: ${c.overwritten ? 'overwritten' : 'kept, --overwrite-console-edits replaces it'})`,
    );
  return lines;
}

function summary(result: ImportResult): string {
  const total = { inserted: 0, updated: 0, unchanged: 0, deleted: 0 };
  for (const c of Object.values(result.counts))
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += c[k];
  const verb = result.dryRun ? 'would change (dry run, nothing written)' : 'changed';
  return `${verb}: ${total.inserted} inserted, ${total.updated} updated, ${total.deleted} deleted, ${total.unchanged} unchanged${result.pruned ? '' : `, ${result.removed.length} no longer in the file`}${result.conflicts.length > 0 ? `, ${result.conflicts.length} in conflict with console edits` : ''}`;
}

export const registryImportCommand: Command = {
  path: ['registry', 'import'],
  summary: 'import a registry file (YAML or JSON) into Postgres and print the diff',
  usage: [
    'Usage: offsite registry import FILE [--prune] [--dry-run] [--overwrite-console-edits] [--env-file FILE] [--unit FILE]',
    '',
    'Validates the whole file (every problem listed with its path; with OFFSITE_CITY_BOUNDS=south,west,north,east',
    'set, a position outside the city is one), then upserts it in one transaction',
    'into OFFSITE_PG_SCHEMA at OFFSITE_PG_URL and prints one line per row that changed:',
    '  + inserted   ~ updated   - deleted (--prune)   ! in the database, no longer in the file (kept)',
    '  ≠ edited in the console since the file last agreed, and the file differs: kept and reported',
    'and a summary line. Services see the change at once (registry_changed notifications).',
    '  --prune    delete the rows the file no longer lists (maintenance windows declared in the console stay)',
    '  --dry-run  compute the same diff inside the transaction and roll it back',
    '  --overwrite-console-edits  write the file values over rows edited in the console (still listed)',
    ...SETTINGS_USAGE,
    'Exit code: 0 imported, 1 invalid file or failed import (nothing written), 2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, {
      ...settingsOptions,
      prune: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'overwrite-console-edits': { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one registry FILE');
    const path = positionals[0]!;
    return withSettings(
      io,
      'registry import',
      ImportSettings,
      environmentOf(values, io),
      async (settings) => {
        const bounds = settings.OFFSITE_CITY_BOUNDS
          ? cityBoundsFrom(settings.OFFSITE_CITY_BOUNDS)
          : undefined;
        if (typeof bounds === 'string') {
          io.stderr.write(`offsite registry import: OFFSITE_CITY_BOUNDS ${bounds}\n`);
          return EXIT_CONFIG;
        }
        const pool = openPool(settings);
        try {
          const result = await importRegistry(
            pool,
            { path },
            {
              logger: operatorLogger(io),
              prune: values.prune === true,
              dryRun: values['dry-run'] === true,
              overwriteConsoleEdits: values['overwrite-console-edits'] === true,
              ...(bounds ? { cityBounds: bounds } : {}),
            },
          );
          for (const line of diffLines(result)) io.stdout.write(`${line}\n`);
          io.stdout.write(`${summary(result)}\n`);
          return EXIT_OK;
        } catch (error) {
          if (error instanceof RegistryInvalidError) {
            io.stderr.write(`offsite registry import: ${path}: ${error.message}\n`);
            return EXIT_INPUT_PROBLEM;
          }
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot read ${path}`);
          throw error;
        } finally {
          await pool.end();
        }
      },
    );
  },
};
