// kill -9 flow: the scenario pipeline of scenarios.flow.test.ts while the hj212-gateway, influx-writer,
// analyzer and alerter are each killed with SIGKILL (twice or more) and restarted, and Kafka, InfluxDB,
// Redis, Postgres and Mosquitto are each restarted (gracefully, one at a time, through
// `offsite-infra restart`), at seeded random moments of the simulator run. At the end: every point the
// simulator sent is in InfluxDB once (per measurement and series, computed from the same seeded
// simulation), no (deviation id, revision) was emitted with two different contents, every scenario still
// produces its deviations and no other rule fires elsewhere (offline excepted while servers restart: the
// pipeline's own outage, see the test), and no reminder went out twice (per group, recipient, channel, round).
// The seed is OFFSITE_FLOW_KILL_SEED (default below); the schedule is printed so a failure can be replayed.
//
// Servers restarted are those of the state directory holding OFFSITE_ENV_FILE (scripts/jest.sh sets it;
// default .offsite/): never run this against servers other people's tests are using. All five are
// restarted unless OFFSITE_FLOW_RESTART_SERVERS says otherwise (`0` = none, or a comma-separated list).
// Every server is started again in afterAll, whatever happened.
//
// The simulated loggers reach the gateway through a TCP front held for the whole run (support/front.ts),
// and a stranger listener is bound on every port a killed gateway released: no logger may reach one.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { DeviationV1 } from '@offsite/contracts';
import { seededRandom as rng, until } from '@offsite/testing';
import {
  caseRevisions,
  comparePoints,
  deviationProblems,
  expectedSeries,
  gapsOf,
  HOURS,
  influxSeries,
  latest,
  prepareFlow,
  revisionContents,
  killSimulators,
  runSimulator,
  SPEED,
  timer,
  waitCaughtUp,
  type FlowRun,
  type SimProgress,
  unacknowledgedDevices,
} from './support/flow.js';
import { startFront, startStranger, type TcpFront } from './support/front.js';
import { freePort, readAll, repoRoot, startService, type ServiceProcess } from './support/pipeline.js';

const timing = timer('kill');
const SEED = Number(process.env.OFFSITE_FLOW_KILL_SEED ?? 9);
const VICTIMS = ['hj212-gateway', 'influx-writer', 'analyzer', 'alerter'] as const;
const KILLS_EACH = 2;
const ALL_SERVERS = ['kafka', 'influxdb', 'redis', 'postgres', 'mosquitto'] as const;
/**
 * Servers restarted (gracefully, one at a time, at seeded moments) during the run. Each found a loss
 * before it was fixed (test/README.md): retention deleting records stamped with their data time, plan
 * jobs giving up during a Postgres restart, Mosquitto not restoring shared subscriptions.
 * Default (or `all`): every one. `0` = none, or a comma-separated list.
 */
const SERVERS = ((v) =>
  v === '0'
    ? []
    : v === undefined || v === '' || v === 'default' || v === 'all'
      ? [...ALL_SERVERS]
      : ALL_SERVERS.filter((s) => v.split(',').includes(s)))(process.env.OFFSITE_FLOW_RESTART_SERVERS);
const RESTART_SERVERS = SERVERS.length > 0;
const STATE_DIR = process.env.OFFSITE_ENV_FILE
  ? dirname(process.env.OFFSITE_ENV_FILE)
  : join(repoRoot, '.offsite');
const run$ = promisify(execFile);

/** `offsite-infra <cmd> <server>` on the flow's state directory (ports come from its saved `ports`). */
async function infra(cmd: 'restart' | 'start', server: string): Promise<string> {
  const { stdout, stderr } = await run$('bash', [join(repoRoot, 'infra/bin/offsite-infra'), cmd, server], {
    env: { ...process.env, OFFSITE_STATE_DIR: STATE_DIR },
    timeout: 240_000,
  });
  return (stdout + stderr).trim().split('\n').pop() ?? '';
}

interface Kill {
  service: (typeof VICTIMS)[number] | (typeof SERVERS)[number];
  /** Wall ms after the simulator started. */
  at: number;
  /** How long the service stays dead before its restart. */
  downMs: number;
}

