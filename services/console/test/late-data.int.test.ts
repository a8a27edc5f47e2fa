// Late minute data end to end: the real influx-writer (a child process) writes telemetry.v1 readings to InfluxDB
// and reports those written late on telemetry.late.v1; the console's late-data consumer (late-data.ts) raises the
// late-data counters in Postgres; the stored transmission figure of the day changes and equals the raw path
// (every minute row of the month counted by @offsite/domain). A record that is not telemetry.late.v1 goes to the
// DLQ and the consumer goes on.
import { randomBytes } from 'node:crypto';
import {
  kafkaMessage,
  kafkaTopics,
  telemetryEventId,
  validateTelemetryDlqV1,
  type TelemetryV1,
} from '@offsite/contracts';
import { transmissionStatistics } from '@offsite/domain';
import { createInfluxClient, createInfluxWriter, ensureDatabase1x, toLine } from '@offsite/influx';
import {
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  type BatchConsumer,
  type DurableProducer,
} from '@offsite/kafka';
import { requireEnv, runService, silentLogger, until, type ServiceProcess } from '@offsite/testing';
import { createLateDataConsumer } from '../src/late-data.js';
import { loadRecords, type TransmissionSource } from '../src/transmission-days.js';
import { transmissionInput, transmissionReport } from '../src/transmission.js';
import { createWorld, influxConnection, readTopic, type World } from './fixture.js';
import { ADMIN } from './transmission-data.js';

const GAS = '99010201FG00010000000001'; // ent-0001, site out-0001-g1, minute data every 600 s
const MAY = Date.parse('2026-05-01T00:00:00+08:00');
const JUNE = Date.parse('2026-06-01T00:00:00+08:00');
const SLOT = 600_000;

const id = randomBytes(4).toString('hex');
const prefix = `t-late-${id}.`;
const topics = {
  telemetry: `${prefix}telemetry.v1`,
  late: `${prefix}telemetry.late.v1`,
  dlq: `${prefix}telemetry.dlq.v1`,
};
const database = `late_${id}`;
const kafka = createKafkaClient({
  brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
  clientId: 'console-late-data-int',
  logger: silentLogger,
});

let w: World;
let writer: ServiceProcess | undefined;
let consumer: BatchConsumer | undefined;
let producer: DurableProducer;
let src: TransmissionSource;

const reading = (k: number): TelemetryV1 => {
  const base = {
    enterpriseId: 'ent-0001',
    deviceId: GAS,
    kind: 'emission' as const,
    interval: 'minute' as const,
    periodSeconds: 600,
    dataTime: new Date(MAY + k * SLOT).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    siteId: 'out-0001-g1',
    source: 'kafka',
    receivedAt: new Date().toISOString(),
    irregularities: [],
    measurements: [{ factor: 'a21026', stat: 'Avg', value: 12, flag: 'N' }],
    ...base,
  };
};

const figure = async () => {
  const r = await transmissionReport(w.pool, src, ADMIN, { month: '2026-05' }, Date.now());
  const d = r.enterprises.flatMap((e) => e.devices).find((x) => x.mn === GAS)!;
  return { expected: d.expected, received: d.received, valid: d.valid };
};
const raw = async () => {
  const { input } = await transmissionInput(w.pool, ADMIN, { month: '2026-05' }, Date.now(), 0.9);
  const records = await loadRecords(src, 'ent-0001', new Date(MAY), new Date(JUNE));
  const d = transmissionStatistics({ ...input, records }).devices.find((x) => x.mn === GAS)!;
  return { expected: d.expected, received: d.received, valid: d.valid };
};
const lateVersion = async (day: string) =>
  Number(
    (
      await w.pool.query<{ version: string }>(
        `select version from console_transmission_late where device_mn = $1 and day = $2::date`,
        [GAS, day],
      )
    ).rows[0]?.version ?? 0,
  );

