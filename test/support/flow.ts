/**
 * The scenario run shared by the flow tests: an isolated registry (enterprise ids of this run only),
 * the scripted scenarios, the services' env (alerter policy with a short group wait, analyzer
 * lateness fitted to the time acceleration), the simulator as a child process, catch-up waits, and
 * what the simulator sent as InfluxDB point identities (from the same pure, seeded simulation).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviationV1, TelemetryV1 } from '@offsite/contracts';
import { decodePacket, encodePacket } from '@offsite/hj212';
import { normalizeHj212, normalizeMeterEnergy } from '@offsite/normalize';
import {
  createSimulation,
  fitToDay,
  generateRegistry,
  parseRegistryText,
  planRun,
  type RunPlan,
  type Scenario,
} from '@offsite/simulator';
import type { RegistryFile } from '@offsite/store';
import { retracted, until } from '@offsite/testing';
import {
  createPipeline,
  freePort,
  lag,
  repoRoot,
  serverSetting,
  type Pipeline,
  type ServerEnv,
} from './pipeline.js';

export const DAY = Date.parse('2026-11-28T00:00:00+08:00');
const HOUR = 3_600_000;
/** 08:00 local: every scenario window (09:00–16:00) lies inside the run. */
export const START = DAY + 8 * HOUR;
/** Until 19:00 local, so the watermark (data time − lateness) passes the last window by over an hour. */
export const HOURS = 11;
/** Event seconds per wall second: 11 h in 132 s. */
export const SPEED = 300;
/**
 * The analyzer's allowed lateness, in event time. It must exceed how far the MQTT (meters) and
 * HJ 212 (loggers waiting for 9014) paths drift apart (90 min = 18 wall s at 300×), and stay below
 * the offline scenario's 2 h outage minus the 10 min offline threshold: a longer lateness lets the
 * cache replay fill the gap before the watermark reaches it, and no offline deviation opens at all.
 */
export const LATENESS_MS = 90 * 60_000;
export const KINDS = 'treatment-off,exceedance,flatline,offline,maintenance';
export const SEED = 212;

export const SUPERVISOR = { id: 'sup-flow', name: '市局督查员', email: 'supervisor@qinglan.example' };

/**
 * Alerter policy for flows, timers in event time like the demo's: the alerter runs them SPEED× faster
 * (OFFSITE_ALERTER_TIME_SCALE below), so the 10 min group wait is 2 s of wall clock and the 24 h
 * repeats and escalations (4.8 min of wall clock) fall after the simulated 11 h. No quiet hours (the
 * alerter checks them on the wall clock).
 */
export function flowPolicy(): unknown {
  const entry = (name: string, extra: Record<string, unknown>) => ({
    name,
    enterpriseRoles: ['env-manager'],
    districtOfficers: false,
    citySupervisors: false,
    channels: ['email'],
    repeat: { interval: '24h', maxCount: 2 },
    escalateAfter: '24h',
    resolutionNotice: true,
    urgent: false,
    ...extra,
  });
  return {
    bureau: { zh: '青澜市生态环境局', en: 'Qinglan Ecology and Environment Bureau' },
    groupWait: '10m',
    ackTtl: '3d',
    inhibitedByOffline: ['flatline', 'zero-while-running', 'low-capture'],
    entries: [
      entry('falsification', {
        match: { falsification: true },
        enterpriseRoles: [],
        citySupervisors: true,
        repeat: { interval: '24h', maxCount: 1 },
        resolutionNotice: false,
      }),
      entry('urgent', {
        match: { severities: ['critical', 'high'] },
        enterpriseRoles: ['env-manager', 'legal'],
        channels: ['sms', 'email'],
        urgent: true,
      }),
      entry('default', { match: {} }),
    ],
  };
}

/** The registry with enterprise ids of this run only (`ent-0001` → `e<tag>-0001`). */
function isolate(reg: RegistryFile, tag: string): RegistryFile {
  return JSON.parse(JSON.stringify(reg).replaceAll('"ent-', `"e${tag}-`)) as RegistryFile;
}

