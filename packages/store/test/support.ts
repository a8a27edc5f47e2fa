// Shared by the store's integration tests: the example registry file and a logger that records.
import type { Logger } from '../src/index.js';

export interface LogEntry {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: object;
  msg?: string;
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const make = (): Logger & { entries: LogEntry[] } => ({
    entries,
    info: (obj, msg) => void entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void entries.push({ level: 'error', obj, msg }),
    debug: (obj, msg) => void entries.push({ level: 'debug', obj, msg }),
    child: () => make(),
  });
  return make();
}

/** The example registry every suite imports. */
export const examplePath = new URL('../../../registry/example.yaml', import.meta.url).pathname;
