// Test world for the console's integration tests: a private Postgres schema with the registry
// example (青澜市), demo users, a few deviation cases, and telemetry in InfluxDB under measurement
// names unique to this run.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, toLine } from '@offsite/influx';
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import { importRegistry, runMigrations } from '@offsite/store';
import { createTestSchema, requireEnv, silentLogger } from '@offsite/testing';
import type { FastifyInstance } from 'fastify';
import type { DeviationV1, ValidationResult } from '@offsite/contracts';
import { ensureTopics } from '@offsite/kafka';
import type { Kafka } from 'kafkajs';
import { createSilentLogger } from '@offsite/runtime';
import { buildApp } from '../src/app.js';
import { createLiveHub, type LiveHub, type LiveHubOptions } from '../src/live.js';
import { createArgonGate, createLoginGuard, type ArgonGate, type LoginLimits } from '../src/login-guard.js';
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
  live: LiveHub;
  close(): Promise<void>;
}

/** The test servers' InfluxDB, from the environment infra writes. */
export function influxConnection(): { url: string; token: string; org: string; bucket: string } {
  return {
    url: requireEnv('OFFSITE_INFLUX_URL'),
    token: requireEnv('OFFSITE_INFLUX_TOKEN'),
    org: process.env.OFFSITE_INFLUX_ORG ?? '',
    bucket: requireEnv('OFFSITE_INFLUX_BUCKET'),
  };
}

