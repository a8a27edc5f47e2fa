import { createLifecycle } from './lifecycle.js';
import { createMemoryLogger } from './memory-logger.js';
import { createMetricsRegistry, defineMetrics } from './metrics.js';
import { startOpsServer, type OpsServer } from './ops-server.js';
import type { HealthCheck } from './health.js';

const logger = createMemoryLogger();
let server: OpsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(
  checks: readonly HealthCheck[] | (() => readonly HealthCheck[]) = [],
  registry = createMetricsRegistry(),
) {
  server = await startOpsServer({ port: 0, registry, checks, logger, checkTimeoutMs: 50 });
  return server;
}

async function get(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`${server?.url}${path}`, init);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

describe('startOpsServer', () => {
  it('answers /livez with 200', async () => {
    await start();
    expect(server?.port).toBeGreaterThan(0);
    await expect(get('/livez')).resolves.toMatchObject({ status: 200, body: '{"status":"ok"}' });
  });

  it('answers /readyz with 200 when every check is healthy', async () => {
    await start([
      { name: 'kafka', check: () => true },
      { name: 'influx', check: async () => ({ healthy: true }) },
    ]);
    const response = await get('/readyz');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'ready', failing: [] });
  });

  it('answers /readyz with 503 naming each failing component (false, thrown, timed out)', async () => {
    await start([
      { name: 'kafka', check: () => true },
      { name: 'influx', check: () => ({ healthy: false, detail: 'HTTP 503 from /ping' }) },
      { name: 'redis', check: () => Promise.reject(new Error('ECONNREFUSED')) },
      { name: 'postgres', check: () => new Promise<boolean>(() => undefined) },
    ]);
    const response = await get('/readyz');
    expect(response.status).toBe(503);
    const body = JSON.parse(response.body) as { status: string; failing: string[]; components: unknown[] };
    expect(body.status).toBe('not_ready');
    expect(body.failing).toEqual(['influx', 'redis', 'postgres']);
    expect(body.components).toContainEqual({ name: 'influx', healthy: false, detail: 'HTTP 503 from /ping' });
    expect(body.components).toContainEqual({ name: 'redis', healthy: false, detail: 'ECONNREFUSED' });
    expect(body.components).toContainEqual({
      name: 'postgres',
      healthy: false,
      detail: 'health check postgres did not finish within 50 ms',
    });
  });

  it('lists an unhealthy check that does not gate readiness as degraded, and stays ready', async () => {
    const lifecycle = createLifecycle({ logger, shutdownDeadlineMs: 2_000 });
    let member = false;
    lifecycle.register({ name: 'postgres', check: () => true });
    lifecycle.register({
      name: 'intake-consumer',
      gatesReadiness: false,
      check: () => (member ? true : { healthy: false, detail: 'joining its group' }),
    });
    await start(() => lifecycle.healthChecks());
    await lifecycle.start();
    const joining = await get('/readyz');
    expect(joining.status).toBe(200);
    expect(JSON.parse(joining.body)).toMatchObject({
      status: 'ready',
      failing: [],
      degraded: ['intake-consumer'],
    });
    expect(JSON.parse(joining.body).components).toContainEqual({
      name: 'intake-consumer',
      healthy: false,
      detail: 'joining its group',
      gatesReadiness: false,
    });
    member = true;
    const joined = await get('/readyz');
    expect(JSON.parse(joined.body)).toMatchObject({ status: 'ready', failing: [], degraded: [] });
    await lifecycle.shutdown('test');
  });

  it('turns /readyz to 503 while the lifecycle shuts down', async () => {
    let releaseStop!: () => void;
    const lifecycle = createLifecycle({ logger, shutdownDeadlineMs: 2_000 });
    lifecycle.register({
      name: 'consumer',
      check: () => true,
      stop: () =>
        new Promise<void>((resolve) => {
          releaseStop = resolve;
        }),
    });
    await start(() => lifecycle.healthChecks());
    expect((await get('/readyz')).status).toBe(503); // not started yet
    await lifecycle.start();
    expect((await get('/readyz')).status).toBe(200);
    const shutdown = lifecycle.shutdown('test');
    const during = await get('/readyz');
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body)).toMatchObject({ failing: ['lifecycle'] });
    expect((await get('/livez')).status).toBe(200); // still alive while draining
    releaseStop();
    await shutdown;
  });

  it('exposes counters and histograms defined from a typed catalog on /metrics', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { service: 'test' } });
    const metrics = defineMetrics(registry, {
      packets: {
        type: 'counter',
        name: 'offsite_test_packets_total',
        help: 'Packets received, by result',
        labelNames: ['result'],
      },
      batch: {
        type: 'histogram',
        name: 'offsite_test_batch_points',
        help: 'Points per batch',
        buckets: [10, 100],
      },
    });
    metrics.packets.inc({ result: 'ok' });
    metrics.packets.inc({ result: 'ok' });
    metrics.packets.inc({ result: 'crc_mismatch' });
    metrics.batch.observe(42);
    await start([], registry);
    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^text\/plain/);
    expect(response.body).toContain('# TYPE offsite_test_packets_total counter');
    expect(response.body).toContain('offsite_test_packets_total{result="ok",service="test"} 2');
    expect(response.body).toContain('offsite_test_packets_total{result="crc_mismatch",service="test"} 1');
    expect(response.body).toContain('offsite_test_batch_points_bucket{le="100",service="test"} 1');
    expect(response.body).not.toContain('process_cpu_user_seconds_total');
  });

  it('adds process metrics when asked', async () => {
    await start([], createMetricsRegistry({ defaultMetrics: true }));
    expect((await get('/metrics')).body).toContain('process_cpu_user_seconds_total');
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    await start();
    expect((await get('/nope')).status).toBe(404);
    const post = await get('/readyz', { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('closes promptly even with an idle keep-alive connection open', async () => {
    await start();
    await get('/livez'); // fetch keeps the socket alive
    const began = Date.now();
    await server?.close();
    server = undefined;
    expect(Date.now() - began).toBeLessThan(1_000);
  });

  it('fails to start on a port already in use', async () => {
    const first = await start();
    await expect(
      startOpsServer({ port: first.port, registry: createMetricsRegistry(), checks: [], logger }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
