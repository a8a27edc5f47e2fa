// npm run bench:ingest — ingest throughput on this machine, bounded in count and time, loopback only.
//   1. InfluxDB direct-write ceiling: the same points the pipeline writes, 5,000-line batches, 4 concurrent.
//   2. MQTT → mqtt-ingestor → Kafka → influx-writer → InfluxDB, both services as real processes.
//   3. HJ 212 over TCP → hj212-gateway → Kafka → influx-writer → InfluxDB: BENCH_LOGGERS concurrent
//      loggers (default 200), each sending BENCH_PACKETS 2011 uploads of 20 values one after another,
//      waiting for its 9014; reply latency p50/p99 and the gateway's RSS per connection.
// Prints values/s, the ratio to the ceiling, and memory. Uses its own topics, database and
// Postgres schema and removes them.
//   --profile: runs the influx-writer and the gateway with `node --cpu-prof` and prints the top 10
//   self-time functions of each profile (written when the service exits after SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { telemetryEventId, type TelemetryV1 } from '@offsite/contracts';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, toLine } from '@offsite/influx';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import { encodePacket } from '@offsite/hj212';
import mqtt from 'mqtt';
import pg from 'pg';
import { topProfileFunctions, type CpuProfile } from './profile.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const READINGS = Number(process.env.BENCH_READINGS ?? 20_000); // MQTT messages (3 values each)
const LOGGERS = Number(process.env.BENCH_LOGGERS ?? 200); // concurrent HJ 212 connections
const PACKETS = Number(process.env.BENCH_PACKETS ?? 25); // 2011 uploads per logger
const HJ_VALUES = 20; // factors per upload
const { values: args } = parseArgs({ options: { profile: { type: 'boolean', default: false } } });
const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'offsite-bench-prof-')) : undefined;
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
const MN = '99010201FG00010000000001'; // registry/example.yaml, protocol 2017
const PW = 'Hd7q2Lx9';
const meters = ['mtr-0001-p1', 'mtr-0001-t1', 'mtr-0001-all'];
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

