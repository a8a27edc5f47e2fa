import { randomBytes, randomUUID } from 'node:crypto';
import { telemetryEventId, type TelemetryDlqV1, type TelemetryV1 } from '@offsite/contracts';
import { createInfluxClient, ensureDatabase1x } from '@offsite/influx';
import { createBatchConsumer, createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import {
  influxql,
  readyStatus,
  requireEnv,
  runService,
  silentLogger,
  startProxy,
  until,
  type ServiceProcess,
} from '@offsite/testing';

/** The service's package directory (runService starts `src/main.ts` there). */
const serviceDir = new URL('..', import.meta.url);

const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const influxUrl = requireEnv('OFFSITE_INFLUX_URL');
const token = process.env.OFFSITE_INFLUX_TOKEN ?? '';
const kafka = createKafkaClient({
  brokers: brokers.split(','),
  clientId: 'influx-writer-int',
  logger: silentLogger,
});
const influx = createInfluxClient({ url: influxUrl, token, org: '-', bucket: 'x' }, silentLogger);
const run = randomUUID().slice(0, 8);
const topic = `test.telemetry.${run}`;
const dlqTopic = `test.dlq.${run}`;
const lateTopic = `test.late.${run}`;
const db = `test_${randomBytes(6).toString('hex')}`;
const producer = createDurableProducer(kafka, { logger: silentLogger });
const children: ServiceProcess[] = [];

const factors = ['a21026', 'a21002'] as const;
/** Reading i: enterprise i % 5, hourly data, two factors with Avg/Min/Max; values derived from i. */
function reading(i: number): TelemetryV1 {
  const enterpriseId = `ent-${i % 5}`;
  const base = {
    enterpriseId,
    deviceId: `MN${i % 5}`,
    kind: 'emission' as const,
    interval: 'hour' as const,
    dataTime: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: `DA00${i % 5}`,
    source: 'hj212',
    hj212: { st: '31', cn: '2061', version: '2017' },
    receivedAt: '2024-06-01T00:00:00Z',
    irregularities: [],
    measurements: factors.flatMap((factor, f) => [
      { factor, stat: 'Avg' as const, value: i + f / 10, unit: 'mg/m3', flag: 'N' },
      { factor, stat: 'Min' as const, value: i - 1, unit: 'mg/m3', flag: 'N' },
      { factor, stat: 'Max' as const, value: i + 1.25, unit: 'mg/m3', flag: 'N' },
    ]),
  };
}
async function send(from: number, to: number): Promise<void> {
  // In chunks: one produce request must stay under the broker's message.max.bytes.
  for (let a = from; a < to; a += 500) {
    const readings = Array.from({ length: Math.min(500, to - a) }, (_, k) => reading(a + k));
    await producer.send(
      topic,
      readings.map((r) => ({ key: r.enterpriseId, value: JSON.stringify(r) })),
    );
  }
}

const countPoints = async (): Promise<number> => {
  const rows = await influxql(influxUrl, token, db, 'SELECT count("Avg") FROM "emission"');
  if (process.env.OFFSITE_TEST_DEBUG) process.stderr.write(`count ${JSON.stringify(rows)}\n`);
  return Number(rows[0]?.count ?? 0);
};

function service(env: Record<string, string> = {}): ServiceProcess {
  const s = runService(serviceDir, {
    OFFSITE_KAFKA_BROKERS: brokers,
    OFFSITE_INFLUX_URL: influxUrl,
    OFFSITE_INFLUX_TOKEN: token,
    OFFSITE_INFLUX_ORG: '-',
    OFFSITE_INFLUX_BUCKET: `${db}/autogen`,
    OFFSITE_TELEMETRY_TOPIC: topic,
    OFFSITE_DLQ_TOPIC: dlqTopic,
    OFFSITE_WRITER_LATE_TOPIC: lateTopic,
    OFFSITE_INFLUX_WRITER_GROUP: `influx-writer-int-${run}`,
    OFFSITE_BATCH_MAX_POINTS: '500',
    OFFSITE_BATCH_MAX_DELAY_MS: '100',
    OFFSITE_RETRY_INITIAL_MS: '100',
    OFFSITE_RETRY_MAX_MS: '1000',
    // A killed member's partitions move after the session timeout: keep it short for the test.
    OFFSITE_KAFKA_SESSION_TIMEOUT_MS: '6000',
    OFFSITE_LOG_LEVEL: process.env.OFFSITE_TEST_DEBUG ? 'debug' : 'info',
    ...env,
  });
  children.push(s);
  return s;
}

beforeAll(async () => {
  await ensureTopics(kafka, [
    { topic, numPartitions: 3 },
    { topic: dlqTopic, numPartitions: 1 },
    { topic: lateTopic, numPartitions: 1 },
  ]);
  await ensureDatabase1x(influx, db);
  await producer.connect();
});

afterAll(async () => {
  if (process.env.OFFSITE_TEST_DEBUG)
    for (const c of children) process.stderr.write(c.logs.slice(-40).join('\n') + '\n');
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.kill9();
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlqTopic, lateTopic] }).catch(() => undefined);
  await admin.disconnect();
  await influxql(influxUrl, token, db, `DROP DATABASE "${db}"`);
});

