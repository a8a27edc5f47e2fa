// The analyzer in-process on the real servers: a permit limit changed in Postgres is used by the next
// evaluation without a restart; the rated-energy job derives unconfigured meters' rated window energy
// from the energy data in InfluxDB; the stability job computes the metrics regulation reads, counting
// the falsifications a supervisor confirmed through the console's review.decision.v1 events.
import {
  telemetryEventId,
  type DeviationV1,
  type ReviewDecisionV1,
  type TelemetryDlqV1,
  type TelemetryV1,
} from '@offsite/contracts';
import type { StabilityMetrics } from '@offsite/domain';
import { toLine, type InfluxWriter } from '@offsite/influx';
import { createMemoryLogger } from '@offsite/runtime';
import { until } from '@offsite/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { loadRegistrySnapshot } from '@offsite/store';
import type pg from 'pg';
import { aggregatePoint } from '../src/aggregate-points.js';
import { recordDeviations, recordLastSeen } from '../src/analyzer-db.js';
import { createAnalyzer, type Analyzer } from '../src/app.js';
import { writeHistory } from '../src/history.js';
import { runStabilityJob } from '../src/stability-job.js';
import { meterEnergyLines } from './energy.js';
import {
  closeTestServers,
  jobTestAnalyzerOptions,
  openTestServers,
  produceTo,
  testResources,
  type TestServers,
} from './resources.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const D0 = Date.parse('2025-03-10T00:00:00+08:00');
const NOW = D0 + 48 * HOUR;
const ENT2 = { ent: 'ent-0002', site: 'out-0002-g1', mn: '99010202FG00020000000001' }; // NOx limit 150, ref O2 3.5
const res = testResources('jobs');
const { telemetryTopic, deviationTopic, dlqTopic, reviewTopic, suffix } = res;

let kafka: Kafka;
let pool: pg.Pool;
let writer: InfluxWriter;
let analyzer: Analyzer;
let servers: TestServers;
let collector: Consumer;
const events: DeviationV1[] = [];
const dlqRecords: TelemetryDlqV1[] = [];
const logger = createMemoryLogger();

/** A 10-minute reading of ent-0002: NOx 100 at O2 5.5/6.5 % → converted ≈ 116.7 at the 3.5 % reference. */
function reading(t: number, i: number): TelemetryV1 {
  const base = {
    enterpriseId: ENT2.ent,
    deviceId: ENT2.mn,
    kind: 'emission' as const,
    interval: 'minute' as const,
    periodSeconds: 600,
    dataTime: new Date(t).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: ENT2.site,
    source: 'hj212',
    hj212: { st: '31', cn: '2051', version: '2017' },
    receivedAt: new Date(t + 10 * MIN).toISOString(),
    irregularities: [],
    measurements: [
      { factor: 'a21002', stat: 'Avg', value: 100 + ((i % 3) - 1), unit: 'mg/m3', flag: 'N' },
      { factor: 'a19001', stat: 'Avg', value: i % 2 === 0 ? 5.5 : 6.5, unit: '%', flag: 'N' },
    ],
  };
}

const readings = (fromHour: number, toHour: number): TelemetryV1[] => {
  const out: TelemetryV1[] = [];
  for (let t = D0 + fromHour * HOUR, i = fromHour * 6; t < D0 + toHour * HOUR; t += 10 * MIN, i++)
    out.push(reading(t, i));
  return out;
};

async function produce(records: TelemetryV1[]): Promise<void> {
  await produceTo(
    kafka,
    telemetryTopic,
    records.map((r) => ({ key: r.enterpriseId, value: JSON.stringify(r) })),
  );
}

async function checkpointed(): Promise<number> {
  const res = await pool.query<{ n: string | null }>(
    'select sum(next_offset)::text as n from analyzer_checkpoints where topic = $1',
    [telemetryTopic],
  );
  return Number(res.rows[0]?.n ?? 0);
}

