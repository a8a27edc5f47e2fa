// The chaos run on the clustered topology (`offsite-infra cluster up`, started by scripts/test-cluster.sh).
// First the same scenario undisturbed on the single-node servers (OFFSITE_CHAOS_BASELINE_ENV_FILE), with
// the same registry ids and simulation; then, once Kafka has settled (polled: every partition led, all
// replicas in sync, every broker agreeing), the service ports are free and HAProxy's servers enabled,
// the scenario run of the flows (12 enterprises, 08:00–19:00 of the demo's day at 300×: 132 s of wall
// clock) through two instances of every service — hj212-gateway ×2 behind HAProxy (TCP, PROXY v2; the
// simulated loggers connect to HAProxy), console ×2 behind HAProxy (HTTP), influx-writer ×2, analyzer ×2,
// alerter ×2 (e-mail over SMTP to the cluster's sink), the mqtt-ingestor active with a standby (one
// persistent MQTT session: docs/deploy.md) — while, at seeded moments, two chains of faults run:
//   servers:  kill -9 the Kafka broker leading the most telemetry partitions, then restart it; kill the
//             Redis primary (Sentinel fails over; it comes back as a replica); kill -9 the active KRaft
//             controller, then restart it; restart the Postgres primary; take gateway 2 out of HAProxy
//             (its loggers' sessions shut, they reconnect to gateway 1) and put it back;
//   services: kill -9 one instance of each (the mqtt-ingestor's standby takes over its session).
// At the end: InfluxDB holds every acknowledged reading exactly once (per series, against the same seeded
// simulation), no (deviation id, revision) has two contents and the deviations are the scenarios' own
// (offline ones listed apart: see the kill flow), the deviations are the undisturbed run's (offline apart;
// per episode, a deviation with the generations following it: ids equal in every revision, or revised more
// often or continued in a next generation after late readings with the same conclusions and standing final
// states, or only here and retracted; compareWithUndisturbed), one alert case per deviation at its
// last revision, every
// e-mail notification in the SMTP sink under its Message-ID exactly once, and the console answered
// through HAProxy after every fault (a session lookup in Postgres; error rate and longest outage printed). The time to recover after
// each fault is printed. The seed is OFFSITE_CHAOS_SEED (default below).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviationV1 } from '@offsite/contracts';
import { readSinkHeads, requireEnv, seededRandom, until } from '@offsite/testing';
import { Redis } from 'ioredis';
import {
  activeController,
  busiestLeader,
  cluster,
  enableHaproxyServers,
  inSync,
  redisPrimary,
  waitKafkaSettled,
  waitServicePortsFree,
} from '../support/cluster.js';
import {
  caseRevisions,
  compareWithUndisturbed,
  comparePoints,
  deviationProblems,
  expectedSeries,
  gapsOf,
  influxSeries,
  killSimulators,
  latest,
  prepareFlow,
  revisionContents,
  runSimulator,
  timer,
  unacknowledgedDevices,
  waitCaughtUp,
  type FlowRun,
  type SimProgress,
} from '../support/flow.js';
import { freePort, readAll, readServerEnv, startService, type ServiceProcess } from '../support/pipeline.js';

const timing = timer('chaos');
const SEED = Number(process.env.OFFSITE_CHAOS_SEED ?? 16);
const csv = (name: string) => requireEnv(name).split(',').map(Number);

interface Instance {
  key: string;
  service: string;
  env: Record<string, string>;
  opsPort: number;
  proc?: ServiceProcess;
}
interface Fault {
  name: string;
  chain: 'servers' | 'services';
  /** Wall ms after the simulator started. */
  at: number;
  /** Does the fault, resolves when the part hit is back; returns what it did. */
  run(): Promise<string>;
}
interface Done {
  name: string;
  at: number;
  recoveredMs: number;
  what: string;
}

