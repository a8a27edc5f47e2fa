// npm run bench:analyze — rule-engine throughput and detection latency on this machine.
//   1. Offline: @offsite/domain's engine on one core, N enterprises × a gas logger sending real-time
//      packets every 30 s with 20 values, for a few simulated hours, in time order, the watermark advanced
//      after every reading (as the analyzer does); then the same kind of data through `offsite analyze`.
//   2. Online: services/analyzer as a real process on the shared servers; telemetry.v1 produced at
//      --values-per-s for --seconds, with probe readings carrying flag T (out of range: judged at once,
//      no confirmation period); deviation.v1 consumed; latency = probe produce call → its `opened` event.
// Targets (domain-rules.md §7): ≥ 200,000 values/s offline; p99 < 1 s online at 70,000 values/s.
// A script that prints numbers, not a test. Bounded in count and time, loopback only; its topics,
// consumer groups, Postgres schema and InfluxDB database are its own and removed at the end.
// The online registry is the example's enterprises cloned to --online-enterprises (the simulator's generator),
// every outlet with real-time data sending; --analyzers N runs N analyzer processes in one consumer group (as it
// deploys when one process cannot carry the load on a core shared with Kafka).
// Usage: npm run bench:analyze -- [--enterprises 50] [--hours 6] [--values-per-s 70000] [--seconds 30]
//        [--online-enterprises 300] [--analyzers 1] [--probes-per-s 4] [--skip-online] [--skip-offline]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COMMANDS, dispatch } from '@offsite/cli';
import { telemetryEventId, type DeviationV1, type TelemetryV1 } from '@offsite/contracts';
import { createEngine, makeConfig, seenAt, type Reading } from '@offsite/domain';
import { createInfluxClient, ensureDatabase1x } from '@offsite/influx';
import { createKafkaClient, ensureTopics, installKafkajsFastPaths } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { generateRegistry, parseRegistryText } from '@offsite/simulator';
import { readyStatus, requireEnv, runService, silentLogger, until } from '@offsite/testing';
import pg from 'pg';
import { fmt, gc, GAS, load, loggerRegistry, q, val, WATER } from './fleet.js';

// The load generator produces with the fast paths, as the services do.
installKafkajsFastPaths();

const { values: args } = parseArgs({
  options: {
    enterprises: { type: 'string', default: '50' },
    hours: { type: 'string', default: '6' },
    'values-per-s': { type: 'string', default: '70000' },
    'online-enterprises': { type: 'string', default: '300' },
    analyzers: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '30' },
    'probes-per-s': { type: 'string', default: '4' },
    'skip-online': { type: 'boolean', default: false },
    'skip-offline': { type: 'boolean', default: false },
  },
});
const ENTERPRISES = Math.min(2_000, Number(args.enterprises));
const HOURS = Math.min(48, Number(args.hours));
const VALUES_PER_S = Math.min(200_000, Number(args['values-per-s']));
const SECONDS = Math.min(300, Number(args.seconds));
const PROBES_PER_S = Math.min(50, Number(args['probes-per-s']));
const ONLINE_ENTERPRISES = Math.max(12, Math.min(5_000, Number(args['online-enterprises'])));
const ANALYZERS = Math.max(1, Math.min(6, Number(args.analyzers)));
const NATIONAL = 70_000; // values/s, domain-rules.md §7
const OFFLINE_TARGET = 200_000; // values/s on one core
const P99_TARGET_MS = 1_000;

const repo = fileURLToPath(new URL('../', import.meta.url));
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2025-03-10T00:00:00+08:00');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};

