/**
 * Benchmark (not a test): runs the real gateway process (src/main.ts) against the shared Kafka and
 * Postgres with its own topics and schema, connects N simulated data loggers that each send packets
 * one after another (waiting for the 9014, as loggers do), and prints packets/s, values/s, reply
 * latency p50/p99 (seen by the logger) and the gateway's RSS per connection.
 *
 *   node --import tsx services/hj212-gateway/bench/gateway.bench.ts [--loggers 1000] [--packets 10] [--values 20]
 *
 * Needs `.offsite/env` loaded (OFFSITE_PG_URL, OFFSITE_KAFKA_BROKERS).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { encodePacket } from '@offsite/hj212';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger } from '@offsite/testing';
import { topicsWithPrefix } from '../src/packet-handler.js';

const { values: args } = parseArgs({
  options: {
    loggers: { type: 'string', default: '1000' },
    packets: { type: 'string', default: '10' },
    values: { type: 'string', default: '20' },
  },
});
const LOGGERS = Number(args.loggers);
const PACKETS = Number(args.packets);
const VALUES = Number(args.values);
const MN = '99010201FG00010000000001';
const PW = 'Hd7q2Lx9';
const out = (line: string) => process.stdout.write(`${line}\n`);

const pgUrl = requireEnv('OFFSITE_PG_URL');
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const id = randomBytes(4).toString('hex');
const schema = `bench_gw_${id}`;
const prefix = `bench-gw-${id}.`;
const topics = topicsWithPrefix(prefix);
const hjPort = 40_000 + Math.floor(Math.random() * 10_000);
const opsPort = hjPort + 1;

async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${schema}`, max: 2 });
  await runMigrations(pool, { logger: silentLogger });
  const example = new URL('../../../registry/example.yaml', import.meta.url).pathname;
  await importRegistry(pool, { path: example }, { logger: silentLogger });
  await pool.end();
  const kafka = createKafkaClient({
    brokers: brokers.split(','),
    clientId: `bench-${id}`,
    logger: silentLogger,
  });
  await ensureTopics(kafka, [
    { topic: topics.telemetry, numPartitions: 6 },
    { topic: topics.raw, numPartitions: 6 },
    { topic: topics.dlq, numPartitions: 1 },
  ]);
}

async function teardown(): Promise<void> {
  const kafka = createKafkaClient({
    brokers: brokers.split(','),
    clientId: `bench-${id}`,
    logger: silentLogger,
  });
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: [topics.telemetry, topics.raw, topics.dlq] }).catch(() => undefined);
  await a.disconnect();
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function waitReady(): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const ok = await fetch(`http://127.0.0.1:${opsPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('gateway not ready within 60 s');
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: hjPort, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

function cp(i: number, k: number): string {
  const items = [
    `DataTime=20240301${String(10 + (k % 10))}${String(i % 60).padStart(2, '0')}${String(k % 60).padStart(2, '0')}`,
  ];
  for (let v = 0; v < VALUES; v++)
    items.push(`a${String(21000 + v)}-Rtd=${(i + v + k) % 100}.5,a${String(21000 + v)}-Flag=N`);
  return items.join(';');
}

/** One logger: send a packet, wait for its reply, repeat. Returns each reply latency in ms. */
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
    const frame = encodePacket({
      qn: `2024030110${String(i).padStart(5, '0')}${String(k).padStart(2, '0')}`.slice(0, 17),
      st: '31',
      cn: '2011',
      pw: PW,
      mn: MN,
      flag: 5,
      cp: cp(i, k),
    });
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<void>((resolve, reject) => {
      waiter = resolve;
      timer = setTimeout(() => reject(new Error(`logger ${i}: no reply within 30 s`)), 30_000);
    });
    socket.write(frame);
    await got.finally(() => clearTimeout(timer));
    latencies.push(performance.now() - t0);
    buf = buf.slice(buf.indexOf('\r\n') + 2);
    waiter = null;
  }
  return latencies;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

await setup();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('../src/main.ts', import.meta.url).pathname],
  {
    env: {
      ...process.env,
      OFFSITE_PG_SCHEMA: schema,
      OFFSITE_KAFKA_TOPIC_PREFIX: prefix,
      OFFSITE_HJ212_PORT: String(hjPort),
      OFFSITE_OPS_PORT: String(opsPort),
      OFFSITE_LOG_LEVEL: 'warn',
      OFFSITE_HJ212_MAX_CONNECTIONS: String(LOGGERS + 100),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
try {
  await waitReady();
  const pid = child.pid as number;
  const rss0 = rssKb(pid);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < LOGGERS; i += 200) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, LOGGERS - i) }, connect))));
  }
  await new Promise((r) => setTimeout(r, 500));
  const rss1 = rssKb(pid);
  const t0 = performance.now();
  const all = (await Promise.all(sockets.map((s, i) => runLogger(s, i)))).flat();
  const seconds = (performance.now() - t0) / 1000;
  const rss2 = rssKb(pid);
  all.sort((a, b) => a - b);
  out(
    `loggers=${LOGGERS} packets/logger=${PACKETS} values/packet=${VALUES} cores=${(await import('node:os')).cpus().length}`,
  );
  out(
    `packets=${all.length} in ${seconds.toFixed(2)} s: ${(all.length / seconds).toFixed(0)} packets/s, ${((all.length * VALUES) / seconds).toFixed(0)} values/s`,
  );
  out(
    `reply latency (logger side, incl. Kafka acks=-1): p50=${pct(all, 50).toFixed(1)} ms p99=${pct(all, 99).toFixed(1)} ms max=${(all.at(-1) ?? NaN).toFixed(1)} ms`,
  );
  out(
    `gateway RSS: idle ${(rss0 / 1024).toFixed(0)} MiB, connected ${(rss1 / 1024).toFixed(0)} MiB (${((rss1 - rss0) / LOGGERS).toFixed(1)} KiB/connection), after load ${(rss2 / 1024).toFixed(0)} MiB`,
  );
  const metrics = await fetch(`http://127.0.0.1:${opsPort}/metrics`).then((r) => r.text());
  for (const line of metrics.split('\n')) {
    if (/^offsite_hj212_(packets_total|kafka_batch_messages_(sum|count)|kafka_failures_total)/.test(line))
      out(`  ${line}`);
  }
  for (const s of sockets) s.destroy();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await teardown();
}