export const timer = (label: string) => {
  const t0 = Date.now();
  return (what: string) =>
    process.stdout.write(`[${label} ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}\n`);
};

export interface FlowRun {
  /** The registry's enterprise id tag. */
  readonly tag: string;
  readonly pipe: Pipeline;
  readonly registry: RegistryFile;
  readonly plan: RunPlan;
  readonly scenarios: Scenario[];
  readonly outbox: string;
  readonly hj212Port: number;
  readonly services: readonly string[];
  /** Env of a service in this run (pipeline env + ports, policy, outbox, lateness). */
  env(service: string): Record<string, string>;
}

export const SERVICES = ['hj212-gateway', 'mqtt-ingestor', 'influx-writer', 'analyzer', 'alerter'] as const;

export interface FlowOptions {
  /** The registry's enterprise id tag (`e<tag>-0001`): another run's, to compare deviation ids with it. */
  tag?: string;
  /** The servers to run on (default: the process's env, OFFSITE_ENV_FILE's). */
  servers?: ServerEnv;
}

export async function prepareFlow(opts: FlowOptions = {}): Promise<FlowRun> {
  const tag = opts.tag ?? randomBytes(3).toString('hex');
  const template = parseRegistryText(
    await readFile(join(repoRoot, 'registry/example.yaml'), 'utf8'),
    'registry/example.yaml',
  );
  const registry = isolate(fitToDay(generateRegistry(template, { count: 12 }), DAY), tag);
  const plan = planRun(registry, 0, START, KINDS.split(',') as never);
  const pipe = await createPipeline(registry, opts.servers);
  // The city supervisor who receives alerts is a console user on duty (console_recipients_v1).
  await pipe.pool.query(
    `insert into console_users (username, display_name, role, password_hash, email, on_duty)
     values ($1, $2, 'city-supervisor', 'x', $3, true)`,
    [SUPERVISOR.id, SUPERVISOR.name, SUPERVISOR.email],
  );
  const outbox = await mkdtemp(join(tmpdir(), `offsite-flow-outbox-${pipe.id}-`));
  const policyPath = join(outbox, 'policy.json');
  await writeFile(policyPath, JSON.stringify(flowPolicy()));
  const hj212Port = await freePort();
  const extra: Record<string, Record<string, string>> = {
    // The simulated loggers' clocks run at the flow's speed: no calibration on drift.
    'hj212-gateway': { OFFSITE_HJ212_PORT: String(hj212Port), OFFSITE_HJ212_CLOCK_DRIFT_MAX_S: '0' },
    // Persistent sessions, as in production: the broker queues what meters publish while the
    // ingestor reconnects (after a Mosquitto restart too). Client ids are per run; the sessions
    // expire five minutes after the flow.
    'mqtt-ingestor': { OFFSITE_MQTT_SESSION_EXPIRY_S: '300' },
    analyzer: {
      OFFSITE_ANALYZER_ALLOWED_LATENESS_MS: String(LATENESS_MS),
      // A kill -9'd member holds its partitions until this timeout; the restart waits for it.
      OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: '6000',
    },
    alerter: {
      OFFSITE_ALERTER_OUTBOX_DIR: outbox,
      OFFSITE_ALERTER_ACK_PORT: String(await freePort()),
      OFFSITE_ALERTER_ACK_SECRET: randomBytes(24).toString('hex'),
      OFFSITE_ALERTER_POLICY_FILE: policyPath,
      OFFSITE_ALERTER_TIME_SCALE: String(SPEED),
      // A killed alerter's stalled jobs come back after ≈ 2× this.
      OFFSITE_ALERTER_JOB_LOCK_MS: '5000',
      OFFSITE_ALERTER_KAFKA_SESSION_TIMEOUT_MS: '6000',
    },
  };
  return {
    tag,
    pipe,
    registry,
    plan,
    scenarios: plan.scenarios,
    outbox,
    hj212Port,
    services: SERVICES,
    env: (service) => ({ ...pipe.env(service), ...(extra[service] ?? {}) }),
  };
}