let run: FlowRun;
let sim: SimProgress;
let events: DeviationV1[] = [];
/** The undisturbed run: the same registry ids and simulation on the single-node servers. */
let baseline: FlowRun | undefined;
let baselineEvents: DeviationV1[] = [];
let stopping = false;
const instances = new Map<string, Instance>();
const spawned = new Set<ServiceProcess>();
const killing = new Set<string>();
const crashed: { key: string; code: number | null }[] = [];
const done: Done[] = [];
const probes: { t: number; ok: boolean }[] = [];
let probeTimer: NodeJS.Timeout | undefined;
/** Notifications claimed (`sending`) when an alerter was killed: in doubt, may be sent twice (same Message-ID). */
const inDoubt = new Set<string>();
let midDomain = '';
let t0 = 0;

async function startInstance(inst: Instance): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (stopping) throw new Error(`run ended before ${inst.key} started`);
    const s = startService(inst.service, inst.env, inst.opsPort);
    inst.proc = s;
    spawned.add(s);
    try {
      await s.waitReady(120_000);
    } catch (err) {
      await s.stop('SIGKILL');
      // A service exits at start while a server it needs is failing over (fail fast, as designed).
      if (stopping || attempt >= 6) throw err;
      timing(`${inst.key} did not start (attempt ${attempt}), retrying: ${String(err).slice(-600)}`);
      await new Promise((r) => setTimeout(r, 2_000));
      continue;
    }
    // An exit nobody caused: restarted, as systemd's Restart=always would.
    s.child.once('exit', (code) => {
      if (stopping || killing.has(inst.key) || inst.proc !== s) return;
      crashed.push({ key: inst.key, code });
      timing(`${inst.key} exited by itself (code ${code}); restarting it:\n${s.tail().slice(-800)}`);
      startInstance(inst).catch((e: unknown) => timing(`restart of ${inst.key} failed: ${String(e)}`));
    });
    return;
  }
}

async function kill9(key: string): Promise<void> {
  const inst = instances.get(key)!;
  killing.add(key);
  await inst.proc?.stop('SIGKILL');
  killing.delete(key);
}

const since = (from: number) => Date.now() - from;

/** kill -9 one instance and start it again; recovered when it is ready. */
const killService = (key: string) => async () => {
  const from = Date.now();
  if (key.startsWith('alerter')) {
    await kill9(key);
    for (const r of (
      await run.pipe.pool.query<{ id: string }>(`select id from alert_notifications where status = 'sending'`)
    ).rows)
      inDoubt.add(`<${r.id}@${midDomain}>`);
  } else await kill9(key);
  await startInstance(instances.get(key)!);
  return `${key} killed (SIGKILL) and started again, ready after ${since(from)} ms`;
};

