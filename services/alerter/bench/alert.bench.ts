// Alerter throughput on the real Postgres and Redis of .offsite/env and a private SMTP sink (the
// project's infra/smtp-sink, a real SMTP server that answers 250 once each mail is fsync'ed to its
// own file, started on its own port and directory so other people's mail and tests neither slow
// nor pollute the count). Prints numbers, with the CPU each side spent per notification; asserts
// nothing.
//
//   npm run bench:alert                     (from the repository root)
//   flock /tmp/offsite-bench.lock npm run bench:alert -- --profile
//
// Environment knobs: N (upsert+enqueue deviations, 2000), SENDS (notifications per SMTP run, 3000),
// RATE (offered deviations/s of the paced run, 500 = the target), CONC (send worker concurrency, 128), SEND_WORKERS
// (workers per send queue, 1), PLAN_CONC
// (plan worker concurrency, 32),
// SMTP_CONNECTIONS (pool size, 16), SMTP_MAX_MESSAGES (messages per pooled connection, 10000),
// HEADROOM (a second paced run at HEADROOM × RATE, 1.2; 0 skips it), KAFKA (1: a paced run fed
// through a private deviation topic, the consumer and the intake of the service; 0 skips it).
// --profile writes .cpuprofile files of the bench process (the alerter runs in it) and of the sink
// under /tmp/alert-bench-prof-<id>/ and prints the top self-time functions of each.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  type BatchConsumer,
} from '@offsite/kafka';
import { createEmailChannel, createOutboxChannel, renderReminder, type Channel } from '@offsite/notify';
import { createSilentLogger } from '@offsite/runtime';
import { importRegistry, pgConfig, runMigrations } from '@offsite/store';
import { readSinkHeads } from '@offsite/testing';
import { createAlerter } from '../src/app.js';
import { createIntake } from '../src/intake.js';
import { deviation } from '../test/int-support.js';
import { defaultPolicy } from '../src/policy.js';
import { ALERTER_PG_SETTINGS } from '../src/repo.js';

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run through npm run bench:alert, which sources .offsite/env)`);
  return v;
};
const num = (k: string, d: number) => Number(process.env[k] ?? d);
const root = path.resolve(import.meta.dirname, '../../..');
const N = num('N', 2000);
const SENDS = num('SENDS', 3000);
const RATE = num('RATE', 500);
const CONC = num('CONC', 128);
const PLAN_CONC = num('PLAN_CONC', 32);
const SEND_WORKERS = num('SEND_WORKERS', 1);
const SMTP_CONNECTIONS = num('SMTP_CONNECTIONS', 16);
const SMTP_MAX_MESSAGES = num('SMTP_MAX_MESSAGES', 10_000);
const HEADROOM = num('HEADROOM', 1.2);
const KAFKA = num('KAFKA', 1);
const PROFILE = process.argv.includes('--profile');
const id = randomBytes(4).toString('hex');
const schema = `bench_${id}`;
const domain = `b${id}.example`;
const midDomain = `bench-${id}.offsite`;
const logger = createSilentLogger();
const redisUrl = new URL(need('OFFSITE_REDIS_URL'));
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port), maxRetriesPerRequest: null };
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const dev = (i: number, ent: string) => deviation(`bench-${id}`, ent, i, { rule: 'treatment-idle' });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();

// Peak RSS of this process (the alerter runs in it), sampled while the runs go.
let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

/** CPU ms (user + system) a process used so far, from /proc/<pid>/stat (clock ticks of 10 ms); 0 once gone. */
const procCpuMs = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
};
/** Busy and total ms of all CPUs (/proc/stat), whoever used them. */
const machineCpuMs = (): { busy: number; total: number } => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0) * 10;
  return { busy: total - (f[3]! + f[4]!) * 10, total };
};

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

async function topFunctions(file: string, n = 12): Promise<string[]> {
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const p = JSON.parse(await readFile(file, 'utf8')) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((sid, i) => {
    const cf = byId.get(sid)!.callFrame;
    const k = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(`file://${root}/`, '')}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    const dt = p.timeDeltas[i] ?? 0;
    self.set(k, (self.get(k) ?? 0) + dt);
    total += dt;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, t]) =>
        `  ${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
}

// --- private SMTP sink -----------------------------------------------------------------------
const dir = await mkdtemp(path.join(tmpdir(), 'alerter-bench-'));
const mailDir = path.join(dir, 'mail');
const profDir = `/tmp/alert-bench-prof-${id}`;
if (PROFILE) await mkdir(profDir, { recursive: true });
const smtpPort = await freePort();
const sink: ChildProcess = spawn(
  process.execPath,
  [
    ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}/sink`] : []),
    path.join(root, 'infra/smtp-sink/main.mjs'),
  ],
  {
    cwd: root,
    env: {
      ...process.env,
      OFFSITE_SMTP_HOST: '127.0.0.1',
      OFFSITE_SMTP_PORT: String(smtpPort),
      OFFSITE_MAIL_DIR: mailDir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise<void>((resolve, reject) => {
  let out = '';
  sink.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('"listening"')) resolve();
  });
  sink.once('exit', (c) => reject(new Error(`smtp sink exited ${c}`)));
});
sink.stdout!.resume();
sink.stdout!.removeAllListeners('data');
sink.stdout!.on('data', () => undefined);

