/**
 * Configuration is validated once, at the edge: a service's main.ts calls `loadConfig` with a flat
 * TypeBox object schema whose property names are environment variable names, and passes the
 * frozen result down. Nothing past that point reads the environment.
 *
 * Rules:
 * - Only the schema's properties are read; other variables are ignored.
 * - An empty string counts as unset (so defaults apply): `FOO=` in a unit file does not mean "".
 * - Strings are coerced to the schema's types (numbers, integers, booleans; booleans also accept
 *   1/0, yes/no, on/off); arrays are comma-separated lists.
 * - Any variable `X` may instead be given as `X_FILE=/path` (Docker/systemd credentials style):
 *   the file is read and trimmed. Setting both is an error.
 * - Every problem is reported at once in one ConfigError, each with the variable's name. Values of
 *   properties marked `secret: true` in the schema are never echoed in messages.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import ajvFormats from 'ajv-formats';
import { OffsiteError } from './errors.js';
import { redisConnectionOptions } from './redis-url.js';

export const CONFIG_INVALID = 'CONFIG_INVALID';

export interface ConfigIssue {
  /** The environment variable the problem is about (or a comma-joined list for cross-checks). */
  readonly variable: string;
  readonly message: string;
}

export class ConfigError extends OffsiteError<typeof CONFIG_INVALID> {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((issue) => `  - ${issue.variable}: ${issue.message}`);
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(CONFIG_INVALID, `Invalid configuration (${count}):\n${lines.join('\n')}`, {
      retryable: false,
      details: { issues },
    });
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * A rule across several variables, run once the variables it names passed the schema. Returns a
 * message describing the problem, or undefined when the configuration is fine.
 */
export interface ConfigCheck<C> {
  readonly variables: readonly (keyof C & string)[];
  readonly check: (config: C) => string | undefined;
}

export interface LoadConfigOptions<C> {
  /**
   * Whether `X_FILE` variables are honoured: true (default) reads them from disk, false ignores
   * them, a function reads them some other way (its result is trimmed).
   */
  readonly files?: boolean | ((path: string) => string);
  readonly checks?: readonly ConfigCheck<C>[];
}

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export type Environment = Readonly<Record<string, string | undefined>>;

export const FILE_SUFFIX = '_FILE';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function schemaType(schema: TSchema | undefined): string | undefined {
  const type: unknown = schema?.['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null');
  return undefined;
}

/** Names of the properties marked `secret: true` in the schema, e.g. `Type.String({ secret: true })`. */
export function secretKeys(schema: TObject): string[] {
  return Object.entries(schema.properties)
    .filter(([, property]) => (property as TSchema)['secret'] === true)
    .map(([name]) => name);
}

/** Turns the raw string into something Ajv's coercion understands for the property's type. */
function preCoerce(raw: string, property: TSchema | undefined): unknown {
  switch (schemaType(property)) {
    case 'boolean': {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return raw;
    }
    case 'number':
    case 'integer':
      return raw.trim();
    case 'array':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    default:
      return raw;
  }
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function topLevelKey(error: ErrorObject): string | undefined {
  if (error.keyword === 'required') {
    const missing: unknown = error.params['missingProperty'];
    return typeof missing === 'string' ? missing : undefined;
  }
  const first = error.instancePath.split('/')[1];
  return first === undefined ? undefined : first.replace(/~1/g, '/').replace(/~0/g, '~');
}

function messageFor(
  errors: ErrorObject[],
  property: TSchema | undefined,
  value: unknown,
  secret: boolean,
): string[] {
  const anyOf = errors.find((e) => e.keyword === 'anyOf' && e.instancePath.split('/').length === 2);
  const relevant = anyOf ? [anyOf] : errors;
  const messages = relevant.map((error) => {
    if (error.keyword === 'required') return 'is required but not set';
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'anyOf') {
      const options = (property?.['anyOf'] as TSchema[] | undefined)?.map((s) => s['const']);
      if (options && options.every((o) => o !== undefined)) {
        message = `must be one of: ${options.map(String).join(', ')}`;
      }
    } else if (error.keyword === 'enum') {
      const allowed: unknown = error.params['allowedValues'];
      if (Array.isArray(allowed)) message = `must be one of: ${allowed.map(String).join(', ')}`;
    }
    const index = error.instancePath.split('/')[2];
    if (index !== undefined) message = `item ${index} ${message}`;
    return secret || value === undefined ? message : `${message} (got ${describeValue(value)})`;
  });
  return [...new Set(messages)];
}

function unreadable(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return `cannot read file ${path} (${String((error as { code?: unknown }).code ?? error)})`;
  }
}

/**
 * Checks a schema property names with `check: '<name>'`, run once the schema passed. Messages never
 * contain the value itself (URLs carry passwords), only the names and files they point to.
 */
const PROPERTY_CHECKS: Record<
  string,
  (value: unknown, config: Record<string, unknown>) => string | undefined