const reloads = () => logger.entries.filter((e) => e.message === 'registry reloaded into the engines').length;

beforeAll(async () => {
  servers = await openTestServers(res, 'analyzer-jobs-int');
  ({ kafka, pool, writer } = servers);
  collector = kafka.consumer({ groupId: `test-collector-${suffix}` });
  await collector.connect();
  await collector.subscribe({ topics: [deviationTopic, dlqTopic], fromBeginning: true });
  await collector.run({
    eachMessage: async ({ topic, message }) => {
      const doc: unknown = JSON.parse(message.value!.toString());
      if (topic === dlqTopic) dlqRecords.push(doc as TelemetryDlqV1);
      else events.push(doc as DeviationV1);
    },
  });
  analyzer = await createAnalyzer({
    ...jobTestAnalyzerOptions(res, servers, 'jobs'),
    logger,
    clock: () => NOW,
  });
  await analyzer.start();
}, 60_000);

afterAll(() => closeTestServers(res, { kafka, pool }, analyzer, collector));

test('a permit limit lowered in Postgres is used by the next evaluation, without a restart', async () => {
  const first = readings(0, 4);
  await produce(first);
  await until(async () => (await checkpointed()) >= first.length, 60_000, 'first hours processed');
  // Hours 0–2 were judged (closed by the watermark) against 150: no exceedance.
  const judged = await pool.query<{ n: string }>(
    'select count(*)::text as n from analyzer_checkpoints where max_event_time >= $1',
    [D0 + 4 * HOUR],
  );
  expect(judged.rows[0]?.n).toBe('1');
  expect(events.filter((e) => e.rule === 'exceedance')).toEqual([]);

  const before = reloads();
  await pool.query(
    `update permit_limits set value = 100 where outlet_id = $1 and factor_code = 'a21002' and basis = 'hourly'`,
    [ENT2.site],
  );
  await until(async () => reloads() > before, 30_000, 'registry reload after NOTIFY');

  const second = readings(4, 8);
  await produce(second);
  await until(
    async () => (await checkpointed()) >= first.length + second.length,
    60_000,
    'next hours processed',
  );
  await until(async () => events.some((e) => e.rule === 'exceedance'), 30_000, 'exceedance event');
  const exc = events.filter((e) => e.rule === 'exceedance');
  expect(new Set(exc.map((e) => e.id)).size).toBe(1);
  expect(exc[0]).toMatchObject({
    state: 'opened',
    enterpriseId: ENT2.ent,
    siteId: ENT2.site,
    factor: 'a21002',
  });
  // The registry carries no validity dates for limits: when the site's windows are next recomputed,
  // the new limit applies to every hour still inside the engine's lateness horizon, hour 0 included.
  expect(exc[0]!.windowStart).toBe(new Date(D0).toISOString());
  expect(exc[0]!.evidence.values[0]).toMatchObject({ limit: 100 });
  expect(exc[0]!.evidence.values[0]!.value).toBeCloseTo(116.667, 2);

  // The deviation log and last-seen time the stability job reads were written with the checkpoints.
  const log = await pool.query('select id, rule, revision from analyzer_deviations where rule = $1', [
    'exceedance',
  ]);
  expect(log.rows.map((r) => r.id)).toEqual([exc[0]!.id]);
  const seen = await pool.query<{ t: Date }>(
    'select last_received_at as t from analyzer_last_seen where enterprise_id = $1',
    [ENT2.ent],
  );
  expect(seen.rows[0]?.t.getTime()).toBe(D0 + 8 * HOUR); // receivedAt of the last reading (7:50 + 10 min)
});

