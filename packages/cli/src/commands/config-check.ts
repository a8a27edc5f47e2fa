/**
 * `offsite config check SERVICE`: validates a service's settings without starting it, with the
 * service's own schema and cross-checks (its `serviceConfig`, what bootService loads at start), reading
 * X_FILE secrets as the service would. Every problem is listed by variable name; secrets are never shown.
 */
import type { TObject } from '@sinclair/typebox';
import { serviceConfig as alerter } from '@offsite/alerter/config';
import { serviceConfig as analyzer } from '@offsite/analyzer/config';
import { serviceConfig as console } from '@offsite/console/config';
import { serviceConfig as hj212Gateway } from '@offsite/hj212-gateway/config';
import { serviceConfig as influxWriter } from '@offsite/influx-writer/config';
import { serviceConfig as kafkaIngestor } from '@offsite/kafka-ingestor/config';
import { serviceConfig as mqttIngestor } from '@offsite/mqtt-ingestor/config';
import { serviceConfig as videoGateway } from '@offsite/video-gateway/config';
import {
  ConfigError,
  FILE_SUFFIX,
  loadConfig,
  redact,
  secretKeys,
  type ServiceConfig,
} from '@offsite/runtime';
import { parse } from '../args.js';
import { EXIT_CONFIG, EXIT_OK, UsageError, type CliIo, type Command } from '../command.js';
import { SETTINGS_USAGE, environmentOf, settingsOptions } from '../settings.js';

/** The deployed services, by the name their unit and README use. */
export const SERVICE_CONFIGS: Readonly<Record<string, ServiceConfig<TObject>>> = Object.fromEntries(
  [alerter, analyzer, console, hj212Gateway, influxWriter, kafkaIngestor, mqttIngestor, videoGateway].map(
    (c) => [c.name, c as unknown as ServiceConfig<TObject>],
  ),
);

export const configCheckCommand: Command = {
  path: ['config', 'check'],
  summary: "validate a service's settings without starting it",
  usage: [
    'Usage: offsite config check SERVICE [--env-file FILE] [--unit FILE] [--show]',
    '',
    `SERVICE is one of ${Object.keys(SERVICE_CONFIGS).join(', ')}.`,
    "Checks the settings against the service's own schema and cross-checks, reading X_FILE secrets as",
    'the service does, and lists every problem by variable name. OFFSITE_* variables the service does',
    'not know are listed as notes (a misspelt optional setting is otherwise silently ignored).',
    '  --show   print the settings the service would run with (secrets as [REDACTED])',
    ...SETTINGS_USAGE,
    'Exit code: 0 valid, 78 invalid (as the service itself would exit), 2 usage error.',
  ].join('\n'),
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(args, { ...settingsOptions, show: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('give exactly one SERVICE');
    const name = positionals[0]!;
    const service = SERVICE_CONFIGS[name];
    if (!service)
      throw new UsageError(`unknown service "${name}": one of ${Object.keys(SERVICE_CONFIGS).join(', ')}`);
    const env = environmentOf(values, io);
    const known = new Set(Object.keys(service.schema.properties));
    const unknown = Object.keys(env)
      .filter((k) => k.startsWith('OFFSITE_'))
      .filter(
        (k) => !known.has(k) && !(k.endsWith(FILE_SUFFIX) && known.has(k.slice(0, -FILE_SUFFIX.length))),
      )
      .sort();
    for (const k of unknown) io.stderr.write(`note: ${k} is not a setting of ${name} (ignored)\n`);
    try {
      const loaded = loadConfig(service.schema, env, service.config);
      io.stdout.write(`${name}: configuration valid\n`);
      if (values.show) {
        const shown = redact(loaded, secretKeys(service.schema));
        for (const [k, v] of Object.entries(shown))
          io.stdout.write(`${k}=${Array.isArray(v) ? v.join(',') : v === undefined ? '' : String(v)}\n`);
      }
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stdout.write(`${name}: ${error.message}\n`);
      return EXIT_CONFIG;
    }
  },
};