function faults(seed: number, runMs: number): Fault[] {
  const next = seededRandom(seed);
  const kafka = run.pipe.kafka;
  const telemetry = run.pipe.topic('telemetry.v1');
  const sentinelUrl = requireEnv('OFFSITE_REDIS_URL');
  const at = (share: number) => Math.round(runMs * share + next() * 6_000);
  const servers: Omit<Fault, 'chain'>[] = [
    {
      name: 'kill -9 the Kafka broker leading the most partitions, restart it',
      at: at(0.05),
      run: async () => {
        const { member, leads } = await busiestLeader(kafka, telemetry);
        const from = Date.now();
        await cluster('kill', member);
        await new Promise((r) => setTimeout(r, 3_000));
        await cluster('start', member);
        await until(() => inSync(kafka, telemetry), 120_000, `${member} back in sync`);
        return `${member} (led ${leads} of the telemetry partitions): every partition 3 in-sync replicas again ${since(from)} ms after the kill`;
      },
    },
    {
      name: 'kill the Redis primary (Sentinel failover), restart it',
      at: at(0.25),
      run: async () => {
        // One Sentinel directly (the URL's first): the question is Sentinel's, not the primary's.
        const [host, port] = sentinelUrl
          .replace(/^redis\+sentinel:\/\//, '')
          .split('/')[0]!
          .split(',')[0]!
          .split(':');
        const direct = new Redis({ host, port: Number(port), lazyConnect: true });
        try {
          await direct.connect();
          const call = (...a: string[]) => direct.call(a[0]!, ...a.slice(1));
          const before = await redisPrimary(call);
          const from = Date.now();
          await cluster('kill', before);
          await until(async () => (await redisPrimary(call)) !== before, 90_000, 'a Sentinel failover');
          const failover = since(from);
          const after = await redisPrimary(call);
          await cluster('start', before);
          return `${before} killed; Sentinel named ${after} the primary after ${failover} ms; ${before} started again (a replica)`;
        } finally {
          direct.disconnect();
        }
      },
    },
    {
      name: 'kill -9 the active KRaft controller, restart it',
      at: at(0.45),
      run: async () => {
        const before = await activeController();
        if (!before) throw new Error('no active controller in the quorum-state files');
        const from = Date.now();
        await cluster('kill', before.member);
        await until(
          async () => ((await activeController())?.epoch ?? 0) > before.epoch,
          60_000,
          'a new active controller',
        );
        const elected = since(from);
        const after = await activeController();
        await cluster('start', before.member);
        return `${before.member} (epoch ${before.epoch}) killed; ${after?.member} active (epoch ${after?.epoch}) after ${elected} ms; ${before.member} started again`;
      },
    },
    {
      name: 'restart the Postgres primary',
      at: at(0.62),
      run: async () => {
        const port = Number(new URL(requireEnv('OFFSITE_PG_URL')).port);
        const member = `pg-${port - Number(requireEnv('OFFSITE_CLUSTER_PORT_BASE'))}`;
        const from = Date.now();
        await cluster('stop', member);
        await cluster('start', member);
        await until(
          async () =>
            run.pipe.pool
              .query('select 1')
              .then(() => true)
              .catch(() => false),
          60_000,
          'Postgres answering',
        );
        return `${member} stopped (fast) and started; answering ${since(from)} ms after the stop began`;
      },
    },
    {
      name: 'take gateway 2 out of HAProxy (its sessions shut), then back',
      at: at(0.78),
      run: async () => {
        const from = Date.now();
        await cluster('haproxy', 'disable server gateways/gw2');
        await cluster('haproxy', 'shutdown sessions server gateways/gw2');
        await new Promise((r) => setTimeout(r, 10_000));
        await cluster('haproxy', 'enable server gateways/gw2');
        return `gw2 out of HAProxy for ${since(from)} ms (loggers reconnected to gw1)`;
      },
    },
  ];
  const services: Fault[] = [
    'analyzer#1',
    'influx-writer#2',
    'hj212-gateway#1',
    'alerter#1',
    'mqtt-ingestor',
    'console#2',
  ].map((key, i) => ({
    chain: 'services' as const,
    name: key === 'mqtt-ingestor' ? 'kill -9 the active mqtt-ingestor, start the standby' : `kill -9 ${key}`,
    at: at(0.1 + i * 0.13),
    run:
      key === 'mqtt-ingestor'
        ? async () => {
            const from = Date.now();
            await kill9('mqtt-ingestor#1');
            await startInstance(instances.get('mqtt-ingestor#2')!);
            return `standby mqtt-ingestor#2 holds the session, ready ${since(from)} ms after the kill`;
          }
        : killService(key),
  }));
  return [...servers.map((f) => ({ ...f, chain: 'servers' as const })), ...services];
}

/**
 * GET /api/session through HAProxy's console front every 250 ms (2 s timeout) with an unknown session
 * cookie: the console looks the session up in Postgres and answers 401. Any other answer, or none, is
 * a failure (a 5xx while Postgres restarts is one).
 */
function startProbe(): void {
  const url = new URL('/api/session', requireEnv('OFFSITE_CLUSTER_CONSOLE_URL'));
  const headers = { cookie: `offsite_session=chaos-probe-${run.pipe.id}` };
  const probe = async () => {
    const t = Date.now();
    const ok = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status === 401;
      })
      .catch(() => false);
    probes.push({ t, ok });
  };
  probeTimer = setInterval(() => void probe(), 250);
}

