/**
 * Where the operator commands take their server settings from: the process environment, or the files a
 * deployment already has — `--env-file FILE` (systemd EnvironmentFile syntax) and `--unit FILE` (a
 * service's unit: its EnvironmentFile= and Environment= lines, `%d/NAME` resolved to the file its
 * LoadCredential=NAME:PATH names, as systemd hands it over). Settings are validated with
 * @offsite/runtime's loadConfig, so `X_FILE` works as in the services and secrets are never echoed.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { createPgPool } from '@offsite/store';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { ConfigError, PgSchema, PgUrl, loadConfig, type DeepReadonly } from '@offsite/runtime';
import { EXIT_CONFIG, EXIT_INPUT_PROBLEM, UsageError, type CliIo } from './command.js';

export type Environment = Record<string, string | undefined>;

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))))
    return v.slice(1, -1);
  return v;
}

/** `KEY=value` lines (systemd EnvironmentFile / shell-style); blank lines and `#`/`;` comments skipped. */
export function parseEnvFile(text: string, where: string): Environment {
  const env: Environment = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new UsageError(`${where} line ${i + 1}: not a NAME=value line`);
    env[m[1]!] = unquote(m[2]!);
  });
  return env;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new UsageError(`cannot read ${what} ${path} (${code})`, { cause });
  }
}

/** The environment a systemd unit gives its service, without starting it. */
export function unitEnvironment(path: string): Environment {
  const text = readText(path, 'unit file').replace(/\\\n/g, ' ');
  const credentials = new Map<string, string>();
  const env: Environment = {};
  const assignments: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(EnvironmentFile|Environment|LoadCredential)=(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'LoadCredential') {
      const [name, ...source] = value.split(':');
      if (name) credentials.set(name, source.join(':') || `/etc/credstore/${name}`);
    } else if (key === 'EnvironmentFile') {
      const optional = value.startsWith('-');
      const file = optional ? value.slice(1) : value;
      try {
        Object.assign(env, parseEnvFile(readFileSync(file, 'utf8'), file));
      } catch (error) {
        if (!(optional && (error as NodeJS.ErrnoException).code === 'ENOENT')) {
          if (error instanceof UsageError) throw error;
          throw new UsageError(
            `cannot read EnvironmentFile ${file} (${(error as NodeJS.ErrnoException).code})`,
          );
        }
      }
    } else {
      // Environment= takes one or more space-separated assignments, each optionally quoted.
      for (const a of value.match(/"[^"]*"|'[^']*'|\S+/g) ?? []) assignments.push(unquote(a));
    }
  }
  // systemd: EnvironmentFile= wins over Environment=.
  const fromLines: Environment = {};
  for (const a of assignments) {
    const i = a.indexOf('=');
    if (i > 0) fromLines[a.slice(0, i)] = a.slice(i + 1);
  }
  const merged = { ...fromLines, ...env };
  for (const [k, v] of Object.entries(merged)) {
    const m = v ? /^%d\/(.+)$/.exec(v) : null;
    if (m) merged[k] = credentials.get(m[1]!) ?? v;
  }
  return merged;
}

export interface SettingsArgs {
  envFiles: string[];
  unit?: string | undefined;
}

/** The environment named by `--env-file`/`--unit`, or the process's when neither is given. */
export function settingsEnvironment(args: SettingsArgs, io: CliIo): Environment {
  if (args.envFiles.length === 0 && !args.unit) return { ...(io.env ?? {}) };
  const env: Environment = args.unit ? unitEnvironment(args.unit) : {};
  for (const file of args.envFiles) Object.assign(env, parseEnvFile(readText(file, 'env file'), file));
  return env;
}

/** The environment named by the parsed `--env-file`/`--unit` options (see settingsOptions). */
export function environmentOf(
  values: { 'env-file'?: string[] | undefined; unit?: string | undefined },
  io: CliIo,
): Environment {
  return settingsEnvironment({ envFiles: values['env-file'] ?? [], unit: values.unit }, io);
}

export const settingsOptions = {
  'env-file': { type: 'string', multiple: true },
  unit: { type: 'string' },
} as const;

export const SETTINGS_USAGE = [
  '  --env-file FILE  read settings from FILE (NAME=value lines; repeatable) instead of the environment',
  '  --unit FILE      read settings as a systemd unit gives them (EnvironmentFile=, Environment=, credentials)',
];

/**
 * Runs a command's work with its settings loaded from `env`: invalid or missing settings print every
 * problem by variable name and give exit 78; an error from the work prints one line and gives exit 1.
 */
export async function withSettings<T extends TObject>(
  io: CliIo,
  what: string,
  schema: T,
  env: Environment,
  work: (settings: DeepReadonly<Static<T>>) => Promise<number>,
): Promise<number> {
  let settings: DeepReadonly<Static<T>>;
  try {
    settings = loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`offsite ${what}: ${error.message}\n`);
    return EXIT_CONFIG;
  }
  try {
    return await work(settings);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    io.stderr.write(`offsite ${what}: ${describeError(error)}\n`);
    return EXIT_INPUT_PROBLEM;
  }
}

/** Postgres as the services take it: `?sslmode=verify-full&sslrootcert=…` in the URL for TLS (files checked). */
export const PgSettings = Type.Object({
  OFFSITE_PG_URL: PgUrl(),
  OFFSITE_PG_SCHEMA: PgSchema(),
});

/** A small pool on the configured database and schema (the schema first in the search_path). */
export function openPool(settings: { OFFSITE_PG_URL: string; OFFSITE_PG_SCHEMA: string }): pg.Pool {
  return createPgPool({
    url: settings.OFFSITE_PG_URL,
    schema: settings.OFFSITE_PG_SCHEMA,
    max: 2,
    connectionTimeoutMs: 10_000,
  });
}

/** The message for an error that ends a command: the error's own, then its cause's code or message. */
export function describeError(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}

/** withSettings for Postgres: a small pool on OFFSITE_PG_URL / OFFSITE_PG_SCHEMA for `work`, ended after it. */
export function withPool(
  io: CliIo,
  what: string,
  values: { 'env-file'?: string[] | undefined; unit?: string | undefined },
  work: (pool: pg.Pool) => Promise<number>,
): Promise<number> {
  return withSettings(io, what, PgSettings, environmentOf(values, io), async (settings) => {
    const pool = openPool(settings);
    try {
      return await work(pool);
    } finally {
      await pool.end();
    }
  });
}
