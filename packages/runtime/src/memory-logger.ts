/** A Logger that keeps entries in memory, for tests that assert what was logged. */
import type { LogFn, Logger } from './logger.js';

export interface LogEntry {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly message: string;
  /** The child bindings merged with the object logged. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface MemoryLogger extends Logger {
  readonly entries: LogEntry[];
  child(bindings: Record<string, unknown>): MemoryLogger;
}

export function createMemoryLogger(): MemoryLogger {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): MemoryLogger => {
    const at =
      (level: LogEntry['level']): LogFn =>
      (first: unknown, second?: unknown) => {
        if (typeof first === 'string') {
          entries.push({ level, message: first, fields: { ...bindings } });
        } else {
          const message = typeof second === 'string' ? second : '';
          entries.push({ level, message, fields: { ...bindings, ...(first as object) } });
        }
      };
    return {
      entries,
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}
