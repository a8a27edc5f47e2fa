// Scheduled jobs across instances, on the real Postgres (and Kafka and InfluxDB for whole analyzers): two
// analyzers with the same short schedules run each period of the rated-energy and stability jobs exactly
// once between them, and both take the derived rated energy into their engines (the one that did not run
// the round through NOTIFY analyzer_job_done); when the instance holding a round's lease loses Postgres
// mid-round, the other takes over that period or the next one and runs the later periods; two analyzer
// processes: the one that ran the latest round is killed with SIGKILL and the other runs the next ones.
import { spawn, type ChildProcess } from 'node:child_process';
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

/** An analyzer process on this test's schema and topics; its rounds (job@period) are read from its JSON log. */
function analyzerProcess(env: Record<string, string>): { child: ChildProcess; rounds: string[] } {
  const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', mainTs], {
    env: {
      ...process.env,
      OFFSITE_LOG_LEVEL: 'info',
      OFFSITE_OPS_PORT: '0',
      OFFSITE_PG_SCHEMA: res.schema,
      OFFSITE_INFLUX_BUCKET: res.bucket,
      OFFSITE_ANALYZER_GROUP_ID: `g-sched-proc-${res.suffix}`,
      OFFSITE_ANALYZER_TELEMETRY_TOPIC: res.telemetryTopic,
      OFFSITE_ANALYZER_DEVIATION_TOPIC: res.deviationTopic,
      OFFSITE_ANALYZER_DLQ_TOPIC: res.dlqTopic,
      OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC: res.reviewTopic,
      OFFSITE_ANALYZER_TICK_INTERVAL_MS: '0',
      OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: '6000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rounds: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('scheduled job round done')) continue;
      const e = JSON.parse(line) as { job: string; period: string };
      rounds.push(`${e.job}@${e.period}`);
    }
  });
  return { child, rounds };
}

test('two analyzer processes: the one that ran the latest round is killed with SIGKILL, the other runs the next periods', async () => {
  const env = {
    OFFSITE_ANALYZER_STABILITY_INTERVAL_MS: '2000',
    OFFSITE_ANALYZER_STABILITY_WINDOW_DAYS: '2',
    OFFSITE_ANALYZER_RATED_ENERGY_INTERVAL_MS: '0',
    OFFSITE_ANALYZER_JOB_LEASE_MS: '1500',
  };
  const procs = [analyzerProcess(env), analyzerProcess(env)];
  const all = () => procs.flatMap((p) => p.rounds);
  try {
    await until(() => all().length >= 3, 90_000, 'three stability rounds');
    const latest = [...all()].sort().at(-1)!;
    const victim = procs.findIndex((p) => p.rounds.includes(latest));
    const survivor = procs[1 - victim]!;
    const killedAt = latest.slice(latest.indexOf('@') + 1);
    procs[victim]!.child.kill('SIGKILL');
    const before = survivor.rounds.length;
    await until(
      () => survivor.rounds.length >= before + 3,
      60_000,
      'three rounds in the survivor after the kill',
    );
    expect(new Set(all()).size).toBe(all().length);
    const after = survivor.rounds.slice(before).map((r) => Date.parse(r.slice(r.indexOf('@') + 1)));
    expect(after.every((t) => t > Date.parse(killedAt))).toBe(true);
  } finally {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}, 180_000);
