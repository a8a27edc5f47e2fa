/** The store's logger for an operator command: warnings and errors to stderr as plain lines, the rest dropped. */
import type { Logger } from '@offsite/store';
import type { CliIo } from './command.js';

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
