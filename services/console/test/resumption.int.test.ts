// End to end across two services on the real servers: a district officer records a resumption
// (复工复产) in the console, and the analyzer, running as its own process on the same registry,
// reloads it on NOTIFY and marks the deviations that follow as in the resumption window.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { telemetryEventId, type DeviationV1, type TelemetryV1 } from '@offsite/contracts';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { createWorld, loginAs, sendAs, type World } from './fixture.js';

const analyzerDir = fileURLToPath(new URL('../../analyzer/', import.meta.url));
const MIN = 60_000;
const HOUR = 60 * MIN;
const D0 = Date.parse('2025-03-10T00:00:00+08:00');
const suffix = randomBytes(4).toString('hex');
const telemetryTopic = `test.resumption.telemetry.${suffix}`;
const deviationTopic = `test.resumption.deviation.${suffix}`;
const otherTopics = [`test.resumption.dlq.${suffix}`, `test.resumption.review.${suffix}`];

let w: World;
let kafka: Kafka;
let analyzer: ChildProcess;
let consumer: Consumer;
let analyzerLog = '';
const deviations: DeviationV1[] = [];

/** ent-0001's gas outlet, minute data every 10 minutes: NOx 80 (limit 50) from 10:00 to 12:00 Beijing time. */
function day(start: number): TelemetryV1[] {
  const out: TelemetryV1[] = [];
  for (let t = start, i = 0; t < start + 24 * HOUR; t += 10 * MIN, i++) {
    const high = t >= start + 10 * HOUR && t < start + 12 * HOUR;
    const base = {
      enterpriseId: 'ent-0001',
      deviceId: '99010201FG00010000000001',
      kind: 'emission' as const,
      interval: 'minute' as const,
      periodSeconds: 600,
      dataTime: new Date(t).toISOString(),
    };
    out.push({
      schema: 'telemetry.v1',
      eventId: telemetryEventId(base),
      ...base,
      siteId: 'out-0001-g1',
      source: 'hj212',
      hj212: { st: '31', cn: '2051', version: '2017' },
      receivedAt: new Date(t + MIN).toISOString(),
      irregularities: [],
      measurements: [
        { factor: 'a21002', stat: 'Avg', value: (high ? 80 : 20) + (i % 3), unit: 'mg/m3', flag: 'N' },
        { factor: 'a19001', stat: 'Avg', value: 6, unit: '%', flag: 'N' },
      ],
    });
  }
  return out;
}

async function produce(records: TelemetryV1[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: telemetryTopic,
      acks: -1,
      messages: records.map((r) => ({ key: r.enterpriseId, value: JSON.stringify(r) })),
    });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  w = await createWorld();
  kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'console-resumption-int',
    logger: silentLogger,
  });
  await ensureTopics(
    kafka,
    [telemetryTopic, deviationTopic, ...otherTopics].map((topic) => ({ topic, numPartitions: 1 })),
  );
  consumer = kafka.consumer({ groupId: `test-resumption-${suffix}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [deviationTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) =>
      void deviations.push(JSON.parse(message.value!.toString()) as DeviationV1),
  });
  analyzer = spawn(process.execPath, ['--conditions=offsite-source', '--import', 'tsx', 'src/main.ts'], {
    cwd: analyzerDir,
    env: {
      PATH: process.env.PATH ?? '',
      OFFSITE_LOG_LEVEL: 'info',
      OFFSITE_OPS_PORT: '0',
      OFFSITE_KAFKA_BROKERS: requireEnv('OFFSITE_KAFKA_BROKERS'),
      OFFSITE_PG_URL: requireEnv('OFFSITE_PG_URL'),
      OFFSITE_PG_SCHEMA: w.schema,
      OFFSITE_INFLUX_URL: requireEnv('OFFSITE_INFLUX_URL'),
      OFFSITE_INFLUX_TOKEN: process.env.OFFSITE_INFLUX_TOKEN ?? '',
      OFFSITE_INFLUX_ORG: process.env.OFFSITE_INFLUX_ORG ?? '-',
      OFFSITE_INFLUX_BUCKET: requireEnv('OFFSITE_INFLUX_BUCKET'),
      OFFSITE_ANALYZER_GROUP_ID: `analyzer-resumption-${suffix}`,
      OFFSITE_ANALYZER_TELEMETRY_TOPIC: telemetryTopic,
      OFFSITE_ANALYZER_DEVIATION_TOPIC: deviationTopic,
      OFFSITE_ANALYZER_DLQ_TOPIC: otherTopics[0]!,
      OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC: otherTopics[1]!,
      // Historical data: the watermark follows event time only.
      OFFSITE_ANALYZER_TICK_INTERVAL_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => (analyzerLog = (analyzerLog + d.toString()).slice(-20_000));
  analyzer.stdout?.on('data', keep);
  analyzer.stderr?.on('data', keep);
  await until(() => analyzerLog.includes('all components started'), 120_000, 'the analyzer running');
});

afterAll(async () => {
  if (analyzer && analyzer.exitCode === null) {
    const exited = new Promise((r) => analyzer.once('exit', r));
    analyzer.kill('SIGTERM');
    await exited;
  }
  await consumer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [telemetryTopic, deviationTopic, ...otherTopics] })
    .catch(() => undefined);
  await admin.disconnect();
  await w?.close();
});

const opened = (dayStart: number) =>
  deviations.find(
    (d) =>
      d.rule === 'exceedance' &&
      d.enterpriseId === 'ent-0001' &&
      Date.parse(d.windowStart) >= dayStart &&
      Date.parse(d.windowStart) < dayStart + 24 * HOUR,
  );

test('a resumption recorded in the console opens the resumption window of the deviations that follow', async () => {
  // Day 1: no resumption in the registry.
  await produce(day(D0));
  await until(() => opened(D0) !== undefined, 60_000, 'the first day’s exceedance');
  expect(opened(D0)!.inResumptionWindow).toBe(false);

  // The officer records 复工复产 from the second day; the analyzer hears registry_changed and reloads.
  const reloads = analyzerLog.split('registry reloaded into the engines').length;
  const s = await loginAs(w.base, 'officer-dist-landong');
  const r = await sendAs<{ state: string }>(w.base, s, 'POST', '/api/enterprises/ent-0001/status', {
    status: 'resuming',
    effectiveFrom: '2025-03-11T00:00:00+08:00',
    resumptionDate: '2025-03-11',
  });
  expect(r).toEqual({ status: 200, body: { state: 'applied' } });
  await until(
    () => analyzerLog.split('registry reloaded into the engines').length > reloads,
    30_000,
    'the analyzer reloading the registry',
  );

  // Day 2: the same exceedance, now inside the resumption window.
  await produce(day(D0 + 24 * HOUR));
  await until(() => opened(D0 + 24 * HOUR) !== undefined, 60_000, 'the second day’s exceedance');
  expect(opened(D0 + 24 * HOUR)!.inResumptionWindow).toBe(true);
});