/**
 * KILLS_EACH kills per service inside the simulator's wall run (event time / SPEED), each service's
 * kills in their own slot so they are at least 20 s apart (restart and readiness take a few seconds
 * on a loaded machine). The alerter's slots start once deviations flow (the watermark passes the
 * first scenario window, 09:00 + lateness, about 30 s into the run), so its kills hit real work.
 */
function schedule(seed: number): Kill[] {
  const next = rng(seed);
  const runMs = (HOURS * 3_600_000) / SPEED;
  const kills: Kill[] = [];
  for (const service of VICTIMS) {
    const from = service === 'alerter' ? 30_000 : 5_000;
    const slot = (runMs - 10_000 - from) / KILLS_EACH;
    for (let i = 0; i < KILLS_EACH; i++)
      kills.push({
        service,
        at: Math.round(from + i * slot + next() * (slot - 20_000)),
        downMs: Math.round(next() * 3_000),
      });
  }
  return kills.sort((a, b) => a.at - b.at);
}

/**
 * One graceful restart per server, in a seeded order, each in its own slot of the run (so one at a
 * time: a restart takes 2–10 s), the first 10 s in and the last 25 s before the simulator's end.
 */
function serverSchedule(seed: number): Kill[] {
  const next = rng(seed ^ 0x5e7e);
  const order = [...SERVERS].sort(() => next() - 0.5);
  const runMs = (HOURS * 3_600_000) / SPEED;
  const from = 10_000;
  const slot = (runMs - 25_000 - from) / order.length;
  return order.map((service, i) => ({
    service,
    at: Math.round(from + i * slot + next() * Math.max(0, slot - 12_000)),
    downMs: 0,
  }));
}

let run: FlowRun;
let sim: SimProgress;
let events: DeviationV1[] = [];
let front: TcpFront;
let restarts: Promise<void> = Promise.resolve();
const current = new Map<string, ServiceProcess>();
/** Every service process the flow started (a crash restart and a kill chain may overlap). */
const spawned = new Set<ServiceProcess>();
const done: { kill: Kill; killedAt: number; readyAfterMs: number }[] = [];
const serversRestarted: { server: string; at: number; tookMs: number }[] = [];
/** Services that exited without being killed by the flow (restarted like a supervisor would). */
const crashed: { service: string; at: number; code: number | null; tail: string }[] = [];
const strangers: NonNullable<Awaited<ReturnType<typeof startStranger>>>[] = [];
/** Services the flow is killing right now (their exit is expected). */
const killing = new Set<string>();
let stopping = false;
let env: (name: string) => Record<string, string>;
const gatewayPorts = new Map<ServiceProcess, number>();

/**
 * Starts a service and waits until it is ready. The gateway gets a fresh port each time (the front
 * relays to it once ready); if that port was taken meanwhile, the gateway fails to bind and is retried
 * on another one. An exit the flow did not cause is recorded and the service started again.
 */
async function startAndWait(name: string): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    if (stopping) throw new Error(`flow ended before ${name} started`);
    const gatewayPort = name === 'hj212-gateway' ? await freePort() : null;
    const s = startService(
      name,
      { ...env(name), ...(gatewayPort ? { OFFSITE_HJ212_PORT: String(gatewayPort) } : {}) },
      await freePort(),
    );
    current.set(name, s);
    spawned.add(s);
    try {
      await s.waitReady(120_000);
      if (stopping) throw new Error('flow ended');
    } catch (err) {
      // The flow ended meanwhile (afterAll stopped what was current): leave nothing running.
      if (stopping) {
        await s.stop('SIGKILL');
        throw err;
      }
      // A service exits at start while a server it needs is restarting (fail fast, as designed).
      if (attempt >= 6) throw err;
      timing(`${name} did not start (attempt ${attempt}), retrying in 2 s: ${String(err).slice(-1200)}`);
      await s.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 2_000));
      continue;
    }
    if (gatewayPort) {
      gatewayPorts.set(s, gatewayPort);
      front.route(gatewayPort);
    }
    s.child.once('exit', (code) => {
      if (stopping || killing.has(name) || current.get(name) !== s) return;
      crashed.push({ service: name, at: Date.now(), code, tail: s.tail().slice(-1500) });
      timing(`${name} exited by itself (code ${code}); restarting it:\n${s.tail().slice(-1500)}`);
      if (name === 'hj212-gateway') front.route(null);
      startAndWait(name).catch((e: unknown) => timing(`restart of ${name} failed: ${String(e)}`));
    });
    return s;
  }
}