test('rated window energy is derived from the energy data for meters the registry leaves unconfigured', async () => {
  // mtr-0002-p1: 3 days of minute data, rated 5 kWh per window (test/energy.ts).
  const lines = meterEnergyLines(ENT2.ent, 'mtr-0002-p1', NOW - 3 * 24 * HOUR, NOW);
  for (let i = 0; i < lines.length; i += 5000) await writer.write(lines.slice(i, i + 5000));

  const before = reloads();
  await analyzer.runRatedEnergy();
  const rows = await pool.query<{ meter_id: string; rated_kwh: number; windows_used: number }>(
    'select meter_id, rated_kwh, windows_used from analyzer_rated_energy order by meter_id',
  );
  expect(rows.rows).toEqual([{ meter_id: 'mtr-0002-p1', rated_kwh: 5, windows_used: expect.any(Number) }]);
  expect(rows.rows[0]!.windows_used).toBeGreaterThan(150);
  // mtr-0001-p1 has a configured value (180) and was left alone; the engines got the derived one.
  expect(reloads()).toBeGreaterThan(before);
});

test('stability metrics per outlet and enterprise from the hourly aggregates and the deviation log', async () => {
  // ent-0001, out-0001-g1: limits on a21026, a21002, a34013 → 3 × 48 expected hours in the 2-day window.
  // a21026: 4 hours missing; a34013: 6 hours invalid; a21002: one hour at 60 (limit 50).
  const lines: string[] = [];
  for (let h = 0; h < 48; h++) {
    const start = D0 + h * HOUR;
    for (const factor of ['a21026', 'a21002', 'a34013']) {
      if (factor === 'a21026' && h < 4) continue;
      const valid = !(factor === 'a34013' && h >= 10 && h < 16);
      const value = factor === 'a21002' && h === 20 ? 60 : 5;
      lines.push(
        toLine(
          aggregatePoint({
            type: 'aggregate',
            enterpriseId: 'ent-0001',
            siteId: 'out-0001-g1',
            factor,
            interval: 'hour',
            start,
            value,
            convertedValue: value,
            valid,
            flag: valid ? 'N' : 'D',
            coverage: 1,
          }),
        ),
      );
    }
  }
  await writer.write(lines);
  const windowStart = D0 + 20 * HOUR;
  await recordDeviations(pool, [
    {
      rule: 'exceedance',
      severity: 'medium',
      output: {
        type: 'deviation',
        id: 'dev-stability-test-1',
        rule: 'exceedance',
        state: 'resolved',
        revision: 2,
        severity: 'minor',
        enterpriseId: 'ent-0001',
        siteId: 'out-0001-g1',
        factor: 'a21002',
        subject: 'a21002',
        windowStart,
        windowEnd: windowStart + HOUR,
        suspectedFalsification: false,
        inResumptionWindow: false,
        evidence: {},
      },
    },
  ]);

  await analyzer.runStability();
  const res = await pool.query<{
    enterprise_id: string;
    site_id: string;
    window_from: Date;
    window_to: Date;
    metrics: StabilityMetrics;
    stably_compliant: boolean;
    last_received_at: Date | null;
  }>(
    `select * from analyzer_stability where enterprise_id in ('ent-0001', 'ent-0002') order by enterprise_id, site_id`,
  );
  const byKey = new Map(res.rows.map((r) => [`${r.enterprise_id}|${r.site_id}`, r]));
  const outlet = byKey.get('ent-0001|out-0001-g1');
  expect(outlet).toBeDefined();
  expect(outlet!.window_from.getTime()).toBe(NOW - 48 * HOUR);
  expect(outlet!.window_to.getTime()).toBe(NOW);
  expect(outlet!.metrics).toMatchObject({
    expected: 144,
    received: 140,
    valid: 134,
    judgedValidHours: 134,
    compliantValidHours: 133,
    exceedanceWindows: 1,
    confirmedFalsifications: 0,
  });
  expect(outlet!.metrics.effectiveTransmissionRate).toBeCloseTo(134 / 144, 6);
  expect(outlet!.stably_compliant).toBe(false);
  expect(outlet!.last_received_at).toBeNull(); // ent-0001 sent nothing through Kafka in this test
  expect(byKey.get('ent-0001|')!.metrics).toEqual(outlet!.metrics);
  // ent-0002 sent 8 hours of NOx only: far below 90 % effective transmission; its last-seen time is carried.
  const ent2 = byKey.get('ent-0002|')!;
  expect(ent2.stably_compliant).toBe(false);
  expect(ent2.metrics.effectiveTransmissionRate).toBeLessThan(0.1);
  expect(ent2.last_received_at?.getTime()).toBe(D0 + 8 * HOUR);
});