let session: Session | undefined;
if (PROFILE) {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
}

console.log(
  `alert bench: SENDS=${SENDS} RATE=${RATE}/s CONC=${CONC} SEND_WORKERS=${SEND_WORKERS} PLAN_CONC=${PLAN_CONC} SMTP_CONNECTIONS=${SMTP_CONNECTIONS} ` +
    `SMTP_MAX_MESSAGES=${SMTP_MAX_MESSAGES}; ${os.cpus().length} CPUs, loadavg ${load()} (1/5/15 min)`,
);

const admin = new pg.Client({ connectionString: need('OFFSITE_PG_URL') });
await admin.connect();
await admin.query(`create schema ${schema}`);
await admin.end();
const pool = new pg.Pool({
  ...pgConfig({ url: need('OFFSITE_PG_URL'), schema, settings: ALERTER_PG_SETTINGS }),
  max: 20,
  // Named, and never closed while idle, so each phase's CPU of our Postgres backends is countable.
  application_name: `alert-bench-${id}`,
  idleTimeoutMillis: 0,
});
const kafka = createKafkaClient({
  brokers: need('OFFSITE_KAFKA_BROKERS').split(','),
  clientId: `alert-bench-${id}`,
  logger,
});
const producer = createDurableProducer(kafka, { logger });
const benchTopics: string[] = [];
const redisPid = await (async () => {
  const r = new Redis(connection);
  const info = await r.info('server');
  r.disconnect();
  return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
})();

/** The Kafka broker of the shared servers (its JVM's command line names kafka.Kafka), for its CPU. */
const kafkaPid = (() => {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('kafka.Kafka')) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return 0;
})();

/** CPU used so far by each side of the run (ms): this process (the alerter), the sink, our Postgres backends, Redis, the machine. */
async function cpuSnapshot() {
  const pids = (
    await pool.query<{ pid: number }>(`select pid from pg_stat_activity where application_name = $1`, [
      `alert-bench-${id}`,
    ])
  ).rows.map((r) => r.pid);
  const u = process.cpuUsage();
  return {
    alerter: (u.user + u.system) / 1000,
    sink: procCpuMs(sink.pid!),
    pg: new Map(pids.map((p) => [p, procCpuMs(p)])),
    redis: procCpuMs(redisPid),
    kafka: procCpuMs(kafkaPid),
    machine: machineCpuMs(),
  };
}
/** CPU per item between two snapshots, one line. */
function cpuLine(a: Awaited<ReturnType<typeof cpuSnapshot>>, b: typeof a, items: number): string {
  let pgMs = 0;
  for (const [pid, ms] of b.pg) pgMs += ms - (a.pg.get(pid) ?? 0);
  const per = (ms: number) => `${(ms / items).toFixed(2)}`;
  const busy = b.machine.busy - a.machine.busy;
  const total = b.machine.total - a.machine.total;
  return (
    `CPU ms per notification: alerter ${per(b.alerter - a.alerter)}, sink ${per(b.sink - a.sink)}, ` +
    `postgres backends ${per(pgMs)}, redis ${per(b.redis - a.redis)}, kafka broker ${per(b.kafka - a.kafka)} (shared servers: everyone's work); ` +
    `machine ${((100 * busy) / Math.max(1, total)).toFixed(0)}% busy over both cores (${per(busy)} ms per notification, all processes)`
  );
}
// Postgres statements issued by the alerter (not by the bench's own bookkeeping), per run.
let statements = 0;
const counted = {
  query: ((text: string, values?: unknown[]) => {
    statements++;
    return pool.query(text, values);
  }) as typeof pool.query,
};
const mailsIn = async () =>
  (await readdir(mailDir)).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).length;

