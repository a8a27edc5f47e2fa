/**
 * Demo summary (run by scripts/demo.sh after the simulator finished): waits until the consumers of
 * this run caught up, then reports from the real stores — readings on Kafka, points and values in
 * InfluxDB, deviations by rule (deviation.v1 of this run) against the scenarios the simulator
 * planned, cases and notifications in Postgres (when the alerter ran), files in the outbox and the
 * SMTP sink, and the console login. Nothing is inferred: what could not be read says so.
 * Before the reminders it waits (bounded by run.reminderWaitS, a progress line on stderr) until every
 * notification group of the run has its first round and its resolution notice in the outbox, then
 * prints them by channel/status and kind, the outbox files and one reminder's text (reminders.ts). Then the
 * positive list as of the end of the simulated day, each enterprise with its reasons (positive-list.ts), among them
 * the flat-line enterprise whose case the demo supervisor confirmed as falsification before the summary.
 * Before the deviations are read, the emissions-against-production cross-check judges the simulated day
 * (cross-check.ts): its finding on the emission-drop enterprise is one of them.
 *
 * Usage: summary.ts <run.json>   (written by scripts/demo.sh; environment from .offsite/env)
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import pg from 'pg';
import type { Kafka } from 'kafkajs';
import { createKafkaClient } from '@offsite/kafka';
import { createLogger } from '@offsite/runtime';
import { parseRegistryText, parseScenarioKinds, planRun } from '@offsite/simulator';
import { crossCheckSection, crossDeviceSection, peersSection } from './cross-check.js';
import { positiveListSection, type ConfirmedCase, type HistoryInfo } from './positive-list.js';
import {
  countBy,
  missing,
  readReminderState,
  resolutionNotices,
  resolvedUnsent,
  sampleReminder,
} from './reminders.js';

interface RunInfo {
  runId: string;
  prefix: string;
  startedAt: string;
  simStart: string;
  simHours: number;
  scenarios: string;
  registry: string;
  groups: Record<string, string>;
  /** service → "ready" or why it is not available */
  services: Record<string, string>;
  outboxDir: string;
  mailDir: string;
  credentials: string;
  consoleUrl: string;
  simulatorResult: string;
  /** The alerter's policy file, its time scale, and how long to wait for the reminders (s). */
  policy: string;
  timeScale: number;
  reminderWaitS: number;
  /** The backfilled history and the enterprises picked to fail the positive list (demo.sh). */
  history: HistoryInfo;
  /** The flat-line case the demo supervisor confirmed as falsification (confirm-falsification.ts), or null. */
  confirmed: ConfirmedCase | null;
}

const runPath = process.argv[2];
if (!runPath) {
  process.stderr.write('usage: summary.ts <run.json>\n');
  process.exit(64);
}
const run = JSON.parse(await readFile(runPath, 'utf8')) as RunInfo;
const env = process.env;
const logger = createLogger({ service: 'demo-summary', level: 'error' });
const out: string[] = [];
const say = (s = '') => out.push(s);
const ready = (s: string) => run.services[s] === 'ready';
const fmt = (n: number) => n.toLocaleString('en-US');
/** Progress while waiting: stderr, which demo.sh shows and keeps in logs/summary.log. */
const progress = (s: string) => process.stderr.write(`[summary] ${s}\n`);

const kafka = createKafkaClient({
  brokers: (env.OFFSITE_KAFKA_BROKERS ?? '').split(','),
  clientId: 'offsite-demo-summary',
  logger,
});
const topic = (name: string) => `${run.prefix}${name}`;

async function highWatermarks(k: Kafka, t: string): Promise<Map<number, { low: number; high: number }>> {
  const admin = k.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(t);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

/** Records still to be consumed by a group on a topic (committed offsets vs high watermarks). */
async function lag(k: Kafka, groupId: string, t: string): Promise<number> {
  const admin = k.admin();
  await admin.connect();
  try {
    const [high, committed] = await Promise.all([
      admin.fetchTopicOffsets(t),
      admin.fetchOffsets({ groupId, topics: [t] }),
    ]);
    const done = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
    );
    return high.reduce((a, p) => a + Number(p.high) - Math.max(Number(p.low), done.get(p.partition) ?? 0), 0);
  } finally {
    await admin.disconnect();
  }
}