describe('influx-writer as a process against the real Kafka and InfluxDB', () => {
  it('writes every reading exactly as sent; a kill -9 mid-stream and a restart lose and double nothing; bad input lands in the DLQ', async () => {
    // Malformed corpus, interleaved with good data.
    const corpus: { value: Buffer | string; reason: string }[] = [
      { value: '{"schema":"telemetry.v1",', reason: 'json.invalid' },
      { value: '', reason: 'json.invalid' },
      { value: Buffer.from([0xff, 0xfe, 0x00, 0x01]), reason: 'json.invalid' },
      { value: '##0101QN=20240101;ST=31&&', reason: 'json.invalid' },
      { value: '[]', reason: 'schema.invalid' },
      { value: JSON.stringify({ ...reading(1), measurements: [] }), reason: 'schema.invalid' },
      { value: JSON.stringify({ ...reading(2), dataTime: '2024-01-01 00:00:00' }), reason: 'schema.invalid' },
      { value: JSON.stringify({ ...reading(3), kind: 'noise' }), reason: 'schema.invalid' },
      { value: JSON.stringify({ ...reading(4), schema: 'telemetry.v2' }), reason: 'schema.invalid' },
      { value: JSON.stringify(reading(5)).replace('"value":5,', '"value":1e999,'), reason: 'schema.invalid' },
    ];
    await producer.send(
      topic,
      corpus.map((c) => ({ key: 'ent-bad', value: c.value })),
    );
    await send(0, 200);

    const first = service();
    await first.opsUrl;
    await until(async () => (await countPoints()) === 400, 60_000, '400 points (200 readings × 2 factors)');

    // Mid-stream kill -9: a large backlog, killed as soon as part of it is in InfluxDB.
    await send(200, 6_000);
    await until(async () => (await countPoints()) > 600, 60_000, 'part of the backlog');
    await first.kill9();
    const atKill = await countPoints();
    expect(atKill).toBeLessThan(12_000);

    const second = service();
    await until(async () => (await countPoints()) === 12_000, 90_000, 'all 12,000 points after the restart');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await countPoints()).toBe(12_000);

    // Content: every series has exactly one point per hour with the values sent.
    const rows = await influxql(
      influxUrl,
      token,
      db,
      'SELECT "Avg","Min","Max","flag","unit" FROM "emission" GROUP BY "enterprise","site","device","factor","interval"',
    );
    expect(rows).toHaveLength(12_000);
    const seen = new Set<string>();
    for (const r of rows) {
      const i = (Number(r.time) * 1000 - Date.UTC(2024, 0, 1)) / 3_600_000;
      const f = factors.indexOf(r.factor as (typeof factors)[number]);
      const key = `${String(r.factor)}/${i}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      expect(r).toMatchObject({
        enterprise: `ent-${i % 5}`,
        site: `DA00${i % 5}`,
        device: `MN${i % 5}`,
        interval: 'hour',
        Avg: i + f / 10,
        Min: i - 1,
        Max: i + 1.25,
        flag: 'N',
        unit: 'mg/m3',
      });
    }

    // The DLQ holds every corpus item with its reason and exact bytes.
    const dlq: TelemetryDlqV1[] = [];
    const reader = createBatchConsumer({
      kafka,
      groupId: `dlq-reader-${run}`,
      topics: [dlqTopic],
      logger: silentLogger,
      handle: async (b) =>
        void dlq.push(...b.messages.map((m) => JSON.parse(m.value!.toString()) as TelemetryDlqV1)),
    });
    await reader.start();
    await until(() => dlq.length >= corpus.length, 30_000, 'the DLQ records');
    await reader.stop();
    const byRaw = new Map(dlq.map((d) => [d.raw, d]));
    for (const c of corpus) {
      const d = byRaw.get(Buffer.from(c.value).toString('base64'));
      expect({ raw: String(c.value).slice(0, 40), code: d?.reason.code }).toEqual({
        raw: String(c.value).slice(0, 40),
        code: c.reason,
      });
      expect(d!.origin).toMatchObject({ transport: 'kafka', topic });
    }
    // Replayed DLQ records (after the kill) keep their deterministic ids.
    expect(new Set(dlq.map((d) => d.id)).size).toBe(corpus.length);

    const metrics = await (await fetch(`${await second.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/offsite_influx_points_written_total\{[^}]*measurement="emission"[^}]*\} \d+/);
    expect(await second.stop()).toBe(0);
  });

  it('recovers by itself when InfluxDB becomes unreachable mid-stream, not ready meanwhile', async () => {
    // Only this test's writer may write now.
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.kill9();
    const before = await countPoints();
    const proxy = await startProxy('127.0.0.1', Number(new URL(influxUrl).port));
    try {
      const s = service({
        OFFSITE_INFLUX_URL: proxy.url,
        OFFSITE_INFLUX_WRITER_GROUP: `influx-writer-proxy-${run}`,
      });
      const ops = await s.opsUrl;
      // A new group re-reads the topic from the beginning: the 12,000 points are rewritten (idempotent).
      await until(async () => (await readyStatus(ops)) === 200, 60_000, 'ready');
      await until(async () => (await countPoints()) === before, 60_000, 'idempotent replay');

      await proxy.cut();
      await send(10_000, 10_300);
      await until(
        async () => (await readyStatus(ops)) === 503,
        30_000,
        'readiness 503 while InfluxDB is unreachable',
      );
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await countPoints()).toBe(before);

      await proxy.restore();
      await until(
        async () => (await countPoints()) === before + 600,
        60_000,
        'the 600 points written after recovery',
      );
      await until(async () => (await readyStatus(ops)) === 200, 30_000, 'ready again');
      expect(s.logs.some((l) => l.includes('InfluxDB writes failing'))).toBe(true);
      expect(await s.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