try {
  await runMigrations(pool, { logger });
  await importRegistry(pool, { path: path.join(root, 'registry/example.yaml') }, { logger });
  await pool.query(`update contacts set email = 'c' || id || '@${domain}' where email is not null`);
  const ents = (
    await pool.query<{ enterprise_id: string }>(
      `select distinct enterprise_id from contacts where role = 'env-manager' and email is not null`,
    )
  ).rows.map((r) => r.enterprise_id);
  const ackBase = { secret: 'bench-secret-bench', baseUrl: 'http://127.0.0.1:8090/ack' };

  const email = () =>
    createEmailChannel(
      {
        host: '127.0.0.1',
        port: smtpPort,
        from: { address: 'noreply@qinglan.example', name: '青澜市生态环境局' },
        messageIdDomain: midDomain,
        maxConnections: SMTP_CONNECTIONS,
        maxMessages: SMTP_MAX_MESSAGES,
      },
      logger,
    );

  // 1. deviations/s through case upsert + plan enqueue (no workers).
  {
    const a = createAlerter({
      db: pool,
      connection,
      prefix: `bench-${id}-a`,
      logger,
      policy: defaultPolicy(),
      channels: { outbox: createOutboxChannel({ dir, as: 'email' }, logger) },
      ack: ackBase,
    });
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const i = next++;
          await a.handleDeviation(dev(i, ents[i % ents.length]!));
        }
      }),
    );
    const s = (performance.now() - t) / 1000;
    console.log(
      `upsert+enqueue: ${N} deviations in ${s.toFixed(2)} s = ${(N / s).toFixed(0)} deviations/s (16 in flight)`,
    );
    await a.close();
    await pool.query('truncate alert_cases cascade');
  }

  // 2. Baseline: notify's email channel alone (the nodemailer pool) → the same sink, same pool
  //    size, a rendered reminder of the same size, CONC in flight: the ceiling of the SMTP path
  //    without intake, queues or Postgres.
  let baselineRate = NaN;
  {
    const rendered = renderReminder(
      {
        kind: 'reminder',
        round: 1,
        bureau: { zh: '青澜市生态环境局', en: 'Qinglan Ecology and Environment Bureau' },
        enterprise: { zh: '青澜市某某化工有限公司' },
        recipientName: '张三',
        items: [
          {
            rule: 'treatment-idle',
            severity: 'medium',
            facility: { zh: '1号废气处理设施' },
            openedAt: new Date('2026-03-01T02:30:00Z'),
            evidence: [],
            summary: 'idle',
          },
        ],
        ackUrl: `${ackBase.baseUrl}?t=${'x'.repeat(160)}`,
        ackExpiresAt: new Date('2026-03-02T02:30:00Z'),
      },
      'zh',
    );
    const channel = email();
    const lat: number[] = [];
    const cpu0 = await cpuSnapshot();
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (next < SENDS) {
          const i = next++;
          const s0 = performance.now();
          await channel.send({
            id: `raw-${i}`,
            to: { address: `raw${i}@${domain}`, name: '张三' },
            language: 'zh',
            ...rendered,
          });
          lat.push(performance.now() - s0);
        }
      }),
    );
    const s = (performance.now() - t) / 1000;
    baselineRate = SENDS / s;
    const cpu1 = await cpuSnapshot();
    await channel.close();
    console.log(
      `baseline email channel (nodemailer pool) → sink: ${SENDS} mails in ${s.toFixed(2)} s = ${baselineRate.toFixed(0)} mails/s; ` +
        `send p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms (${CONC} in flight); loadavg ${load()}\n  ${cpuLine(cpu0, cpu1, SENDS)}`,
    );
  }

  // 3. Notifications through the alerter: each deviation its own group (group wait 1 ms), one
  //    recipient, one channel. `rate` 0 = burst (16 deviations in flight, as fast as intake goes);
  //    otherwise deviations are offered on a schedule and each one's latency starts at its
  //    scheduled time, so an intake that falls behind shows up in the latency.
  async function sends(
    label: string,
    channel: Channel,
    channelName: 'email' | 'outbox',
    rate: number,
    count: number,
    via: 'direct' | 'kafka' = 'direct',
  ): Promise<{
    rate: number;
    accepted: number;
    steady: number;
    offered: number;
    p99: number;
    tailMs: number;
  }> {
    const p = defaultPolicy();
    p.groupWaitMs = 1;
    delete p.quietHours;
    p.entries = p.entries.map((e) => ({
      ...e,
      channels: [channelName],
      repeat: { ...e.repeat, maxCount: 1 },
    }));
    delete p.entries[2]!.escalateAfterMs;
    const accepted = new Map<string, number>();
    let acceptedDup = 0;
    const timed: Channel = {
      provider: channel.provider,
      kind: channel.kind,
      close: () => channel.close(),
      async send(m) {
        const r = await channel.send(m);
        if (accepted.has(m.id)) acceptedDup++;
        accepted.set(m.id, wall());
        return r;
      },
    };
    statements = 0;
    const a = createAlerter({
      db: counted,
      connection,
      prefix: `bench-${id}-${label}`,
      logger,
      policy: p,
      channels: channelName === 'email' ? { email: timed } : { outbox: timed },
      ack: ackBase,
      send: { concurrency: CONC, planConcurrency: PLAN_CONC, workersPerQueue: SEND_WORKERS },
    });
    const cpu0 = await cpuSnapshot();
    a.start();
    // Via Kafka: deviations are produced (keyed by enterprise, acks=all) to a private topic and
    // reach the alerter through the service's consumer and intake; latency starts at the produce.
    let consumer: BatchConsumer | undefined;
    let topic = '';
    if (via === 'kafka') {
      topic = `bench-${id}-${benchTopics.length}.deviation.v1`;
      benchTopics.push(topic);
      await ensureTopics(kafka, [{ topic, numPartitions: 6 }]);
      let assigned: () => void = () => undefined;
      const ready = new Promise<void>((r) => (assigned = r));
      consumer = createBatchConsumer({
        kafka,
        groupId: `bench-${id}-${benchTopics.length}`,
        topics: [topic],
        logger,
        onAssignment: () => assigned(),
        partitionsConsumedConcurrently: 6, // as the service (OFFSITE_ALERTER_KAFKA_PARTITIONS_CONCURRENTLY)
        handle: createIntake({ alerter: a, dlq: async () => undefined, logger }),
      });
      await consumer.start();
      await ready;
      await producer.connect();
    }
    const offeredAt = new Map<string, number>();
    const base = 100_000 + Math.floor(Math.random() * 1e6) * 10;
    const t0 = wall();
    let next = 0;
    if (via === 'kafka') {
      // Like an upstream producer: every 10 ms, what is due goes out in one acks=all request (one
      // request per deviation cost this process, which also runs the alerter, more than the
      // alerter's own work).
      while (next < count) {
        const batch: { key: string; value: string }[] = [];
        while (next < count && t0 + (next * 1000) / rate <= wall()) {
          const i = next++;
          const d = dev(base + i, ents[i % ents.length]!);
          offeredAt.set(d.id, t0 + (i * 1000) / rate);
          batch.push({ key: d.enterpriseId, value: JSON.stringify(d) });
        }
        if (batch.length > 0) await producer.send(topic, batch);
        else await sleep(10);
      }
    } else
      await Promise.all(
        Array.from({ length: rate > 0 ? 64 : 16 }, async () => {
          while (next < count) {
            const i = next++;
            const due = t0 + (rate > 0 ? (i * 1000) / rate : 0);
            const wait = due - wall();
            if (wait > 0) await sleep(wait);
            const d = dev(base + i, ents[i % ents.length]!);
            offeredAt.set(d.id, rate > 0 ? due : wall());
            await a.handleDeviation(d);
          }
        }),
      );
    const offeredFor = (wall() - t0) / 1000;
    // Through Kafka the last cases may still be on their way: count the groups once all are in.
    while (
      via === 'kafka' &&
      wall() - t0 < 180_000 &&
      (await pool.query<{ n: number }>(`select count(*)::int as n from alert_cases`)).rows[0]!.n < count
    )
      await sleep(50);
    const want = (
      await pool.query<{ n: number }>(
        `select count(distinct group_key)::int as n from alert_cases where group_key is not null`,
      )
    ).rows[0]!.n;
    while (accepted.size < want && wall() - t0 < 180_000) await sleep(20);
    const sent = async () =>
      (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from alert_notifications where status = 'sent'`,
        )
      ).rows[0]!.n;
    while ((await sent()) < accepted.size && wall() - t0 < 180_000) await sleep(50);
    const cpu1 = await cpuSnapshot();
    const last = Math.max(...accepted.values());
    const s = (last - t0) / 1000;
    // Latency: from the end of the group-wait bucket holding the group's first offered deviation
    // (the wait the policy imposes: excluded) to the provider's acceptance. Taken from the offer
    // time, not from the bucket in the group key: that bucket is where the intake put it, so an
    // intake running behind would otherwise hide its delay.
    const groups = new Map<string, number>();
    for (const r of (
      await pool.query<{ deviation_id: string; group_key: string }>(
        `select deviation_id, group_key from alert_cases where group_key is not null`,
      )
    ).rows) {
      const at = offeredAt.get(r.deviation_id) ?? NaN;
      groups.set(r.group_key, Math.min(groups.get(r.group_key) ?? Infinity, at));
    }
    const lat: number[] = [];
    for (const r of (
      await pool.query<{ id: string; group_key: string }>(
        `select id, group_key from alert_notifications where status = 'sent'`,
      )
    ).rows) {
      const first = groups.get(r.group_key) ?? NaN;
      const start = (Math.floor(first / p.groupWaitMs) + 1) * p.groupWaitMs;
      const acc = accepted.get(r.id);
      if (acc !== undefined && Number.isFinite(start)) lat.push(acc - start);
    }
    // Where the time goes: per stage, queue wait (due → picked up) and run time (BullMQ job stamps).
    const stages: string[] = [];
    for (const [name, q] of [
      ['plan', a.queues.plan],
      ...[...a.queues.send].map(([k, v]) => [`send-${k}`, v] as const),
    ] as const) {
      const jobs = await q.getJobs(['completed'], 0, 999);
      const wait = jobs.map((j) => (j.processedOn ?? NaN) - j.timestamp - (j.opts.delay ?? 0));
      const run = jobs.map((j) => (j.finishedOn ?? NaN) - (j.processedOn ?? NaN));
      stages.push(
        `${name} wait p50 ${pct(wait, 50).toFixed(0)}/p99 ${pct(wait, 99).toFixed(0)} ms, run p50 ${pct(run, 50).toFixed(0)}/p99 ${pct(run, 99).toFixed(0)} ms`,
      );
    }
    const rate_ = accepted.size / s;
    // Steady state: acceptances per second over the middle 80 % of the offer window (a system that
    // keeps up shows the offered rate here; the overall rate above also holds the start and the tail).
    const w0 = t0 + 0.1 * offeredFor * 1000;
    const w1 = t0 + 0.9 * offeredFor * 1000;
    const steady = [...accepted.values()].filter((at) => at >= w0 && at < w1).length / (0.8 * offeredFor);
    console.log(
      `${label}: ${accepted.size}/${want} notifications in ${s.toFixed(2)} s = ${rate_.toFixed(0)} notifications/s ` +
        `(deviations offered ${rate > 0 ? `at ${rate}/s` : 'as a burst'}: ${count} in ${offeredFor.toFixed(2)} s, ${want} groups = ${(want / offeredFor).toFixed(0)} notifications/s offered); ` +
        `steady ${steady.toFixed(0)} notifications/s (middle 80 % of the offer window); ` +
        `deviation→accepted p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms; ` +
        `accepted twice by the channel: ${acceptedDup}; ${(statements / accepted.size).toFixed(1)} Postgres statements per notification; RSS peak so far ${mb(peakRss)}; loadavg ${load()}\n  ${cpuLine(cpu0, cpu1, accepted.size)}\n  last 1000 jobs: ${stages.join('; ')}`,
    );
    await consumer?.stop();
    await a.close();
    await channel.close();
    await pool.query('truncate alert_cases, alert_notifications, alert_delivery_attempts cascade');
    return {
      rate: rate_,
      accepted: accepted.size,
      steady,
      offered: want / offeredFor,
      p99: pct(lat, 99),
      tailMs: last - (t0 + offeredFor * 1000),
    };
  }
  await sends('outbox (burst)', createOutboxChannel({ dir, as: 'email' }, logger), 'outbox', 0, SENDS);
  const burst = await sends('smtp-pooled (burst)', email(), 'email', 0, SENDS);
  const paced = await sends(`smtp-pooled (paced)`, email(), 'email', RATE, SENDS);
  // Headroom: the same paced run at HEADROOM × RATE (not part of the target; 0 skips it).
  const headroom =
    HEADROOM > 0
      ? await sends(`smtp-pooled (paced ×${HEADROOM})`, email(), 'email', Math.round(RATE * HEADROOM), SENDS)
      : undefined;
  const viaKafka =
    KAFKA > 0
      ? await sends(`smtp-pooled (paced via Kafka)`, email(), 'email', RATE, SENDS, 'kafka')
      : undefined;
  console.log(
    `alerter smtp burst / email channel baseline: ${(burst.rate / baselineRate).toFixed(2)} ` +
      `(${burst.rate.toFixed(0)} / ${baselineRate.toFixed(0)} per s)`,
  );

  // Duplicates: the same Message-ID more than once in the sink's inbox.
  const want = burst.accepted + paced.accepted + (headroom?.accepted ?? 0) + (viaKafka?.accepted ?? 0);
  const deadline = Date.now() + 10_000;
  while ((await mailsIn()) < want + SENDS && Date.now() < deadline) await sleep(100);
  const ids = new Map<string, number>();
  for (const m of await readSinkHeads(mailDir))
    if (m.messageId?.endsWith(`@${midDomain}>`) && !m.messageId.startsWith('<raw-'))
      ids.set(m.messageId, (ids.get(m.messageId) ?? 0) + 1);
  console.log(
    `smtp sink inbox: ${ids.size} distinct alerter Message-IDs (of ${want} the channel accepted), ` +
      `${[...ids.values()].filter((n) => n > 1).length} duplicates; alerter (bench process) RSS peak ${mb(peakRss)}; loadavg ${load()}`,
  );
  const dups = [...ids.values()].filter((n) => n > 1).length;
  const ok = (b: boolean) => (b ? 'met' : 'NOT met');
  // Offered at exactly the target, the achieved rate can only match it within noise, so the paced
  // run shows the latency at the target load and that it keeps pace (its last acceptance shortly
  // after its last offer); the rate is shown by a run that achieves ≥ 500/s: the paced one, or the
  // headroom run at a higher offered rate with p99 < 1 s too.
  const rateOk =
    paced.steady >= 500 || (headroom !== undefined && headroom.steady >= 500 && headroom.p99 < 1000);
  console.log(
    `target: ≥ 500 notifications/s achieved: ${ok(rateOk)} (paced at ${RATE}/s: steady ${paced.steady.toFixed(0)}/s of ${paced.offered.toFixed(0)}/s offered, ` +
      `last acceptance ${paced.tailMs.toFixed(0)} ms after the last offer` +
      (headroom
        ? `; at ${Math.round(RATE * HEADROOM)}/s: steady ${headroom.steady.toFixed(0)}/s of ${headroom.offered.toFixed(0)}/s, p99 ${headroom.p99.toFixed(0)} ms, last acceptance ${headroom.tailMs.toFixed(0)} ms after the last offer`
        : '') +
      `); p99 < 1 s at ${RATE}/s: ${paced.p99.toFixed(0)} ms ${ok(paced.p99 < 1000)}; 0 duplicates: ${dups} ${ok(dups === 0 && ids.size === want)}` +
      (viaKafka
        ? `; via Kafka at ${RATE}/s: steady ${viaKafka.steady.toFixed(0)}/s, p99 ${viaKafka.p99.toFixed(0)} ms ${ok(viaKafka.p99 < 1000)}`
        : ''),
  );
} finally {
  clearInterval(rssTimer);
  await producer.disconnect().catch(() => undefined);
  if (benchTopics.length > 0) {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: benchTopics }).catch(() => undefined);
    await admin.disconnect();
  }
  const redis = new Redis(connection);
  const keys = await redis.keys(`bench-${id}-*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await pool.query(`drop schema ${schema} cascade`);
  await pool.end();
  sink.kill('SIGTERM');
  await once(sink, 'exit');
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(profDir, 'alerter.cpuprofile');
    await import('node:fs/promises').then((f) => f.writeFile(file, JSON.stringify(profile)));
    session.disconnect();
    console.log(`profile of the bench process (alerter): ${file}`);
    for (const l of await topFunctions(file)) console.log(l);
    for (const f of await readdir(path.join(profDir, 'sink'))) {
      console.log(`profile of the smtp sink: ${path.join(profDir, 'sink', f)}`);
      for (const l of await topFunctions(path.join(profDir, 'sink', f))) console.log(l);
    }
  }
  await rm(dir, { recursive: true, force: true });
}
