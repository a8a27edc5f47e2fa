// kill -9 flow: the scenario pipeline of scenarios.flow.test.ts while the hj212-gateway, influx-writer,
// analyzer and alerter are each killed with SIGKILL (twice or more) and restarted at seeded random
// moments of the simulator run. At the end: every point the simulator sent is in InfluxDB once (per
// measurement and series, computed from the same seeded simulation), no (deviation id, revision) was
// emitted with two different contents, the scenarios still produce exactly their deviations, and no
// reminder went out twice (per group, recipient, channel, round).
// The seed is OFFSITE_FLOW_KILL_SEED (default below); the schedule is printed so a failure can be replayed.
import { rm } from 'node:fs/promises';
import type { DeviationV1 } from '@offsite/contracts';
import { until } from '@offsite/testing';
import {
  comparePoints,
  deviationProblems,
  expectedSeries,
  HOURS,
  influxSeries,
  latest,
  prepareFlow,
  runSimulator,
  SPEED,
  timer,
  waitCaughtUp,
  type FlowRun,
  type SimProgress,
  unacknowledgedDevices,
} from './support/flow.js';
import { freePort, readAll, startService, type ServiceProcess } from './support/pipeline.js';

const timing = timer('kill');
const SEED = Number(process.env.OFFSITE_FLOW_KILL_SEED ?? 9);
const VICTIMS = ['hj212-gateway', 'influx-writer', 'analyzer', 'alerter'] as const;
const KILLS_EACH = 2;

/** mulberry32: a small seeded generator, so a schedule can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Kill {
  service: (typeof VICTIMS)[number];
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

let run: FlowRun;
let sim: SimProgress;
let events: DeviationV1[] = [];
const current = new Map<string, ServiceProcess>();
const done: { kill: Kill; killedAt: number; readyAfterMs: number }[] = [];

async function startAndWait(name: string, env: Record<string, string>) {
  const s = startService(name, env, await freePort());
  current.set(name, s);
  await s.waitReady(120_000);
  return s;
}

beforeAll(async () => {
  run = await prepareFlow();
  const env = (name: string) => ({
    ...run.env(name),
    // A killed member's partitions are reassigned after the session timeout.
    ...(name === 'influx-writer' ? { OFFSITE_KAFKA_SESSION_TIMEOUT_MS: '6000' } : {}),
  });
  timing(`pipeline ${run.pipe.prefix} ready (schema ${run.pipe.schema}, outbox ${run.outbox})`);
  await Promise.all(run.services.map((name) => startAndWait(name, env(name))));
  timing(`${run.services.join(', ')} ready`);

  const plan = schedule(SEED);
  timing(
    `kill schedule (seed ${SEED}): ${plan.map((k) => `${k.service}@${(k.at / 1000).toFixed(1)}s+${k.downMs}ms`).join(', ')}`,
  );
  const t0 = Date.now();
  const simulation = runSimulator(run);
  // One chain per service: kill -9 at its moments, restart after downMs, wait until ready.
  const chains = VICTIMS.map(async (service) => {
    for (const kill of plan.filter((k) => k.service === service)) {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + kill.at - Date.now())));
      const killedAt = Date.now() - t0;
      await current.get(service)!.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, kill.downMs));
      const began = Date.now();
      await startAndWait(service, env(service));
      done.push({ kill, killedAt, readyAfterMs: Date.now() - began });
      timing(
        `killed ${service} (${new Date(t0 + killedAt).toISOString()}) at ${(killedAt / 1000).toFixed(1)}s, ready again ${Date.now() - began} ms after restart`,
      );
    }
  });
  sim = await simulation;
  timing(`simulator finished: ${JSON.stringify(sim)}`);
  await Promise.all(chains);
  timing(`${done.length} kills done`);
  await waitCaughtUp(run, 150_000);
  timing('writer, analyzer and alerter caught up');
  events = await readAll<DeviationV1>(run.pipe.kafka, run.pipe.topic('deviation.v1'));
}, 480_000);

afterAll(async () => {
  for (const s of current.values()) await s.stop('SIGTERM');
  await run?.pipe.cleanup();
  if (run?.outbox) await rm(run.outbox, { recursive: true, force: true });
  timing('cleaned up');
}, 120_000);

test('every service was killed at least twice and came back', () => {
  for (const service of VICTIMS)
    expect({ service, kills: done.filter((d) => d.kill.service === service).length }).toEqual({
      service,
      kills: KILLS_EACH,
    });
  expect(sim.packetsAcked).toBe(sim.packetsGenerated);
  expect(sim.meterErrors).toBe(0);
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
  expect(cmp.diffs).toEqual([]);
  expect(cmp.byMeasurement.emission?.sent).toBeGreaterThan(0);
  expect(cmp.byMeasurement.energy?.sent).toBeGreaterThan(0);
}, 120_000);

test('no (deviation id, revision) emitted with two contents; the scenarios still give exactly their deviations', () => {
  const byKey = new Map<string, Set<string>>();
  for (const e of events) {
    const { emittedAt: _emittedAt, ...content } = e;
    const key = `${e.id}#${e.revision}`;
    (byKey.get(key) ?? byKey.set(key, new Set()).get(key)!).add(JSON.stringify(content));
  }
  const conflicting = [...byKey].filter(([, contents]) => contents.size > 1).map(([key]) => key);
  timing(
    `${events.length} deviation events, ${byKey.size} distinct (id, revision), ${conflicting.length} conflicting`,
  );
  expect(conflicting).toEqual([]);
  // A 2005 logger's uploads lost while the gateway was dead are a real gap: offline there is legitimate.
  const lossySites = new Set(
    run.plan.fleet.loggers.filter((l) => unacknowledgedDevices(run).has(l.mn)).map((l) => l.outletId),
  );
  const tolerated = (d: DeviationV1) => d.rule === 'offline' && lossySites.has(d.siteId);
  const extra = latest(events).filter(tolerated);
  if (extra.length)
    timing(
      `offline on unacknowledged loggers: ${extra.map((d) => `${d.siteId} ${d.windowStart}`).join(', ')}`,
    );
  expect(deviationProblems(events, run.scenarios, run.registry, tolerated)).toEqual([]);
});

test('one case per deviation, no reminder sent twice (per group, recipient, channel, round)', async () => {
  const { pool } = run.pipe;
  const latestRevision = new Map<string, number>();
  for (const e of events) latestRevision.set(e.id, Math.max(latestRevision.get(e.id) ?? 0, e.revision));
  const cases = await pool.query<{ deviation_id: string; revision: number }>(
    'select deviation_id, revision from alert_cases',
  );
  expect(new Map(cases.rows.map((r) => [r.deviation_id, r.revision]))).toEqual(latestRevision);

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