function probeFigures() {
  const sorted = [...probes].sort((a, b) => a.t - b.t);
  let longest = 0;
  let downSince: number | null = null;
  for (const p of sorted) {
    if (!p.ok && downSince === null) downSince = p.t;
    if (p.ok && downSince !== null) {
      longest = Math.max(longest, p.t - downSince);
      downSince = null;
    }
  }
  const failed = sorted.filter((p) => !p.ok).length;
  return {
    requests: sorted.length,
    failed,
    errorRate: failed / Math.max(1, sorted.length),
    longestOutageMs: longest,
  };
}

/**
 * The same scenario undisturbed, on the single-node servers (OFFSITE_CHAOS_BASELINE_ENV_FILE, the running
 * set's env file: scripts/test-cluster.sh sets it): one instance of each service of the flows, the same
 * registry ids (so the same deviation ids) and seeded simulation as the chaos run; its deviation events.
 */
async function undisturbedRun(): Promise<DeviationV1[]> {
  const file = requireEnv('OFFSITE_CHAOS_BASELINE_ENV_FILE');
  baseline = await prepareFlow({ tag: run.tag, servers: await readServerEnv(file) });
  const b = baseline;
  const services: ServiceProcess[] = [];
  try {
    for (const name of b.services) services.push(startService(name, b.env(name), await freePort()));
    await Promise.all(services.map((s) => s.waitReady(120_000)));
    const progress = await runSimulator(b);
    await waitCaughtUp(b, 180_000);
    const out = await readAll<DeviationV1>(b.pipe.kafka, b.pipe.topic('deviation.v1'));
    timing(
      `undisturbed run (${b.pipe.prefix} on ${file}): ${JSON.stringify(progress)}; ${out.length} deviation events`,
    );
    return out;
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGTERM')));
  }
}