test('a falsification a supervisor confirmed (review.decision.v1) counts in the stability metrics; repeats and older decisions change nothing', async () => {
  const windowStart = D0 + 30 * HOUR;
  await recordDeviations(pool, [
    {
      rule: 'flatline',
      severity: 'high',
      output: {
        type: 'deviation',
        id: 'dev-falsification-test-1',
        rule: 'flatline',
        state: 'opened',
        revision: 1,
        severity: 'major',
        enterpriseId: 'ent-0001',
        siteId: 'out-0001-g1',
        factor: 'a21026',
        subject: 'a21026',
        windowStart,
        suspectedFalsification: true,
        inResumptionWindow: false,
        evidence: {},
      },
    },
  ]);
  const decision = (
    sequence: number,
    d: Pick<ReviewDecisionV1, 'action' | 'reviewState' | 'decision'>,
  ): ReviewDecisionV1 => ({
    schema: 'review.decision.v1',
    id: `dev-falsification-test-1:${sequence}`,
    deviationId: 'dev-falsification-test-1',
    sequence,
    enterpriseId: 'ent-0001',
    ...d,
    suspectedFalsification: true,
    decidedAt: new Date(NOW - HOUR + sequence * 1000).toISOString(),
  });
  const confirmed = decision(5, { action: 'confirm', reviewState: 'confirmed', decision: 'penalty' });
  const older = decision(3, { action: 'acknowledge', reviewState: 'acknowledged' });
  await produceTo(kafka, reviewTopic, [
    { key: 'ent-0001', value: JSON.stringify(confirmed) },
    { key: 'ent-0001', value: JSON.stringify(older) },
    { key: 'ent-0001', value: '{"schema":"review.decision.v1","id":"x"' },
    { key: 'ent-0001', value: JSON.stringify(confirmed) },
  ]);
  await until(() => dlqRecords.length >= 1, 30_000, 'the bad review decision in the DLQ');
  const row = await pool.query<{ sequence: string; review_state: string }>(
    `select sequence::text, review_state from analyzer_review_decisions where deviation_id = 'dev-falsification-test-1'`,
  );
  expect(row.rows).toEqual([{ sequence: '5', review_state: 'confirmed' }]);
  expect(dlqRecords).toHaveLength(1);
  expect(dlqRecords[0]!.reason.code).toBe('analyzer.json-invalid');
  expect(dlqRecords[0]!.origin).toMatchObject({ transport: 'kafka', topic: reviewTopic });

  await analyzer.runStability();
  const res = await pool.query<{ metrics: StabilityMetrics }>(
    `select metrics from analyzer_stability where enterprise_id = 'ent-0001' and site_id = 'out-0001-g1'`,
  );
  expect(res.rows[0]!.metrics.confirmedFalsifications).toBe(1);
});