async function influxql(q: string, database = db): Promise<Record<string, number>> {
  const res = await fetch(`${env.influx}/query?db=${database}&q=${encodeURIComponent(q)}`, {
    method: 'POST',
    headers: env.token ? { authorization: `Token ${env.token}` } : {},
  });
  const body = (await res.json()) as { results: { series?: { columns: string[]; values: number[][] }[] }[] };
  const s = body.results[0]?.series?.[0];
  return s ? Object.fromEntries(s.columns.map((c, i) => [c, s.values[0]![i]!])) : {};
}
// Numeric values stored in a measurement: every count_<stat> column but the string fields.
const countValues = async (measurement = 'energy') =>
  Object.entries(await influxql(`SELECT count(*) FROM "${measurement}"`)).reduce(
    (n, [k, v]) =>
      k.startsWith('count_') && k !== 'count_flag' && k !== 'count_unit' && !k.endsWith('_flag') ? n + v : n,
    0,
  );
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const rssKb = (p: ChildProcess) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/** HJ 212 DataTime (yyyyMMddHHmmss) unique per logger and packet, so no two uploads share a point. */
function dataTime(logger: number, k: number): string {
  const d = new Date(Date.UTC(2024, 2, 1) + (logger * PACKETS + k) * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}00`;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** One logger: send a 2011 upload, wait for its 9014, repeat. Returns the reply latencies in ms. */
async function runLogger(socket: net.Socket, i: number): Promise<number[]> {
  const latencies: number[] = [];
  let buf = '';
  let waiter: (() => void) | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (t: string) => {
    buf += t;
    if (buf.includes('\r\n') && waiter) waiter();
  });
  for (let k = 0; k < PACKETS; k++) {
    const items = [`DataTime=${dataTime(i, k)}`];
    for (let v = 0; v < HJ_VALUES; v++)
      items.push(`a${21000 + v}-Rtd=${(i + v + k) % 100}.5,a${21000 + v}-Flag=N`);
    const frame = encodePacket({
      qn: `20240301${String(i).padStart(5, '0')}${String(k).padStart(4, '0')}`,
      st: '31',
      cn: '2011',
      pw: PW,
      mn: MN,
      flag: 5,
      cp: items.join(';'),
    });
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<void>((resolve, reject) => {
      waiter = resolve;
      timer = setTimeout(() => reject(new Error(`logger ${i}: no 9014 within 30 s`)), 30_000);
    });
    socket.write(frame);
    await got.finally(() => clearTimeout(timer));
    latencies.push(performance.now() - t0);
    buf = buf.slice(buf.indexOf('\r\n') + 2);
    waiter = null;
  }
  return latencies;
}

function reading(i: number): TelemetryV1 {
  const base = {
    enterpriseId: 'ent-0001',
    deviceId: meters[i % 3]!,
    kind: 'energy' as const,
    interval: 'realtime' as const,
    dataTime: new Date(Date.UTC(2024, 0, 1) + Math.floor(i / 3) * 60_000).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: base.deviceId,
    source: 'mqtt',
    receivedAt: base.dataTime,
    irregularities: [],
    measurements: [
      { factor: 'energy_kwh', stat: 'Cou', value: 1000 + i, unit: 'kWh' },
      { factor: 'power_kw', stat: 'Rtd', value: i % 500, unit: 'kW' },
      { factor: 'running', stat: 'Value', value: 1 },
    ],
  };
}

function service(name: string, extra: Record<string, string>, profile = false): ChildProcess {
  const base = { ...process.env };
  delete base.NODE_OPTIONS;
  const prof = profile && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : [];
  return spawn(process.execPath, [...prof, '--import', 'tsx', 'src/main.ts'], {
    cwd: `${repo}services/${name}`,
    env: {
      ...base,
      OFFSITE_OPS_PORT: '0',
      OFFSITE_LOG_LEVEL: 'warn',
      OFFSITE_TELEMETRY_TOPIC: tel,
      OFFSITE_DLQ_TOPIC: dlq,
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
/** SIGTERM and wait for the exit (a --cpu-prof profile is written then), SIGKILL after `ms`. */
async function stop(p: ChildProcess, ms = 30_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}
const peakRss = (p: ChildProcess) => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

const kafka = createKafkaClient({ brokers: env.kafka.split(','), clientId: 'bench', logger: silentLogger });
const influxClient = createInfluxClient(
  { url: env.influx, token: env.token, org: '-', bucket: 'x' },
  silentLogger,
);
const pool = new pg.Pool({ connectionString: env.pg, options: `-c search_path=${schema}`, max: 2 });
const children: ChildProcess[] = [];
const deadline = Date.now() + 5 * 60_000;
try {
  await ensureDatabase1x(influxClient, db);
  const admin = new pg.Client({ connectionString: env.pg });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
  await ensureTopics(kafka, [
    { topic: tel, numPartitions: 6 },
    { topic: raw, numPartitions: 6 },
    { topic: dlq, numPartitions: 1 },
  ]);

  // 1. Ceiling: the same lines the writer would produce, written straight to InfluxDB.
  const ceilingDb = `${db}_ceiling`;
  await ensureDatabase1x(influxClient, ceilingDb);
  const writer = createInfluxWriter({
    url: env.influx,
    token: env.token,
    org: '-',
    bucket: `${ceilingDb}/autogen`,
    logger: silentLogger,
  });
  // The influx-writer's mapping (services/influx-writer/README.md): one point per factor.
  const lines = Array.from({ length: READINGS }, (_, i) => reading(i)).flatMap((r) =>
    r.measurements.map((m) =>
      toLine({
        measurement: r.kind,
        tags: {
          enterprise: r.enterpriseId,
          site: r.siteId,
          device: r.deviceId,
          factor: m.factor,
          interval: r.interval,
        },
        fields: { [m.stat]: m.value, ...(m.unit ? { unit: m.unit } : {}) },
        timeSeconds: Math.floor(Date.parse(r.dataTime) / 1000),
      }),
    ),
  );
  const batches: string[][] = [];
  for (let i = 0; i < lines.length; i += 5_000) batches.push(lines.slice(i, i + 5_000));
  let t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) await writer.write(batches[next++]!);
    }),
  );
  const ceiling = lines.length / ((performance.now() - t0) / 1000); // 1 value per line here
  await fetch(`${env.influx}/query?q=${encodeURIComponent(`DROP DATABASE "${ceilingDb}"`)}`, {
    method: 'POST',
    headers: env.token ? { authorization: `Token ${env.token}` } : {},
  });

  // 2. MQTT → Kafka → InfluxDB through the real services.
  const ingestor = service('mqtt-ingestor', {
    OFFSITE_PG_URL: env.pg,
    OFFSITE_PG_SCHEMA: schema,
    OFFSITE_MQTT_CLIENT_ID: `bench-${run}`,
    OFFSITE_MQTT_SHARE_GROUP: `bench-${run}`,
    OFFSITE_MQTT_SESSIONS: '8',
    OFFSITE_MQTT_SESSION_EXPIRY_S: '60',
  });
  const writerProc = service(
    'influx-writer',
    {
      OFFSITE_INFLUX_BUCKET: `${db}/autogen`,
      OFFSITE_INFLUX_WRITER_GROUP: `bench-${run}`,
      OFFSITE_BATCH_MAX_DELAY_MS: '200',
    },
    true,
  );
  children.push(ingestor, writerProc);
  await new Promise((r) => setTimeout(r, 4_000)); // both joined (sessions, consumer group)
  const pubs = await Promise.all(
    Array.from({ length: 4 }, (_, k) =>
      mqtt.connectAsync(env.mqtt, {
        username: env.mqttUser,
        password: env.mqttPassword,
        protocolVersion: 5,
        clientId: `bench-pub-${run}-${k}`,
      }),
    ),
  );
  t0 = performance.now();
  let sent = 0;
  await Promise.all(
    pubs.map(async (pub, k) => {
      const inflight = new Set<Promise<unknown>>();
      for (let i = k; i < READINGS; i += pubs.length) {
        const p = pub.publishAsync(
          `offsite/v1/ent-0001/meters/${meters[i % 3]}/energy`,
          JSON.stringify({
            ts: new Date(Date.UTC(2024, 0, 1) + Math.floor(i / 3) * 60_000).toISOString(),
            powerKw: i % 500,
            energyKwh: 1000 + i,
            status: 'running',
          }),
          { qos: 1 },
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        sent++;
        if (inflight.size >= 200) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    }),
  );
  const acked = (performance.now() - t0) / 1000;
  await until(
    async () => (await countValues()) >= READINGS * 3 || Date.now() > deadline,
    5 * 60_000,
    'all values in InfluxDB',
  );
  const total = (performance.now() - t0) / 1000;
  const values = await countValues();
  await Promise.all(pubs.map((p) => p.endAsync()));
  const pipeline = values / total;
  const ingestorPeak = peakRss(ingestor);
  await stop(ingestor); // the HJ 212 phase has the writer (and the machine) to itself

  // 3. HJ 212 over TCP → gateway → Kafka → InfluxDB: loggers wait for each 9014 before the next upload.
  const hjPort = 40_000 + Math.floor(Math.random() * 10_000);
  const gwOps = hjPort + 1;
  const gateway = service(
    'hj212-gateway',
    {
      OFFSITE_PG_URL: env.pg,
      OFFSITE_PG_SCHEMA: schema,
      OFFSITE_KAFKA_TOPIC_PREFIX: prefix,
      OFFSITE_HJ212_PORT: String(hjPort),
      OFFSITE_OPS_PORT: String(gwOps),
      OFFSITE_HJ212_MAX_CONNECTIONS: String(LOGGERS + 100),
    },
    true,
  );
  children.push(gateway);
  await until(
    () =>
      fetch(`http://127.0.0.1:${gwOps}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
    'gateway ready',
  );
  const gwIdle = rssKb(gateway);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < LOGGERS; i += 100)
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, LOGGERS - i) }, () => connect(hjPort)))),
    );
  await new Promise((r) => setTimeout(r, 500));
  const gwConnected = rssKb(gateway);
  const hjBefore = await countValues('emission');
  t0 = performance.now();
  const lat = (await Promise.all(sockets.map((s, i) => runLogger(s, i)))).flat().sort((a, b) => a - b);
  const hjAcked = (performance.now() - t0) / 1000;
  const gwLoaded = rssKb(gateway);
  const hjExpected = LOGGERS * PACKETS * HJ_VALUES;
  await until(
    async () => (await countValues('emission')) - hjBefore >= hjExpected || Date.now() > deadline,
    5 * 60_000,
    'all HJ 212 values in InfluxDB',
  );
  const hjTotal = (performance.now() - t0) / 1000;
  const hjValues = (await countValues('emission')) - hjBefore;
  for (const s of sockets) s.destroy();
  const hjRate = hjValues / hjTotal;
  const gwPeak = peakRss(gateway);
  const writerPeak = peakRss(writerProc);
  await stop(gateway);
  await stop(writerProc);

  const out = [
    `ingest benchmark (2-core shared machine; ${READINGS} MQTT readings × 3 values; ${LOGGERS} HJ 212 loggers × ${PACKETS} uploads × ${HJ_VALUES} values)`,
    `  InfluxDB direct-write ceiling : ${ceiling.toFixed(0)} values/s (${lines.length} lines, 5,000/batch, 4 concurrent)`,
    `  MQTT → Kafka → InfluxDB       : ${pipeline.toFixed(0)} values/s, ${(READINGS / total).toFixed(0)} readings/s (${values}/${READINGS * 3} values in ${total.toFixed(1)} s; PUBACKs done after ${acked.toFixed(1)} s) = ${((pipeline / ceiling) * 100).toFixed(1)} % of the ceiling`,
    `  HJ 212/TCP → Kafka → InfluxDB : ${hjRate.toFixed(0)} values/s, ${((LOGGERS * PACKETS) / hjTotal).toFixed(0)} uploads/s (${hjValues}/${hjExpected} values in ${hjTotal.toFixed(1)} s; last 9014 after ${hjAcked.toFixed(1)} s) = ${((hjRate / ceiling) * 100).toFixed(1)} % of the ceiling`,
    `    9014 reply latency (logger side, incl. Kafka acks=-1): p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${(lat.at(-1) ?? NaN).toFixed(1)} ms (${lat.length} replies)`,
    `    gateway RSS: idle ${(gwIdle / 1024).toFixed(0)} MiB, ${LOGGERS} connected ${(gwConnected / 1024).toFixed(0)} MiB (${((gwConnected - gwIdle) / LOGGERS).toFixed(1)} KiB/connection), under load ${(gwLoaded / 1024).toFixed(0)} MiB, peak ${mb(gwPeak)}`,
    `  memory: bench ${mb(process.memoryUsage().rss)} rss, mqtt-ingestor peak ${mb(ingestorPeak)}, influx-writer peak ${mb(writerPeak)}`,
    `  sent ${sent} MQTT messages, ${lat.length} HJ 212 uploads`,
  ];
  if (profileDir) {
    for (const name of ['influx-writer', 'hj212-gateway']) {
      const dir = join(profileDir, name);
      // One file per thread, CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile: tid 0 is the main
      // thread; the others are tsx's module-loader thread.
      const file = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
      if (!file) {
        out.push(`  profile ${name}: none written`);
        continue;
      }
      const main = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      const top = topProfileFunctions(main, 10);
      out.push(
        `  profile ${name} (whole process life incl. tsx start-up: ${(top.busyMs / 1000).toFixed(1)} s busy of ${(top.totalMs / 1000).toFixed(1)} s): top 10 self time, % of busy`,
      );
      for (const f of top.functions)
        out.push(
          `    ${f.selfMs.toFixed(0).padStart(7)} ms ${f.percent.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`,
        );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2_000));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  const adminK = kafka.admin();
  await adminK.connect();
  await adminK.deleteTopics({ topics: [tel, raw, dlq] }).catch(() => undefined);
  await adminK.disconnect();
  await fetch(`${env.influx}/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, {
    method: 'POST',
    headers: env.token ? { authorization: `Token ${env.token}` } : {},
  });
  await pool.end();
  const c = new pg.Client({ connectionString: env.pg });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
}