beforeAll(async () => {
  w = await createWorld();
  await w.pool.query(`update devices set created_at = '2026-01-01T00:00:00Z'`);
  const conn = influxConnection();
  const client = createInfluxClient({ ...conn, bucket: database }, silentLogger);
  await ensureDatabase1x(client, database);
  src = { client, bucket: database, emissionMeasurement: 'emission', threshold: 0.9, storeDays: true };
  // May in the writer's layout, 10-minute slots 144–153 (2 May 00:00–01:30 +08) missing.
  const lines: string[] = [];
  for (let k = 0; k < 4464; k++)
    if (k < 144 || k > 153)
      lines.push(
        toLine({
          measurement: 'emission',
          tags: {
            enterprise: 'ent-0001',
            site: 'out-0001-g1',
            device: GAS,
            factor: 'a21026',
            interval: 'minute-600s',
          },
          fields: { Avg: 12, flag: 'N' },
          timeSeconds: (MAY + k * SLOT) / 1000,
        }),
      );
  const influx = createInfluxWriter({ ...conn, bucket: database, logger: silentLogger }, client);
  for (let i = 0; i < lines.length; i += 5000) await influx.write(lines.slice(i, i + 5000));
  await influx.close();

  await ensureTopics(kafka, [
    { topic: topics.telemetry, numPartitions: 2 },
    { topic: topics.late, numPartitions: 2 },
  ]);
  producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  writer = runService(new URL('../../influx-writer/', import.meta.url), {
    OFFSITE_KAFKA_BROKERS: requireEnv('OFFSITE_KAFKA_BROKERS'),
    OFFSITE_INFLUX_URL: conn.url,
    OFFSITE_INFLUX_TOKEN: conn.token,
    OFFSITE_INFLUX_BUCKET: database,
    OFFSITE_TELEMETRY_TOPIC: topics.telemetry,
    OFFSITE_DLQ_TOPIC: topics.dlq,
    OFFSITE_WRITER_LATE_TOPIC: topics.late,
    OFFSITE_INFLUX_WRITER_GROUP: `t-late-writer-${id}`,
    OFFSITE_BATCH_MAX_DELAY_MS: '50',
    OFFSITE_KAFKA_SESSION_TIMEOUT_MS: '6000',
  });
  await writer.opsUrl;
}, 120_000);

afterAll(async () => {
  await consumer?.stop();
  await writer?.stop();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  await src?.client.transport
    .request(`/query?q=${encodeURIComponent(`DROP DATABASE "${database}"`)}`, '', { method: 'POST' })
    .catch(() => undefined);
  await w?.close();
});

test('a late reading through the writer changes the stored day, as the raw path counts it', async () => {
  const dlq = await readTopic(kafka, topics.dlq, validateTelemetryDlqV1);
  try {
    consumer = createLateDataConsumer({
      kafka,
      db: w.pool,
      topic: topics.late,
      groupId: `t-late-console-${id}`,
      dlqTopic: topics.dlq,
      send: (topic, messages) => producer.send(topic, messages),
      sessionTimeoutMs: 6_000,
      logger: silentLogger,
    });
    await consumer.start();

    // Every closed day of May stored by the first request.
    expect(await figure()).toEqual({ expected: 4464, received: 4454, valid: 4454 });
    expect(await raw()).toEqual(await figure());
    const stored = await w.pool.query(`select 1 from console_transmission_days where device_mn = $1`, [GAS]);
    expect(stored.rowCount).toBe(31);

    // The logger's backfill of 2 May 00:00–00:20 (three slots) through Kafka and the writer: one late event.
    await producer.send(
      topics.telemetry,
      [144, 145, 146].map((k) => kafkaMessage(kafkaTopics.telemetry, reading(k))),
    );
    await until(async () => (await lateVersion('2026-05-02')) > 0, 60_000, 'the late-data counter of 2 May');
    const noted = await lateVersion('2026-05-02');
    expect(await figure()).toEqual({ expected: 4464, received: 4457, valid: 4457 });
    expect(await raw()).toEqual(await figure());
    const day = await w.pool.query<{ received: number }>(
      `select received from console_transmission_days where device_mn = $1 and day = '2026-05-02'`,
      [GAS],
    );
    expect(day.rows[0]?.received).toBe(137);

    // Not a telemetry.late.v1 event: kept in the DLQ, and the next event is still noted.
    await producer.send(topics.late, [{ key: GAS, value: '{"schema":"telemetry.late.v1"}', headers: {} }]);
    await producer.send(topics.telemetry, [kafkaMessage(kafkaTopics.telemetry, reading(147))]);
    await until(async () => (await lateVersion('2026-05-02')) > noted, 60_000, 'the second late note');
    await until(async () => dlq.records.length === 1, 30_000, 'the DLQ record');
    expect(dlq.records[0]).toMatchObject({ reason: { code: 'console.schema-invalid' } });
    expect(await figure()).toEqual({ expected: 4464, received: 4458, valid: 4458 });
    expect(await raw()).toEqual(await figure());
  } finally {
    await dlq.close();
  }
}, 180_000);