> = {
  /** A path that must be readable when set (certificates, CA files). */
  'readable-file': (value) => (typeof value === 'string' && value !== '' ? unreadable(value) : undefined),
  /** A Postgres URL; the files of its sslrootcert/sslcert/sslkey parameters must be readable. */
  'postgres-url': (value) => {
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      return 'is not a URL (postgres://user:password@host:port/database)';
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
      return `unsupported scheme ${url.protocol} (use postgres://)`;
    const mode = url.searchParams.get('sslmode');
    if (
      mode !== null &&
      !['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'].includes(mode)
    )
      return `sslmode=${mode} is not one of disable, require, verify-ca, verify-full`;
    for (const param of ['sslrootcert', 'sslcert', 'sslkey']) {
      const file = url.searchParams.get(param);
      const problem = file ? unreadable(file) : undefined;
      if (problem) return `${param}: ${problem}`;
    }
    return undefined;
  },
  'redis-url': (value) => {
    try {
      redisConnectionOptions(String(value));
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  },
  /** SASL needs a user name and a password. */
  'kafka-sasl': (value, config) =>
    value !== 'none' && (!config['OFFSITE_KAFKA_USERNAME'] || !config['OFFSITE_KAFKA_PASSWORD'])
      ? `${String(value)} needs OFFSITE_KAFKA_USERNAME and OFFSITE_KAFKA_PASSWORD`
      : undefined,
};

function createValidator(): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
  ajvFormats.default(ajv);
  // Metadata only: marks properties whose values must never be echoed or logged.
  ajv.addKeyword({ keyword: 'secret', schemaType: 'boolean' });
  // Checked by loadConfig after the schema (PROPERTY_CHECKS): a name, not a function, keeps schemas data.
  ajv.addKeyword({ keyword: 'check', schemaType: 'string' });
  return ajv;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Validates the environment against `schema` and returns the deeply frozen configuration, or
 * throws a ConfigError listing every problem (code CONFIG_INVALID, not retryable).
 */
export function loadConfig<T extends TObject>(
  schema: T,
  env: Environment,
  options: LoadConfigOptions<Static<T>> = {},
): DeepReadonly<Static<T>> {
  const issues: ConfigIssue[] = [];
  const broken = new Set<string>();
  const secrets = new Set(secretKeys(schema));
  const readSecretFile =
    options.files === false
      ? undefined
      : typeof options.files === 'function'
        ? options.files
        : (path: string) => readFileSync(path, 'utf8');

  const raw: Record<string, unknown> = {};
  const rawStrings: Record<string, string> = {};
  for (const [name, property] of Object.entries(schema.properties) as [string, TSchema][]) {
    const direct = env[name];
    const fileVariable = `${name}${FILE_SUFFIX}`;
    const filePath = readSecretFile ? env[fileVariable] : undefined;
    const hasDirect = direct !== undefined && direct !== '';
    const hasFile = filePath !== undefined && filePath !== '';
    let value: string | undefined;
    if (hasDirect && hasFile) {
      issues.push({ variable: name, message: `is set both directly and through ${fileVariable}; set one` });
      broken.add(name);
      continue;
    }
    if (hasFile && readSecretFile) {
      try {
        value = readSecretFile(filePath).trim();
      } catch (error) {
        const reason = (error as { code?: unknown }).code ?? (error as Error).message;
        issues.push({ variable: fileVariable, message: `cannot read file ${filePath} (${String(reason)})` });
        broken.add(name);
        continue;
      }
      if (value === '') value = undefined;
    } else if (hasDirect) {
      value = direct;
    }
    if (value !== undefined) {
      rawStrings[name] = value;
      raw[name] = preCoerce(value, property);
    }
  }

  const validate = createValidator().compile(schema);
  const data = structuredClone(raw);
  if (!validate(data)) {
    const byKey = new Map<string, ErrorObject[]>();
    for (const error of validate.errors ?? []) {
      const key = topLevelKey(error);
      if (key === undefined) {
        issues.push({ variable: '(schema)', message: error.message ?? 'is invalid' });
        continue;
      }
      if (broken.has(key)) continue; // already reported why the value is missing
      byKey.set(key, [...(byKey.get(key) ?? []), error]);
    }
    for (const name of Object.keys(schema.properties)) {
      const errors = byKey.get(name);
      if (!errors) continue;
      broken.add(name);
      const property = schema.properties[name] as TSchema | undefined;
      for (const message of messageFor(errors, property, rawStrings[name], secrets.has(name))) {
        issues.push({ variable: name, message });
      }
    }
  }

  const config = data as Static<T>;
  for (const [name, property] of Object.entries(schema.properties) as [string, TSchema][]) {
    const kind = property['check'];
    if (typeof kind !== 'string' || broken.has(name)) continue;
    const run = PROPERTY_CHECKS[kind];
    if (!run) throw new Error(`unknown config check ${kind} on ${name}`);
    const problem = run((config as Record<string, unknown>)[name], config as Record<string, unknown>);
    if (problem !== undefined) {
      issues.push({ variable: name, message: problem });
      broken.add(name);
    }
  }
  for (const rule of options.checks ?? []) {
    if (rule.variables.some((name) => broken.has(name))) continue;
    const problem = rule.check(config);
    if (problem !== undefined) issues.push({ variable: rule.variables.join(', '), message: problem });
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(config) as DeepReadonly<Static<T>>;
}

export const REDACTED = '[REDACTED]';

/**
 * A copy of `config` fit for logging: the value of every key named in `keys` (at any depth) is
 * replaced with "[REDACTED]"; unset secrets stay undefined so the log still shows they are unset.
 */
export function redact(config: unknown, keys: Iterable<string>): Record<string, unknown> {
  const hidden = new Set(keys);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      copy[key] = hidden.has(key) && child !== undefined ? REDACTED : walk(child);
    }
    return copy;
  };
  const result = walk(config);
  return typeof result === 'object' && result !== null && !Array.isArray(result)
    ? (result as Record<string, unknown>)
    : { value: result };
}
