import { InfluxDB, setLogger } from '@influxdata/influxdb-client';
import type { Logger } from './logger.js';

export interface InfluxConnection {
  /** e.g. http://127.0.0.1:28086 */
  url: string;
  /** InfluxDB 2.x/Cloud token; against 1.8's compatibility API: `user:password`. */
  token: string;
  /** Organisation (ignored by 1.8, where it may be empty or '-'). */
  org: string;
  /** Bucket; on 1.8: `database/retention-policy`. */
  bucket: string;
  timeoutMs?: number;
  /** For an https:// URL: the PEM of the CA that signed the server's certificate (default: the system's CAs). */
  ca?: string;
}

let loggerInstalled = false;

/** The client library logs to the console by default; route it to the injected logger once. */
export function createInfluxClient(conn: InfluxConnection, logger: Logger): InfluxDB {
  if (!loggerInstalled) {
    const log = logger.child({ component: 'influxdb-client' });
    setLogger({
      error: (message: string, error?: unknown) => log.error({ err: error }, message),
      warn: (message: string, error?: unknown) => log.warn({ err: error }, message),
    });
    loggerInstalled = true;
  }
  return new InfluxDB({
    url: conn.url,
    token: conn.token,
    timeout: conn.timeoutMs ?? 30_000,
    ...(conn.ca !== undefined ? { transportOptions: { ca: conn.ca } } : {}),
  });
}