async function waitForConsumers(): Promise<string[]> {
  const watched = Object.entries(run.groups).filter(([service]) => ready(service));
  const deadline = Date.now() + 180_000;
  const pending: string[] = [];
  for (const [service, spec] of watched) {
    const [groupId, t] = spec.split('@') as [string, string];
    let behind = await lag(kafka, groupId, t);
    while (behind > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      behind = await lag(kafka, groupId, t);
    }
    if (behind > 0) pending.push(`${service} still ${fmt(behind)} records behind on ${t}`);
  }
  return pending;
}

async function influxql(
  q: string,
): Promise<{ name?: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]> {
  const db = env.OFFSITE_INFLUX_DATABASE ?? (env.OFFSITE_INFLUX_BUCKET ?? '').split('/')[0];
  const url = new URL('/query', env.OFFSITE_INFLUX_URL);
  url.searchParams.set('db', db ?? '');
  url.searchParams.set('q', q);
  const headers: Record<string, string> = {};
  if (env.OFFSITE_INFLUX_TOKEN) headers.authorization = `Token ${env.OFFSITE_INFLUX_TOKEN}`;
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`InfluxDB /query answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { results: { series?: never[]; error?: string }[] };
  const r = body.results[0];
  if (r?.error) throw new Error(r.error);
  return r?.series ?? [];
}

async function influxSummary(from: string, to: string): Promise<void> {
  const measurements = (await influxql('SHOW MEASUREMENTS')).flatMap((s) =>
    s.values.map((v) => String(v[0])),
  );
  if (measurements.length === 0) {
    say('  InfluxDB: no measurements yet');
    return;
  }
  for (const m of measurements) {
    const series = await influxql(
      `SELECT count(*) FROM "${m}" WHERE time >= '${from}' AND time < '${to}' GROUP BY "interval"`,
    );
    const rows: string[] = [];
    let points = 0;
    let values = 0;
    for (const s of series) {
      const counts = s.columns
        .map((c, i) => [c, Number(s.values[0]?.[i] ?? 0)] as const)
        .filter(([c]) => c.startsWith('count_'));
      const stats = counts.filter(([c]) => !/^count_(flag|unit|.*_flag)$/.test(c));
      const p = Math.max(0, ...stats.map(([, n]) => n));
      const v = stats.reduce((a, [, n]) => a + n, 0);
      points += p;
      values += v;
      rows.push(`${s.tags?.interval ?? '-'} ${fmt(p)}`);
    }
    if (points > 0) say(`  InfluxDB ${m}: ${fmt(points)} points, ${fmt(values)} values (${rows.join(', ')})`);
  }
}

interface Dev {
  id: string;
  revision: number;
  rule: string;
  state: string;
  enterpriseId: string;
  siteId: string;
  factor?: string;
  evidence?: { params?: { retracted?: boolean } };
}

/** Opened on early evidence, then withdrawn by the analyzer when later (late) data arrived. */
const retracted = (d: Dev) => d.evidence?.params?.retracted === true;

async function readDeviations(): Promise<Dev[]> {
  const t = topic('deviation.v1');
  const marks = await highWatermarks(kafka, t);
  const total = [...marks.values()].reduce((a, m) => a + m.high - m.low, 0);
  if (total === 0) return [];
  const groupId = `offsite-demo-summary-${process.pid}-${Date.now()}`;
  const consumer = kafka.consumer({ groupId });
  const latest = new Map<string, Dev>();
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: t, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${seen} of ${total} deviation records in 60 s`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen++;
            if (message.value) {
              const d = JSON.parse(message.value.toString()) as Dev;
              const prev = latest.get(d.id);
              if (!prev || prev.revision < d.revision) latest.set(d.id, d);
            }
            if (seen >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  return [...latest.values()];
}

async function filesSince(dir: string, since: number): Promise<string[]> {
  const found: string[] = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((await stat(p)).mtimeMs >= since) found.push(p);
    }
  }
  await walk(dir);
  return found.sort();
}

// ---------------------------------------------------------------------------------------------
const simStart = Date.parse(run.simStart);
const simEnd = simStart + run.simHours * 3_600_000;
const startedAt = Date.parse(run.startedAt);