export interface SimProgress {
  packetsGenerated: number;
  packetsAcked: number;
  resends: number;
  cached: number;
  meterReadings: number;
  meterErrors: number;
  /** Cached uploads the offline logger did not replay (a partial cache), left for the backfill. */
  notReplayed: number;
  done: boolean;
}

/** Simulators still running: a flow whose setup timed out stops them in its afterAll. */
const simulators = new Set<ChildProcess>();

/** Stops every simulator this test file started that is still running (SIGKILL: nothing to save). */
export function killSimulators(): void {
  for (const child of simulators) child.kill('SIGKILL');
}

/**
 * Runs the simulator over the whole run; resolves with its final progress (it must exit 0, all acked).
 * Its loggers connect to `hj212Port` (the gateway's, or a front relaying to it).
 */
export async function runSimulator(
  run: FlowRun,
  hj212Port = run.hj212Port,
  extraEnv: Record<string, string> = {},
): Promise<SimProgress> {
  const mqtt = run.pipe.env('mqtt-ingestor');
  const sim = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', 'src/main.ts'], {
    cwd: join(repoRoot, 'services/simulator'),
    env: {
      PATH: process.env.PATH ?? '',
      OFFSITE_LOG_LEVEL: 'warn',
      OFFSITE_OPS_PORT: String(await freePort()),
      OFFSITE_SIM_REGISTRY: run.pipe.registryPath,
      OFFSITE_SIM_START: new Date(START).toISOString(),
      OFFSITE_SIM_HOURS: String(HOURS),
      OFFSITE_SIM_SPEED: String(SPEED),
      OFFSITE_SIM_SEED: String(SEED),
      OFFSITE_SIM_SCENARIOS: KINDS,
      OFFSITE_SIM_PROGRESS: 'true',
      OFFSITE_HJ212_PORT: String(hj212Port),
      OFFSITE_MQTT_URL: mqtt.OFFSITE_MQTT_URL ?? '',
      OFFSITE_MQTT_USERNAME: mqtt.OFFSITE_MQTT_USERNAME ?? '',
      OFFSITE_MQTT_PASSWORD: mqtt.OFFSITE_MQTT_PASSWORD ?? '',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  simulators.add(sim);
  sim.once('exit', () => simulators.delete(sim));
  let out = '';
  let last: SimProgress | null = null;
  let partial = '';
  let lastShown = Date.now();
  /** The simulator's log lines (warn and above) by message, shown when it ends. */
  const warnings = new Map<string, number>();
  const simTiming = timer('simulator');
  sim.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{"progress"')) {
        last = (JSON.parse(line) as { progress: SimProgress }).progress;
        // Every 30 s of wall time a line of where the run stands, so a slow run shows what held it.
        if (Date.now() - lastShown >= 30_000) {
          lastShown = Date.now();
          const p = last as SimProgress & { eventTime?: string };
          simTiming(
            `simulator at ${p.eventTime ?? '?'}: generated ${p.packetsGenerated}, acked ${p.packetsAcked}, ` +
              `cached ${p.cached}, resends ${p.resends}, meter readings ${p.meterReadings}; ` +
              `load ${loadavg()[0]!.toFixed(1)}`,
          );
        }
      } else {
        out = (out + line + '\n').slice(-20_000);
        const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
        if (msg) warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
      }
    }
  });
  sim.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((r) => sim.once('exit', r));
  const final = last as SimProgress | null;
  if (warnings.size > 0) simTiming(`simulator log: ${JSON.stringify(Object.fromEntries(warnings))}`);
  if (code !== 0 || !final?.done) throw new Error(`simulator exited ${code}:\n${out}`);
  return final;
}

/** Waits until the writer and analyzer read all telemetry, then the alerter all deviations. */
export async function waitCaughtUp(run: FlowRun, ms: number): Promise<void> {
  const { pipe } = run;
  const end = Date.now() + ms;
  await until(
    async () =>
      (await lag(pipe.kafka, `flow-analyzer-${pipe.id}`, pipe.topic('telemetry.v1'))) === 0 &&
      (await lag(pipe.kafka, `flow-writer-${pipe.id}`, pipe.topic('telemetry.v1'))) === 0,
    ms,
    'analyzer and writer to catch up',
  );
  await until(
    async () => (await lag(pipe.kafka, `flow-alerter-${pipe.id}`, pipe.topic('deviation.v1'))) === 0,
    Math.max(10_000, end - Date.now()),
    'alerter to catch up',
  );
}

