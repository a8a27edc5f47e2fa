/** The contract every `offsite` subcommand implements; commands live one per module in commands/. */
import type { Readable } from 'node:stream';

export interface TextSink {
  write(text: string): unknown;
}

/** What a command may touch of the process: injected, so commands are tested without spawning. */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** The environment the operator commands read their server settings from (default: none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  /** Words that select the command, e.g. `['hj212', 'decode']`. */
  readonly path: readonly string[];
  readonly summary: string;
  readonly usage: string;
  /** Returns the exit code (0 ok, 1 the input had problems, 2 usage error, 78 bad settings). */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Bad arguments: the dispatcher prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'cli-usage';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_INPUT_PROBLEM = 1;
export const EXIT_USAGE = 2;
/** The settings a command needs are missing or invalid (sysexits EX_CONFIG, as the services use). */
export const EXIT_CONFIG = 78;