say('==================== Offsite demo — summary / 演示小结 ====================');
say('Services / 服务:');
for (const [s, status] of Object.entries(run.services))
  say(`  ${s.padEnd(15)} ${status === 'ready' ? 'ready' : `not available — ${status}`}`);

let sim: Record<string, number | string | boolean> | null;
try {
  sim = JSON.parse(await readFile(run.simulatorResult, 'utf8')) as Record<string, number | string | boolean>;
} catch {
  sim = null;
}
say('Simulator / 模拟器:');
if (sim)
  say(
    `  event time ${String(sim.start)} → ${String(sim.eventTime)}; HJ 212 packets generated ${fmt(Number(sim.packetsGenerated))}, ` +
      `acknowledged ${fmt(Number(sim.packetsAcked))} (${fmt(Number(sim.valuesAcked))} values), resends ${fmt(Number(sim.resends))}, ` +
      `still cached ${fmt(Number(sim.cached))}; MQTT meter readings ${fmt(Number(sim.meterReadings))} (errors ${fmt(Number(sim.meterErrors))}); ` +
      `after the day, the emission-drop enterprise's history: ${fmt(Number(sim.historyAcked ?? 0))} hourly packets acknowledged, ` +
      `${fmt(Number(sim.historyMeterReadings ?? 0))} meter readings`,
  );
else say('  no progress recorded (see .offsite/demo/logs/simulator.log)');

const pending = await waitForConsumers();
for (const p of pending) say(`  WARNING: ${p}`);

say('Ingested / 入库:');
try {
  const tel = await highWatermarks(kafka, topic('telemetry.v1'));
  const dlq = await highWatermarks(kafka, topic('telemetry.dlq.v1'));
  const count = (m: Map<number, { low: number; high: number }>) =>
    [...m.values()].reduce((a, x) => a + x.high - x.low, 0);
  say(`  Kafka ${topic('telemetry.v1')}: ${fmt(count(tel))} readings; DLQ ${fmt(count(dlq))}`);
} catch (e) {
  say(`  Kafka: not readable — ${(e as Error).message}`);
}
try {
  await influxSummary(new Date(simStart).toISOString(), new Date(simEnd).toISOString());
} catch (e) {
  say(`  InfluxDB: not readable — ${(e as Error).message}`);
}

const registry = parseRegistryText(await readFile(run.registry, 'utf8'), run.registry);
const plan = planRun(registry, 0, simStart, parseScenarioKinds(run.scenarios));
/** A cross-check's section of the summary: its round runs before the deviations are read (its findings are some). */
async function checkSection(lines: (pool: pg.Pool) => Promise<string[]>): Promise<string[]> {
  if (!ready('analyzer')) return ['  not available — the analyzer did not run'];
  const pool = new pg.Pool({ connectionString: env.OFFSITE_PG_URL, max: 1 });
  try {
    return await lines(pool);
  } catch (e) {
    return [`  not readable — ${(e as Error).message}`];
  } finally {
    await pool.end();
  }
}
const crossCheck = await checkSection((pool) =>
  crossCheckSection(
    pool,
    simEnd,
    topic('deviation.v1'),
    plan.scenarios.find((s) => s.kind === 'emission-drop'),
  ),
);
// The peers round: its finding on the enterprise given a history just below its limits is one of them.
const peersCheck = await checkSection((pool) =>
  peersSection(pool, simEnd, topic('deviation.v1'), run.history.nearLimit),
);
const crossDeviceCheck = await checkSection((pool) =>
  crossDeviceSection(pool, simEnd, topic('deviation.v1')),
);