// ---------------------------------------------------------------------------------------------
// 1. Offline
// ---------------------------------------------------------------------------------------------
function offline(): void {
  const ents = Array.from({ length: ENTERPRISES }, (_, i) => `E${i + 1}`);
  const registry = loggerRegistry(ents);
  const input: Reading[] = [];
  let probes = 0;
  for (let t = T0, k = 0; t < T0 + HOURS * HOUR; t += 30_000, k++) {
    ents.forEach((e, i) => {
      // Every 100th packet of a logger carries flag T on SO2 (out of range): deviations open and resolve.
      const probe = (k + i) % 100 === 0;
      if (probe) probes++;
      input.push({
        eventId: `rt-${e}-${t}`,
        enterpriseId: e,
        siteId: `OUT-${e}`,
        deviceId: `MN-${e}`,
        kind: 'emission',
        interval: 'realtime',
        dataTime: t,
        measurements: GAS.map((f) => ({
          factor: f,
          stat: 'Rtd',
          value: val(f),
          flag: probe && f === 'a21026' ? 'T' : 'N',
        })),
      });
    });
  }
  const values = input.length * GAS.length;
  const config = makeConfig();
  const engine = createEngine(config, registry);
  const lat = new Float64Array(input.length);
  let outputs = 0;
  let opened = 0;
  let openedSameCall = 0;
  let maxSeen = -Infinity;
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < input.length; i++) {
    const r = input[i]!;
    const a = performance.now();
    const out = engine.ingest(r);
    maxSeen = Math.max(maxSeen, seenAt(r, config));
    out.push(...engine.advance(maxSeen)); // allowed lateness 0: the watermark is the latest reading end
    lat[i] = performance.now() - a;
    outputs += out.length;
    for (const o of out)
      if (o.type === 'deviation' && o.rule === 'out-of-range' && o.state === 'opened') {
        opened++;
        if (o.windowStart === r.dataTime && o.siteId === r.siteId) openedSameCall++;
      }
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  gc();
  const heap = process.memoryUsage().heapUsed - heap0;
  const sorted = Array.from(lat).sort((x, y) => x - y);
  const snap = engine.snapshot();
  const retained = Object.values(snap.enterprises).reduce((n, e) => n + e.readings.length, 0);
  // An incremental checkpoint after one more reading (what the analyzer writes: state without readings + new ones).
  engine.checkpoint();
  engine.ingest({ ...input[input.length - 1]!, eventId: 'bench-extra' });
  const c0 = performance.now();
  const part = engine.checkpoint();
  const partBytes = JSON.stringify(part.state).length + JSON.stringify(part.readings).length;
  const cpMs = performance.now() - c0;
  const f0 = performance.now();
  const fullBytes = JSON.stringify(snap).length;
  const fullMs = performance.now() - f0;
  say(
    `offline engine (${ENTERPRISES} enterprises × real-time 30 s × ${GAS.length} values × ${HOURS} h = ${fmt(input.length)} readings, ${fmt(values)} values; one core; ${load()})`,
  );
  say(
    `  ${fmt(values / wall)} values/s wall (${fmt(input.length / wall)} readings/s, ${wall.toFixed(2)} s); ${cpuS.toFixed(2)} CPU s → ${fmt(values / cpuS)} values/s per CPU s = ${(values / cpuS / OFFLINE_TARGET).toFixed(2)}× the ${fmt(OFFLINE_TARGET)} target (wall: ${(values / wall / OFFLINE_TARGET).toFixed(2)}×)`,
  );
  say(
    `  ingest+advance per reading: p50 ${q(sorted, 0.5).toFixed(3)} ms, p99 ${q(sorted, 0.99).toFixed(3)} ms, max ${q(sorted, 1).toFixed(1)} ms; ${fmt(outputs)} outputs`,
  );
  say(
    `  out-of-range probes ${probes}, opened ${opened} (${openedSameCall} in the call that ingested the probe)`,
  );
  say(
    `  memory: heap +${mb(heap)} after GC for ${fmt(retained)} retained readings = ${fmt(heap / Math.max(1, retained))} B per reading (${GAS.length} values), ${fmt(heap / ENTERPRISES / 1024)} kB per enterprise; full snapshot ${fmt(fullBytes / 1024)} kB (stringify ${fullMs.toFixed(0)} ms), incremental checkpoint after one more reading ${fmt(partBytes / 1024)} kB (${cpMs.toFixed(1)} ms)`,
  );
}