test('a confirmed falsification still counts after its case is closed, whatever order the decisions arrive in', async () => {
  const ids = ['dev-falsification-closed', 'dev-falsification-late-confirm'];
  await recordDeviations(
    pool,
    ids.map((id, i) => ({
      rule: 'flatline',
      severity: 'high',
      output: {
        type: 'deviation' as const,
        id,
        rule: 'flatline' as const,
        state: 'resolved' as const,
        revision: 2,
        severity: 'major' as const,
        enterpriseId: 'ent-0001',
        siteId: 'out-0001-g1',
        factor: 'a34013',
        subject: 'a34013',
        windowStart: D0 + (36 + i) * HOUR,
        windowEnd: D0 + (36 + i) * HOUR + 30 * MIN,
        suspectedFalsification: true,
        inResumptionWindow: false,
        evidence: {},
      },
    })),
  );
  const decision = (
    deviationId: string,
    sequence: number,
    d: Pick<ReviewDecisionV1, 'action' | 'reviewState' | 'decision'>,
  ): { key: string; value: string } => ({
    key: 'ent-0001',
    value: JSON.stringify({
      schema: 'review.decision.v1',
      id: `${deviationId}:${sequence}`,
      deviationId,
      sequence,
      enterpriseId: 'ent-0001',
      ...d,
      suspectedFalsification: true,
      decidedAt: new Date(NOW - HOUR + sequence * 1000).toISOString(),
    } satisfies ReviewDecisionV1),
  });
  const confirm = { action: 'confirm', reviewState: 'confirmed', decision: 'penalty' } as const;
  const close = { action: 'close', reviewState: 'closed' } as const;
  // The first case is confirmed, then closed; the second's closing decision arrives before its confirmation.
  await produceTo(kafka, reviewTopic, [decision(ids[0]!, 11, confirm), decision(ids[0]!, 12, close)]);
  await produceTo(kafka, reviewTopic, [decision(ids[1]!, 22, close), decision(ids[1]!, 21, confirm)]);
  const rows = async () =>
    (
      await pool.query<{ deviation_id: string; sequence: string; review_state: string; confirmed: boolean }>(
        `select deviation_id, sequence::text, review_state, confirmed_at is not null as confirmed
           from analyzer_review_decisions where deviation_id = any($1) order by deviation_id`,
        [ids],
      )
    ).rows;
  await until(
    async () => (await rows()).filter((r) => r.confirmed).length === 2,
    30_000,
    'both confirmations consumed',
  );
  // The latest decision stays the closing one; the confirmation is kept beside it.
  expect(await rows()).toEqual([
    { deviation_id: ids[0], sequence: '12', review_state: 'closed', confirmed: true },
    { deviation_id: ids[1], sequence: '22', review_state: 'closed', confirmed: true },
  ]);

  await analyzer.runStability();
  const res = await pool.query<{ metrics: StabilityMetrics; stably_compliant: boolean }>(
    `select metrics, stably_compliant from analyzer_stability where enterprise_id = 'ent-0001' and site_id = 'out-0001-g1'`,
  );
  // dev-falsification-test-1 (previous test) and these two closed cases.
  expect(res.rows[0]!.metrics.confirmedFalsifications).toBe(3);
  expect(res.rows[0]!.stably_compliant).toBe(false);
});

test('the compliance rate judges a wastewater outlet by its daily-basis limits', async () => {
  // ent-0003, out-0003-w1: COD (w01018) limit 60 mg/L, daily basis. 48 valid hours of COD in the 2-day window;
  // day 1's mean 50 is compliant (its first hours read 65), day 2's mean 70 is not. The day before the window is
  // also above the limit but none of its hours is in the window.
  const lines: string[] = [];
  const point = (interval: 'hour' | 'day', start: number, value: number) =>
    toLine(
      aggregatePoint({
        type: 'aggregate',
        enterpriseId: 'ent-0003',
        siteId: 'out-0003-w1',
        factor: 'w01018',
        interval,
        start,
        value,
        convertedValue: null,
        valid: true,
        flag: 'N',
        coverage: 1,
      }),
    );
  for (let h = 0; h < 48; h++) lines.push(point('hour', D0 + h * HOUR, h < 3 ? 65 : h < 24 ? 49 : 70));
  lines.push(point('day', D0 - 24 * HOUR, 90), point('day', D0, 50), point('day', D0 + 24 * HOUR, 70));
  await writer.write(lines);

  await analyzer.runStability();
  const res = await pool.query<{ metrics: StabilityMetrics }>(
    `select metrics from analyzer_stability where enterprise_id = 'ent-0003' and site_id = 'out-0003-w1'`,
  );
  // Four daily-basis factors are monitored (COD, NH3-N, TP, pH); only COD reported.
  expect(res.rows[0]!.metrics).toMatchObject({
    expected: 4 * 48,
    received: 48,
    valid: 48,
    judgedValidHours: 48,
    compliantValidHours: 24,
    complianceRate: 0.5,
  });
});