say('Deviations / 异常 (deviation.v1 of this run, latest revision per id):');
let devs: Dev[];
if (!ready('analyzer')) say('  not available — the analyzer did not run');
else {
  try {
    const all = await readDeviations();
    const withdrawn = all.filter(retracted);
    devs = all.filter((d) => !retracted(d));
    const byRule = (list: Dev[]) => {
      const m = new Map<string, number>();
      for (const d of list) m.set(d.rule, (m.get(d.rule) ?? 0) + 1);
      return (
        [...m]
          .sort()
          .map(([r, n]) => `${r} ${n}`)
          .join(', ') || 'none'
      );
    };
    say(`  ${fmt(devs.length)} deviations: ${byRule(devs)}`);
    if (withdrawn.length > 0)
      say(
        `  plus ${fmt(withdrawn.length)} opened and later retracted by the analyzer (late data): ${byRule(withdrawn)}`,
      );
    const planned = new Set(plan.scenarios.map((s) => s.enterpriseId));
    // The near-limit enterprise's history makes it stand out among its peers: its peers deviation is expected.
    const nearLimit = (d: Dev) => d.enterpriseId === run.history.nearLimit && d.rule === 'peers';
    const others = devs.filter((d) => !planned.has(d.enterpriseId) && !nearLimit(d));
    say(
      `  ${others.length === 0 ? '✓' : '✗'} enterprises without a scenario: ${
        others.length === 0
          ? 'no deviation'
          : `${byRule(others)} on ${[...new Set(others.map((d) => d.enterpriseId))].sort().join(' ')}`
      }`,
    );
    for (const s of plan.scenarios) {
      const hits = devs.filter((d) => d.enterpriseId === s.enterpriseId);
      const rules = [...new Set(hits.map((d) => d.rule))].sort();
      const expected = s.expect.length ? s.expect.join(',') : 'none';
      // Exactly the expected rules on the scenario's enterprise (nothing for maintenance).
      const ok = s.expect.length
        ? [...s.expect].sort().join(',') === rules.join(',')
        : hits.length === 0 && devs.length > 0;
      say(
        `  ${ok ? '✓' : '✗'} ${s.kind.padEnd(13)} ${s.enterpriseId} (${s.description.zh}): expected ${expected}, got ${rules.join(',') || 'none'}`,
      );
    }
    const near = devs.filter((d) => d.enterpriseId === run.history.nearLimit);
    const nearRules = [...new Set(near.map((d) => d.rule))].sort();
    say(
      `  ${nearRules.join(',') === 'peers' ? '✓' : '✗'} ${'near-limit'.padEnd(13)} ${run.history.nearLimit} (history just below its limits): expected peers, got ${nearRules.join(',') || 'none'}`,
    );
  } catch (e) {
    say(`  not readable — ${(e as Error).message}`);
  }
}

say(
  'Cross-check / 交叉核验 (emissions against production energy, the simulated day against the 30 days before):',
);
for (const line of crossCheck) say(line);
say(
  'Peers / 同行比对 (each outlet against the other outlets of its process, the 30 days to the end of the simulated day):',
);
for (const line of peersCheck) say(line);
say(
  'Cross-device / 多设备一致性 (O2 against flow against temperature, and the devices of one stack, on the simulated day):',
);
for (const line of crossDeviceCheck) say(line);

say('Backfill / 数据补遗 (the gateway asked the loggers for the history of their offline gaps):');
if (!ready('hj212-gateway')) say('  not available — the gateway did not run');
else {
  const pool = new pg.Pool({ connectionString: env.OFFSITE_PG_URL, max: 1 });
  try {
    const rows = await pool.query<{ mn: string; cn: string; status: string; readings: number }>(
      `select mn, cn, status, readings from gateway_commands_v1
        where trigger = 'offline-closed' and requested_at >= $1 order by mn, cn`,
      [new Date(startedAt)],
    );
    if (rows.rows.length === 0) say('  no offline gap closed in this run');
    for (const r of rows.rows) {
      const what = r.cn === '2051' ? 'minute' : r.cn === '2061' ? 'hourly' : 'daily';
      say(`  ${r.mn} ${r.cn}: ${r.status}, ${fmt(r.readings)} ${what} windows sent back`);
    }
  } catch (e) {
    say(`  not readable — ${(e as Error).message}`);
  } finally {
    await pool.end();
  }
}

