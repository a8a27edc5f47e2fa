// Registered devices that never reported, on the real servers: the analyzer's silent-devices round opens an
// `offline` deviation (deviation.v1 and the deviation log) for each enabled device silent for its threshold since it
// was first watched, none inside declared maintenance or while its enterprise is shut down, none twice; a device
// whose first report went through Kafka and the analyzer's checkpoint is never flagged, and a flagged one is resolved
// when it reports or is disabled.
import { telemetryEventId, type DeviationV1, type TelemetryV1 } from '@offsite/contracts';
import { silentLogger, until } from '@offsite/testing';
import type { Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import { createAnalyzer, type Analyzer } from '../src/app.js';
import {
  closeTestServers,
  jobTestAnalyzerOptions,
  openTestServers,
  produceTo,
  testResources,
} from './resources.js';

const MIN = 60_000;
const res = testResources('silent');
const { suffix, telemetryTopic, deviationTopic } = res;

const REPORTS = { ent: 'ent-0002', site: 'out-0002-g1', mn: '99010202FG00020000000001' };
const LATE = { ent: 'ent-0001', site: 'out-0001-g1', mn: '99010201FG00010000000001' };
const MAINTAINED = { ent: 'ent-0003', site: 'out-0003-w1', mn: '99010301WW00030000000001' };
const SHUT = 'ent-0004';
const DISABLED = '99010302WW00080000000001';

let kafka: Kafka;
let pool: pg.Pool;
let analyzer: Analyzer;
let collector: Consumer;
let now = 0;
let T0 = 0;
const events: DeviationV1[] = [];

function reading(mn: string, ent: string, site: string, t: number): TelemetryV1 {
  const base = {
    enterpriseId: ent,
    deviceId: mn,
    kind: 'emission' as const,
    interval: 'realtime' as const,
    dataTime: new Date(t).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: site,
    source: 'hj212',
    hj212: { st: '31', cn: '2011', version: '2017' },
    receivedAt: new Date(t + 1000).toISOString(),
    irregularities: [],
    measurements: [{ factor: 'a21002', stat: 'Rtd', value: 40, unit: 'mg/m3', flag: 'N' }],
  };
}

async function report(d: { mn: string; ent: string; site: string }, t: number): Promise<void> {
  await produceTo(kafka, telemetryTopic, [
    { key: d.ent, value: JSON.stringify(reading(d.mn, d.ent, d.site, t)) },
  ]);
  await until(
    async () =>
      (
        await pool.query(
          'select 1 from analyzer_device_watch where device_id = $1 and reported_at is not null',
          [d.mn],
        )
      ).rowCount === 1,
    30_000,
    `the first report of ${d.mn} checkpointed`,
  );
}

const watchRows = async () =>
  (
    await pool.query(
      'select device_id, deviation_id, revision, window_start, state from analyzer_device_watch order by device_id',
    )
  ).rows;

/**
 * Runs one round at `at` and returns the never-reported deviation events it produced (polled until the collector has
 * `expected` of them). A round that produces nothing leaves the watch table as it was.
 */
async function roundAt(at: number, expected: number): Promise<DeviationV1[]> {
  now = at;
  const before = events.length;
  const rows = await watchRows();
  await analyzer.runSilentDevices();
  if (expected === 0) expect(await watchRows()).toEqual(rows);
  await until(() => events.length - before >= expected, 30_000, `${expected} deviation events`);
  return events.slice(before);
}

beforeAll(async () => {
  const servers = await openTestServers(res, 'analyzer-silent-int');
  ({ kafka, pool } = servers);
  // Only this test's quiet periods: no registry maintenance or status history.
  await pool.query('delete from maintenance_windows');
  await pool.query('delete from enterprise_status_timeline');
  await pool.query(`update enterprises set status = 'normal'`);
  // Registered just now (created_at): the clock starts after it.
  T0 = Math.ceil((Date.now() + MIN) / MIN) * MIN;
  now = T0;
  await pool.query(
    `insert into maintenance_windows (id, enterprise_id, outlet_id, starts_at, ends_at, reason)
     values ('mw-silent', $1, $2, $3, $4, 'analyser replacement')`,
    [MAINTAINED.ent, MAINTAINED.site, new Date(T0 - 5 * MIN), new Date(T0 + 60 * MIN)],
  );
  await pool.query(
    `insert into enterprise_status_timeline (enterprise_id, status, effective_from) values ($1, 'shutdown', $2)`,
    [SHUT, new Date(T0 - 24 * 60 * MIN)],
  );
  await pool.query(`update enterprises set status = 'shutdown' where id = $1`, [SHUT]);
  await pool.query('update devices set enabled = false where mn = $1', [DISABLED]);
  collector = kafka.consumer({ groupId: `test-collector-${suffix}` });
  await collector.connect();
  await collector.subscribe({ topics: [deviationTopic], fromBeginning: true });
  await collector.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value!.toString()) as DeviationV1;
      // The engine's own offline deviations (data that stopped) are not this test's.
      if ((e.evidence.params as { neverReported?: boolean }).neverReported === true) events.push(e);
    },
  });
  analyzer = await createAnalyzer({
    ...jobTestAnalyzerOptions(res, servers, 'silent'),
    logger: silentLogger,
    clock: () => now,
  });
  await analyzer.start();
}, 60_000);

