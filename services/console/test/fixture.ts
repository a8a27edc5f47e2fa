// Test world for the console's integration tests: a private Postgres schema with the registry
// example (青澜市), demo users, a few deviation cases, and telemetry in InfluxDB under measurement
// names unique to this run.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, toLine } from '@offsite/influx';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { FastifyInstance } from 'fastify';
import { createSilentLogger } from '@offsite/runtime';
import { buildApp } from '../src/app.js';
import { upsertDeviation } from '../src/cases.js';
import { upsertUser } from '../src/auth.js';
import { seedDemoUsers } from '../src/seed.js';

export const PASSWORD = 'demo-Passw0rd!';
export const examplePath = fileURLToPath(new URL('../../../registry/example.yaml', import.meta.url));
export const webRoot = fileURLToPath(new URL('../web/dist/', import.meta.url));

// ent-0002 is in dist-landong, ent-0003 in dist-lanxi.
export const WINDOW = '2026-03-02T02:00:00.000Z';
export const CASES = {
  landong: 'dev-landong-exceed-1',
  landong2: 'dev-landong-exceed-2',
  lanxi: 'dev-lanxi-exceed-1',
  falsified: 'dev-lanxi-flatline-1',
} as const;

export interface World {
  schema: string;
  pool: pg.Pool;
  app: FastifyInstance;
  /** http://127.0.0.1:port of the listening app. */
  base: string;
  run: string;
  close(): Promise<void>;
}

export async function createWorld(opts: { idleMs?: number; loginMax?: number } = {}): Promise<World> {
  const url = requireEnv('OFFSITE_PG_URL');
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 6 });
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });
  await seedDemoUsers(pool, { admin: PASSWORD, supervisor: PASSWORD, officer: PASSWORD, viewer: PASSWORD });
  await upsertUser(pool, {
    username: 'ent-0003-user',
    displayName: '企业用户',
    role: 'enterprise',
    enterpriseId: 'ent-0003',
    password: PASSWORD,
  });
  const base = {
    revision: 1,
    state: 'opened' as const,
    windowStart: WINDOW,
    windowEnd: '2026-03-02T04:00:00.000Z',
    openedAt: '2026-03-02T04:00:00.000Z',
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: { summary: 'hourly mean above the permit limit', values: [], params: { limit: 50 } },
  };
  await upsertDeviation(pool, {
    ...base,
    id: CASES.landong,
    enterpriseId: 'ent-0002',
    siteId: 'out-0002-g1',
    rule: 'exceedance',
    factor: 'a21026',
    severity: 'high',
  });
  await upsertDeviation(pool, {
    ...base,
    id: CASES.landong2,
    enterpriseId: 'ent-0001',
    siteId: 'out-0001-g1',
    rule: 'exceedance',
    factor: 'a21002',
    severity: 'medium',
    openedAt: '2026-03-01T04:00:00.000Z',
  });
  await upsertDeviation(pool, {
    ...base,
    id: CASES.lanxi,
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    rule: 'exceedance',
    factor: 'w01018',
    severity: 'critical',
  });
  await upsertDeviation(pool, {
    ...base,
    id: CASES.falsified,
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    rule: 'flatline',
    factor: 'w21003',
    severity: 'high',
    suspectedFalsification: true,
  });

  const run = randomBytes(4).toString('hex');
  const conn = {
    url: requireEnv('OFFSITE_INFLUX_URL'),
    token: requireEnv('OFFSITE_INFLUX_TOKEN'),
    org: process.env.OFFSITE_INFLUX_ORG ?? '',
    bucket: requireEnv('OFFSITE_INFLUX_BUCKET'),
  };
  const client = createInfluxClient(conn, silentLogger);
  await ensureDatabase1x(client, conn.bucket.split('/')[0]!);
  const writer = createInfluxWriter({ ...conn, logger: silentLogger }, client);
  const t0 = Date.parse(WINDOW) / 1000 - 3600;
  // SO2 hourly means around the window: above the 50 mg/m3 limit inside it.
  await writer.write(
    Array.from({ length: 8 }, (_, i) =>
      toLine({
        measurement: `emission_${run}`,
        tags: { enterprise: 'ent-0002', site: 'out-0002-g1', factor: 'a21026' },
        fields: { Avg: i >= 1 && i <= 3 ? 70 + i : 30 + i },
        timeSeconds: t0 + i * 3600,
      }),
    ),
  );

  const app = await buildApp({
    pool,
    logger: createSilentLogger(),
    session: { idleMs: opts.idleMs ?? 30 * 60_000, absoluteMs: 12 * 3_600_000 },
    secureCookies: false,
    loginRateLimit: { max: opts.loginMax ?? 50, windowMs: 60_000 },
    evidence: {
      client,
      org: conn.org,
      bucket: conn.bucket,
      emissionMeasurement: `emission_${run}`,
      energyMeasurement: `energy_${run}`,
      marginHours: 6,
    },
    webRoot,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    schema,
    pool,
    app,
    base: address,
    run,
    async close() {
      await app.close();
      await pool.end();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export interface HttpResult {
  statusCode: number;
  body: string;
  json(): unknown;
  cookies: { name: string; value: string; httpOnly: boolean }[];
}

/**
 * Requests over a real socket to the app listening on loopback. (Fastify's inject() pulls in an
 * ESM-only `cookie` through light-my-request, which Jest's VM modules cannot require on Node 20.)
 */
export async function http(
  base: string,
  opts: { method: string; url: string; payload?: object; headers?: Record<string, string> },
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.payload !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + opts.url, {
    method: opts.method,
    headers,
    ...(opts.payload !== undefined ? { body: JSON.stringify(opts.payload) } : {}),
  });
  const body = await r.text();
  const cookies = r.headers.getSetCookie().map((c) => {
    const [pair = '', ...attrs] = c.split(';');
    const i = pair.indexOf('=');
    return {
      name: pair.slice(0, i).trim(),
      value: pair.slice(i + 1).trim(),
      httpOnly: attrs.some((a) => a.trim().toLowerCase() === 'httponly'),
    };
  });
  return { statusCode: r.status, body, json: () => JSON.parse(body) as unknown, cookies };
}