beforeAll(async () => {
  run = await prepareFlow();
  baselineEvents = await undisturbedRun();
  // The pipeline's topics (just created) and the group offsets' topic led and in sync, and every broker
  // agreeing on that, before any service starts.
  const admin = run.pipe.kafka.admin();
  await admin.connect();
  await admin.describeGroups([`flow-analyzer-${run.pipe.id}`]); // creates __consumer_offsets if missing
  await admin.disconnect();
  await waitKafkaSettled([...run.pipe.topics, '__consumer_offsets']);
  timing('Kafka settled: every partition led, all replicas in sync, every broker agreeing');
  // Whatever ran before: the gateways' and consoles' ports free, every HAProxy server enabled.
  await waitServicePortsFree();
  await enableHaproxyServers();
  midDomain = `chaos-${run.pipe.id}.offsite.test`;
  const [gw1, gw2] = csv('OFFSITE_CLUSTER_GATEWAY_PORTS');
  const [gwOps1, gwOps2] = csv('OFFSITE_CLUSTER_GATEWAY_OPS_PORTS');
  const [c1, c2] = csv('OFFSITE_CLUSTER_CONSOLE_PORTS');
  const [cOps1, cOps2] = csv('OFFSITE_CLUSTER_CONSOLE_OPS_PORTS');
  const consoleEnv = {
    ...run.pipe.env('console'),
    OFFSITE_CONSOLE_QUEUE_PREFIX: `flow-${run.pipe.id}-console`,
    OFFSITE_CONSOLE_GROUP_ID: `flow-${run.pipe.id}-console`,
  };
  const add = async (key: string, service: string, env: Record<string, string>, opsPort?: number) =>
    instances.set(key, { key, service, env, opsPort: opsPort ?? (await freePort()) });
  for (const [i, [port, ops]] of [
    [gw1!, gwOps1!],
    [gw2!, gwOps2!],
  ].entries())
    await add(
      `hj212-gateway#${i + 1}`,
      'hj212-gateway',
      {
        ...run.env('hj212-gateway'),
        OFFSITE_HJ212_PORT: String(port),
        OFFSITE_HJ212_TRUSTED_PROXIES: '127.0.0.1',
      },
      ops,
    );
  for (const [i, [port, ops]] of [
    [c1!, cOps1!],
    [c2!, cOps2!],
  ].entries())
    await add(`console#${i + 1}`, 'console', { ...consoleEnv, OFFSITE_CONSOLE_PORT: String(port) }, ops);
  for (const i of [1, 2]) {
    await add(`influx-writer#${i}`, 'influx-writer', {
      ...run.env('influx-writer'),
      OFFSITE_KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    await add(`analyzer#${i}`, 'analyzer', run.env('analyzer'));
    await add(`alerter#${i}`, 'alerter', {
      ...run.env('alerter'),
      OFFSITE_ALERTER_ACK_PORT: String(await freePort()),
      OFFSITE_ALERTER_EMAIL_TRANSPORT: 'smtp',
      OFFSITE_SMTP_HOST: requireEnv('OFFSITE_SMTP_HOST'),
      OFFSITE_SMTP_PORT: requireEnv('OFFSITE_SMTP_PORT'),
      OFFSITE_ALERTER_MESSAGE_ID_DOMAIN: midDomain,
    });
    await add(`mqtt-ingestor#${i}`, 'mqtt-ingestor', run.env('mqtt-ingestor'));
  }
  timing(
    `pipeline ${run.pipe.prefix} ready (schema ${run.pipe.schema}); starting ${instances.size - 1} instances`,
  );
  // Heavy starts (tsx compiles each service) two at a time on this 2-core machine.
  const first = [...instances.values()].filter((i) => i.key !== 'mqtt-ingestor#2');
  for (let i = 0; i < first.length; i += 2)
    await Promise.all(first.slice(i, i + 2).map((x) => startInstance(x)));
  await until(
    async () =>
      (await cluster('haproxy', 'show stat'))
        .split('\n')
        .filter((l) => /^(gateways|consoles),(gw|console)\d,.*,UP,/.test(l)).length === 4,
    60_000,
    'both gateways and both consoles UP in HAProxy',
  );
  startProbe();

  const runMs = 132_000;
  const plan = faults(SEED, runMs).sort((a, b) => a.at - b.at);
  timing(`faults (seed ${SEED}): ${plan.map((f) => `${(f.at / 1000).toFixed(1)}s ${f.name}`).join('; ')}`);
  t0 = Date.now();
  const front = Number(new URL(requireEnv('OFFSITE_CLUSTER_GATEWAY_URL')).port);
  const simulation = runSimulator(run, front);
  // Two chains, one fault at a time in each: servers, services.
  const chain = (list: Fault[]) =>
    (async () => {
      for (const f of list) {
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + f.at - Date.now())));
        const at = Date.now() - t0;
        const began = Date.now();
        const what = await f.run();
        done.push({ name: f.name, at, recoveredMs: Date.now() - began, what });
        timing(`${(at / 1000).toFixed(1)}s ${f.name}: ${what}`);
      }
    })();
  const chains = [
    chain(plan.filter((f) => f.chain === 'servers')),
    chain(plan.filter((f) => f.chain === 'services')),
  ];
  sim = await simulation;
  timing(`simulator finished: ${JSON.stringify(sim)}`);
  await Promise.all(chains);
  timing(`${done.length} faults done`);
  await waitCaughtUp(run, 180_000);
  timing('writers, analyzers and alerters caught up');
  events = await readAll<DeviationV1>(run.pipe.kafka, run.pipe.topic('deviation.v1'));
  // OFFSITE_FLOW_LOG_DIR keeps both runs' deviation events for diagnosis.
  const dir = process.env.OFFSITE_FLOW_LOG_DIR;
  if (dir) {
    await writeFile(join(dir, 'deviations-undisturbed.json'), JSON.stringify(baselineEvents));
    await writeFile(join(dir, 'deviations-chaos.json'), JSON.stringify(events));
  }
}, 1_200_000);

