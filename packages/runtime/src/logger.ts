/**
 * Structured logging. Packages depend only on the `Logger` interface and take it as a parameter;
 * a service's main.ts creates the pino logger with `createLogger` and hands children down.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';

/** Fields first, then the message: `log.warn({ err, topic }, 'produce failed')`. */
export type LogFn = (object: object, message?: string) => void;

/**
 * The one Logger type of the project: every package and service takes this (kafka, influx, store,
 * notify and testing re-export it). A pino logger satisfies it.
 */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Field names whose values never reach a log line, at the top level or up to two levels down. */
export const SECRET_FIELD_NAMES: readonly string[] = [
  'password',
  'passwd',
  'pw',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
  'privateKey',
  'accessKeySecret',
];

function redactPaths(names: readonly string[]): string[] {
  return names.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);
}

export interface CreateLoggerOptions {
  /** Bound as `service` on every line. */
  service: string;
  level?: LogLevel;
  /** Human-readable colourless lines for a developer's terminal instead of JSON. */
  pretty?: boolean;
  /** Extra bindings for every line (instance id, version…). */
  base?: Record<string, unknown>;
  /** More field names to redact, in addition to SECRET_FIELD_NAMES. */
  redact?: readonly string[];
  /** Where lines go; standard output by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * A pino logger writing one JSON object per line with an ISO-8601 UTC `time`, a textual `level`,
 * `service`, and secrets (passwords, tokens, authorization headers…) replaced by "[REDACTED]".
 */
export function createLogger(options: CreateLoggerOptions): PinoLogger {
  const level = options.level ?? 'info';
  const config = {
    level,
    base: { service: options.service, pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: redactPaths([...SECRET_FIELD_NAMES, ...(options.redact ?? [])]), censor: '[REDACTED]' },
    serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause },
  };
  if (options.pretty) {
    // Synchronous and in-process: no worker thread to outlive the service on shutdown.
    const stream = pinoPretty({
      sync: true,
      colorize: false,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
      ignore: 'pid,hostname',
      destination: options.destination ?? 1,
    });
    return pino(config, stream);
  }
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that drops everything: for tests and tools that have nothing to say. */
export function createSilentLogger(): Logger {
  const noop = (): void => undefined;
  const logger: Logger = { error: noop, warn: noop, info: noop, debug: noop, child: () => logger };
  return logger;
}