export async function createWorld(
  opts: {
    idleMs?: number;
    loginMax?: number;
    /** Regulation options of buildApp (reminders, outreach, deadlines), built on the world's pool. */
    regulation?: (pool: pg.Pool) => Parameters<typeof buildApp>[0]['regulation'];
    /** Store closed days' transmission counts (transmission-days.ts). */
    transmissionStoreDays?: boolean;
    /** Another Postgres than the shared one (a test's private server). */
    pgUrl?: string;
    live?: LiveHubOptions;
    streamSessionCheckMs?: number;
    streamsPerSession?: number;
    /** Failed-login limits (defaults: generous, so other tests never hit them). */
    loginLimits?: Partial<LoginLimits>;
    argonGate?: ArgonGate;
    deviceCommands?: Parameters<typeof buildApp>[0]['deviceCommands'];
    registryEdit?: Parameters<typeof buildApp>[0]['registryEdit'];
    portal?: Parameters<typeof buildApp>[0]['portal'];
  } = {},
): Promise<World> {
  // An idle client's error (its server restarted) is not thrown, as in main.ts.
  const db = await createTestSchema({ max: 6, ...(opts.pgUrl ? { url: opts.pgUrl } : {}) });
  const { schema, pool } = db;
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });
  await seedDemoUsers(pool, () => PASSWORD);
  await upsertUser(pool, {
    username: 'ent-0003-user',
    displayName: '企业用户',
    role: 'enterprise',
    enterpriseId: 'ent-0003',
    password: PASSWORD,
  });
  const base = {
    schema: 'deviation.v1' as const,
    emittedAt: '2026-03-02T04:00:05.000Z',
    revision: 1,
    state: 'opened' as const,
    windowStart: WINDOW,
    windowEnd: '2026-03-02T04:00:00.000Z',
    openedAt: '2026-03-02T04:00:00.000Z',
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: { summary: 'hourly mean above the permit limit', values: [], params: { limit: 50 } },
  };
  await insertAlertCase(pool, {
    ...base,
    id: CASES.landong,
    enterpriseId: 'ent-0002',
    siteId: 'out-0002-g1',
    rule: 'exceedance',
    factor: 'a21026',
    severity: 'high',
  });
  await insertAlertCase(pool, {
    ...base,
    id: CASES.landong2,
    enterpriseId: 'ent-0001',
    siteId: 'out-0001-g1',
    rule: 'exceedance',
    factor: 'a21002',
    severity: 'medium',
    openedAt: '2026-03-01T04:00:00.000Z',
    evidence: {
      summary: 'valid mean above the permit limit: out-0001-g1 a21002',
      values: [
        { time: '2026-03-01T03:00:00.000Z', factor: 'a21002', stat: 'Avg', value: 180.5, limit: 150 },
        { time: '2026-03-01T04:00:00.000Z', factor: 'a21002', stat: 'Avg', value: 162, limit: 150 },
      ],
      params: { domainRule: 'exceedance', limit: 150 },
    },
  });
  await insertAlertCase(pool, {
    ...base,
    id: CASES.lanxi,
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    rule: 'exceedance',
    factor: 'w01018',
    severity: 'critical',
  });
  await insertAlertCase(pool, {
    ...base,
    id: CASES.falsified,
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    rule: 'flatline',
    factor: 'w21003',
    severity: 'high',
    suspectedFalsification: true,
  });

  await addAlerterHistory(pool, CASES.landong);

  const run = randomBytes(4).toString('hex');
  const conn = influxConnection();
  const client = createInfluxClient(conn, silentLogger);
  await ensureDatabase1x(client, conn.bucket.split('/')[0]!);
  const writer = createInfluxWriter({ ...conn, logger: silentLogger }, client);
  const t0 = Date.parse(WINDOW) / 1000 - 3600;
  // The influx-writer's layout: measurement per kind, tags enterprise/site/device/factor/interval,
  // a float field per statistic plus flag and unit. SO2 hourly means above the 50 mg/m3 limit
  // inside the window; one hour flagged D (fault).
  const tags = {
    enterprise: 'ent-0002',
    site: 'out-0002-g1',
    device: 'MN-0002-G1',
    factor: 'a21026',
    interval: 'hour',
  };
  await writer.write(
    Array.from({ length: 8 }, (_, i) =>
      toLine({
        measurement: `emission_${run}`,
        tags,
        fields: {
          Avg: i >= 1 && i <= 3 ? 70 + i : 30 + i,
          Min: 20 + i,
          Max: 90 + i,
          flag: i === 5 ? 'D' : 'N',
          unit: 'mg/m3',
        },
        timeSeconds: t0 + i * 3600,
      }),
    ),
  );
  // A point of another factor and another site that must not show up in the evidence.
  await writer.write([
    toLine({
      measurement: `emission_${run}`,
      tags: { ...tags, factor: 'a21002' },
      fields: { Avg: 999, flag: 'N', unit: 'mg/m3' },
      timeSeconds: t0 + 3600,
    }),
    toLine({
      measurement: `emission_${run}`,
      tags: { ...tags, site: 'out-0002-g2' },
      fields: { Avg: 888, flag: 'N', unit: 'mg/m3' },
      timeSeconds: t0 + 3600,
    }),
  ]);
  // The analyzer's hourly aggregates (measurement `aggregate`): converted (折算) values.
  await writer.write(
    Array.from({ length: 4 }, (_, i) =>
      toLine({
        measurement: `aggregate_${run}`,
        tags: { enterprise: 'ent-0002', site: 'out-0002-g1', factor: 'a21026', interval: 'hour' },
        fields: {
          value: 70 + i,
          converted: 75 + i,
          valid: i !== 3,
          flag: i === 3 ? 'D' : 'N',
          coverage: i === 3 ? 0.5 : 1,
        },
        timeSeconds: t0 + (i + 1) * 3600,
      }),
    ),
  );

  const live = createLiveHub(pool, createSilentLogger(), opts.live);
  const redis = new Redis(requireEnv('OFFSITE_REDIS_URL'), { maxRetriesPerRequest: 1 });
  const loginGuard = createLoginGuard(redis, {
    prefix: `test-console-${schema}`,
    windowMs: 60_000,
    maxPerSource: 1_000,
    maxPerUser: 1_000,
    maxOverall: 10_000,
    maxPerDevice: 1_000,
    deviceTtlMs: 3_600_000,
    ...opts.loginLimits,
  });
  await live.start();
  const app = await buildApp({
    pool,
    live,
    ...(opts.streamSessionCheckMs ? { streamSessionCheckMs: opts.streamSessionCheckMs } : {}),
    ...(opts.streamsPerSession ? { streamsPerSession: opts.streamsPerSession } : {}),
    logger: createSilentLogger(),
    session: { idleMs: opts.idleMs ?? 30 * 60_000, absoluteMs: 12 * 3_600_000 },
    secureCookies: false,
    loginRateLimit: { max: opts.loginMax ?? 50, windowMs: 60_000 },
    loginGuard,
    argonGate: opts.argonGate ?? createArgonGate({ concurrency: 2, queue: 100 }),
    evidence: {
      client,
      bucket: conn.bucket,
      emissionMeasurement: `emission_${run}`,
      energyMeasurement: `energy_${run}`,
      statusMeasurement: `status_${run}`,
      aggregateMeasurement: `aggregate_${run}`,
      marginHours: 6,
    },
    transmission: {
      client,
      bucket: conn.bucket,
      emissionMeasurement: `emission_${run}`,
      threshold: 0.9,
      storeDays: opts.transmissionStoreDays ?? false,
    },
    webRoot,
    ...(opts.regulation ? { regulation: opts.regulation(pool) } : {}),
    ...(opts.deviceCommands ? { deviceCommands: opts.deviceCommands } : {}),
    ...(opts.registryEdit ? { registryEdit: opts.registryEdit } : {}),
    ...(opts.portal ? { portal: opts.portal } : {}),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    schema,
    pool,
    app,
    base: address,
    run,
    live,
    async close() {
      await app.close();
      await live.close();
      const keys = await redis.keys(`test-console-${schema}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await db.drop();
    },
  };
}

/** A case as the alerter stores it (services/alerter upsertCase: latest revision per deviation id). */
export async function insertAlertCase(db: pg.Pool, ev: DeviationV1): Promise<void> {
  await db.query(
    `insert into alert_cases (deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
        suspected_falsification, in_resumption_window, opened_at, resolved_at, event)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (deviation_id) do update set revision = excluded.revision, state = excluded.state,
        severity = excluded.severity, resolved_at = excluded.resolved_at, event = excluded.event, updated_at = now()
      where alert_cases.revision < excluded.revision`,
    [
      ev.id,
      ev.revision,
      ev.state,
      ev.rule,
      ev.severity,
      ev.enterpriseId,
      ev.siteId,
      ev.factor ?? null,
      ev.suspectedFalsification,
      ev.inResumptionWindow,
      ev.openedAt,
      ev.resolvedAt ?? null,
      JSON.stringify(ev),
    ],
  );
}

/**
 * What the alerter records for the landong case: its group, a reminder by SMS (failed at the
 * first provider, sent by the second) and by email, and the enterprise contact's acknowledgement.
 */
export async function addAlerterHistory(db: pg.Pool, caseId: string): Promise<{ contactId: string }> {
  const group = `grp-${caseId}`;
  await db.query(`update alert_cases set group_key = $2, policy = 'default' where deviation_id = $1`, [
    caseId,
    group,
  ]);
  const c = await db.query<{ id: string }>(
    `select id::text as id from contacts where enterprise_id = (select enterprise_id from alert_cases where deviation_id = $1) order by id limit 1`,
    [caseId],
  );
  const contactId = c.rows[0]!.id;
  for (const [id, channel, masked] of [
    [`${group}:sms:1`, 'sms', '138****0002'],
    [`${group}:email:1`, 'email', 'h***@example.cn'],
  ] as const) {
    await db.query(
      `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id,
          address_masked, channel, status, provider, attempts, sent_at)
       values ($1, $2, $3, 'reminder', 1, 'enterprise-contact', $4, $5, $6, 'sent', $7, $8, '2026-03-02T04:05:00Z')`,
      [
        id,
        group,
        [caseId],
        contactId,
        masked,
        channel,
        channel === 'sms' ? 'tencent' : 'smtp',
        channel === 'sms' ? 2 : 1,
      ],
    );
  }
  await db.query(
    `insert into alert_delivery_attempts (notification_id, attempt, provider, status, error_code, error_message, latency_ms, at)
     values ($1, 1, 'aliyun', 'failed', 'PROVIDER_UNAVAILABLE', 'isv.BUSINESS_LIMIT_CONTROL', 120, '2026-03-02T04:04:00Z'),
            ($1, 2, 'tencent', 'sent', null, null, 80, '2026-03-02T04:05:00Z'),
            ($2, 1, 'smtp', 'sent', null, null, 35, '2026-03-02T04:05:00Z')`,
    [`${group}:sms:1`, `${group}:email:1`],
  );
  await db.query(
    `insert into alert_acknowledgements (group_key, recipient_id, cause, expected_fix_at, acknowledged_at)
     values ($1, $2, '脱硫塔循环泵故障，已抢修', '2026-03-03T02:00:00Z', '2026-03-02T05:00:00Z')`,
    [group, contactId],
  );
  return { contactId };
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

/** A request with the session's cookie and CSRF token; the answer's status and parsed body. */
export async function sendAs<T>(
  base: string,
  s: Session,
  method: string,
  url: string,
  payload?: object,
): Promise<{ status: number; body: T }> {
  const r = await http(base, {
    method,
    url,
    ...(payload ? { payload } : {}),
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  return { status: r.statusCode, body: r.json() as T };
}

/** A district officer raises ent-0002's SO₂ hourly limit (50 → 80): a relaxing change left pending approval. */
export function raiseLimit(
  base: string,
  officer: Session,
): Promise<{ status: number; body: { state: string; requestId: string } }> {
  return sendAs<{ state: string; requestId: string }>(
    base,
    officer,
    'PUT',
    '/api/enterprises/ent-0002/limits',
    {
      outletId: 'out-0002-g1',
      factorCode: 'a21026',
      basis: 'hourly',
      value: 80,
    },
  );
}

export interface RawResult {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request over node:http with the path sent verbatim (fetch would normalise `//`, `.` and
 * `%2e`), optionally from another loopback address (`127.0.0.2`…: another source IP).
 */
export function rawRequest(
  base: string,
  opts: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    payload?: object;
    localAddress?: string;
  },
): Promise<RawResult> {
  const u = new URL(base);
  const body = opts.payload === undefined ? undefined : JSON.stringify(opts.payload);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method,
        path: opts.path,
        headers: {
          ...(body !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {}),
          ...opts.headers,
        },
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface Session {
  cookie: string;
  csrf: string;
}

/** Logs in over HTTP and returns the session cookie (httpOnly) and CSRF token. */
export async function loginAs(base: string, username: string, password = PASSWORD): Promise<Session> {
  const r = await http(base, { method: 'POST', url: '/api/login', payload: { username, password } });
  expect(r.statusCode).toBe(200);
  const set = r.cookies.find((c) => c.name === 'offsite_session');
  expect(set?.httpOnly).toBe(true);
  return { cookie: `offsite_session=${set!.value}`, csrf: (r.json() as { csrfToken: string }).csrfToken };
}

export interface EventStream {
  /** Everything received so far. */
  text(): string;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens `/api/stream` with the session cookie and collects what arrives. */
export function openStream(base: string, cookie: string): Promise<EventStream> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: '/api/stream', headers: { cookie } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
        let text = '';
        const ended = new Promise<void>((done) => res.on('end', done));
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        resolve({ text: () => text, ended, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A Kafka topic created for the test and read from its beginning: every record, validated against its
 * contract, lands in `records` in topic order.
 */
export async function readTopic<T>(
  kafka: Kafka,
  topic: string,
  validate: (input: unknown) => ValidationResult<T>,
): Promise<{ records: T[]; close(): Promise<void> }> {
  await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
  const records: T[] = [];
  const consumer = kafka.consumer({ groupId: `${topic}.reader` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const v = validate(JSON.parse(message.value!.toString()));
      if (!v.ok) throw new Error(v.errors.join('; '));
      records.push(v.value);
    },
  });
  return {
    records,
    async close() {
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** Puts enterprises on the positive list from 30 days ago (Asia/Shanghai), as the city would. */
export async function listPositive(pool: pg.Pool, enterpriseIds: string[]): Promise<void> {
  const from = addDays(shanghaiDate(Date.now()), -30);
  for (const ent of enterpriseIds)
    await pool.query(
      `insert into positive_list_decisions (enterprise_id, action, reason, valid_from, decided_by)
       values ($1, 'add', 'test', $2, 'supervisor')`,
      [ent, from],
    );
}

/**
 * Sends `body` as `s` and expects the refusal `status` naming `field` in a message with Chinese and
 * English, with `snapshot()` (the tables the request could change) the same before and after.
 */
export async function expectRefused(
  base: string,
  s: Session,
  url: string,
  body: object,
  expected: { status: number; field: string },
  snapshot: () => Promise<unknown>,
): Promise<void> {
  const before = await snapshot();
  const r = await sendAs<{ field?: string; message?: string }>(base, s, 'POST', url, body);
  expect(r.status).toBe(expected.status);
  expect(r.body.field).toBe(expected.field);
  expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
  expect(r.body.message).toMatch(/[a-z]{3,}/);
  expect(await snapshot()).toEqual(before);
}