/** Kill -9 a service; a killed gateway's freed port gets a stranger listener for the rest of the run. */
async function kill9(service: string): Promise<void> {
  const s = current.get(service)!;
  killing.add(service);
  if (service === 'hj212-gateway') front.route(null);
  await s.stop('SIGKILL');
  killing.delete(service);
  const port = gatewayPorts.get(s);
  if (port !== undefined) {
    const stranger = await startStranger(port);
    if (stranger) strangers.push(stranger);
    else timing(`port ${port} of the killed gateway was taken at once by another process`);
  }
}

beforeAll(async () => {
  run = await prepareFlow();
  front = await startFront();
  env = (name: string) => ({
    ...run.env(name),
    // A killed member's partitions are reassigned after the session timeout.
    ...(name === 'influx-writer' ? { OFFSITE_KAFKA_SESSION_TIMEOUT_MS: '6000' } : {}),
    // A persistent MQTT session, so messages published while Mosquitto restarts and before the
    // ingestor reconnected are queued for it (Mosquitto saves sessions and their plain
    // subscriptions on a graceful stop).
    ...(name === 'mqtt-ingestor' ? { OFFSITE_MQTT_SESSION_EXPIRY_S: '300' } : {}),
  });
  timing(`pipeline ${run.pipe.prefix} ready (schema ${run.pipe.schema}, outbox ${run.outbox})`);
  await Promise.all(run.services.map((name) => startAndWait(name)));
  timing(`${run.services.join(', ')} ready; loggers connect through the front on port ${front.port}`);

  const plan = schedule(SEED);
  const serverPlan = RESTART_SERVERS ? serverSchedule(SEED) : [];
  timing(
    `kill schedule (seed ${SEED}): ${plan.map((k) => `${k.service}@${(k.at / 1000).toFixed(1)}s+${k.downMs}ms`).join(', ')}`,
  );
  timing(
    `server restarts (${STATE_DIR}): ${serverPlan.map((k) => `${k.service}@${(k.at / 1000).toFixed(1)}s`).join(', ') || 'none'}`,
  );
  const t0 = Date.now();
  const simulation = runSimulator(run, front.port);
  // One chain per service: kill -9 at its moments, restart after downMs, wait until ready.
  const chains = VICTIMS.map(async (service) => {
    for (const kill of plan.filter((k) => k.service === service)) {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + kill.at - Date.now())));
      const killedAt = Date.now() - t0;
      await kill9(service);
      await new Promise((r) => setTimeout(r, kill.downMs));
      const began = Date.now();
      await startAndWait(service);
      done.push({ kill, killedAt, readyAfterMs: Date.now() - began });
      timing(
        `killed ${service} (${new Date(t0 + killedAt).toISOString()}) at ${(killedAt / 1000).toFixed(1)}s, ready again ${Date.now() - began} ms after restart`,
      );
    }
  });
  // One chain for the servers: one graceful restart at a time.
  restarts = (async () => {
    for (const r of serverPlan) {
      await new Promise((res) => setTimeout(res, Math.max(0, t0 + r.at - Date.now())));
      const began = Date.now();
      const last = await infra('restart', r.service);
      serversRestarted.push({ server: r.service, at: began - t0, tookMs: Date.now() - began });
      timing(
        `restarted ${r.service} at ${((began - t0) / 1000).toFixed(1)}s in ${Date.now() - began} ms (${last})`,
      );
    }
  })();
  sim = await simulation;
  timing(`simulator finished: ${JSON.stringify(sim)}; front ${JSON.stringify(front.stats())}`);
  await Promise.all([...chains, restarts]);
  timing(`${done.length} kills and ${serversRestarted.length} server restarts done`);
  await waitCaughtUp(run, 150_000);
  timing('writer, analyzer and alerter caught up');
  events = await readAll<DeviationV1>(run.pipe.kafka, run.pipe.topic('deviation.v1'));
}, 540_000);