afterAll(async () => {
  stopping = true;
  if (probeTimer) clearInterval(probeTimer);
  killSimulators();
  await Promise.all([...spawned].map((s) => s.stop('SIGTERM')));
  // Whatever happened, the cluster is whole again for whoever runs next: every HAProxy server enabled,
  // every member started, the service ports free.
  await enableHaproxyServers().catch((e: unknown) => timing(`enabling HAProxy's servers: ${String(e)}`));
  const stopped = [...(await cluster('status').catch(() => '')).matchAll(/^(\S+)\s+stopped/gm)].map(
    (m) => m[1]!,
  );
  for (const m of stopped)
    await cluster('start', m).catch((e: unknown) => timing(`could not start ${m}: ${String(e)}`));
  // OFFSITE_CHAOS_KEEP_DATA=1 leaves the run's topics, schema and database for diagnosis.
  if (process.env.OFFSITE_CHAOS_KEEP_DATA === '1')
    timing(`kept: topics ${run?.pipe.prefix}*, schema ${run?.pipe.schema}, database ${run?.pipe.influxDb}`);
  else
    for (const r of [run, baseline])
      await r?.pipe.cleanup().catch((e: unknown) => timing(`cleanup: ${String(e)}`));
  for (const r of [run, baseline]) if (r?.outbox) await rm(r.outbox, { recursive: true, force: true });
  await waitServicePortsFree().catch((e: unknown) => timing(String(e)));
  timing('cleaned up');
}, 600_000);

test('every fault happened and the part it hit recovered (time to recover printed)', () => {
  for (const d of done)
    timing(
      `recovered: ${d.name} at ${(d.at / 1000).toFixed(1)}s — ${(d.recoveredMs / 1000).toFixed(1)} s (${d.what})`,
    );
  if (crashed.length)
    timing(`exited by themselves and restarted: ${crashed.map((c) => `${c.key} (${c.code})`).join(', ')}`);
  expect(done).toHaveLength(11);
  expect(sim.packetsAcked).toBe(sim.packetsGenerated);
  expect(sim.meterErrors).toBe(0);
});

test('InfluxDB holds every acknowledged reading exactly once (per measurement and series)', async () => {
  const cmp = comparePoints(expectedSeries(run), await influxSeries(run), unacknowledgedDevices(run));
  timing(
    `points per measurement: ${JSON.stringify(cmp.byMeasurement)}; ${cmp.differing} series differ; ` +
      `unacknowledged HJ 212-2005 loggers: ${cmp.lost.length} series short`,
  );
  // Where points are missing: short 10-minute buckets (event time, +wall seconds into the simulator run),
  // and what the DLQ holds.
  for (const key of cmp.diffs.slice(0, 4))
    timing(`${key}: short buckets ${await gapsOf(run, key.slice(0, key.indexOf(':')))}`);
  if (cmp.diffs.length > 0) {
    const dlq = await readAll<{ reason?: { code?: string }; source?: string }>(
      run.pipe.kafka,
      run.pipe.topic('telemetry.dlq.v1'),
    );
    timing(
      `DLQ: ${dlq.length} records: ${[...new Set(dlq.map((r) => `${r.source}: ${r.reason?.code}`))].join(', ')}`,
    );
  }
  expect(cmp.diffs).toEqual([]);
  expect(cmp.byMeasurement.emission?.sent).toBeGreaterThan(0);
  expect(cmp.byMeasurement.energy?.sent).toBeGreaterThan(0);
}, 120_000);

test("no (deviation id, revision) with two contents; the scenarios' deviations and no other rule elsewhere", () => {
  const { byKey, conflicting } = revisionContents(events);
  timing(
    `${events.length} deviation events, ${byKey.size} distinct (id, revision), ${conflicting.length} conflicting`,
  );
  expect(conflicting).toEqual([]);
  // Broker, controller and Postgres outages stop arrivals for many event minutes at 300×: offline on an
  // acknowledged logger is then the pipeline's own outage (the point check proves nothing was lost).
  const tolerated = (d: DeviationV1) => d.rule === 'offline';
  const extra = latest(events).filter(tolerated);
  timing(
    `offline deviations (listed apart): ${extra.map((d) => `${d.siteId} ${d.windowStart}`).join(', ') || 'none'}`,
  );
  expect(deviationProblems(events, run.scenarios, run.registry, tolerated)).toEqual([]);
});

