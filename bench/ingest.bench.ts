// npm run bench:ingest — sustained ingest throughput on this machine, loopback only, one run:
//   1. InfluxDB direct-write ceiling: the points the pipeline writes (energy and emission lines),
//      written straight to InfluxDB in a small sweep of batch sizes × concurrent requests; the best is
//      the ceiling (and tells the writer's batch size).
//   2. MQTT → mqtt-ingestor → Kafka → influx-writer(s) → InfluxDB: BENCH_PUBLISHERS clients publish
//      meter readings (3 values each, one reading per message) of every registry meter at an offered
//      BENCH_MQTT_RATE values/s for BENCH_SECONDS, QoS 1, through bench/mqtt-publisher.ts
//      (BENCH_PUBLISHER=mqttjs: MQTT.js clients, which take ~3x the CPU per message).
//   3. HJ 212 over TCP → hj212-gateway → Kafka → the same writers: BENCH_LOGGERS loggers of every
//      registry device send 2011 uploads of 20 values paced to BENCH_HJ_RATE values/s in total, each
//      waiting for its 9014 before the next (so a slow pipeline slows the offer: closed loop).
// For each path: offered and achieved values/s over the steady window (warm-up excluded), the stored
// rate per second (min/median), the drain after the offer stopped, sent vs stored (must be equal), the
// ratio to the ceiling, and RSS of every service. BENCH_WRITERS writer processes share one consumer
// group (how it is deployed when one process is not enough). Own topics, database and Postgres schema,
// removed at the end. The services run with the node flags of their `npm start` scripts (printed).
// Run it under `flock /tmp/offsite-bench.lock` on the shared machine.
//   --profile: the first writer, the mqtt-ingestor and the gateway run under `node --cpu-prof`; the top
//   self-time functions and the self time per module of each are printed.
//   --only mqtt|hj212|telegraf: only that path (telegraf: the baseline alone).
// 2b. The baseline, after Offsite's MQTT path: Telegraf (bench/telegraf.ts: built once from its Go module,
//      pinned, into .offsite/bin) consuming the same publishers' messages at the same rate and writing them
//      straight to InfluxDB. BENCH_TELEGRAF=0 leaves it out.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, toLine } from '@offsite/influx';
import { createBatchConsumer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { SOURCE_CONDITION, requireEnv, serviceNodeFlags, silentLogger, until } from '@offsite/testing';
import { encodePacket } from '@offsite/hj212';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { connectRawPublisher } from './mqtt-publisher.js';
import { topProfileFunctions, topProfileModules, type CpuProfile } from './profile.js';
import {
  TELEGRAF_TAGS,
  TELEGRAF_VERSION,
  ensureTelegraf,
  startTelegraf,
  telegrafConfig,
} from './telegraf.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SECONDS = num('BENCH_SECONDS', 25); // offer window per path
const WARMUP = num('BENCH_WARMUP_S', 5); // left out of the steady rate
const MQTT_RATE = num('BENCH_MQTT_RATE', 75_000); // offered values/s (3 per message)
const HJ_RATE = num('BENCH_HJ_RATE', 75_000); // offered values/s (20 per upload)
const LOGGERS = num('BENCH_LOGGERS', 200);
const PUBLISHERS = num('BENCH_PUBLISHERS', 4);
// raw: bench/mqtt-publisher.ts (QoS 1 PUBLISH/PUBACK over a socket, ~1/5 of MQTT.js's CPU per message);
// mqttjs: MQTT.js clients, as before. The meters are not on this machine in production.
const PUBLISHER = process.env.BENCH_PUBLISHER === 'mqttjs' ? 'mqttjs' : 'raw';
const WRITERS = num('BENCH_WRITERS', 1);
const WRITER_BATCH = num('BENCH_WRITER_BATCH', 5_000);
const WRITER_CONCURRENCY = num('BENCH_WRITER_CONCURRENCY', 2);
const CEILING_LINES = num('BENCH_CEILING_LINES', 100_000); // per sweep step
const HJ_VALUES = 20; // factors per upload
const MQTT_VALUES = 3; // energy_kwh, power_kw, running
// Node flags of a service: those of its `npm start` script (serviceNodeFlags: the one place they are set
// for every launcher), then BENCH_NODE_FLAGS (e.g. --max-semi-space-size=16 to compare; a later V8 flag
// wins). Printed with the results.
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const startFlags = (name: string): string[] => serviceNodeFlags(`${repo}services/${name}`);
const flagsOf = (name: string) => [...startFlags(name), ...NODE_FLAGS];
const { values: args } = parseArgs({
  options: { profile: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const doMqtt = args.only === undefined || args.only === 'mqtt';
const doHj = args.only === undefined || args.only === 'hj212';
// The Telegraf baseline runs with the MQTT path (BENCH_TELEGRAF=0 leaves it out), or alone with --only telegraf.
const doTelegraf = (doMqtt && process.env.BENCH_TELEGRAF !== '0') || args.only === 'telegraf';
// BENCH_PROFILE_DIR keeps the .cpuprofile files there (open them in Chrome DevTools); else a temp dir, removed.
const keepProfiles = process.env.BENCH_PROFILE_DIR;
const profileDir = args.profile
  ? (keepProfiles ?? mkdtempSync(join(tmpdir(), 'offsite-bench-prof-')))
  : undefined;
const env = {
  kafka: requireEnv('OFFSITE_KAFKA_BROKERS'),
  influx: requireEnv('OFFSITE_INFLUX_URL'),
  token: process.env.OFFSITE_INFLUX_TOKEN ?? '',
  pg: requireEnv('OFFSITE_PG_URL'),
  mqtt: requireEnv('OFFSITE_MQTT_URL'),
  mqttUser: requireEnv('OFFSITE_MQTT_USERNAME'),
  mqttPassword: requireEnv('OFFSITE_MQTT_PASSWORD'),
};
const run = randomBytes(4).toString('hex');
const db = `bench_${run}`;
const schema = `bench_${run}`;
// The gateway derives its topics from a prefix; the writer and the mqtt-ingestor use the same ones.
const prefix = `bench.${run}.`;
const tel = `${prefix}telemetry.v1`;
const dlq = `${prefix}telemetry.dlq.v1`;
const raw = `${prefix}hj212.raw.v1`;
const basePort = 40_000 + Math.floor(Math.random() * 10_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const authHeaders: Record<string, string> = env.token ? { authorization: `Token ${env.token}` } : {};

async function influxql(q: string, database = db): Promise<Record<string, number>> {
  const res = await fetch(`${env.influx}/query?db=${database}&q=${encodeURIComponent(q)}`, {
    method: 'POST',
    headers: authHeaders,
  });
  const body = (await res.json()) as { results: { series?: { columns: string[]; values: number[][] }[] }[] };
  const s = body.results[0]?.series?.[0];
  return s ? Object.fromEntries(s.columns.map((c, i) => [c, s.values[0]![i]!])) : {};
}
/** Points InfluxDB accepted into `database` so far, summed over its shards (/debug/vars). */
async function pointsWrittenTo(database: string): Promise<number> {
  const vars = (await fetch(`${env.influx}/debug/vars`, { headers: authHeaders }).then((r) =>
    r.json(),
  )) as Record<string, { name?: string; tags?: { database?: string }; values?: { writePointsOk?: number } }>;
  let n = 0;
  for (const v of Object.values(vars))
    if (v?.name === 'shard' && v.tags?.database === database) n += v.values?.writePointsOk ?? 0;
  return n;
}
/** Numeric values stored in a measurement: every count_<stat> column but the string fields. */
const countValues = async (measurement: string, where = '') =>
  Object.entries(await influxql(`SELECT count(*) FROM "${measurement}"${where}`)).reduce(
    (n, [k, v]) =>
      k.startsWith('count_') && k !== 'count_flag' && k !== 'count_unit' && !k.endsWith('_flag') ? n + v : n,
    0,
  );
const procKb = (p: ChildProcess, field: 'VmRSS' | 'VmHWM') => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};
/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
const cpuSeconds = (p: ChildProcess) => {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
};

/** CPU seconds of a shared server (pid from .offsite/run/<name>.pid); it may also serve others' work. */
/**
 * The servers whose CPU and RSS are reported, by pid file: the single set's (.offsite/run), and with
 * BENCH_CLUSTER_DIR (bench/ingest-cluster.sh: Kafka is the cluster's) its 3 brokers and 3 controllers
 * instead of the single broker.
 */
const CLUSTER_DIR = process.env.BENCH_CLUSTER_DIR;
const SERVERS = [
  'mosquitto',
  ...(CLUSTER_DIR ? ['kafka-b1', 'kafka-b2', 'kafka-b3', 'kafka-c1', 'kafka-c2', 'kafka-c3'] : ['kafka']),
  'influxdb',
] as const;
const serverPid = (name: string): number =>
  Number(
    readFileSync(
      name.startsWith('kafka-') ? `${CLUSTER_DIR}/run/${name}.pid` : `${repo}.offsite/run/${name}.pid`,
      'utf8',
    ).split(/\s/)[0],
  );
const serverCpu = (name: string): number => {
  try {
    const stat = readFileSync(`/proc/${serverPid(name)}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
};
const serverRssKb = (name: string): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${serverPid(name)}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};
/** Replication of the bench's topics: 3 on the cluster (min.insync.replicas 2, acks=all), else 1. */
const REPLICATION = Number(process.env.OFFSITE_KAFKA_REPLICATION_FACTOR ?? 1);
/** Busy and total jiffies of all CPUs (/proc/stat), whoever used them. */
const machineCpu = (): { busy: number; total: number } => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
};

/** Sums a Prometheus counter (all label sets) from a service's /metrics. */
async function metric(port: number, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

interface Service {
  name: string;
  proc: ChildProcess;
  ops: number;
}
const children: Service[] = [];
function service(name: string, label: string, ops: number, extra: Record<string, string>, profile: boolean) {
  const base = { ...process.env };
  delete base.NODE_OPTIONS;
  const prof = profile && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, label)}`] : [];
  const proc = spawn(
    process.execPath,
    [...flagsOf(name), ...prof, `--conditions=${SOURCE_CONDITION}`, '--import', 'tsx', 'src/main.ts'],
    {
      cwd: `${repo}services/${name}`,
      env: {
        ...base,
        OFFSITE_OPS_PORT: String(ops),
        OFFSITE_LOG_LEVEL: 'warn',
        OFFSITE_TELEMETRY_TOPIC: tel,
        OFFSITE_DLQ_TOPIC: dlq,
        ...extra,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const s = { name: label, proc, ops };
  children.push(s);
  return s;
}
const ready = (s: Service) =>
  until(
    () =>
      fetch(`http://127.0.0.1:${s.ops}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
    `${s.name} ready`,
  );
/** SIGTERM and wait for the exit (a --cpu-prof profile is written then), SIGKILL after `ms`. */
async function stop(s: Service, ms = 30_000): Promise<void> {
  const p = s.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

interface PathResult {
  offered: number;
  sentValues: number;
  stored: number;
  steady: number;
  perSecond: number[];
  endToEnd: number;
  drainS: number;
  backlogAtEnd: number;
  rss: string;
  /** Per service: CPU seconds over the offer and drain, and CPU µs per value stored. */
  cpu: string;
  /** The whole path's CPU (its processes and the servers) per value stored, in µs. */
  pathUsPerValue: number;
  extra: string[];
  diagnosis?: string;
}

/**
 * Samples the writers' accepted points once a second while `offer` runs for SECONDS, then waits for
 * `expected()` values in InfluxDB. The steady rate is measured between WARMUP and the end of the offer.
 */
async function measure(
  offer: (until: number) => Promise<void>,
  expected: () => number,
  countStored: () => Promise<number>,
  services: Service[],
  // Values written so far: by default the writers' counter; a path without Offsite's writers counts in InfluxDB.
  // onPath: the servers on this path, whose CPU counts in its per-value figure (by default all of them).
  o: { written?: () => Promise<number>; onPath?: (server: string) => boolean } = {},
): Promise<Omit<PathResult, 'offered' | 'extra'>> {
  const writerPorts = children.filter((c) => c.name.startsWith('influx-writer')).map((c) => c.ops);
  const written =
    o.written ??
    (async () =>
      (await Promise.all(writerPorts.map((p) => metric(p, 'offsite_influx_points_written_total')))).reduce(
        (a, b) => a + b,
        0,
      ));
  const before = await written();
  const storedBefore = await countStored();
  const cpuBefore = services.map((s) => cpuSeconds(s.proc));
  const serversBefore = SERVERS.map(serverCpu);
  const machineBefore = machineCpu();
  const benchCpuBefore = process.cpuUsage();
  const samples: { t: number; n: number }[] = [];
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ t: performance.now() - t0, n: (await written()) - before });
      await sleep(1000 - ((performance.now() - t0) % 1000));
    }
  })();
  await offer(end);
  const offerEnd = performance.now() - t0;
  const rssKb = services.map((s) => [s.name, procKb(s.proc, 'VmRSS'), procKb(s.proc, 'VmHWM')] as const);
  const serversRss = SERVERS.map((n) => `${n} ${mib(serverRssKb(n))}`);
  await until(async () => (await written()) - before >= expected(), 120_000, 'every value written').catch(
    () => undefined,
  );
  const doneAt = performance.now() - t0;
  const cpuUsed = services.map((s, i) => cpuSeconds(s.proc) - cpuBefore[i]!);
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const serversUsed = SERVERS.map((n, i) => serverCpu(n) - serversBefore[i]!);
  const machineAfter = machineCpu();
  const machineBusy =
    (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
  sampling = false;
  await sampler;
  const atWarm = samples.find((s) => s.t >= WARMUP * 1000) ?? samples[0]!;
  const atEnd = [...samples].reverse().find((s) => s.t <= offerEnd) ?? samples.at(-1)!;
  const steady = (atEnd.n - atWarm.n) / ((atEnd.t - atWarm.t) / 1000);
  const perSecond = samples
    .slice(1)
    .map((s, i) => ({ t: s.t, r: (s.n - samples[i]!.n) / ((s.t - samples[i]!.t) / 1000) }))
    .filter((x) => x.t > WARMUP * 1000 && x.t <= offerEnd)
    .map((x) => x.r);
  const final = samples.at(-1)!.n;
  const stored = (await countStored()) - storedBefore;
  return {
    sentValues: expected(),
    stored,
    steady,
    perSecond,
    endToEnd: final / (doneAt / 1000),
    drainS: (doneAt - offerEnd) / 1000,
    backlogAtEnd: expected() - atEnd.n,
    ...(stored !== expected() ? { diagnosis: await kafkaDiagnosis().catch((e: unknown) => String(e)) } : {}),
    pathUsPerValue:
      ((cpuUsed.reduce((a, b) => a + b, 0) +
        serversUsed.reduce(
          (a, b, k) => a + (Number.isNaN(b) || !(o.onPath?.(SERVERS[k]!) ?? true) ? 0 : b),
          0,
        )) /
        Math.max(1, stored)) *
      1e6,
    rss: [...rssKb.map(([n, rss, hwm]) => `${n} ${mib(rss)} (peak ${mib(hwm)})`), ...serversRss].join(', '),
    cpu:
      [
        ...services.map(
          (s, i) =>
            `${s.name} ${cpuUsed[i]!.toFixed(1)} s (${((cpuUsed[i]! / Math.max(1, final)) * 1e6).toFixed(1)} µs/value)`,
        ),
        `bench load generator ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s`,
        ...SERVERS.map((n, i) => `${n} ${serversUsed[i]!.toFixed(1)} s`),
      ].join(', ') +
      ` (servers are shared); whole machine ${(machineBusy * 100).toFixed(0)} % busy over ${(doneAt / 1000).toFixed(0)} s, other users' work included`,
  };
}

const kafka = createKafkaClient({ brokers: env.kafka.split(','), clientId: 'bench', logger: silentLogger });
const influxClient = createInfluxClient(
  { url: env.influx, token: env.token, org: '-', bucket: 'x' },
  silentLogger,
);
const pool = new pg.Pool({ connectionString: env.pg, options: `-c search_path=${schema}`, max: 2 });

/**
 * Where values went missing: records in the telemetry topic (and the numeric values they carry, read
 * back with a fresh group), the DLQ, and what the writers' group committed.
 */
async function kafkaDiagnosis(): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  let inTel: number;
  let inDlq: number;
  let committed: number;
  try {
    const sum = (xs: { high: string }[]) => xs.reduce((n, x) => n + Number(x.high), 0);
    inTel = sum(await admin.fetchTopicOffsets(tel));
    inDlq = sum(await admin.fetchTopicOffsets(dlq));
    committed = (await admin.fetchOffsets({ groupId: `bench-${run}`, topics: [tel] }))
      .flatMap((t) => t.partitions)
      .reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
  let records = 0;
  let values = 0;
  const reader = createBatchConsumer({
    kafka,
    groupId: `bench-${run}-diagnosis`,
    topics: [tel],
    logger: silentLogger,
    handle: async (b) => {
      for (const m of b.messages) {
        records += 1;
        const t = JSON.parse(m.value?.toString('utf8') ?? '{}') as { measurements?: { unit?: string }[] };
        values += t.measurements?.length ?? 0;
      }
    },
  });
  await reader.start();
  await until(() => records >= inTel, 60_000, 'telemetry records read back').catch(() => undefined);
  await reader.stop();
  return `telemetry topic holds ${inTel} records (both paths) carrying ${values} measurements (${records} read back), DLQ ${inDlq}, writers committed ${committed}`;
}

const out: string[] = [];
const startLoad = load();
try {
  await ensureDatabase1x(influxClient, db);
  const admin = new pg.Client({ connectionString: env.pg });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
  await ensureTopics(
    kafka,
    [
      { topic: tel, numPartitions: 6 },
      { topic: raw, numPartitions: 6 },
      { topic: dlq, numPartitions: 1 },
      // The gateway's command intake reads these (nothing is produced to them here).
      { topic: `${prefix}deviation.v1`, numPartitions: 1 },
      { topic: `${prefix}hj212.command.v1`, numPartitions: 1 },
    ].map((t) => ({ ...t, replicationFactor: REPLICATION })),
  );
  const meters = (
    await pool.query<{ enterprise_id: string; id: string }>(
      'select enterprise_id, id from meters order by id',
    )
  ).rows;
  const devices = (
    await pool.query<{ mn: string; password: string; enterprise_id: string; outlet_id: string }>(
      `select d.mn, d.password, o.enterprise_id, d.outlet_id from devices d join outlets o on o.id = d.outlet_id
       where d.enabled and d.protocol_version = 2017 and d.sm4_key is null order by d.mn`,
    )
  ).rows;

  // 1. Ceiling: lines as the writer maps readings (services/influx-writer/README.md), one value each.
  const ceilingDb = `${db}_ceiling`;
  await ensureDatabase1x(influxClient, ceilingDb);
  const ceilingLines = (shift: number): string[] => {
    const lines: string[] = [];
    for (let i = 0; lines.length < CEILING_LINES; i++) {
      const t = 1_700_000_000 + shift + i;
      if (i % 2 === 0) {
        const m = meters[i % meters.length]!;
        const tags = { enterprise: m.enterprise_id, site: m.id, device: m.id, interval: 'realtime' };
        lines.push(
          toLine({
            measurement: 'energy',
            tags: { ...tags, factor: 'energy_kwh' },
            fields: { Cou: 1000 + i, unit: 'kWh' },
            timeSeconds: t,
          }),
          toLine({
            measurement: 'energy',
            tags: { ...tags, factor: 'power_kw' },
            fields: { Rtd: i % 500, unit: 'kW' },
            timeSeconds: t,
          }),
          toLine({
            measurement: 'energy',
            tags: { ...tags, factor: 'running' },
            fields: { Value: 1 },
            timeSeconds: t,
          }),
        );
      } else {
        const d = devices[i % devices.length]!;
        for (let v = 0; v < HJ_VALUES; v++)
          lines.push(
            toLine({
              measurement: 'emission',
              tags: {
                enterprise: d.enterprise_id,
                site: d.outlet_id,
                device: d.mn,
                factor: `a${21000 + v}`,
                interval: 'realtime',
              },
              fields: { Rtd: (i + v) % 100, flag: 'N' },
              timeSeconds: t,
            }),
          );
      }
    }
    return lines;
  };
  const sweep: { batch: number; concurrency: number; rate: number }[] = [];
  const steps = [
    [1_000, 2],
    [2_500, 2],
    [5_000, 1],
    [5_000, 2],
    [5_000, 4],
    [10_000, 2],
    [10_000, 4],
  ] as const;
  for (const [k, [batch, concurrency]] of steps.entries()) {
    const writer = createInfluxWriter({
      url: env.influx,
      token: env.token,
      org: '-',
      bucket: `${ceilingDb}/autogen`,
      logger: silentLogger,
      maxSockets: concurrency,
    });
    const lines = ceilingLines(k * 10_000_000);
    const batches: string[][] = [];
    for (let i = 0; i < lines.length; i += batch) batches.push(lines.slice(i, i + batch));
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches.length) await writer.write(batches[next++]!);
      }),
    );
    sweep.push({ batch, concurrency, rate: lines.length / ((performance.now() - t0) / 1000) });
    writer.close();
  }
  await fetch(`${env.influx}/query?q=${encodeURIComponent(`DROP DATABASE "${ceilingDb}"`)}`, {
    method: 'POST',
    headers: authHeaders,
  });
  const best = sweep.reduce((a, b) => (b.rate > a.rate ? b : a));
  const ceiling = best.rate;

  // The writers stay up for both paths (one consumer group); each has its own ops port.
  const writers = Array.from({ length: WRITERS }, (_, k) =>
    service(
      'influx-writer',
      WRITERS > 1 ? `influx-writer-${k + 1}` : 'influx-writer',
      basePort + 10 + k,
      {
        OFFSITE_INFLUX_BUCKET: `${db}/autogen`,
        OFFSITE_INFLUX_WRITER_GROUP: `bench-${run}`,
        OFFSITE_BATCH_MAX_POINTS: String(WRITER_BATCH),
        OFFSITE_BATCH_MAX_DELAY_MS: '200',
        OFFSITE_INFLUX_CONCURRENCY: String(WRITER_CONCURRENCY),
      },
      k === 0,
    ),
  );
  for (const w of writers) await ready(w);
  const results: [string, PathResult][] = [];

  /**
   * The MQTT offer: PUBLISHERS clients publish meter readings (one message of 3 values per meter and
   * second of data time) at MQTT_RATE values/s, at most 1,000 unacknowledged messages per client. The same
   * publishers, payload and rate drive Offsite's path and Telegraf's.
   */
  async function mqttPublishers() {
    let sent = 0;
    let acked = 0;
    let refused = 0;
    let inflight = 0;
    const onAck = (ok: boolean) => {
      inflight -= 1;
      acked += 1;
      if (!ok) refused += 1;
    };
    type Pub = { publish(topic: string, payload: string): void; end(): Promise<void> };
    const pubs: Pub[] = await Promise.all(
      Array.from({ length: PUBLISHERS }, async (_, k): Promise<Pub> => {
        const clientId = `bench-pub-${run}-${k}-${randomBytes(2).toString('hex')}`;
        if (PUBLISHER === 'raw')
          return connectRawPublisher({
            url: env.mqtt,
            clientId,
            username: env.mqttUser,
            password: env.mqttPassword,
            onAck,
          });
        const c: MqttClient = await mqtt.connectAsync(env.mqtt, {
          username: env.mqttUser,
          password: env.mqttPassword,
          protocolVersion: 5,
          clientId,
        });
        return {
          publish: (topic, payload) => c.publish(topic, payload, { qos: 1 }, (err) => onAck(!err)),
          end: () => c.endAsync(),
        };
      }),
    );
    const topics = meters.map((m) => `offsite/v1/${m.enterprise_id}/meters/${m.id}/energy`);
    const msgRate = MQTT_RATE / MQTT_VALUES;
    let maxLagMs = 0;
    const t0Ms = Date.UTC(2024, 0, 1);
    const offer = async (end: number) => {
      const start = performance.now();
      // The data time advances one second per round over the meters: one string per round.
      let tsSeq = -1;
      let ts = '';
      while (performance.now() < end) {
        const due = Math.floor(((performance.now() - start) / 1000) * msgRate);
        while (sent < due && inflight < 1_000 * PUBLISHERS) {
          const i = sent++;
          const seq = Math.floor(i / topics.length);
          inflight += 1;
          if (seq !== tsSeq) {
            tsSeq = seq;
            ts = new Date(t0Ms + seq * 1000).toISOString();
          }
          pubs[i % PUBLISHERS]!.publish(
            topics[i % topics.length]!,
            `{"ts":"${ts}","powerKw":${i % 500},"energyKwh":${1000 + i},"status":"running"}`,
          );
        }
        if (sent < due) maxLagMs = Math.max(maxLagMs, ((due - sent) / msgRate) * 1000);
        await sleep(5);
      }
    };
    return {
      offer,
      sentValues: () => sent * MQTT_VALUES,
      async end() {
        await until(() => acked >= sent, 30_000, 'publisher PUBACKs').catch(() => undefined);
        await Promise.all(pubs.map((p) => p.end()));
      },
      describe: (receiver: string) =>
        `${sent} messages × ${MQTT_VALUES} values from ${PUBLISHERS} publishers (${PUBLISHER === 'raw' ? 'bench/mqtt-publisher.ts' : 'MQTT.js'}, QoS 1${refused ? `, ${refused} PUBACKs with an error reason` : ''}) over ${topics.length} meters; ${receiver}; ` +
        `publisher behind its schedule by at most ${maxLagMs.toFixed(0)} ms`,
    };
  }

  // 2. MQTT → Kafka → InfluxDB.
  if (doMqtt) {
    const ingestor = service(
      'mqtt-ingestor',
      'mqtt-ingestor',
      basePort + 1,
      {
        OFFSITE_PG_URL: env.pg,
        OFFSITE_PG_SCHEMA: schema,
        OFFSITE_MQTT_CLIENT_ID: `bench-${run}`,
        OFFSITE_MQTT_SESSION_EXPIRY_S: '60',
      },
      true,
    );
    await ready(ingestor);
    const publishers = await mqttPublishers();
    let maxHeld = 0;
    const heldSampler = setInterval(() => {
      void metric(ingestor.ops, 'offsite_mqtt_pubacks_held').then((n) => (maxHeld = Math.max(maxHeld, n)));
    }, 1_000);
    const r = await measure(publishers.offer, publishers.sentValues, () => countValues('energy'), [
      ingestor,
      ...writers,
    ]);
    const batchSum = await metric(ingestor.ops, 'offsite_kafka_produce_batch_messages_sum');
    const batchCount = await metric(ingestor.ops, 'offsite_kafka_produce_batch_messages_count');
    clearInterval(heldSampler);
    await publishers.end();
    results.push([
      'MQTT → mqtt-ingestor → Kafka → writer → InfluxDB',
      {
        ...r,
        offered: MQTT_RATE,
        extra: [
          publishers.describe(
            `one ingestor session; ${(batchSum / Math.max(1, batchCount)).toFixed(0)} messages per Kafka produce on average, at most ${maxHeld} PUBACKs held at once`,
          ),
        ],
      },
    ]);
    await stop(ingestor);
  }

  // 2b. The baseline: the same publishers, payload and rate into Telegraf (inputs.mqtt_consumer →
  // outputs.influxdb_v2), straight into InfluxDB.
  if (doTelegraf) {
    const bin = ensureTelegraf(`${repo}.offsite`, (line) => console.log(line));
    const measurement = 'telegraf_energy';
    const confDir = mkdtempSync(join(tmpdir(), 'offsite-bench-telegraf-'));
    const proc = startTelegraf(
      bin,
      confDir,
      telegrafConfig({
        mqttUrl: env.mqtt,
        mqttUser: env.mqttUser,
        mqttPassword: env.mqttPassword,
        topic: 'offsite/v1/+/meters/+/energy',
        topicTags: '_/_/enterprise/_/meter/_',
        influxUrl: env.influx,
        influxToken: env.token,
        bucket: `${db}/autogen`,
        measurement,
        clientId: `bench-telegraf-${run}`,
      }),
    );
    const telegraf: Service = { name: 'telegraf', proc, ops: 0 };
    children.push(telegraf);
    // Subscribed once a probe message published now reaches InfluxDB.
    const probe = await mqtt.connectAsync(env.mqtt, {
      username: env.mqttUser,
      password: env.mqttPassword,
      clientId: `bench-telegraf-probe-${run}`,
    });
    const probeTopic = `offsite/v1/probe/meters/probe/energy`;
    await until(
      async () => {
        await probe.publishAsync(
          probeTopic,
          `{"ts":"${new Date().toISOString()}","powerKw":0,"energyKwh":0,"status":"probe"}`,
          { qos: 1 },
        );
        return (await countValues(measurement, ` WHERE enterprise = 'probe'`)) > 0;
      },
      60_000,
      'Telegraf subscribed and writing',
    );
    await probe.endAsync();
    const publishers = await mqttPublishers();
    // Points InfluxDB accepted into the bench's database (its shard statistics), 3 values each: no query
    // over the growing measurement every second.
    const progress = async () => 3 * (await pointsWrittenTo(db));
    const r = await measure(
      publishers.offer,
      publishers.sentValues,
      // The probe messages are not the offer's.
      () => countValues(measurement, ` WHERE enterprise != 'probe'`),
      [telegraf],
      { written: progress, onPath: (server) => !server.startsWith('kafka') },
    );
    await publishers.end();
    results.push([
      'baseline: MQTT → Telegraf → InfluxDB',
      {
        ...r,
        offered: MQTT_RATE,
        extra: [
          publishers.describe(
            `Telegraf ${TELEGRAF_VERSION} (tags ${TELEGRAF_TAGS}; QoS 1, persistent session, 10,000 undelivered, batch 5,000, buffer 100,000)`,
          ),
        ],
      },
    ]);
    await stop(telegraf);
    rmSync(confDir, { recursive: true, force: true });
  }

  // 3. HJ 212 over TCP → gateway → Kafka → InfluxDB, loggers paced and waiting for each 9014.
  if (doHj) {
    const hjPort = basePort + 2;
    const gateway = service(
      'hj212-gateway',
      'hj212-gateway',
      basePort + 3,
      {
        OFFSITE_PG_URL: env.pg,
        OFFSITE_PG_SCHEMA: schema,
        OFFSITE_KAFKA_TOPIC_PREFIX: prefix,
        OFFSITE_HJ212_PORT: String(hjPort),
        OFFSITE_HJ212_MAX_CONNECTIONS: String(LOGGERS + 100),
        // Every simulated logger connects from this host's one address.
        OFFSITE_HJ212_MAX_CONNECTIONS_PER_SOURCE: String(LOGGERS + 100),
        // The loggers' QNs are fixed 2024 times, not their clocks: no calibration on drift.
        OFFSITE_HJ212_CLOCK_DRIFT_MAX_S: '0',
        OFFSITE_HJ212_COMMANDS_GROUP_ID: `bench-${run}.commands`,
      },
      true,
    );
    await ready(gateway);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < LOGGERS; i += 100)
      sockets.push(
        ...(await Promise.all(
          Array.from(
            { length: Math.min(100, LOGGERS - i) },
            () =>
              new Promise<net.Socket>((resolve, reject) => {
                const s = net.connect({ port: hjPort, host: '127.0.0.1', noDelay: true }, () => resolve(s));
                s.once('error', reject);
              }),
          ),
        )),
      );
    let uploads = 0;
    const lat: number[] = [];
    const interval = (LOGGERS * HJ_VALUES * 1000) / HJ_RATE; // ms between one logger's uploads
    const cp = (i: number, k: number) => {
      const items = [`DataTime=${hjTime(i, k)}`];
      for (let v = 0; v < HJ_VALUES; v++)
        items.push(`a${21000 + v}-Rtd=${(i + v + k) % 100}.5,a${21000 + v}-Flag=N`);
      return items.join(';');
    };
    const runLogger = async (socket: net.Socket, i: number, end: number) => {
      const d = devices[i % devices.length]!;
      let buf = '';
      let waiter: (() => void) | null = null;
      socket.setEncoding('utf8');
      socket.on('data', (t: string) => {
        buf += t;
        if (buf.includes('\r\n') && waiter) waiter();
      });
      const start = performance.now() + Math.random() * interval;
      for (let k = 0; ; k++) {
        const at = start + k * interval;
        if (at >= end) break;
        const wait = at - performance.now();
        if (wait > 0) await sleep(wait);
        const frame = encodePacket({
          qn: `20240301${String(i).padStart(5, '0')}${String(k).padStart(4, '0')}`,
          st: '31',
          cn: '2011',
          pw: d.password,
          mn: d.mn,
          flag: 5,
          cp: cp(i, k),
        });
        const t0 = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const got = new Promise<void>((resolve, reject) => {
          waiter = resolve;
          timer = setTimeout(() => reject(new Error(`logger ${i}: no 9014 within 30 s`)), 30_000);
        });
        socket.write(frame);
        uploads += 1;
        await got.finally(() => clearTimeout(timer));
        lat.push(performance.now() - t0);
        buf = buf.slice(buf.indexOf('\r\n') + 2);
        waiter = null;
      }
    };
    const offer = async (end: number) => {
      await Promise.all(sockets.map((s, i) => runLogger(s, i, end)));
    };
    const r = await measure(
      offer,
      () => uploads * HJ_VALUES,
      () => countValues('emission'),
      [gateway, ...writers],
    );
    for (const s of sockets) s.destroy();
    lat.sort((a, b) => a - b);
    results.push([
      'HJ 212/TCP → hj212-gateway → Kafka → writer → InfluxDB',
      {
        ...r,
        offered: HJ_RATE,
        extra: [
          `${uploads} uploads × ${HJ_VALUES} values from ${LOGGERS} loggers over ${devices.length} MNs, one every ${interval.toFixed(0)} ms each unless its 9014 is later; ` +
            `9014 latency p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms`,
        ],
      },
    ]);
    await stop(gateway);
  }
  for (const w of writers) await stop(w);

  out.push(
    `ingest benchmark: ${cpus().length} CPUs, load average at start ${startLoad}, at end ${load()}; ` +
      `offer window ${SECONDS} s (steady rate measured after ${WARMUP} s); ${WRITERS} influx-writer process${WRITERS > 1 ? 'es in one consumer group (as deployed when one is not enough)' : ''} ` +
      `(batch ${WRITER_BATCH} points, ${WRITER_CONCURRENCY} writes in flight); telemetry topic 6 partitions` +
      `; Kafka ${CLUSTER_DIR ? '3 brokers + 3 controllers' : 'one node'} (${env.kafka}), topics with replication ${REPLICATION}, producers acks=all` +
      `; node flags: ${[
        'influx-writer',
        ...(doMqtt ? ['mqtt-ingestor'] : []),
        ...(doHj ? ['hj212-gateway'] : []),
      ]
        .map((n) => `${n} ${flagsOf(n).join(' ') || '(none)'}`)
        .join(', ')}` +
      '; the load generators (publishers, loggers) run in this process on the same CPUs',
    `  InfluxDB direct-write ceiling : ${ceiling.toFixed(0)} values/s (best of: ${sweep
      .map((s) => `${s.batch}×${s.concurrency} ${(s.rate / 1000).toFixed(0)}k`)
      .join(', ')}; lines/batch × concurrent requests, ${CEILING_LINES} lines each)`,
  );
  for (const [name, r] of results) {
    const ok = r.stored === r.sentValues ? 'equal' : `MISMATCH by ${r.stored - r.sentValues}`;
    out.push(
      `  ${name}`,
      `    offered ${r.offered.toFixed(0)} values/s (sent ${(r.sentValues / SECONDS).toFixed(0)}/s) → achieved ${r.steady.toFixed(0)} values/s steady (${((r.steady / ceiling) * 100).toFixed(1)} % of the ceiling; ` +
        `per second min ${Math.min(...r.perSecond).toFixed(0)}, median ${median(r.perSecond).toFixed(0)}); ` +
        `end to end ${r.endToEnd.toFixed(0)} values/s incl. drain of ${r.drainS.toFixed(1)} s (backlog ${r.backlogAtEnd} values when the offer stopped)`,
      `    sent ${r.sentValues} values, stored ${r.stored} (${ok})${r.diagnosis ? `: ${r.diagnosis}` : ''}`,
      ...r.extra.map((e) => `    ${e}`),
      `    RSS at the end of the offer: ${r.rss}`,
      `    CPU over offer + drain (independent of the machine's other load): ${r.cpu}`,
      `    the whole path (its processes and the servers) ${r.pathUsPerValue.toFixed(1)} µs of CPU per value stored`,
    );
  }
  const offsiteMqtt = results.find(([n]) => n.startsWith('MQTT →'))?.[1];
  const telegrafMqtt = results.find(([n]) => n.startsWith('baseline:'))?.[1];
  if (offsiteMqtt && telegrafMqtt)
    out.push(
      `  Offsite's MQTT path ÷ Telegraf, same run: steady ${(offsiteMqtt.steady / telegrafMqtt.steady).toFixed(2)}×, ` +
        `end to end ${(offsiteMqtt.endToEnd / telegrafMqtt.endToEnd).toFixed(2)}×; CPU per value ${(offsiteMqtt.pathUsPerValue / telegrafMqtt.pathUsPerValue).toFixed(2)}× Telegraf's`,
    );

  out.push(`  bench process RSS ${mib(process.memoryUsage().rss / 1024)}`);
  if (profileDir) {
    for (const name of ['influx-writer', 'influx-writer-1', 'mqtt-ingestor', 'hj212-gateway']) {
      const dir = join(profileDir, name);
      let files: string[];
      try {
        files = readdirSync(dir);
      } catch {
        continue;
      }
      // One file per thread, CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile: tid 0 is the main
      // thread; the others are tsx's module-loader thread.
      const file = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
      if (!file) {
        out.push(`  profile ${name}: none written`);
        continue;
      }
      const main = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      const top = topProfileFunctions(main, 12);
      out.push(
        `  profile ${name} (whole process life incl. tsx start-up: ${(top.busyMs / 1000).toFixed(1)} s busy of ${(top.totalMs / 1000).toFixed(1)} s): top self time, % of busy`,
      );
      for (const f of top.functions)
        out.push(
          `    ${f.selfMs.toFixed(0).padStart(7)} ms ${f.percent.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`,
        );
      out.push(
        `    by module: ${topProfileModules(main, 8)
          .map((m) => `${m.module} ${m.percent.toFixed(0)} %`)
          .join(', ')}`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const c of children) c.proc.kill('SIGTERM');
  await sleep(2_000);
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  const adminK = kafka.admin();
  await adminK.connect();
  await adminK
    .deleteTopics({ topics: [tel, raw, dlq, `${prefix}deviation.v1`, `${prefix}hj212.command.v1`] })
    .catch(() => undefined);
  await adminK.disconnect();
  await fetch(`${env.influx}/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, {
    method: 'POST',
    headers: authHeaders,
  });
  await pool.end();
  const c = new pg.Client({ connectionString: env.pg });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
  if (profileDir && !keepProfiles) rmSync(profileDir, { recursive: true, force: true });
}

/** HJ 212 DataTime (yyyyMMddHHmmss), a second apart per upload and unique per logger, so no two share a point. */
function hjTime(logger: number, k: number): string {
  const d = new Date(Date.UTC(2024, 2, 1) + (logger * 100_000 + k) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