afterAll(async () => {
  stopping = true;
  killSimulators();
  await Promise.all([...spawned].map((s) => s.stop('SIGTERM')));
  // Whatever happened, every server is running again when the flow ends (start is a no-op for a
  // running server apart from its readiness check).
  await restarts.catch(() => undefined);
  if (RESTART_SERVERS)
    for (const server of ALL_SERVERS)
      await infra('start', server).catch((e: unknown) => timing(`could not start ${server}: ${String(e)}`));
  for (const s of spawned) await s.stop('SIGTERM');
  for (const s of strangers) await s.close();
  await front?.close();
  await run?.pipe.cleanup();
  if (run?.outbox) await rm(run.outbox, { recursive: true, force: true });
  timing('cleaned up');
}, 300_000);

test('every service was killed at least twice and came back', () => {
  for (const service of VICTIMS)
    expect({ service, kills: done.filter((d) => d.kill.service === service).length }).toEqual({
      service,
      kills: KILLS_EACH,
    });
  expect(serversRestarted.map((r) => r.server).sort()).toEqual(RESTART_SERVERS ? [...SERVERS].sort() : []);
  expect(sim.packetsAcked).toBe(sim.packetsGenerated);
  expect(sim.meterErrors).toBe(0);
  if (crashed.length)
    timing(
      `services that exited by themselves and were restarted: ${crashed.map((c) => `${c.service} (code ${c.code}) at ${new Date(c.at).toISOString()}`).join(', ')}`,
    );
});

test('no logger reached a stranger on a port a killed gateway released (they go through the front)', () => {
  const reached = strangers.map((s) => ({ connections: s.connections(), bytes: s.bytes() }));
  timing(
    `strangers on freed gateway ports: ${JSON.stringify(reached)}; front ${JSON.stringify(front.stats())}`,
  );
  expect(strangers.length).toBeGreaterThan(0);
  expect(reached.filter((r) => r.connections > 0)).toEqual([]);
  expect(front.stats().relayed).toBeGreaterThan(0);
});