// `offsite analyze` on telemetry.v1 JSON lines for the example registry's 12 outlets (JSON parse,
// contract validation, registry mapping, engine, one JSON line per output).
async function cliPath(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-analyze-'));
  try {
    const file = join(dir, 'telemetry.jsonl');
    const recs: string[] = [];
    const hours = Math.max(HOURS, 12);
    for (let t = T0, k = 0; t < T0 + hours * HOUR; t += 30_000, k++)
      for (const [i, o] of OUTLETS.entries()) recs.push(JSON.stringify(telemetry(o, t, (k + i) % 100 === 0)));
    writeFileSync(file, `${recs.join('\n')}\n`);
    let out = 0;
    let err = 0;
    const sink = (inc: () => void) => ({ write: () => void inc() });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const code = await dispatch(
      ['analyze', '--registry', `${repo}registry/example.yaml`, '--lateness', '0', file],
      {
        stdin: Readable.from([]),
        stdout: sink(() => out++),
        stderr: sink(() => err++),
      },
      COMMANDS,
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const values = recs.length * 20;
    say(
      `offsite analyze (${OUTLETS.length} example outlets × ${hours} h, ${fmt(recs.length)} telemetry.v1 lines, ${fmt(values)} values): ${fmt(values / wall)} values/s (${fmt(recs.length / wall)} lines/s, ${wall.toFixed(2)} s, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s), exit ${code}, ${fmt(out)} output lines, ${err} stderr lines`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The example registry's outlets (registry/example.yaml): every one gets real-time data.
// ---------------------------------------------------------------------------------------------
interface Outlet {
  ent: string;
  site: string;
  mn: string;
  water: boolean;
}
const OUTLETS: Outlet[] = [
  ['0001', 'g1', '99010201FG00010000000001'],
  ['0002', 'g1', '99010202FG00020000000001'],
  ['0003', 'w1', '99010301WW00030000000001'],
  ['0004', 'w1', '99010302WW00040000000001'],
  ['0005', 'g1', '99010203FG00050000000001'],
  ['0006', 'g1', '99010304FG00060000000001'],
  ['0007', 'w1', '99010401WW00070000000001'],
  ['0008', 'w1', '99010402WW00080000000001'],
  ['0009', 'g1', '99010305FG00090000000001'],
  ['0010', 'w1', '99010204WW00100000000001'],
  ['0011', 'w1', '99010403WW00110000000001'],
  ['0012', 'g1', '99010404FG00120000000001'],
].map(([n, s, mn]) => ({ ent: `ent-${n}`, site: `out-${n}-${s}`, mn: mn!, water: s === 'w1' }));

/** One real-time packet (20 values); `probe` puts flag T on the first factor. */
function telemetry(o: Outlet, t: number, probe: boolean): TelemetryV1 {
  const base = {
    enterpriseId: o.ent,
    deviceId: o.mn,
    kind: 'emission' as const,
    interval: 'realtime' as const,
    dataTime: new Date(t).toISOString(),
  };
  const factors = o.water ? WATER : GAS;
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: o.site,
    source: 'hj212',
    hj212: { st: o.water ? '32' : '31', cn: '2011', version: '2017' },
    receivedAt: new Date().toISOString(),
    irregularities: [],
    measurements: factors.map((f, i) => ({
      factor: f,
      stat: 'Rtd',
      value: val(f),
      flag: probe && i === 0 ? 'T' : 'N',
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Online
// ---------------------------------------------------------------------------------------------
async function online(): Promise<void> {
  const env = {
    kafka: requireEnv('OFFSITE_KAFKA_BROKERS'),
    influx: requireEnv('OFFSITE_INFLUX_URL'),
    token: process.env.OFFSITE_INFLUX_TOKEN ?? '',
    pg: requireEnv('OFFSITE_PG_URL'),
  };
  const run = randomBytes(4).toString('hex');
  const schema = `bench_an_${run}`;
  const db = `bench_an_${run}`;
  const tel = `bench.an.telemetry.${run}`;
  const dev = `bench.an.deviation.${run}`;
  const dlq = `bench.an.dlq.${run}`;
  const review = `bench.an.review.${run}`;
  const group = `bench-an-${run}`;
  const collectorGroup = `bench-an-collector-${run}`;
  const influxAuth: Record<string, string> = env.token ? { authorization: `Token ${env.token}` } : {};
  const kafka = createKafkaClient({
    brokers: env.kafka.split(','),
    clientId: 'bench-analyze',
    logger: silentLogger,
  });
  const pool = new pg.Pool({ connectionString: env.pg, options: `-c search_path=${schema}`, max: 2 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const collector = kafka.consumer({ groupId: collectorGroup, maxWaitTimeInMs: 100 });
  let analyzers: ReturnType<typeof runService>[] = [];
  try {
    const admin = new pg.Client({ connectionString: env.pg });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    await runMigrations(pool, { logger: silentLogger });
    // Hundreds of enterprises: the example's, cloned by the simulator's generator (fresh ids and MNs).
    const template = parseRegistryText(readFileSync(`${repo}registry/example.yaml`, 'utf8'), 'example.yaml');
    const generated = generateRegistry(template, { count: ONLINE_ENTERPRISES });
    await importRegistry(pool, { data: generated }, { logger: silentLogger });
    const outlets: Outlet[] = generated.enterprises.flatMap((e) =>
      e.outlets.flatMap((o) =>
        o.devices
          .filter((d) => (d.realtimeIntervalS ?? 30) > 0)
          .map((d) => ({ ent: e.id, site: o.id, mn: d.mn, water: o.kind === 'water' })),
      ),
    );
    await ensureDatabase1x(
      createInfluxClient({ url: env.influx, token: env.token, org: '-', bucket: 'x' }, silentLogger),
      db,
    );
    await ensureTopics(kafka, [
      { topic: tel, numPartitions: 6 },
      { topic: dev, numPartitions: 3 },
      { topic: dlq, numPartitions: 1 },
      { topic: review, numPartitions: 1 },
    ]);

    const opsPorts: number[] = [];
    for (let i = 0; i < ANALYZERS; i++) opsPorts.push(await freePort());
    analyzers = opsPorts.map((opsPort) =>
      runService(`${repo}services/analyzer`, {
        OFFSITE_LOG_LEVEL: 'warn',
        OFFSITE_OPS_PORT: String(opsPort),
        OFFSITE_PG_SCHEMA: schema,
        OFFSITE_INFLUX_BUCKET: `${db}/autogen`,
        OFFSITE_ANALYZER_GROUP_ID: group,
        OFFSITE_ANALYZER_TELEMETRY_TOPIC: tel,
        OFFSITE_ANALYZER_DEVIATION_TOPIC: dev,
        OFFSITE_ANALYZER_DLQ_TOPIC: dlq,
        OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC: review,
        // Event time runs faster than the wall clock here (few loggers at a high rate), so the watermark
        // follows event time only, with no allowed lateness: the latency measured is the pipeline's own.
        OFFSITE_ANALYZER_ALLOWED_LATENESS_MS: '0',
        OFFSITE_ANALYZER_TICK_INTERVAL_MS: '0',
        OFFSITE_ANALYZER_STABILITY_INTERVAL_MS: '0',
        OFFSITE_ANALYZER_RATED_ENERGY_INTERVAL_MS: '0',
      }),
    );
    const readyUrls = opsPorts.map((p) => `http://127.0.0.1:${p}`);

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let otherEvents = 0;
    await collector.connect();
    await collector.subscribe({ topics: [dev], fromBeginning: true });
    await collector.run({
      eachMessage: async ({ message }) => {
        const now = performance.now();
        const e = JSON.parse(message.value!.toString()) as DeviationV1;
        const key = `${e.siteId}|${e.factor ?? ''}|${Date.parse(e.windowStart)}`;
        const s = e.rule === 'out-of-range' && e.state === 'opened' ? sentAt.get(key) : undefined;
        if (s === undefined) otherEvents++;
        else {
          latencies.push(now - s);
          sentAt.delete(key);
        }
      },
    });
    await producer.connect();
    await until(
      async () => {
        for (const a of analyzers)
          if (a.proc.exitCode !== null) throw new Error(`analyzer exited: ${a.logs.join('\n')}`);
        return (await Promise.all(readyUrls.map(readyStatus))).every((s) => s === 200);
      },
      90_000,
      'the analyzers ready',
    );
    await new Promise((r) => setTimeout(r, 3_000 * ANALYZERS)); // consumer group joined and balanced

    // Production: every 50 ms, the packets due at the target rate, round-robin over the outlets
    // (event time per logger advances 30 s per packet), keyed by enterprise as the ingestors do.
    const packetsPerS = VALUES_PER_S / 20;
    const next = new Map<string, number>(outlets.map((o) => [o.site, T0]));
    const cpuA0 = analyzers.map((a) => procCpu(a.proc.pid));
    let sent = 0;
    let probes = 0;
    let produceMs = 0;
    const t0 = performance.now();
    let lastProbe = t0;
    while (performance.now() - t0 < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * packetsPerS) - sent;
      if (due > 0) {
        const now = performance.now();
        const probeNow = now - lastProbe >= 1000 / PROBES_PER_S;
        const batch: TelemetryV1[] = [];
        for (let i = 0; i < due; i++) {
          const o = outlets[(sent + i) % outlets.length]!;
          const t = next.get(o.site)!;
          next.set(o.site, t + 30_000);
          const probe = probeNow && i === due - 1;
          const r = telemetry(o, t, probe);
          if (probe) {
            probes++;
            lastProbe = now;
            sentAt.set(`${o.site}|${r.measurements[0]!.factor}|${t}`, now);
          }
          batch.push(r);
        }
        const p0 = performance.now();
        // 400 packets (~0.5 MB) per request: below the broker's 1 MiB message.max.bytes.
        for (let i = 0; i < batch.length; i += 400)
          await producer.send({
            topic: tel,
            acks: -1,
            messages: batch.slice(i, i + 400).map((r) => ({ key: r.enterpriseId, value: JSON.stringify(r) })),
          });
        produceMs = Math.max(produceMs, performance.now() - p0);
        sent += due;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const sendS = (performance.now() - t0) / 1000;
    // Drain: every probe answered (or 60 s), which also bounds how far the analyzer fell behind.
    await until(() => sentAt.size === 0, 60_000, 'all probes detected').catch(() => undefined);
    const drainS = (performance.now() - t0) / 1000 - sendS;
    const elapsed = (performance.now() - t0) / 1000;
    const cpuA = analyzers.map((a, i) => (procCpu(a.proc.pid) - cpuA0[i]!) / elapsed);
    const rss = analyzers.map((a) => peakRss(a.proc.pid));
    const metrics = await Promise.all(readyUrls.map((u) => scrape(`${u}/metrics`)));
    const sorted = latencies.sort((x, y) => x - y);
    const achieved = (sent * 20) / sendS;
    const p99 = q(sorted, 0.99);
    say(
      `online analyzer (${ONLINE_ENTERPRISES} enterprises, ${outlets.length} outlets sending real-time data, 6 partitions, ${ANALYZERS} analyzer process${ANALYZERS > 1 ? 'es in one consumer group' : ''}; ${fmt(sent)} packets × 20 values in ${sendS.toFixed(1)} s; event time ${fmt(((sent / outlets.length) * 30) / sendS)}× the wall clock; ${load()})`,
    );
    say(
      `  offered ${fmt(VALUES_PER_S)} values/s, achieved input ${fmt(achieved)} values/s = ${(achieved / NATIONAL).toFixed(2)}× the national ${fmt(NATIONAL)}; slowest produce call ${produceMs.toFixed(0)} ms`,
    );
    say(
      `  arrival → deviation.v1 (out-of-range, flag T): ${latencies.length}/${probes} probes detected, p50 ${q(sorted, 0.5).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (= ${(p99 / P99_TARGET_MS).toFixed(2)}× the ${P99_TARGET_MS} ms target), max ${q(sorted, 1).toFixed(0)} ms; drained ${drainS.toFixed(1)} s after the last send (processed ≥ ${fmt((sent * 20) / (sendS + drainS))} values/s = ${((sent * 20) / (sendS + drainS) / NATIONAL).toFixed(2)}× national)`,
    );
    analyzers.forEach((_, i) =>
      say(
        `  analyzer ${i + 1}: ${(cpuA[i]! * 100).toFixed(0)} % of one core on average, peak RSS ${mb(rss[i]!)}, ${fmt(metrics[i]!.get('offsite_analyzer_readings_total') ?? 0)} readings, ${fmt(metrics[i]!.get('offsite_analyzer_checkpoints_total') ?? 0)} checkpoints`,
      ),
    );
    // Where the analyzer's time went (its own wall-clock counters per phase, GC and event-loop lag from prom-client).
    analyzers.forEach((_, i) => {
      const m = metrics[i]!;
      const ph = (p: string) => m.get(`offsite_analyzer_phase_seconds_total:${p}`) ?? 0;
      const pct = (x: number) => `${((x / elapsed) * 100).toFixed(0)} %`;
      say(
        `  analyzer ${i + 1} time over ${elapsed.toFixed(0)} s: decode ${ph('decode').toFixed(1)} s (${pct(ph('decode'))}), engine ${ph('engine').toFixed(1)} s (${pct(ph('engine'))}), hand-off ${ph('handoff').toFixed(1)} s (${pct(ph('handoff'))}), checkpoints ${ph('checkpoint').toFixed(1)} s (${pct(ph('checkpoint'))}), GC ${(m.get('nodejs_gc_duration_seconds_sum') ?? 0).toFixed(1)} s; event-loop lag p99 ${((m.get('nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000).toFixed(0)} ms, max ${((m.get('nodejs_eventloop_lag_max_seconds') ?? 0) * 1000).toFixed(0)} ms`,
      );
    });
    say(`  ${otherEvents} other deviation events (offline, flatline …)`);
  } finally {
    await collector.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    // SIGTERM under the load just measured: the exit code and how long each took (deadline 25 s).
    await Promise.all(
      analyzers.map(async (a, i) => {
        const s0 = performance.now();
        const timer = setTimeout(() => a.proc.kill('SIGKILL'), 30_000);
        const code = await a.stop();
        clearTimeout(timer);
        say(
          `  analyzer ${i + 1} SIGTERM: exit ${code ?? a.proc.signalCode} after ${(performance.now() - s0).toFixed(0)} ms`,
        );
      }),
    );
    const adminK = kafka.admin();
    await adminK.connect();
    await adminK.deleteTopics({ topics: [tel, dev, dlq, review] }).catch(() => undefined);
    await adminK.deleteGroups([group, collectorGroup]).catch(() => undefined);
    await adminK.disconnect();
    await fetch(`${env.influx}/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, {
      method: 'POST',
      headers: influxAuth,
    }).catch(() => undefined);
    await pool.end();
    const c = new pg.Client({ connectionString: env.pg });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
}

/** A free loopback port for the analyzer's ops server (its listening log line is info, and it runs at warn). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Counters of a Prometheus text endpoint, summed over labels. */
async function scrape(url: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const text = await (await fetch(url)).text();
    for (const line of text.split('\n')) {
      const m = /^([a-z_0-9]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (!m) continue;
      out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[3]));
      // Per phase too: name:phase (offsite_analyzer_phase_seconds_total{phase="engine",…}).
      const phase = /phase="([a-z]+)"/.exec(m[2] ?? '')?.[1];
      if (phase) out.set(`${m[1]!}:${phase}`, Number(m[3]));
    }
  } catch {
    // the process is gone: no numbers
  }
  return out;
}

function procCpu(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (100/s)
  } catch {
    return 0;
  }
}

function peakRss(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

if (!args['skip-offline']) {
  offline();
  await cliPath();
}
if (!args['skip-online']) await online();
say(`${load()} (1/5/15 min) at the end, ${cpus().length} cores`);
