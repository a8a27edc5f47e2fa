// The relay, with the service as a child process on real Kafka and Postgres: an alarm stored while Kafka
// refused it (its topic did not exist yet: every produce fails, the platform is answered 503 and never
// sends again) is produced by the relay once the topic exists, exactly once; an alarm the webhook produced
// itself is not produced a second time.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { VideoAlarmV1 } from '@offsite/contracts';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  type BatchConsumer,
} from '@offsite/kafka';
import { createPgPool, importRegistry, runMigrations } from '@offsite/store';
import {
  createTestSchema,
  freePort,
  requireEnv,
  runService,
  silentLogger,
  until,
  type ServiceProcess,
  type TestSchema,
} from '@offsite/testing';
import { alarmEvent, checkAlarm } from '../src/alarm.js';
import { createAlarmRelay } from '../src/relay.js';
import { findCamera, storeAlarm } from '../src/store.js';
import { postAlarm } from './webhook.js';

const serviceDir = new URL('..', import.meta.url);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const pgUrl = requireEnv('OFFSITE_PG_URL');
const run = randomBytes(4).toString('hex');
const alarmTopic = `test.video.relay.${run}`;
const dlqTopic = `test.video.relay-dlq.${run}`;
const kafka = createKafkaClient({
  brokers: brokers.split(','),
  clientId: 'video-relay-int',
  logger: silentLogger,
});
const secret = `s-${randomBytes(24).toString('hex')}`;
const CAMERA = '34020000001320000301'; // out-0003-w1 of ent-0003 in registry/example.yaml
const MIN_AGE_S = 2;
const INTERVAL_MS = 300;

let db: TestSchema;
let service: ServiceProcess;
let collector: BatchConsumer | undefined;
let url: string;
let ops: string;
const alarms: VideoAlarmV1[] = [];

const post = (eventId: string) =>
  postAlarm(
    url,
    JSON.stringify({
      eventId,
      cameraId: CAMERA,
      alarmType: 'visible-smoke',
      alarmTime: '2026-12-07T23:15:00+08:00',
    }),
    { secret },
  );