/** Highest revision per deviation id. */
export const latest = (events: readonly DeviationV1[]) => {
  const m = new Map<string, DeviationV1>();
  for (const e of events) if ((m.get(e.id)?.revision ?? 0) < e.revision) m.set(e.id, e);
  return [...m.values()];
};

/**
 * Contents per (deviation id, revision), `emittedAt` left out; `conflicting`: the keys emitted with two
 * different contents (a replay after a kill must repeat an event, never change it).
 */
export function revisionContents(events: readonly DeviationV1[]): {
  byKey: Map<string, Set<string>>;
  conflicting: string[];
} {
  const byKey = new Map<string, Set<string>>();
  for (const e of events) {
    const { emittedAt: _emittedAt, ...content } = e;
    const key = `${e.id}#${e.revision}`;
    (byKey.get(key) ?? byKey.set(key, new Set()).get(key)!).add(JSON.stringify(content));
  }
  return { byKey, conflicting: [...byKey].filter(([, c]) => c.size > 1).map(([k]) => k) };
}

// Comparing with the undisturbed run, one episode per deviation and the generations following it (@offsite/testing).
export { compareWithUndisturbed, describeDeviation, retracted } from '@offsite/testing';

/** Alert cases (deviation id → revision) in the run's schema, and what the events say they should be (latest revision). */
export async function caseRevisions(
  run: FlowRun,
  events: readonly DeviationV1[],
): Promise<{ cases: Map<string, number>; expected: Map<string, number> }> {
  const expected = new Map<string, number>();
  for (const e of events) expected.set(e.id, Math.max(expected.get(e.id) ?? 0, e.revision));
  const cases = await run.pipe.pool.query<{ deviation_id: string; revision: number }>(
    'select deviation_id, revision from alert_cases',
  );
  return { cases: new Map(cases.rows.map((r) => [r.deviation_id, r.revision])), expected };
}

/** Site of every device and meter of the registry. */
export function sitesOf(registry: RegistryFile): Map<string, string> {
  const sites = new Map<string, string>();
  for (const e of registry.enterprises) {
    for (const o of e.outlets) for (const d of o.devices) sites.set(d.mn, o.id);
    for (const m of e.meters) sites.set(m.id, m.id);
  }
  return sites;
}

/**
 * Problems of the deviations against the scenarios: each scenario enterprise has exactly its
 * expected rules (latest revision, retracted ones left out) on the scenario's site and factor,
 * every other enterprise none. Offline: opened at least once (any revision) on its site — until the
 * domain's offline rule resolves on a cache replay, the replay retracts it.
 */
