/** What operator commands share about who runs them: a logger for the stores, and the login name. */
import { userInfo } from 'node:os';
import type { Logger } from '@offsite/store';
import type { CliIo } from './command.js';

/** The store's logger for an operator command: warnings and errors to stderr as plain lines, the rest dropped. */
export function operatorLogger(io: CliIo): Logger {
  const quiet = (): void => undefined;
  const logger: Logger = {
    debug: quiet,
    info: quiet,
    warn: (_obj, msg) => void io.stderr.write(`warning: ${msg ?? ''}\n`),
    error: (_obj, msg) => void io.stderr.write(`error: ${msg ?? ''}\n`),
    child: () => logger,
  };
  return logger;
}

/** The operator's login name, recorded with what a command changes ('unknown' when the system has none). */
export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