/** A sample of the gateway's /metrics (a metric without labels of its own, only the service's). */
async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${ops}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const producedAt = async (id: string) =>
  (
    await db.pool.query<{ produced_at: Date | null }>('select produced_at from video_alarms where id = $1', [
      id,
    ])
  ).rows[0]?.produced_at;

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/v1/alarms`;
  db = await createTestSchema({ max: 2 });
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
  await ensureTopics(kafka, [{ topic: dlqTopic, numPartitions: 1 }]);
  // The alarm topic is created by the first test, after the gateway failed to produce to it.
  service = runService(serviceDir, {
    OFFSITE_KAFKA_BROKERS: brokers,
    OFFSITE_PG_URL: pgUrl,
    OFFSITE_PG_SCHEMA: db.schema,
    OFFSITE_VIDEO_PORT: String(port),
    OFFSITE_VIDEO_PLATFORMS: `city-video=${secret}`,
    OFFSITE_VIDEO_ALARM_TOPIC: alarmTopic,
    OFFSITE_DLQ_TOPIC: dlqTopic,
    OFFSITE_VIDEO_RELAY_INTERVAL_MS: String(INTERVAL_MS),
    OFFSITE_VIDEO_RELAY_MIN_AGE_S: String(MIN_AGE_S),
  });
  ops = await service.opsUrl;
  await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 60_000, 'gateway ready');
}, 120_000);

afterAll(async () => {
  const code = await service?.stop();
  if (code !== 0) process.stderr.write(service.logs.slice(-20).join('\n'));
  await collector?.stop().catch(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [alarmTopic, dlqTopic] }).catch(() => undefined);
  await admin.disconnect();
  await db?.drop();
});

test('an alarm stored while Kafka refused it is produced by the relay exactly once; a produced one is not produced again', async () => {
  // Kafka refuses the produce (no such topic): the alarm is stored, the platform answered 503.
  const refused = await post('evt-relay-1');
  expect(refused.status).toBe(503);
  expect(refused.json.error?.code).toBe('video.unavailable');
  const stored = await db.pool.query<{ id: string; produced_at: Date | null }>(
    `select id, produced_at from video_alarms where platform_event_id = 'evt-relay-1'`,
  );
  expect(stored.rows).toHaveLength(1);
  const id = stored.rows[0]!.id;
  expect(stored.rows[0]!.produced_at).toBeNull();
  // The backlog shows it while Kafka keeps refusing.
  await until(async () => (await metric('offsite_video_unpublished_alarms')) === 1, 30_000, 'backlog of one');
  await until(
    async () => ((await metric('offsite_video_unpublished_oldest_age_seconds')) ?? 0) >= MIN_AGE_S,
    30_000,
    'the age of the oldest unpublished alarm',
  );
  expect(await producedAt(id)).toBeNull();

  // Kafka accepts again; the platform never resends: the relay produces the stored alarm.
  await ensureTopics(kafka, [{ topic: alarmTopic, numPartitions: 3 }]);
  collector = createBatchConsumer({
    kafka,
    groupId: `collect-${randomUUID()}`,
    topics: [alarmTopic],
    logger: silentLogger,
    handle: async (b) => void alarms.push(...b.messages.map((m) => JSON.parse(m.value!.toString()))),
  });
  await collector.start();
  await until(() => alarms.some((a) => a.id === id), 60_000, 'the relayed alarm');
  expect(alarms.find((a) => a.id === id)).toMatchObject({
    schema: 'video-alarm.v1',
    platformEventId: 'evt-relay-1',
    enterpriseId: 'ent-0003',
    alarmType: 'visible-smoke',
  });
  await until(async () => (await producedAt(id)) != null, 30_000, 'the relayed alarm stamped');
  await until(async () => (await metric('offsite_video_unpublished_alarms')) === 0, 30_000, 'backlog empty');
  expect(await metric('offsite_video_unpublished_oldest_age_seconds')).toBe(0);
  expect(await metric('offsite_video_relayed_alarms_total')).toBe(1);

  // Normally produced by its request: the relay leaves it alone.
  const accepted = await post('evt-relay-2');
  expect(accepted.status).toBe(202);
  const id2 = accepted.json.id!;
  expect(await producedAt(id2)).not.toBeNull();
  await until(() => alarms.some((a) => a.id === id2), 30_000, 'the produced alarm');
  // Past its minimum age and several relay rounds more: a copy would have arrived by now
  // (the relayed alarm above arrived within a round of its topic appearing).
  await new Promise((r) => setTimeout(r, MIN_AGE_S * 1000 + 10 * INTERVAL_MS));
  await until(async () => (await metric('offsite_video_unpublished_alarms')) === 0, 30_000, 'a later round');
  expect(alarms.filter((a) => a.id === id)).toHaveLength(1);
  expect(alarms.filter((a) => a.id === id2)).toHaveLength(1);
  expect(await metric('offsite_video_relayed_alarms_total')).toBe(1);
}, 240_000);

test('relays of several instances share a backlog without producing an alarm twice', async () => {
  // Stored, never produced (as a crash between the commit and the produce leaves them); younger than the
  // running gateway's minimum age, so the two relays below race for them first.
  const camera = (await findCamera(db.pool, 'city-video', CAMERA))!;
  const ids: string[] = [];
  for (let n = 0; n < 40; n++) {
    const body = Buffer.from(
      JSON.stringify({
        eventId: `evt-crash-${n}`,
        cameraId: CAMERA,
        alarmType: 'other',
        alarmTime: '2026-12-07T23:15:00+08:00',
      }),
    );
    const checked = checkAlarm(body, { maxSnapshotBytes: 8192 });
    if (!checked.ok) throw new Error(checked.rejection.message);
    const event = alarmEvent('city-video', checked.value, camera, new Date());
    expect(await storeAlarm(db.pool, event, createHash('sha256').update(body).digest('hex'), undefined)).toBe(
      true,
    );
    ids.push(event.id);
  }
  // Two more instances' relays, each with its own pool and producer, beside the running gateway's.
  const instances = [0, 1].map(() => {
    const pool = createPgPool({ url: pgUrl, schema: db.schema, max: 2 });
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    const relay = createAlarmRelay({
      pool,
      producer,
      alarmTopic,
      logger: silentLogger,
      intervalMs: 50,
      minAgeS: 0,
      batchSize: 3,
    });
    return { pool, producer, relay };
  });
  await Promise.all(instances.map((i) => i.producer.connect()));
  try {
    instances.forEach((i) => i.relay.start());
    await until(() => ids.every((id) => alarms.some((a) => a.id === id)), 60_000, 'every stored alarm');
    await until(
      async () => (await metric('offsite_video_unpublished_alarms')) === 0,
      30_000,
      'the backlog empty',
    );
    await new Promise((r) => setTimeout(r, 10 * INTERVAL_MS));
  } finally {
    await Promise.all(instances.map((i) => i.relay.stop()));
    await Promise.all(instances.map((i) => i.producer.disconnect()));
    await Promise.all(instances.map((i) => i.pool.end()));
  }
  for (const id of ids) expect(alarms.filter((a) => a.id === id)).toHaveLength(1);
  const unstamped = await db.pool.query(`select id from video_alarms where produced_at is null`);
  expect(unstamped.rows).toEqual([]);
}, 120_000);
