import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { InfluxDB } from '@influxdata/influxdb-client';
import type { InfluxConnection } from './client.js';
import { classifyInfluxError, InfluxError } from './errors.js';
import type { Logger } from './logger.js';

const gzip = promisify(zlib.gzip);

export interface InfluxWriter {
  /**
   * Writes the lines; resolves once InfluxDB accepted all of them (HTTP 204). An element may hold
   * several lines joined by `\n` (e.g. every point of one reading); a 413 splits the batch between
   * elements, in halves, and retries each. Other failures reject with an InfluxError carrying a retry
   * decision. No internal buffering or retrying: the caller decides (and commits its offsets only on
   * success).
   */
  write(lines: string[]): Promise<void>;
}

/** The writer createInfluxWriter returns: also closes its keep-alive connections. */
export interface ClosableInfluxWriter extends InfluxWriter {
  close(): void;
}

export interface InfluxWriterOptions extends InfluxConnection {
  logger: Logger;
  /**
   * gzip the request bodies: `auto` (default) compresses when the server is not on loopback — there
   * compression costs more CPU than the bytes it saves; to a remote server the bytes matter more.
   */
  gzip?: boolean | 'auto';
  /** With gzip on, bodies below this many bytes are sent as they are. */
  gzipThresholdBytes?: number;
  /** Level 1 (default) compresses line protocol about 8:1 at a fraction of level 6's CPU. */
  gzipLevel?: number;
  /** Keep-alive connections kept to InfluxDB (concurrent writes beyond it queue). */
  maxSockets?: number;
}

const isLoopback = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
};

/** Whether a writer with these options gzips its bodies (resolves `auto` against the URL's host). */
export function resolveGzip(setting: boolean | 'auto' | undefined, url: string): boolean {
  if (setting === true || setting === false) return setting;
  return !isLoopback(new URL(url).hostname);
}

/** What classifyInfluxError reads from a failed response. */
class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    private readonly retryAfterHeader: string | undefined,
  ) {
    super(`HTTP ${statusCode}: ${body.slice(0, 200)}`);
  }
  /** Seconds to wait, from Retry-After (seconds or an HTTP date). */
  retryAfter(): number {
    const h = this.retryAfterHeader;
    if (!h) return 0;
    const s = Number(h);
    if (Number.isFinite(s)) return Math.max(0, s);
    const at = Date.parse(h);
    return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : 0;
  }
}

/**
 * A line-protocol writer on the v2 write API (`/api/v2/write`, which 1.8 serves too) over a keep-alive
 * HTTP agent: one request per call, the body built once, no client-side buffering. The InfluxDB client
 * argument is accepted for compatibility and not used for writes.
 */
export function createInfluxWriter(opts: InfluxWriterOptions, _client?: InfluxDB): ClosableInfluxWriter {
  const base = new URL(opts.url);
  const path = `${base.pathname.replace(/\/$/, '')}/api/v2/write?org=${encodeURIComponent(opts.org)}&bucket=${encodeURIComponent(opts.bucket)}&precision=s`;
  const secure = base.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets: opts.maxSockets ?? 8,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      })
    : new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 8 });
  const useGzip = resolveGzip(opts.gzip, opts.url);
  const threshold = opts.gzipThresholdBytes ?? 1000;
  const level = opts.gzipLevel ?? 1;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    ...(opts.token ? { authorization: `Token ${opts.token}` } : {}),
  };

  const post = async (text: string): Promise<void> => {
    let body = Buffer.from(text, 'utf8');
    const h: Record<string, string | number> = { ...headers };
    if (useGzip && body.length >= threshold) {
      body = await gzip(body, { level });
      h['content-encoding'] = 'gzip';
    }
    h['content-length'] = body.length;
    await new Promise<void>((resolve, reject) => {
      const req = transport.request(
        {
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port,
          method: 'POST',
          path,
          headers: h,
          agent,
          timeout: timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            res.once('end', resolve);
            res.once('error', reject);
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', reject);
          res.once('end', () => {
            const retryAfter = res.headers['retry-after'];
            reject(
              new HttpStatusError(
                status,
                Buffer.concat(chunks).toString('utf8'),
                Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
              ),
            );
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error(`InfluxDB write timed out after ${timeoutMs} ms`)));
      req.once('error', reject);
      req.end(body);
    });
  };

  const send = async (lines: string[]): Promise<void> => {
    try {
      await post(lines.join('\n'));
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
  return {
    write: (lines) => (lines.length === 0 ? Promise.resolve() : send(lines)),
    close: () => agent.destroy(),
  };
}