export function deviationProblems(
  events: readonly DeviationV1[],
  scenarios: readonly Scenario[],
  registry: RegistryFile,
  /** Deviations a test knows to be legitimate beyond the scenarios (left out of every check). */
  tolerated: (d: DeviationV1) => boolean = () => false,
): string[] {
  const sites = sitesOf(registry);
  const live = latest(events).filter((d) => !retracted(d) && !tolerated(d));
  const problems: string[] = [];
  const show = (ds: readonly DeviationV1[]) =>
    ds.map((d) => `${d.rule}@${d.enterpriseId}/${d.siteId}/${d.factor ?? '-'}`).join(', ') || 'none';
  for (const s of scenarios) {
    const mine = live.filter((d) => d.enterpriseId === s.enterpriseId);
    if (s.kind === 'offline') {
      const ever = events.filter((d) => d.enterpriseId === s.enterpriseId && d.rule === 'offline');
      if (ever.length === 0) problems.push(`offline: never opened on ${s.enterpriseId}`);
      if (ever.some((d) => d.siteId !== sites.get(s.target)))
        problems.push(`offline: on ${show(ever)}, expected site ${sites.get(s.target)}`);
      const other = mine.filter((d) => d.rule !== 'offline');
      if (other.length > 0) problems.push(`offline: unexpected ${show(other)}`);
      continue;
    }
    const rules = [...new Set(mine.map((d) => d.rule))].sort();
    if (JSON.stringify(rules) !== JSON.stringify([...s.expect].sort()))
      problems.push(`${s.kind}: expected [${s.expect.join(', ')}], got ${show(mine)}`);
    if (s.expect.length === 0) continue;
    if (mine.some((d) => d.siteId !== sites.get(s.target)))
      problems.push(`${s.kind}: expected site ${sites.get(s.target)}, got ${show(mine)}`);
    if (s.factor && mine.some((d) => d.factor !== s.factor))
      problems.push(`${s.kind}: expected factor ${s.factor}, got ${show(mine)}`);
  }
  const planned = new Set(scenarios.map((s) => s.enterpriseId));
  const elsewhere = live.filter((d) => !planned.has(d.enterpriseId));
  if (elsewhere.length > 0) problems.push(`unexpected elsewhere: ${show(elsewhere)}`);
  return problems;
}

/** `<measurement>|<device>|<factor>|<interval>` → number of points. */
export type SeriesCounts = Map<string, number>;

const seriesKey = (kind: string, device: string, factor: string, interval: string) =>
  `${kind}|${device}|${factor}|${interval}`;

/**
 * The InfluxDB points the simulator's readings make (influx-writer layout: measurement + tags + time
 * identify a point), computed from the same seeded simulation the simulator runs, through the same
 * normalisation the ingestors apply. Counted per series.
 */