test('InfluxDB holds exactly the points the simulator sent (per measurement and series)', async () => {
  const expected = expectedSeries(run);
  const found = await influxSeries(run);
  const lossy = unacknowledgedDevices(run);
  const cmp = comparePoints(expected, found, lossy);
  timing(
    `points per measurement: ${JSON.stringify(cmp.byMeasurement)}; ${cmp.differing} series differ; ` +
      `unacknowledged HJ 212-2005 loggers ${[...lossy].join(', ') || 'none'}: ${cmp.lost.length} series lost points${cmp.lost.length ? ` (${cmp.lost.slice(0, 3).join('; ')}…)` : ''}`,
  );
  // Readings a service gave up on land in the DLQ: print them, they explain missing points.
  const dlq = await readAll<{ reason?: { code?: string; message?: string }; source?: string }>(
    run.pipe.kafka,
    run.pipe.topic('telemetry.dlq.v1'),
  );
  const reasons = new Map<string, number>();
  for (const r of dlq) {
    const k = `${r.source ?? '?'}: ${r.reason?.code ?? '?'} ${r.reason?.message?.slice(0, 120) ?? ''}`;
    reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  timing(`DLQ: ${dlq.length} records${[...reasons].map(([k, n]) => `; ${n}× ${k}`).join('')}`);
  for (const d of [...new Set(cmp.diffs.map((x) => x.split('|')[0]))])
    for (const key of cmp.diffs.filter((x) => x.startsWith(`${d}|`)).slice(0, 2))
      timing(`${key}: short 10-min buckets ${await gapsOf(run, key.slice(0, key.indexOf(':')))}`);
  expect(cmp.diffs).toEqual([]);
  expect(cmp.byMeasurement.emission?.sent).toBeGreaterThan(0);
  expect(cmp.byMeasurement.energy?.sent).toBeGreaterThan(0);
}, 120_000);

test('no (deviation id, revision) emitted with two contents; every scenario gives its deviations, no other rule elsewhere', () => {
  const { byKey, conflicting } = revisionContents(events);
  timing(
    `${events.length} deviation events, ${byKey.size} distinct (id, revision), ${conflicting.length} conflicting`,
  );
  // What differs between the contents of a conflicting (id, revision), field by field.
  for (const key of conflicting.slice(0, 5)) {
    const [a, b] = [...byKey.get(key)!].map((c) => JSON.parse(c) as Record<string, unknown>);
    const fields = (x: Record<string, unknown>, y: Record<string, unknown>, at: string): string[] =>
      [...new Set([...Object.keys(x), ...Object.keys(y)])].flatMap((f) => {
        const [u, v] = [x[f], y[f]];
        if (JSON.stringify(u) === JSON.stringify(v)) return [];
        const nested = (w: unknown): w is Record<string, unknown> =>
          typeof w === 'object' && w !== null && !Array.isArray(w);
        if (nested(u) && nested(v)) return fields(u, v, `${at}${f}.`);
        return [`${at}${f}: ${JSON.stringify(u)?.slice(0, 300)} ≠ ${JSON.stringify(v)?.slice(0, 300)}`];
      });
    const differ = fields(a!, b!, '');
    timing(
      `${key} (${String(a!.rule)} ${String(a!.siteId)}): ` +
        (differ.length > 0 ? differ.join('; ') : 'equal values, keys in another order'),
    );
  }
  expect(conflicting).toEqual([]);
  // A 2005 logger's uploads lost while the gateway was dead are a real gap: offline there is legitimate.
  const lossySites = new Set(
    run.plan.fleet.loggers.filter((l) => unacknowledgedDevices(run).has(l.mn)).map((l) => l.outletId),
  );
  // While a server restarts, nothing arrives from the loggers: at 300x a 15 s Kafka restart is 75 event
  // minutes, over the 10 min offline threshold, and offline is judged by arrival (domain-rules). An offline
  // deviation on an acknowledged logger is then the pipeline reporting its own outage, not a lost reading
  // (the point comparison above proves none was lost): listed apart. Every other rule stays exact.
  const restarting = serversRestarted.length > 0;
  const tolerated = (d: DeviationV1) => d.rule === 'offline' && (restarting || lossySites.has(d.siteId));
  const extra = latest(events).filter(tolerated);
  if (extra.length)
    timing(
      `offline tolerated (${restarting ? 'servers restarted' : 'unacknowledged loggers only'}): ${extra
        .map((d) => `${d.siteId}${lossySites.has(d.siteId) ? ' (2005)' : ''} ${d.windowStart}`)
        .join(', ')}`,
    );
  expect(deviationProblems(events, run.scenarios, run.registry, tolerated)).toEqual([]);
});

test('one case per deviation, no reminder sent twice (per group, recipient, channel, round)', async () => {
  const { pool } = run.pipe;
  const { cases, expected: latestRevision } = await caseRevisions(run, events);
  expect(cases).toEqual(latestRevision);

  // A send claimed by a killed alerter is re-run once its BullMQ job lock expires (≈ 2 × 5 s).
  await until(
    async () =>
      (await pool.query(`select 1 from alert_notifications where status = 'sending'`)).rows.length === 0,
    60_000,
    'no notification left in sending',
  ).catch(() => undefined);
  const byKind = await pool.query<{ kind: string; n: number }>(
    'select kind, count(*)::int n from alert_notifications group by 1 order by 1',
  );
  const notifications = { rows: [{ n: byKind.rows.reduce((a, r) => a + r.n, 0) }] };
  const dup = await pool.query(
    `select group_key, recipient_id, channel, kind, round, count(*)::int n from alert_notifications
       group by 1, 2, 3, 4, 5 having count(*) > 1`,
  );
  // Provider calls that succeeded per notification (one row per group, recipient, channel, kind, round).
  const twice = await pool.query(
    `select n.group_key, n.recipient_id, n.channel, n.kind, n.round, count(*)::int sends,
            string_agg(a.attempt || '@' || to_char(a.at at time zone 'UTC', 'HH24:MI:SS.MS'), ' ' order by a.at) attempts
       from alert_delivery_attempts a join alert_notifications n on n.id = a.notification_id
      where a.status = 'sent' group by n.id having count(*) > 1`,
  );
  const unsent = await pool.query(`select id, status from alert_notifications where status <> 'sent'`);
  timing(
    `${notifications.rows[0]?.n} notifications (${byKind.rows.map((r) => `${r.kind} ${r.n}`).join(', ')}), ${dup.rows.length} duplicated rows, ${twice.rows.length} sent twice, ${unsent.rows.length} not sent`,
  );
  expect(notifications.rows[0]?.n).toBeGreaterThan(0);
  expect(dup.rows).toEqual([]);
  expect(twice.rows).toEqual([]);
  expect(unsent.rows).toEqual([]);
}, 120_000);
