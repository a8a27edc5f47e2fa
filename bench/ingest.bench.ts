// npm run bench:ingest — ingest throughput on this machine, bounded in count and time, loopback only.
//   1. InfluxDB direct-write ceiling: the same points the pipeline writes, 5,000-line batches, 4 concurrent.
//   2. MQTT → mqtt-ingestor → Kafka → influx-writer → InfluxDB, both services as real processes.
// Prints values/s, the ratio to the ceiling, and memory. Uses its own topics, database and
// Postgres schema and removes them. HJ 212 over TCP: see services/hj212-gateway's own benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { telemetryEventId, type TelemetryV1 } from '@offsite/contracts';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, toLine } from '@offsite/influx';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import mqtt from 'mqtt';
import pg from 'pg';

const repo = fileURLToPath(new URL('../', import.meta.url));
const READINGS = Number(process.env.BENCH_READINGS ?? 20_000); // MQTT messages (3 values each)
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
const tel = `bench.telemetry.${run}`;
const dlq = `bench.dlq.${run}`;
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
const countValues = async () =>
  Object.entries(await influxql('SELECT count(*) FROM "energy"')).reduce(
    (n, [k, v]) => (k.startsWith('count_') && k !== 'count_flag' && k !== 'count_unit' ? n + v : n),
    0,
  );

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

function service(name: string, extra: Record<string, string>): ChildProcess {
  const base = { ...process.env };
  delete base.NODE_OPTIONS;
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
  const writerProc = service('influx-writer', {
    OFFSITE_INFLUX_BUCKET: `${db}/autogen`,
    OFFSITE_INFLUX_WRITER_GROUP: `bench-${run}`,
    OFFSITE_BATCH_MAX_DELAY_MS: '200',
  });
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
  const out = [
    `ingest benchmark (${READINGS} MQTT readings × 3 values; 2-core shared machine)`,
    `  InfluxDB direct-write ceiling : ${ceiling.toFixed(0)} values/s (${lines.length} lines, 5,000/batch, 4 concurrent)`,
    `  MQTT → Kafka → InfluxDB       : ${pipeline.toFixed(0)} values/s, ${(READINGS / total).toFixed(0)} readings/s (${values}/${READINGS * 3} values in ${total.toFixed(1)} s; PUBACKs done after ${acked.toFixed(1)} s) = ${((pipeline / ceiling) * 100).toFixed(1)} % of the ceiling`,
    `  memory: bench ${mb(process.memoryUsage().rss)} rss, mqtt-ingestor peak ${mb(peakRss(ingestor))}, influx-writer peak ${mb(peakRss(writerProc))}`,
    `  sent ${sent}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2_000));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  const adminK = kafka.admin();
  await adminK.connect();
  await adminK.deleteTopics({ topics: [tel, dlq] }).catch(() => undefined);
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
}