test('the deviations are those of the undisturbed single-node run: the same episodes, final states and conclusions', () => {
  // Offline is judged by arrival (domain-rules): the faults' stalls are offline time of their own, compared apart.
  const offline = (d: DeviationV1) => d.rule === 'offline';
  const cmp = compareWithUndisturbed(baselineEvents, events, offline);
  const ids = (ev: DeviationV1[]) => new Set(ev.filter(offline).map((e) => e.id)).size;
  timing(
    `against the undisturbed run (${new Set(baselineEvents.map((e) => e.id)).size} ids): ${cmp.exact.length} episodes equal in ` +
      `every revision, ${cmp.corrected.length} revised more often or continued in a next generation here (late readings) ` +
      `with the same conclusions and standing final states, ${cmp.retractedOnly.length} only here and retracted, ${cmp.problems.length} problems; ` +
      `offline apart: ${ids(baselineEvents)} ids undisturbed, ${ids(events)} here`,
  );
  for (const [what, list] of [
    ['equal', cmp.exact],
    ['revised more often', cmp.corrected],
    ['only here, retracted', cmp.retractedOnly],
    ['problems', cmp.problems],
  ] as const)
    if (list.length > 0) timing(`${what}: ${list.join('; ')}`);
  expect(cmp.exact.length + cmp.corrected.length).toBeGreaterThan(0);
  expect(cmp.problems).toEqual([]);
});

test('one case per deviation at its last revision; every e-mail reminder in the SMTP sink once by Message-ID', async () => {
  const { pool } = run.pipe;
  const { cases, expected: latestRevision } = await caseRevisions(run, events);
  expect(cases).toEqual(latestRevision);
  await until(
    async () =>
      (await pool.query(`select 1 from alert_notifications where status <> 'sent'`)).rows.length === 0,
    60_000,
    'every notification sent',
  ).catch(() => undefined);
  const sent = await pool.query<{ id: string }>(
    `select id from alert_notifications where channel = 'email' and status = 'sent'`,
  );
  const unsent = await pool.query(`select id, status from alert_notifications where status <> 'sent'`);
  const expected = new Set(sent.rows.map((r) => `<${r.id}@${midDomain}>`));
  const counts = new Map<string, number>();
  for (const h of await readSinkHeads(requireEnv('OFFSITE_MAIL_DIR')))
    if (h.messageId?.endsWith(`@${midDomain}>`)) counts.set(h.messageId, (counts.get(h.messageId) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1);
  timing(
    `${expected.size} e-mail notifications sent, ${counts.size} Message-IDs in the sink, ${twice.length} twice ` +
      `(${twice.filter(([m]) => inDoubt.has(m)).length} of them in doubt at an alerter's kill), ${unsent.rows.length} not sent`,
  );
  expect(expected.size).toBeGreaterThan(0);
  expect(unsent.rows).toEqual([]);
  expect(new Set(counts.keys())).toEqual(expected);
  // Exactly once, but for a send claimed by a killed alerter: the same Message-ID at most twice (the relay de-duplicates).
  expect(twice.filter(([m, n]) => !inDoubt.has(m) || n > 2)).toEqual([]);
}, 120_000);

test('the console kept serving through HAProxy (error rate and longest outage printed)', () => {
  const f = probeFigures();
  timing(
    `console probe: ${f.requests} requests, ${f.failed} failed (${(f.errorRate * 100).toFixed(2)} %), longest outage ${f.longestOutageMs} ms`,
  );
  // It answered after every fault.
  for (const d of done)
    expect({ fault: d.name, answered: probes.some((p) => p.ok && p.t > t0 + d.at + d.recoveredMs) }).toEqual({
      fault: d.name,
      answered: true,
    });
  expect(f.requests).toBeGreaterThan(0);
});
