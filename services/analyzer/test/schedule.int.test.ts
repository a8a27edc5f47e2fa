// Scheduled jobs across instances, on the real Postgres (and Kafka and InfluxDB for whole analyzers): two
// analyzers with the same short schedules run each period of the rated-energy and stability jobs exactly
// once between them, and both take the derived rated energy into their engines (the one that did not run
// the round through NOTIFY analyzer_job_done); when the instance holding a round's lease loses Postgres
// mid-round, the other takes over that period or the next one and runs the later periods.
import { fileURLToPath } from 'node:url';
import { makeConfig } from '@offsite/domain';
import {
  createInfluxClient,
  createInfluxWriter,
  ensureDatabase1x,
  queryInfluxQL,
  type InfluxWriter,
} from '@offsite/influx';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { createMemoryLogger, type MemoryLogger } from '@offsite/runtime';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { createAnalyzer, type Analyzer } from '../src/app.js';
import { createScheduledJob } from '../src/schedule.js';
import { meterEnergyLines } from './energy.js';
import { dropResources, testResources } from './resources.js';

const HOUR = 3_600_000;
const res = testResources('sched');
const examplePath = fileURLToPath(new URL('../../../registry/example.yaml', import.meta.url));
const url = () => requireEnv('OFFSITE_PG_URL');

let kafka: Kafka;
let writer: InfluxWriter;
const pools: pg.Pool[] = [];
const newPool = () => {
  const p = new pg.Pool({ connectionString: url(), options: `-c search_path=${res.schema}`, max: 3 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
};

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: url() });
  await admin.connect();
  await admin.query(`create schema ${res.schema}`);
  await admin.end();
  const pool = newPool();
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });
  kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'analyzer-schedule-int',
    logger: silentLogger,
  });
  await ensureTopics(kafka, [
    { topic: res.telemetryTopic, numPartitions: 2 },
    { topic: res.deviationTopic, numPartitions: 1 },
    { topic: res.dlqTopic, numPartitions: 1 },
    { topic: res.reviewTopic, numPartitions: 1 },
  ]);
  await ensureDatabase1x(createInfluxClient(res.influxConn(), silentLogger), res.influxDb);
  writer = createInfluxWriter({ ...res.influxConn(), logger: silentLogger });
  const now = Math.floor(Date.now() / (HOUR / 4)) * (HOUR / 4);
  const lines = meterEnergyLines('ent-0002', 'mtr-0002-p1', now - 3 * 24 * HOUR, now);
  for (let i = 0; i < lines.length; i += 5000) await writer.write(lines.slice(i, i + 5000));
}, 60_000);

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await dropResources(kafka, res);
});

/** The rounds an instance ran, as `job@period`, from its log. */
const rounds = (logger: MemoryLogger, job?: string): string[] =>
  logger.entries
    .filter((e) => e.message === 'scheduled job round done' && (!job || e.fields.job === job))
    .map((e) => `${String(e.fields.job)}@${String(e.fields.period)}`);