test('a stability round as of a simulated time judges the backfilled history, last received from the data', async () => {
  // ent-0006, out-0006-g1: 3 monitored factors; the 2-day window before AS_OF, far after the other tests' data.
  const AS_OF = D0 + 20 * 24 * HOUR;
  const snapshot = await loadRegistrySnapshot(pool);
  const ent = snapshot.enterprises.find((e) => e.id === 'ent-0006')!;
  const { query, bucket } = jobTestAnalyzerOptions(res, servers, 'jobs');
  // An earlier run's aggregate inside the silent stretch: the backfill deletes it.
  await writer.write([
    toLine(
      aggregatePoint({
        type: 'aggregate',
        enterpriseId: 'ent-0006',
        siteId: 'out-0006-g1',
        factor: 'a21026',
        interval: 'hour',
        start: AS_OF - 2 * HOUR,
        value: 5,
        convertedValue: 5,
        valid: true,
        flag: 'N',
        coverage: 1,
      }),
    ),
  ]);
  // Every 5th hour missing, silent for the last 30 h: hours 0–17 of the window, 4, 9 and 14 missing → 15 per factor.
  const points = await writeHistory(
    { query, bucket, writer },
    [ent],
    AS_OF - 48 * HOUR,
    AS_OF,
    new Map([['ent-0006', { missingEvery: 5, silentFrom: AS_OF - 30 * HOUR }]]),
  );
  // 15 hours × 3 factors, plus the daily aggregate of each factor on the window's first day (the second is silent).
  expect(points).toBe(48);
  // A receipt at the wall clock of the replay: not what "last received" means as of AS_OF.
  await recordLastSeen(pool, new Map([['ent-0006', Date.now()]]));
  const result = await runStabilityJob(
    {
      db: pool,
      query,
      bucket,
      windowDays: 2,
      policy: { minEffectiveTransmissionRate: 0.9 },
      logger,
      lastReceived: 'data',
    },
    { ...snapshot, enterprises: [ent] },
    AS_OF + 20 * MIN,
  );
  expect(result).toEqual({ enterprises: 1, failed: 0 });
  const row = await pool.query<{ window_to: Date; metrics: StabilityMetrics; last_received_at: Date | null }>(
    `select window_to, metrics, last_received_at from analyzer_stability where enterprise_id = 'ent-0006' and site_id = ''`,
  );
  expect(row.rows[0]!.window_to.getTime()).toBe(AS_OF);
  expect(row.rows[0]!.metrics).toMatchObject({
    expected: 144,
    received: 45,
    valid: 45,
    exceedanceWindows: 0,
  });
  expect(row.rows[0]!.metrics.effectiveTransmissionRate).toBeCloseTo(45 / 144, 9);
  // The latest hour with data is hour 17 of the window: it ended 30 h before AS_OF.
  expect(row.rows[0]!.last_received_at?.getTime()).toBe(AS_OF - 30 * HOUR);
});