export function expectedSeries(run: FlowRun): SeriesCounts {
  const sim = createSimulation({ fleet: run.plan.fleet, scenarios: run.scenarios, seed: SEED, start: START });
  const devices = new Map(
    run.plan.fleet.loggers.map((l) => [
      l.mn,
      {
        enterpriseId: l.enterpriseId,
        siteId: l.outletId,
        deviceId: l.mn,
        minuteIntervalS: l.minuteIntervalS,
      },
    ]),
  );
  const identities = new Set<string>();
  const add = (t: TelemetryV1) => {
    const interval = t.periodSeconds !== undefined ? `${t.interval}-${t.periodSeconds}s` : t.interval;
    const time = Math.floor(Date.parse(t.dataTime) / 1000);
    for (const m of t.measurements)
      identities.add(`${seriesKey(t.kind, t.deviceId, m.factor, interval)}|${time}`);
  };
  const receivedAt = new Date().toISOString();
  for (const out of sim.advanceTo(START + HOURS * HOUR)) {
    if (out.kind === 'hj212') {
      const decoded = decodePacket(encodePacket(out.packet));
      if (!decoded.ok)
        throw new Error(`simulated packet of ${out.mn} does not decode: ${decoded.error.code}`);
      const r = normalizeHj212(decoded.packet, { ...devices.get(out.mn)!, receivedAt });
      if (r.ok) add(r.event);
    } else {
      const r = normalizeMeterEnergy(out.payload, {
        enterpriseId: out.enterpriseId,
        meterId: out.meterId,
        receivedAt,
      });
      if (r.ok) add(r.event);
    }
  }
  const counts: SeriesCounts = new Map();
  for (const id of identities) {
    const key = id.slice(0, id.lastIndexOf('|'));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Points per series in the run's InfluxDB database (InfluxQL count over every field, largest field count). */
export async function influxSeries(run: FlowRun): Promise<SeriesCounts> {
  const url = new URL('/query', serverSetting(run.pipe.servers, 'OFFSITE_INFLUX_URL'));
  url.searchParams.set('db', run.pipe.influxDb);
  url.searchParams.set('q', 'SELECT count(*) FROM "emission","energy","status" GROUP BY *');
  const token = run.pipe.servers.OFFSITE_INFLUX_TOKEN;
  const res = await fetch(url, { headers: token ? { Authorization: `Token ${token}` } : {} });
  if (!res.ok) throw new Error(`InfluxDB query: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    results: {
      error?: string;
      series?: { name: string; tags: Record<string, string>; columns: string[]; values: unknown[][] }[];
    }[];
  };
  const counts: SeriesCounts = new Map();
  for (const r of body.results) {
    if (r.error) throw new Error(`InfluxDB query: ${r.error}`);
    for (const s of r.series ?? []) {
      const n = Math.max(0, ...(s.values[0] ?? []).slice(1).map((v) => (typeof v === 'number' ? v : 0)));
      counts.set(seriesKey(s.name, s.tags.device ?? '', s.tags.factor ?? '', s.tags.interval ?? ''), n);
    }
  }
  return counts;
}

/**
 * Where a series lost points: its 10-minute buckets (event time, and wall seconds into the simulator
 * run) holding fewer points than the fullest bucket. For the failure message of a point comparison.
 */
export async function gapsOf(run: FlowRun, seriesKey: string): Promise<string> {
  const [measurement, device, factor, interval] = seriesKey.split('|');
  const url = new URL('/query', serverSetting(run.pipe.servers, 'OFFSITE_INFLUX_URL'));
  url.searchParams.set('db', run.pipe.influxDb);
  url.searchParams.set(
    'q',
    `SELECT count(*) FROM "${measurement}" WHERE device='${device}' AND factor='${factor}' AND "interval"='${interval}' ` +
      `AND time >= ${START}ms AND time < ${START + HOURS * HOUR}ms GROUP BY time(10m)`,
  );
  const token = run.pipe.servers.OFFSITE_INFLUX_TOKEN;
  const res = await fetch(url, { headers: token ? { Authorization: `Token ${token}` } : {} });
  const body = (await res.json()) as { results: { series?: { values: [string, ...unknown[]][] }[] }[] };
  const rows = (body.results[0]?.series?.[0]?.values ?? []).map(([t, ...counts]) => ({
    t: Date.parse(t),
    n: Math.max(0, ...counts.map((c) => (typeof c === 'number' ? c : 0))),
  }));
  const full = Math.max(0, ...rows.map((r) => r.n));
  return rows
    .filter((r) => r.n < full)
    .map(
      (r) =>
        `${new Date(r.t).toISOString().slice(11, 16)}Z(+${((r.t - START) / SPEED / 1000).toFixed(0)}s) ${r.n}/${full}`,
    )
    .join(', ');
}

/** Data loggers whose uploads ask for no acknowledgement (HJ 212-2005: no Flag, so no 9014). */
export function unacknowledgedDevices(run: FlowRun): Set<string> {
  return new Set(run.plan.fleet.loggers.filter((l) => l.protocolVersion === 2005).map((l) => l.mn));
}

/**
 * Per measurement: expected points, points found, and the series that differ (first few). Series of
 * `lossy` devices (uploads nobody acknowledges: written to a socket the gateway may die behind) may
 * miss points, reported apart in `lost`; more points than sent is a difference for every series.
 */
export function comparePoints(
  expected: SeriesCounts,
  found: SeriesCounts,
  lossy: ReadonlySet<string> = new Set(),
) {
  const byMeasurement: Record<string, { sent: number; stored: number }> = {};
  const diffs: string[] = [];
  const lost: string[] = [];
  for (const key of new Set([...expected.keys(), ...found.keys()])) {
    const m = key.slice(0, key.indexOf('|'));
    const device = key.split('|')[1] ?? '';
    const e = expected.get(key) ?? 0;
    const f = found.get(key) ?? 0;
    const row = (byMeasurement[m] ??= { sent: 0, stored: 0 });
    row.sent += e;
    row.stored += f;
    if (f < e && lossy.has(device)) lost.push(`${key}: sent ${e}, stored ${f}`);
    else if (e !== f) diffs.push(`${key}: sent ${e}, stored ${f}`);
  }
  return { byMeasurement, diffs: diffs.sort().slice(0, 20), differing: diffs.length, lost: lost.sort() };
}