say('Cases and reminders / 案件与提醒:');
if (!ready('alerter')) say('  not available — the alerter did not run');
else {
  const pool = new pg.Pool({ connectionString: env.OFFSITE_PG_URL, max: 1 });
  try {
    const cases = await pool.query<{ rule: string; n: string }>(
      'select rule, count(*) n from alert_cases where updated_at >= $1 group by rule order by rule',
      [new Date(startedAt)],
    );
    say(`  cases: ${cases.rows.map((r) => `${r.rule} ${r.n}`).join(', ') || 'none'}`);
    say(
      `  alerter timers at ${fmt(run.timeScale)}× (policy ${relative(process.cwd(), run.policy)}, stated in event time; quiet hours off)`,
    );
    // The first rounds leave a group wait after the deviation (10 event min = 1.25 s at 480×),
    // resolution notices after the case resolved: wait for them, bounded, with a progress line.
    const notices = await resolutionNotices(run.policy);
    const t0 = Date.now();
    const deadline = t0 + run.reminderWaitS * 1000;
    let state = await readReminderState(pool, new Date(startedAt), run.outboxDir);
    let left = missing(state, notices);
    let lastProgress = 0;
    while (left.length > 0 && Date.now() < deadline) {
      if (Date.now() - lastProgress >= 2000) {
        lastProgress = Date.now();
        progress(
          `waiting for reminders (${Math.round((Date.now() - t0) / 1000)} s of at most ${run.reminderWaitS} s): ` +
            `${state.notes.length} notifications so far; missing: ${left.slice(0, 3).join('; ')}${left.length > 3 ? ` (+${left.length - 3})` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
      state = await readReminderState(pool, new Date(startedAt), run.outboxDir);
      left = missing(state, notices);
    }
    const waited = ((Date.now() - t0) / 1000).toFixed(1);
    const unsent = resolvedUnsent(state);
    say(
      `  ${left.length === 0 ? '✓' : '✗'} ${state.groups.length} notification groups: ` +
        (left.length === 0
          ? `every first round and resolution notice landed (waited ${waited} s)` +
            (unsent > 0 ? `; ${unsent} resolved before their first round, so nothing was sent (policy)` : '')
          : `after ${waited} s still missing: ${left.join('; ')}`),
    );
    say(`  notifications: ${countBy(state.notes, (n) => `${n.channel}/${n.status}`)}`);
    say(
      `  by kind: ${countBy(state.notes, (n) => (n.kind === 'reminder' ? `reminder round ${n.round}` : n.kind))}`,
    );
    const sample = await sampleReminder(state, 'treatment-idle', run.outboxDir);
    if (sample) {
      say(`  treatment-idle reminder (复工复产, ${relative(run.outboxDir, sample.file)}):`);
      say(`    ${sample.subject}`);
      for (const line of sample.text.split('\n')) say(`    │ ${line}`);
    } else say('  treatment-idle reminder: none in the outbox');
  } catch (e) {
    say(`  not readable — ${(e as Error).message}`);
  } finally {
    await pool.end();
  }
}
for (const [label, dir] of [
  ['outbox', run.outboxDir],
  ['SMTP sink', run.mailDir],
] as const) {
  const files = await filesSince(dir, startedAt);
  // The outbox writes one .json per message plus its .eml/.txt rendering: list every message.
  const messages = files.filter((f) => f.endsWith('.json'));
  const shown = label === 'outbox' ? messages : files.slice(0, 5);
  say(
    `  ${label} ${dir}: ${fmt(files.length)} files written during this run` +
      (label === 'outbox' ? ` (${fmt(messages.length)} messages as .json, each with its .eml/.txt)` : ''),
  );
  for (const f of shown.slice(0, 60)) say(`    ${relative(dir, f)}`);
  const more = (label === 'outbox' ? messages.length : files.length) - Math.min(shown.length, 60);
  if (more > 0) say(`    … and ${fmt(more)} more`);
}

say('Positive list / 正面清单 (as of the end of the simulated day):');
if (!ready('analyzer')) say('  not available — the analyzer did not run');
else {
  const pool = new pg.Pool({ connectionString: env.OFFSITE_PG_URL, max: 2 });
  try {
    const exceedance = plan.scenarios.find((s) => s.kind === 'exceedance')?.enterpriseId;
    for (const line of await positiveListSection(
      pool,
      simEnd,
      run.history,
      exceedance,
      run.confirmed,
      progress,
    ))
      say(line);
  } catch (e) {
    say(`  not readable — ${(e as Error).message}`);
  } finally {
    await pool.end();
  }
}

say('Console / 监管端:');
if (ready('console')) {
  // The summary is kept in a file: it names where the passwords are, never a password.
  say(`  ${run.consoleUrl}  login: supervisor, password in ${run.credentials} (mode 600, one per demo user)`);
} else say('  not available — the console did not start');
say('===========================================================================');
process.stdout.write(`${out.join('\n')}\n`);