test('the compliance counts per Asia/Shanghai month: hours on each side of the 1st, invalid and maintenance hours not judged', async () => {
  // ent-0006, out-0006-g1, a21026 only, the 12 hours around 2026-11-01 00:00 Shanghai (= 2026-10-31T16:00Z).
  const BOUNDARY = Date.parse('2026-10-31T16:00:00Z');
  const snapshot = await loadRegistrySnapshot(pool);
  const base = snapshot.enterprises.find((e) => e.id === 'ent-0006')!;
  const limit = base.outlets.find((o) => o.id === 'out-0006-g1')!.limits.find((l) => l.factor === 'a21026')!;
  const ok = limit.value / 2;
  const over = limit.value * 2;
  // October (6 h before): ok, over, ok, invalid(over), ok, ok → judged 5, compliant 4.
  // November (6 h after): over in declared maintenance, ok, over, ok, ok, invalid(ok) → judged 4, compliant 3.
  const oct = [ok, over, ok, over, ok, ok];
  const nov = [over, ok, over, ok, ok, ok];
  const point = (start: number, value: number, valid: boolean) =>
    toLine(
      aggregatePoint({
        type: 'aggregate',
        enterpriseId: 'ent-0006',
        siteId: 'out-0006-g1',
        factor: 'a21026',
        interval: 'hour',
        start,
        value,
        convertedValue: value,
        valid,
        flag: valid ? 'N' : 'D',
        coverage: 1,
      }),
    );
  await writer.write([
    ...oct.map((v, i) => point(BOUNDARY - (6 - i) * HOUR, v, i !== 3)),
    ...nov.map((v, i) => point(BOUNDARY + i * HOUR, v, i !== 5)),
  ]);
  const ent = {
    ...base,
    maintenanceWindows: [
      {
        id: 'mw-month-test',
        deviceMn: null,
        outletId: 'out-0006-g1',
        from: new Date(BOUNDARY + 15 * MIN).toISOString(),
        to: new Date(BOUNDARY + 45 * MIN).toISOString(),
        reason: '比对监测',
        source: 'registry' as const,
      },
    ],
  };
  const { query, bucket } = jobTestAnalyzerOptions(res, servers, 'jobs');
  const opts = {
    db: pool,
    query,
    bucket,
    windowDays: 1,
    policy: { minEffectiveTransmissionRate: 0.9 },
    logger,
    lastReceived: 'data' as const,
  };
  const read = async () =>
    (
      await pool.query<{
        site_id: string;
        month: string;
        hours_from: Date;
        hours_to: Date;
        compliant_valid_hours: number;
        judged_valid_hours: number;
      }>(
        `select site_id, month, hours_from, hours_to, compliant_valid_hours, judged_valid_hours
           from analyzer_compliance_months_v1
          where enterprise_id = 'ent-0006' and month >= '2026-10' order by site_id, month`,
      )
    ).rows.map((r) => [
      r.site_id,
      r.month,
      r.hours_from.toISOString(),
      r.hours_to.toISOString(),
      r.compliant_valid_hours,
      r.judged_valid_hours,
    ]);
  // As of 06:00 Shanghai on Nov 1: the 1-day window covers Oct 31 06:00 – Nov 1 06:00 Shanghai.
  await runStabilityJob(opts, { ...snapshot, enterprises: [ent] }, BOUNDARY + 6 * HOUR);
  const first = await read();
  const octFrom = new Date(BOUNDARY - 18 * HOUR).toISOString();
  const novFrom = new Date(BOUNDARY).toISOString();
  const novTo = new Date(BOUNDARY + 6 * HOUR).toISOString();
  expect(first).toEqual([
    ['', '2026-10', octFrom, novFrom, 4, 5],
    ['', '2026-11', novFrom, novTo, 3, 4],
    ['out-0006-g1', '2026-10', octFrom, novFrom, 4, 5],
    ['out-0006-g1', '2026-11', novFrom, novTo, 3, 4],
  ]);
  // Twelve hours later October is only partly in the window: its fuller row stays; November is replaced.
  await runStabilityJob(opts, { ...snapshot, enterprises: [ent] }, BOUNDARY + 18 * HOUR);
  const later = await read();
  expect(later.filter((r) => r[1] === '2026-10')).toEqual(first.filter((r) => r[1] === '2026-10'));
  expect(later.filter((r) => r[1] === '2026-11')).toEqual([
    ['', '2026-11', novFrom, new Date(BOUNDARY + 18 * HOUR).toISOString(), 3, 4],
    ['out-0006-g1', '2026-11', novFrom, new Date(BOUNDARY + 18 * HOUR).toISOString(), 3, 4],
  ]);
});