test('two analyzers: each period of each job runs once between them, and both take the derived rated energy', async () => {
  const influx = createInfluxClient(res.influxConn(), silentLogger);
  const start = (logger: MemoryLogger) =>
    createAnalyzer({
      kafka,
      pool: newPool(),
      registrySchema: res.schema,
      influx: writer,
      engineConfig: makeConfig(),
      groupId: `g-sched-${res.suffix}`,
      telemetryTopic: res.telemetryTopic,
      deviationTopic: res.deviationTopic,
      dlqTopic: res.dlqTopic,
      reviewDecisionTopic: res.reviewTopic,
      allowedLatenessMs: 600_000,
      tickLagMs: 900_000,
      tickIntervalMs: 0,
      checkpointIntervalMs: 0,
      checkpointEveryRecords: 0,
      query: (b, q) => queryInfluxQL(influx, b, q),
      bucket: res.bucket,
      stability: { intervalMs: 1_000, windowDays: 2, policy: { minEffectiveTransmissionRate: 0.9 } },
      ratedEnergy: { intervalMs: 1_500, lookbackDays: 60, minKwh: 0.2 },
      jobLeaseMs: 5_000,
      logger,
    });
  const logs = [createMemoryLogger(), createMemoryLogger()] as const;
  const analyzers: Analyzer[] = [await start(logs[0]), await start(logs[1])];
  expect(analyzers[0]!.ratedEnergy().size).toBe(0);
  expect(analyzers[1]!.ratedEnergy().size).toBe(0);
  try {
    await Promise.all(analyzers.map((a) => a.start()));
    const all = () => [...rounds(logs[0]), ...rounds(logs[1])];
    const periods = (job: string) => all().filter((r) => r.startsWith(`${job}@`)).length;
    await until(
      () => periods('rated-energy') >= 4 && periods('stability') >= 4,
      60_000,
      'four periods of each job',
    );
    // Exactly once: no job@period in both logs nor twice in one.
    expect(new Set(all()).size).toBe(all().length);

    for (const [i, a] of analyzers.entries())
      await until(
        () => a.ratedEnergy().get('mtr-0002-p1') === 5,
        30_000,
        `instance ${i} holds the rated energy`,
      );
    // Whoever did not run a round learned of it from the other's NOTIFY, which names the other instance.
    const notifiedBy = (i: number) =>
      logs[i]!.entries.filter((e) => e.message === 'rated energy derived by another instance: reloading').map(
        (e) => e.fields.owner,
      );
    for (const i of [0, 1]) {
      const other = analyzers[1 - i]!;
      if (rounds(logs[1 - i]!, 'rated-energy').length > 0)
        await until(() => notifiedBy(i).includes(other.instanceId), 30_000, `instance ${i} notified`);
      expect(notifiedBy(i)).not.toContain(analyzers[i]!.instanceId);
    }
    const rows = await pools[0]!.query<{ rated_kwh: number }>(
      `select rated_kwh from analyzer_rated_energy where meter_id = 'mtr-0002-p1'`,
    );
    expect(rows.rows).toEqual([{ rated_kwh: 5 }]);
  } finally {
    await Promise.all(analyzers.map((a) => a.stop()));
  }
}, 120_000);

test('the lease holder loses Postgres mid-round: the other instance takes over that period or the next, and runs the later ones', async () => {
  const interval = 2_000;
  const runs: { who: 'a' | 'b'; period: string }[] = [];
  const logA = createMemoryLogger();
  const logB = createMemoryLogger();
  let hung: (() => void) | undefined;
  const hangStarted = new Promise<void>((resolve) => (hung = resolve));
  const poolA = newPool();
  const job = (who: 'a' | 'b', pool: pg.Pool, logger: MemoryLogger, run: () => Promise<boolean>) =>
    createScheduledJob({
      name: 'takeover-test',
      intervalMs: interval,
      leaseMs: 1_000,
      db: pool,
      schema: res.schema,
      owner: `instance-${who}`,
      run,
      logger,
    });
  const periodOf = (logger: MemoryLogger) =>
    String(logger.entries.filter((e) => e.message === 'scheduled job round started').at(-1)?.fields.period);
  // A runs its first round and never finishes it (a frozen or killed process holds no more than its lease).
  const a = job('a', poolA, logA, async () => {
    runs.push({ who: 'a', period: periodOf(logA) });
    hung?.();
    return new Promise<boolean>(() => undefined);
  });
  const b = job('b', newPool(), logB, async () => {
    runs.push({ who: 'b', period: periodOf(logB) });
    return false;
  });
  a.start();
  await hangStarted;
  const dead = Date.parse(runs[0]!.period);
  // Its connections end: the lease is no longer renewed.
  await poolA.end();
  b.start();
  try {
    await until(
      () => runs.filter((r) => r.who === 'b').length >= 3,
      30_000,
      'three rounds in the other instance',
    );
  } finally {
    await b.stop(5_000);
    await a.stop(10);
  }
  const byB = runs.filter((r) => r.who === 'b').map((r) => Date.parse(r.period));
  expect(runs.filter((r) => r.who === 'a')).toHaveLength(1);
  expect(new Set(byB).size).toBe(byB.length);
  // The dead holder's period (retaken once its lease ran out) or the next one, then later periods in order.
  expect([dead, dead + interval]).toContain(byB[0]);
  expect([...byB].sort((x, y) => x - y)).toEqual(byB);
  const lease = await pools[0]!.query<{ owner: string }>(
    `select owner from analyzer_job_leases where job = 'takeover-test'`,
  );
  expect(lease.rows).toEqual([{ owner: 'instance-b' }]);
}, 60_000);
