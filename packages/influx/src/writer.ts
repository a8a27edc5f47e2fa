import type { InfluxDB } from '@influxdata/influxdb-client';
import { createInfluxClient, type InfluxConnection } from './client.js';
import { classifyInfluxError, InfluxError } from './errors.js';
import type { Logger } from './logger.js';

export interface InfluxWriter {
  /**
   * Writes the lines; resolves once InfluxDB accepted all of them (HTTP 204). A 413 splits the batch
   * in halves and retries each; other failures reject with an InfluxError carrying a retry decision.
   * No internal buffering or retrying: the caller decides (and commits its offsets only on success).
   */
  write(lines: string[]): Promise<void>;
}

export interface InfluxWriterOptions extends InfluxConnection {
  logger: Logger;
  /** Bodies above this many bytes are gzipped. */
  gzipThresholdBytes?: number;
}

export function createInfluxWriter(opts: InfluxWriterOptions, client?: InfluxDB): InfluxWriter {
  const influx = client ?? createInfluxClient(opts, opts.logger);
  const path = `/api/v2/write?org=${encodeURIComponent(opts.org)}&bucket=${encodeURIComponent(opts.bucket)}&precision=s`;
  const send = async (lines: string[]): Promise<void> => {
    try {
      await influx.transport.request(path, lines.join('\n'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        gzipThreshold: opts.gzipThresholdBytes ?? 1000,
      });
    } catch (err) {
      const e = err instanceof InfluxError ? err : classifyInfluxError(err);
      if (e.code === 'INFLUX_TOO_LARGE' && lines.length > 1) {
        const mid = Math.ceil(lines.length / 2);
        await send(lines.slice(0, mid));
        await send(lines.slice(mid));
        return;
      }
      throw e;
    }
  };
  return { write: (lines) => (lines.length === 0 ? Promise.resolve() : send(lines)) };
}