afterAll(() => closeTestServers(res, { kafka, pool }, analyzer, collector));

test('an enabled device that never reported is flagged offline once its threshold passed, except in maintenance, shutdown or disabled; once', async () => {
  await analyzer.runSilentDevices(); // starts watching every enabled device at T0
  await report(REPORTS, T0 + MIN);
  expect(await roundAt(T0 + 10 * MIN - 1000, 0)).toEqual([]);

  const all = await pool.query<{ mn: string; enterprise_id: string }>(
    'select d.mn, o.enterprise_id from devices d join outlets o on o.id = d.outlet_id where d.enabled',
  );
  const expected = all.rows
    .filter((d) => d.enterprise_id !== SHUT && d.mn !== MAINTAINED.mn && d.mn !== REPORTS.mn)
    .map((d) => d.mn)
    .sort();
  expect(expected.length).toBeGreaterThan(5);
  const opened = await roundAt(T0 + 10 * MIN, expected.length);
  expect(opened.map((e) => (e.evidence.params as { deviceId: string }).deviceId).sort()).toEqual(expected);
  for (const e of opened)
    expect(e).toMatchObject({
      rule: 'offline',
      state: 'opened',
      revision: 1,
      windowStart: new Date(T0).toISOString(),
    });
  expect(opened.find((e) => e.siteId === LATE.site)!.evidence.params).toMatchObject({
    neverReported: true,
    thresholdMs: 10 * MIN,
  });
  const log = await pool.query(
    `select id from analyzer_deviations where rule = 'offline' and state = 'opened'`,
  );
  expect(log.rows.map((r: { id: string }) => r.id).sort()).toEqual(opened.map((e) => e.id).sort());

  // The next rounds (the state is in Postgres, as after a restart) open nothing again.
  expect(await roundAt(T0 + 30 * MIN, 0)).toEqual([]);

  // Maintenance ended at T0 + 60 min: the outlet's device is flagged 10 min later, from the window's end.
  expect(await roundAt(T0 + 69 * MIN, 0)).toEqual([]);
  const maint = await roundAt(T0 + 70 * MIN, 1);
  expect(maint).toHaveLength(1);
  expect(maint[0]).toMatchObject({
    siteId: MAINTAINED.site,
    state: 'opened',
    windowStart: new Date(T0 + 60 * MIN).toISOString(),
  });
});

test('a flagged device that reports, or is disabled, has its offline deviation resolved', async () => {
  const flagged = await pool.query<{ deviation_id: string; device_id: string }>(
    `select deviation_id, device_id from analyzer_device_watch where state = 'opened' and device_id <> $1 order by device_id`,
    [LATE.mn],
  );
  const other = flagged.rows[0]!;
  await report(LATE, T0 + 75 * MIN);
  const reportedAt = T0 + 75 * MIN + 1000; // receivedAt
  await pool.query('update devices set enabled = false where mn = $1', [other.device_id]);
  const resolved = await roundAt(T0 + 80 * MIN, 2);
  expect(resolved).toHaveLength(2);
  const byDevice = new Map(resolved.map((e) => [(e.evidence.params as { deviceId: string }).deviceId, e]));
  expect(byDevice.get(LATE.mn)).toMatchObject({
    state: 'resolved',
    revision: 2,
    windowEnd: new Date(reportedAt).toISOString(),
  });
  expect(byDevice.get(LATE.mn)!.evidence.params).toMatchObject({ resumedAt: reportedAt });
  expect(byDevice.get(other.device_id)).toMatchObject({
    id: other.deviation_id,
    state: 'resolved',
    revision: 2,
  });
  expect(byDevice.get(other.device_id)!.evidence.params).toMatchObject({ endedBy: 'device-disabled' });
  expect(await roundAt(T0 + 90 * MIN, 0)).toEqual([]);
});
