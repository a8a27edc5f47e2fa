/**
 * Benchmark (not a test): the real gateway process (src/main.ts) against the shared Kafka and
 * Postgres with its own topics and schema, and a fleet of simulated data loggers in a separate
 * process (bench/fleet.ts), so neither shares an event loop with the other or with this script.
 *
 *   flock /tmp/offsite-bench.lock node --conditions=offsite-source --import tsx services/hj212-gateway/bench/gateway.bench.ts \
 *     [--mode fleet|burst] [--loggers 10000] [--interval 30] [--warmup S] [--steady 60] \
 *     [--packets 3] [--values 20] [--linger 2[,5,…]] [--profile] [--gateway-node-args '--max-semi-space-size=32']
 *
 * fleet (default): every logger sends a 2011 packet of `--values` values every `--interval` s at its
 *   own random phase (HJ 212 real-time data is every 30 s; a smaller interval is a compressed
 *   cadence), waiting for nothing but answering nothing either — a fleet, not a queue. After all
 *   loggers are connected, `--warmup` s (default one interval: every logger has sent once) are not
 *   measured; then `--steady` s are. Reply latency is from the frame handed to the kernel to the
 *   9014's CR LF, for every packet sent inside the steady window.
 * burst: every logger sends `--packets` packets one after another (each after the previous 9014),
 *   all starting at the same instant. This is a thundering-herd stress figure (the old benchmark),
 *   not a fleet: latency there is queueing behind the whole herd.
 * --linger a,b,…: one run per OFFSITE_KAFKA_LINGER_MS value (fresh gateway and fleet each time).
 * --profile: the gateway runs under `node --cpu-prof`; its top self-time functions are printed.
 * --gateway-node-args: extra node flags for the gateway process (V8 heap settings, for instance).
 *
 * Prints: connect time, gateway RSS per connection, offered and answered packets/s, reply latency
 * p50/p95/p99/max, gateway and Kafka broker CPU % (of one core) over the window, the fleet process's
 * own CPU and event-loop delay (if that is high, the fleet, not the gateway, is the bottleneck),
 * Kafka request size, and os.loadavg(). Needs `.offsite/env` loaded (OFFSITE_PG_URL, OFFSITE_KAFKA_BROKERS).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger } from '@offsite/testing';
import { topProfileFunctions, type CpuProfile } from '../../../bench/profile.js';
import { topicsWithPrefix } from '../src/packet-handler.js';
import type { FleetConfig, FleetMessage, ParentMessage } from './fleet.js';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'fleet' },
    loggers: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '30' },
    warmup: { type: 'string' },
    steady: { type: 'string', default: '60' },
    packets: { type: 'string', default: '3' },
    values: { type: 'string', default: '20' },
    linger: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    'gateway-node-args': { type: 'string', default: '' },
  },
});
const MODE = args.mode === 'burst' ? 'burst' : 'fleet';
const LOGGERS = Number(args.loggers);
const INTERVAL_S = Number(args.interval);
const WARMUP_S = args.warmup === undefined ? Math.max(5, INTERVAL_S) : Number(args.warmup);
const STEADY_S = Number(args.steady);
const PACKETS = Number(args.packets);
const VALUES = Number(args.values);
const GATEWAY_NODE_ARGS = args['gateway-node-args'].split(' ').filter(Boolean);
const LINGERS = args.linger.split(',').map(Number);
const MN = '99010201FG00010000000001';
const PW = 'Hd7q2Lx9';
const out = (line: string) => process.stdout.write(`${line}\n`);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const pgUrl = requireEnv('OFFSITE_PG_URL');
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const id = randomBytes(4).toString('hex');
const schema = `bench_gw_${id}`;
const prefix = `bench-gw-${id}.`;
const topics = topicsWithPrefix(prefix);
const kafka = createKafkaClient({
  brokers: brokers.split(','),
  clientId: `bench-${id}`,
  logger: silentLogger,
});

async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${schema}`, max: 2 });
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: here('../../../registry/example.yaml') }, { logger: silentLogger });
  await pool.end();
  await ensureTopics(kafka, [
    { topic: topics.telemetry, numPartitions: 6 },
    { topic: topics.raw, numPartitions: 6 },
    { topic: topics.dlq, numPartitions: 1 },
    // The command intake reads these (nothing is produced to them here).
    { topic: `${prefix}deviation.v1`, numPartitions: 1 },
    { topic: `${prefix}hj212.command.v1`, numPartitions: 1 },
  ]);
}

/**
 * The baseline, same run: one-record acks=-1 produce requests sent one after another from this
 * process for `seconds`, before any gateway runs. No reply can beat this round trip; the reply
 * latency is printed as a ratio to it.
 */
