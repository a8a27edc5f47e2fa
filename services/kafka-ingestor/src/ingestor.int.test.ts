import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { telemetryEventId, type TelemetryDlqV1, type TelemetryV1 } from '@offsite/contracts';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  type BatchConsumer,
} from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import {
  createTestSchema,
  hj212HourlyUpload,
  requireEnv,
  runService,
  silentLogger,
  until,
  type ServiceProcess,
  type TestSchema,
} from '@offsite/testing';

/** The service's package directory (runService starts `src/main.ts` there). */
const serviceDir = new URL('..', import.meta.url);

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const pgUrl = requireEnv('OFFSITE_PG_URL');
const run = randomBytes(4).toString('hex');
const upstream = `upstream.test-${run}.v1`;
const telTopic = `test.kin.tel.${run}`;
const dlqTopic = `test.kin.dlq.${run}`;
const kafka = createKafkaClient({
  brokers: brokers.split(','),
  clientId: 'kafka-ingestor-int',
  logger: silentLogger,
});
const producer = createDurableProducer(kafka, { logger: silentLogger });
const children: ServiceProcess[] = [];
let collector: BatchConsumer | undefined;
let db: TestSchema;

function event(i: number): Omit<TelemetryV1, 'source'> & { source: string } {
  const base = {
    enterpriseId: 'ent-0002',
    deviceId: `up-${i % 3}`,
    kind: 'energy' as const,
    interval: 'realtime' as const,
    dataTime: new Date(Date.UTC(2024, 4, 1) + i * 60_000).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: 'mtr-0002-p1',
    source: 'platform-x',
    receivedAt: '2024-05-01T00:00:00Z',
    irregularities: [],
    measurements: [{ factor: 'power_kw', stat: 'Rtd', value: i, unit: 'kW' }],
  } as never;
}

beforeAll(async () => {
  db = await createTestSchema({ max: 2 });
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
  await ensureTopics(kafka, [
    { topic: upstream, numPartitions: 2 },
    { topic: telTopic, numPartitions: 3 },
    { topic: dlqTopic, numPartitions: 1 },
  ]);
  await producer.connect();
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.kill9();
  await collector?.stop().catch(() => undefined);
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [upstream, telTopic, dlqTopic] }).catch(() => undefined);
  await admin.disconnect();
  await db.drop();
});

it('normalises an upstream feed (JSON telemetry and HJ 212 frames) into telemetry.v1, bad records into the DLQ, and survives kill -9 without loss', async () => {
  const bad: [string, string][] = [
    ['{"schema":', 'json.invalid'],
    [JSON.stringify({ ...event(1), measurements: [] }), 'schema.invalid'],
    [JSON.stringify({ ...event(2), enterpriseId: 'ent-unknown' }), 'registry.unknown-enterprise'],
    [hj212HourlyUpload('99999999FG00010000000009').toString(), 'registry.unknown-device'],
    ['##0010garbage1234', 'hj212.crc-mismatch'],
  ];
  await producer.send(upstream, [
    ...Array.from({ length: 100 }, (_, i) => ({ key: 'ent-0002', value: JSON.stringify(event(i)) })),
    { key: 'x', value: hj212HourlyUpload('99010201FG00010000000001') },
    ...bad.map(([value]) => ({ key: 'bad', value })),
  ]);
  const got = { tel: [] as TelemetryV1[], dlq: [] as TelemetryDlqV1[] };
  collector = createBatchConsumer({
    kafka,
    groupId: `collect-${randomUUID()}`,
    topics: [telTopic, dlqTopic],
    logger: silentLogger,
    handle: async (b) =>
      void (b.topic === telTopic ? got.tel : got.dlq).push(
        ...b.messages.map((m) => JSON.parse(m.value!.toString())),
      ),
  });
  await collector.start();
  const env = {
    OFFSITE_KAFKA_BROKERS: brokers,
    OFFSITE_PG_URL: pgUrl,
    OFFSITE_PG_SCHEMA: db.schema,
    OFFSITE_UPSTREAM_TOPICS: upstream,
    OFFSITE_KAFKA_INGESTOR_GROUP: `kin-${run}`,
    OFFSITE_TELEMETRY_TOPIC: telTopic,
    OFFSITE_DLQ_TOPIC: dlqTopic,
  };
  const first = runService(serviceDir, env);
  children.push(first);
  await until(() => got.tel.length >= 101 && got.dlq.length >= bad.length, 60_000, 'first records');
  expect(got.dlq.map((d) => d.reason.code).sort()).toEqual(bad.map((b) => b[1]).sort());
  const hj = got.tel.find((t) => t.kind === 'emission');
  expect(hj).toMatchObject({ enterpriseId: 'ent-0001', siteId: 'out-0001-g1', source: 'kafka' });
  expect(hj!.rawRef).toMatch(new RegExp(`^${upstream.replace(/\./g, '\\.')}/\\d/\\d+$`));
  const json = got.tel.filter((t) => t.kind === 'energy');
  expect(new Set(json.map((t) => t.measurements[0]!.value))).toEqual(
    new Set(Array.from({ length: 100 }, (_, i) => i)),
  );
  expect(json.every((t) => t.source === 'kafka')).toBe(true);

  // kill -9 with a backlog, restart: every upstream record reaches telemetry.v1 at least once.
  await producer.send(
    upstream,
    Array.from({ length: 2000 }, (_, i) => ({ key: `k${i % 7}`, value: JSON.stringify(event(1000 + i)) })),
  );
  await until(() => got.tel.length > 150, 30_000, 'part of the backlog');
  await first.kill9();
  const second = runService(serviceDir, env);
  children.push(second);
  await until(
    () => new Set(got.tel.map((t) => t.eventId)).size >= 2101,
    90_000,
    'every record after the restart',
  );
  expect(new Set(got.tel.map((t) => t.eventId)).size).toBe(2101);
  const ops = await second.opsUrl;
  await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 30_000, 'second ready');
  const code = await second.stop();
  if (code !== 0) process.stderr.write(second.logs.slice(-8).join('\n'));
  expect(code).toBe(0);
});
