/**
 * The operations endpoint every service exposes, on plain node:http so non-web services stay light:
 *   GET /livez   200 while the process runs (the event loop answers)
 *   GET /readyz  200 when every check that gates readiness is healthy, else 503 with the failing components;
 *                unhealthy checks that do not gate readiness are listed as `degraded` either way
 *   GET /metrics Prometheus text exposition of the given registry
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { withTimeout } from './deadline.js';
import { evaluateHealth, type HealthCheck } from './health.js';
import type { Logger } from './logger.js';

export interface OpsServerOptions {
  /** 0 picks a free port (tests); read the chosen one from the result. */
  port: number;
  /** Default 127.0.0.1; use 0.0.0.0 where the orchestrator probes from outside. */
  host?: string;
  registry: Registry;
  /** Evaluated on every /readyz; pass a function when the list is built later (e.g. `() => lifecycle.healthChecks()`). */
  checks: readonly HealthCheck[] | (() => readonly HealthCheck[]);
  logger: Logger;
  /** Bound on each health check; default 2000 ms. */
  checkTimeoutMs?: number;
  /** Bound on close(); default 5000 ms. */
  closeTimeoutMs?: number;
}

export interface OpsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const logger = options.logger.child({ component: 'ops-server' });
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  const listChecks =
    typeof options.checks === 'function' ? options.checks : () => options.checks as readonly HealthCheck[];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, JSON_TYPE, JSON.stringify({ error: 'method not allowed' }), false);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    switch (path) {
      case '/livez':
        send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }), head);
        return;
      case '/readyz': {
        const report = await evaluateHealth(listChecks(), checkTimeoutMs);
        const body = JSON.stringify({
          status: report.ready ? 'ready' : 'not_ready',
          failing: report.failing,
          degraded: report.degraded,
          components: report.components,
        });
        if (!report.ready) logger.debug({ failing: report.failing }, 'not ready');
        send(res, report.ready ? 200 : 503, JSON_TYPE, body, head);
        return;
      }
      case '/metrics': {
        const text = await options.registry.metrics();
        send(res, 200, options.registry.contentType, text, head);
        return;
      }
      default:
        send(
          res,
          404,
          JSON_TYPE,
          JSON.stringify({ error: 'not found', paths: ['/livez', '/readyz', '/metrics'] }),
          head,
        );
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url }, 'ops request failed');
      if (!res.headersSent) send(res, 500, JSON_TYPE, JSON.stringify({ error: 'internal error' }), false);
      else res.destroy();
    });
  });
  // Probes and scrapers reconnect often; do not let idle keep-alive sockets delay shutdown.
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'ops server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    close() {
      closing ??= withTimeout(
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        }),
        options.closeTimeoutMs ?? 5_000,
        'ops server close',
      );
      return closing;
    },
  };
}