async function kafkaFloor(seconds: number): Promise<{ p50: number; p99: number; n: number }> {
  const producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  const rtts: number[] = [];
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const t0 = performance.now();
      await producer.sendBatch([{ topic: topics.dlq, messages: [{ key: 'floor', value: '{}' }] }]);
      rtts.push(performance.now() - t0);
    }
  } finally {
    await producer.disconnect();
  }
  rtts.sort((a, b) => a - b);
  return { p50: pct(rtts, 50), p99: pct(rtts, 99), n: rtts.length };
}
let floor = { p50: NaN, p99: NaN, n: 0 };

async function teardown(): Promise<void> {
  const a = kafka.admin();
  await a.connect();
  await a
    .deleteTopics({
      topics: [
        topics.telemetry,
        topics.raw,
        topics.dlq,
        `${prefix}deviation.v1`,
        `${prefix}hj212.command.v1`,
      ],
    })
    .catch(() => undefined);
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

/** utime + stime of a process in seconds (clock ticks of 1/100 s, Linux's USER_HZ). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Seconds the process's main thread (the event loop) spent runnable but waiting for a core
 * (/proc/PID/schedstat, 2nd field, ns): on a shared machine, the part of the latency that is not
 * the gateway's own doing.
 */
function runQueueSeconds(pid: number): number {
  if (!existsSync(`/proc/${pid}/schedstat`)) return NaN;
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
}

function kafkaPid(): number | undefined {
  const file = here('../../../.offsite/run/kafka.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function waitReady(opsPort: number, child: ChildProcess): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${opsPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error('gateway not ready within 60 s');
}

async function metrics(opsPort: number): Promise<Map<string, number>> {
  const text = await fetch(`http://127.0.0.1:${opsPort}/metrics`).then((r) => r.text());
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    found.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return found;
}

/** Sum over the series whose name matches, of after − before. */
function delta(before: Map<string, number>, after: Map<string, number>, re: RegExp): number {
  let sum = 0;
  for (const [k, v] of after) if (re.test(k)) sum += v - (before.get(k) ?? 0);
  return sum;
}

/** Upper bucket bound under which p % of a Prometheus histogram's observations in the window fell. */
function histogramBound(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
  p: number,
): string {
  const buckets: [number, number][] = [];
  for (const [k, v] of after) {
    if (!k.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(k)?.[1];
    if (le !== undefined) buckets.push([le === '+Inf' ? Infinity : Number(le), v - (before.get(k) ?? 0)]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return 'n/a';
  const bound = buckets.find(([, c]) => c >= (p / 100) * total)?.[0] ?? Infinity;
  return bound === Infinity ? '> largest bucket' : `≤ ${bound * 1000} ms`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (v: number) => `${v.toFixed(1)} ms`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function nextMessage<T extends FleetMessage['type']>(
  fleet: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<FleetMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`fleet: no "${type}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: FleetMessage) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      fleet.off('message', onMessage);
      resolve(m as Extract<FleetMessage, { type: T }>);
    };
    fleet.on('message', onMessage);
  });
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Ports above the kernel's ephemeral range (32768–60999), so 10,000 client sockets never hold ours. */
const freePortPair = () => 61_000 + 2 * Math.floor(Math.random() * 2_000);

function startGateway(hjPort: number, lingerMs: number, profileDir: string | undefined): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...GATEWAY_NODE_ARGS,
      '--conditions=offsite-source',
      '--import',
      'tsx',
      here('../src/main.ts'),
    ],
    {
      env: {
        ...process.env,
        OFFSITE_PG_SCHEMA: schema,
        OFFSITE_KAFKA_TOPIC_PREFIX: prefix,
        OFFSITE_HJ212_PORT: String(hjPort),
        OFFSITE_OPS_PORT: String(hjPort + 1),
        OFFSITE_LOG_LEVEL: 'warn',
        OFFSITE_HJ212_MAX_CONNECTIONS: String(LOGGERS + 100),
        // Every simulated logger connects from this host's one address.
        OFFSITE_HJ212_MAX_CONNECTIONS_PER_SOURCE: String(LOGGERS + 100),
        // The loggers' QNs are fixed 2024 times, not their clocks: no calibration on drift.
        OFFSITE_HJ212_CLOCK_DRIFT_MAX_S: '0',
        OFFSITE_HJ212_COMMANDS_GROUP_ID: `bench-gw-${id}.commands`,
        OFFSITE_KAFKA_LINGER_MS: String(lingerMs),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

async function run(lingerMs: number): Promise<void> {
  const profileDir = args.profile ? mkdtempSync(join(os.tmpdir(), 'offsite-gw-prof-')) : undefined;
  let hjPort = freePortPair();
  let gateway = startGateway(hjPort, lingerMs, profileDir);
  for (let attempt = 1; ; attempt++) {
    try {
      await waitReady(hjPort + 1, gateway);
      break;
    } catch (error) {
      // Most likely a port taken meanwhile: another pair, twice at most.
      if (attempt === 3 || gateway.exitCode === null) throw error;
      hjPort = freePortPair();
      gateway = startGateway(hjPort, lingerMs, profileDir);
    }
  }
  const opsPort = hjPort + 1;
  const fleetConfig: FleetConfig = {
    port: hjPort,
    loggers: LOGGERS,
    mode: MODE,
    intervalS: INTERVAL_S,
    packets: PACKETS,
    values: VALUES,
    mn: MN,
    pw: PW,
    connectConcurrency: 200,
  };
  let fleet: ChildProcess | undefined;
  try {
    const pid = gateway.pid as number;
    fleet = fork(here('./fleet.ts'), [JSON.stringify(fleetConfig)], {
      execArgv: ['--conditions=offsite-source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const tell = (m: ParentMessage) => fleet?.send(m);
    const rss0 = rssKb(pid);
    const connected = nextMessage(fleet, 'connected', 300_000);
    tell({ type: 'connect' });
    const c = await connected;
    await sleep(1_000);
    const rss1 = rssKb(pid);
    // Idle cost of holding the connections (timers, sockets, V8 helper threads), before any packet.
    const idle0 = cpuSeconds(pid);
    await sleep(5_000);
    const idleCpu = ((cpuSeconds(pid) - idle0) / 5) * 100;
    const conn = c.connectMs.sort((a, b) => a - b);
    out(
      `\n== ${MODE === 'burst' ? 'BURST (stress: all loggers at once, not a fleet)' : 'FLEET'}, linger ${lingerMs} ms${GATEWAY_NODE_ARGS.length ? `, gateway node ${GATEWAY_NODE_ARGS.join(' ')}` : ''} ==`,
    );
    out(
      `connect: ${conn.length} loggers in ${c.seconds.toFixed(1)} s (${c.failed} failed; 200 at a time), connect p50 ${ms(pct(conn, 50))} p99 ${ms(pct(conn, 99))} max ${ms(conn.at(-1) ?? NaN)}`,
    );
    out(
      `gateway RSS: idle ${(rss0 / 1024).toFixed(0)} MiB, connected ${(rss1 / 1024).toFixed(0)} MiB = ${((rss1 - rss0) / LOGGERS).toFixed(1)} KiB/connection; CPU with all connected and silent ${idleCpu.toFixed(1)} % of one core`,
    );

    const result = nextMessage(fleet, 'result', (WARMUP_S + STEADY_S + 600) * 1000);
    const before = { gw: 0, kafka: 0, at: 0, waited: 0, m: new Map<string, number>() };
    const mark = async () => {
      before.m = await metrics(opsPort); // also restarts the event-loop lag window
      before.gw = cpuSeconds(pid);
      before.waited = runQueueSeconds(pid);
      before.kafka = cpuSeconds(kafkaPid());
      before.at = performance.now();
    };
    if (MODE === 'burst') await mark();
    tell({ type: 'start' });
    if (MODE === 'fleet') {
      out(
        `offered: ${LOGGERS} loggers × 1 packet / ${INTERVAL_S} s = ${(LOGGERS / INTERVAL_S).toFixed(0)} packets/s (${((LOGGERS * VALUES) / INTERVAL_S).toFixed(0)} values/s); warm-up ${WARMUP_S} s, measured ${STEADY_S} s`,
      );
      await sleep(WARMUP_S * 1000);
      await mark();
      tell({ type: 'mark' });
      await sleep(STEADY_S * 1000);
      tell({ type: 'stop' });
    }
    const r = await result;
    const seconds = (performance.now() - before.at) / 1000;
    const gwCpu = ((cpuSeconds(pid) - before.gw) / seconds) * 100;
    const waited = runQueueSeconds(pid) - before.waited;
    const kafkaCpu = ((cpuSeconds(kafkaPid()) - before.kafka) / seconds) * 100;
    const rss2 = rssKb(pid);
    const after = await metrics(opsPort);
    const d = (re: RegExp) => delta(before.m, after, re);
    const lat = r.latencies.sort((a, b) => a - b);
    out(
      `answered: ${lat.length} of ${r.sent} packets sent in ${r.windowS.toFixed(1)} s = ${(lat.length / r.windowS).toFixed(0)} packets/s, ${((lat.length * VALUES) / r.windowS).toFixed(0)} values/s; ${r.unanswered} unanswered, ${r.disconnects} disconnects`,
    );
    out(
      `reply latency (last byte sent → 9014 received, incl. Kafka acks=-1): p50 ${ms(pct(lat, 50))} p95 ${ms(pct(lat, 95))} p99 ${ms(pct(lat, 99))} max ${ms(lat.at(-1) ?? NaN)}`,
    );
    out(
      `  vs baseline (bare Kafka round trip): p50 ${(pct(lat, 50) / floor.p50).toFixed(1)}x, p99 ${(pct(lat, 99) / floor.p99).toFixed(1)}x`,
    );
    const batches = d(/^offsite_hj212_kafka_batch_messages_count/);
    const gc = (kind: string) => {
      const n = d(new RegExp(`^nodejs_gc_duration_seconds_count\\{.*kind="${kind}"`));
      const sum = d(new RegExp(`^nodejs_gc_duration_seconds_sum\\{.*kind="${kind}"`));
      return `${kind} ${n}× ${((sum / Math.max(1, n)) * 1000).toFixed(1)} ms avg`;
    };
    out(
      `CPU over the window (% of one core): gateway ${gwCpu.toFixed(0)} % = ${(((gwCpu / 100) * seconds * 1e6) / Math.max(1, lat.length)).toFixed(0)} µs/packet (GC ${((d(/^nodejs_gc_duration_seconds_sum/) / seconds) * 100).toFixed(1)} %: ${gc('major')}, ${gc('minor')}), Kafka broker ${kafkaCpu.toFixed(0)} %, fleet ${r.cpuPercent.toFixed(0)} % (its event-loop delay p99 ${ms(r.loopDelayP99Ms)})`,
    );
    out(
      `gateway main thread waited for a core (run queue, /proc schedstat) ${waited.toFixed(1)} s of ${seconds.toFixed(1)} s = ${((waited / seconds) * 100).toFixed(1)} % of the window`,
    );
    const lag = (n: string) =>
      (after.get(`nodejs_eventloop_lag_${n}_seconds{service="hj212-gateway"}`) ?? NaN) * 1000;
    out(
      `gateway: event-loop delay p99 ${ms(lag('p99'))} max ${ms(lag('max'))}; reply latency inside the gateway (read → write) p50 ${histogramBound(before.m, after, 'offsite_hj212_reply_latency_seconds', 50)}, p99 ${histogramBound(before.m, after, 'offsite_hj212_reply_latency_seconds', 99)}`,
    );
    out(
      `Kafka: ${batches} produce requests (${(batches / seconds).toFixed(1)}/s), ${(d(/^offsite_hj212_kafka_batch_messages_sum/) / Math.max(1, batches)).toFixed(1)} records each, request (acks=-1) mean ${((d(/^offsite_hj212_kafka_request_seconds_sum/) / Math.max(1, batches)) * 1000).toFixed(1)} ms, p50 ${histogramBound(before.m, after, 'offsite_hj212_kafka_request_seconds', 50)}, p99 ${histogramBound(before.m, after, 'offsite_hj212_kafka_request_seconds', 99)}; gateway RSS after ${(rss2 / 1024).toFixed(0)} MiB`,
    );
    out(`load average (1/5/15 min): ${load()}; cores ${os.cpus().length}`);
  } finally {
    if (fleet) await stopChild(fleet, 5_000);
    await stopChild(gateway, 20_000);
    if (profileDir) {
      const file = readdirSync(profileDir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
      if (file) {
        const top = topProfileFunctions(
          JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile,
          15,
        );
        out(
          `gateway profile (whole process life incl. start-up and connects: ${(top.busyMs / 1000).toFixed(1)} s busy of ${(top.totalMs / 1000).toFixed(1)} s): top 15 self time, % of busy`,
        );
        for (const f of top.functions)
          out(
            `  ${f.selfMs.toFixed(0).padStart(7)} ms ${f.percent.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`,
          );
      } else out('gateway profile: none written');
      rmSync(profileDir, { recursive: true, force: true });
    }
  }
}

out(`gateway bench ${MODE}: loggers=${LOGGERS} values/packet=${VALUES} load average ${load()} (start)`);
await setup();
try {
  floor = await kafkaFloor(5);
  out(
    `baseline: bare Kafka acks=-1 produce of 1 record from this process, ${floor.n} in a row: p50 ${ms(floor.p50)} p99 ${ms(floor.p99)}`,
  );
  for (const linger of LINGERS) await run(linger);
} finally {
  await teardown();
}
