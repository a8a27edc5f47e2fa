/**
 * `offsite remote-sensing import FILE… [--by NAME]`: remote-sensing (遥感) hotspot and plume detection files (CSV or
 * GeoJSON) into the analyzer, through its own importer (@offsite/analyzer/remote-sensing): each file is refused
 * whole with every problem by row and field, or stored whole and judged against the registry's positions, a
 * suspicious detection opening a `remote-sensing` deviation on the deviation topic. The same file again opens nothing.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  RemoteSensingEnv,
  openRemoteSensingImporter,
  type ImportOutcome,
} from '@offsite/analyzer/remote-sensing';
import { cityBoundsFrom } from '@offsite/store';
import { parse } from '../args.js';
import {
  EXIT_CONFIG,
  EXIT_INPUT_PROBLEM,
  EXIT_OK,
  UsageError,
  type CliIo,
  type Command,
} from '../command.js';
import { operatorLogger, operatorName } from '../operator-log.js';
import { SETTINGS_USAGE, environmentOf, settingsOptions, withSettings } from '../settings.js';

const WHAT = 'remote-sensing import';

/** The files' bytes, or a bilingual line per file that cannot be read (then nothing is imported). */
async function readAll(
  paths: readonly string[],
  io: CliIo,
): Promise<{ path: string; bytes: Buffer }[] | undefined> {
  const files: { path: string; bytes: Buffer }[] = [];
  let unreadable = false;
  for (const path of paths) {
    try {
      files.push({ path, bytes: await readFile(path) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      io.stderr.write(
        `offsite ${WHAT}: ${path}: file: cannot be read (${code}); nothing was imported / 文件无法读取（${code}），未导入任何文件\n`,
      );
      unreadable = true;
    }
  }
  return unreadable ? undefined : files;
}

/** The JSON line printed for one file (documented in docs/cli-remote-sensing.md). */
export function outcomeLine(path: string, r: ImportOutcome): string {
  return `${JSON.stringify({ file: path, ...r })}\n`;
}

export const remoteSensingImportCommand: Command = {
  path: ['remote-sensing', 'import'],
  summary: 'import remote-sensing detection files (CSV or GeoJSON) and judge them against the registry',
  usage: [
    'Usage: offsite remote-sensing import FILE… [--by NAME] [--env-file FILE] [--unit FILE]',
    '',
    'Imports hotspot and plume detections (遥感热点/烟羽) from CSV (time,lat,lon,confidence[,id,kind]) or',
    "GeoJSON (a FeatureCollection of Points) files, one after another, with the analyzer's settings (Postgres,",
    'Kafka, InfluxDB; OFFSITE_CITY_BOUNDS=south,west,north,east and OFFSITE_ANALYZER_RS_* as in the analyzer README).',
    'A file with any bad row (or a detection outside the city, or of the wrong type or size) is refused whole:',
    'kept as a rejection record, each problem printed on standard error as "FILE: ROW: FIELD: English / 中文".',
    'An accepted file is stored whole; a detection near an enterprise registered as shut down, or near an outlet',
    'that sent no data around it, opens a remote-sensing deviation on the deviation topic. The same file again',
    'opens nothing. One JSON line per file on standard output: {"file","state":"accepted"|"rejected",…}.',
    '  --by NAME  who imports, recorded with the file (default: the login name)',
    ...SETTINGS_USAGE,
    'Exit code: 0 all accepted, 1 a file refused, unreadable (then none imported) or the import failed,',
    '2 usage error, 78 bad settings.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, { ...settingsOptions, by: { type: 'string' } });
    if (positionals.length === 0) throw new UsageError('give at least one detection FILE');
    const by = values.by ?? operatorName();
    if (by.trim() === '') throw new UsageError('--by must name who imports');
    return withSettings(io, WHAT, RemoteSensingEnv, environmentOf(values, io), async (settings) => {
      const bounds = settings.OFFSITE_CITY_BOUNDS ? cityBoundsFrom(settings.OFFSITE_CITY_BOUNDS) : undefined;
      if (typeof bounds === 'string') {
        io.stderr.write(`offsite ${WHAT}: OFFSITE_CITY_BOUNDS ${bounds}\n`);
        return EXIT_CONFIG;
      }
      const files = await readAll(positionals, io);
      if (!files) return EXIT_INPUT_PROBLEM;
      const importer = await openRemoteSensingImporter(settings, bounds, operatorLogger(io));
      let code = EXIT_OK;
      try {
        for (const f of files) {
          const r = await importer.importFile({ name: basename(f.path), bytes: f.bytes }, by);
          io.stdout.write(outcomeLine(f.path, r));
          if (r.state === 'rejected') {
            for (const i of r.issues)
              io.stderr.write(`offsite ${WHAT}: ${f.path}: ${i.where}: ${i.field}: ${i.en} / ${i.zh}\n`);
            code = EXIT_INPUT_PROBLEM;
          }
        }
      } finally {
        await importer.close();
      }
      return code;
    });
  },
};
