// The video-gateway as a child process on real Kafka and Postgres: signed alarms accepted once,
// every refusal answered with its field in English and Chinese and kept in the DLQ, nothing half-stored.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { TelemetryDlqV1, VideoAlarmV1 } from '@offsite/contracts';
import { createBatchConsumer, createKafkaClient, ensureTopics, type BatchConsumer } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
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
import { signature } from '../src/auth.js';
import { postAlarm, type Reply } from './webhook.js';

const serviceDir = new URL('..', import.meta.url);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const brokers = requireEnv('OFFSITE_KAFKA_BROKERS');
const pgUrl = requireEnv('OFFSITE_PG_URL');
const run = randomBytes(4).toString('hex');
const alarmTopic = `test.video.alarm.${run}`;
const dlqTopic = `test.video.dlq.${run}`;
const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'video-int', logger: silentLogger });
const secret = `s-${randomBytes(24).toString('hex')}`;
const otherSecret = `o-${randomBytes(24).toString('hex')}`;
// The webhook's port: one free on loopback when the suite starts.
let port: number;
let url: string;
const CAMERA = '34020000001320000301'; // out-0003-w1 of ent-0003 in registry/example.yaml
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3000)]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(100)]);

const BURST = 25;
let db: TestSchema;
let service: ServiceProcess;
let collector: BatchConsumer;
const got = { alarms: [] as VideoAlarmV1[], dlq: [] as TelemetryDlqV1[] };

function alarm(eventId: string, extra: Record<string, unknown> = {}) {
  return {
    eventId,
    cameraId: CAMERA,
    alarmType: 'discharge-outside-hours',
    alarmTime: '2026-12-07T23:15:00+08:00',
    description: '排口夜间有排水',
    snapshot: { contentType: 'image/jpeg', data: JPEG.toString('base64') },
    ...extra,
  };
}

const post = (
  body: string | Buffer,
  o: { platform?: string; secret?: string; skewS?: number; contentType?: string } = {},
) => postAlarm(url, body, { ...o, secret: o.secret ?? secret });

const rows = async (sql: string, values: unknown[] = []) => (await db.pool.query(sql, values)).rows;

beforeAll(async () => {
  port = await freePort();
  url = `http://127.0.0.1:${port}/v1/alarms`;
  db = await createTestSchema({ max: 2 });
  await runMigrations(db.pool, { logger: silentLogger });
  await importRegistry(db.pool, { path: `${repo}registry/example.yaml` }, { logger: silentLogger });
  await ensureTopics(kafka, [
    { topic: alarmTopic, numPartitions: 3 },
    { topic: dlqTopic, numPartitions: 1 },
  ]);
  collector = createBatchConsumer({
    kafka,
    groupId: `collect-${randomUUID()}`,
    topics: [alarmTopic, dlqTopic],
    logger: silentLogger,
    handle: async (b) =>
      void (b.topic === alarmTopic ? got.alarms : got.dlq).push(
        ...b.messages.map((m) => JSON.parse(m.value!.toString())),
      ),
  });
  await collector.start();
  service = runService(serviceDir, {
    OFFSITE_KAFKA_BROKERS: brokers,
    OFFSITE_PG_URL: pgUrl,
    OFFSITE_PG_SCHEMA: db.schema,
    OFFSITE_VIDEO_PORT: String(port),
    OFFSITE_VIDEO_PLATFORMS: `city-video=${secret},county-video=${otherSecret}`,
    OFFSITE_VIDEO_SNAPSHOT_MAX_BYTES: '8192',
    OFFSITE_VIDEO_ALARM_TOPIC: alarmTopic,
    OFFSITE_DLQ_TOPIC: dlqTopic,
    // Room for the refusals the tests above send from 127.0.0.1; the rate-limit test uses its own address.
    OFFSITE_VIDEO_REFUSAL_BURST: String(BURST),
    OFFSITE_VIDEO_REFUSALS_PER_MIN: '1',
  });
  const ops = await service.opsUrl;
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
  // The secrets never reach the log.
  expect(service.logs.join('\n')).not.toContain(secret);
});

test('a signed alarm is stored with its snapshot, produced once, and a redelivery is answered without a second event', async () => {
  const body = JSON.stringify(alarm('evt-ok-1'));
  const first = await post(body);
  expect(first.status).toBe(202);
  expect(first.json).toEqual({ id: expect.stringMatching(/^va-[0-9a-f]{64}$/), duplicate: false });
  const id = first.json.id!;

  await until(() => got.alarms.some((a) => a.id === id), 30_000, 'the alarm event');
  const event = got.alarms.find((a) => a.id === id)!;
  const sha = createHash('sha256').update(JPEG).digest('hex');
  expect(event).toMatchObject({
    schema: 'video-alarm.v1',
    platform: 'city-video',
    platformEventId: 'evt-ok-1',
    enterpriseId: 'ent-0003',
    outletId: 'out-0003-w1',
    cameraId: CAMERA,
    alarmType: 'discharge-outside-hours',
    alarmTime: '2026-12-07T15:15:00Z',
    snapshot: { sha256: sha, contentType: 'image/jpeg', size: JPEG.length },
  });
  // The owner's read API shows it (produced) and holds the exact bytes under their checksum.
  expect(await rows('select id, outlet_id, snapshot_sha256, snapshot_size from video_alarms_v1')).toEqual([
    { id, outlet_id: 'out-0003-w1', snapshot_sha256: sha, snapshot_size: JPEG.length },
  ]);
  const [snap] = await rows('select bytes from video_snapshots_v1 where sha256 = $1', [sha]);
  expect(createHash('sha256').update(snap.bytes).digest('hex')).toBe(sha);

  // The platform did not see the 202 and sends it again, signed anew: one alarm, no second event.
  const again = await post(body);
  expect(again).toEqual({ status: 200, json: { id, duplicate: true } });
  // A later alarm of the same enterprise lands behind it in the same partition: then count.
  const later = await post(
    JSON.stringify(alarm('evt-ok-2', { alarmType: 'visible-smoke', snapshot: undefined })),
  );
  expect(later.status).toBe(202);
  await until(() => got.alarms.some((a) => a.id === later.json.id), 30_000, 'the later alarm');
  expect(got.alarms.filter((a) => a.id === id)).toHaveLength(1);
  expect(got.alarms.find((a) => a.id === later.json.id)).not.toHaveProperty('snapshot');
  // The same image again is stored once.
  expect(await post(JSON.stringify(alarm('evt-ok-3')))).toMatchObject({ status: 202 });
  expect(await rows('select count(*)::int n from video_snapshots')).toEqual([{ n: 1 }]);
}, 90_000);

test.each([
  [
    'a wrong signature',
    () => post(JSON.stringify(alarm('evt-sig')), { secret: otherSecret }),
    401,
    'video.auth-bad-signature',
    'x-offsite-signature',
  ],
  [
    'an unknown platform',
    () => post(JSON.stringify(alarm('evt-plat')), { platform: 'rogue-video' }),
    401,
    'video.auth-unknown-platform',
    'x-offsite-platform',
  ],
  [
    'a replay outside the window',
    () => post(JSON.stringify(alarm('evt-old')), { skewS: 600 }),
    401,
    'video.auth-stale',
    'x-offsite-timestamp',
  ],
  ['malformed JSON', () => post('{"eventId": "evt-bad",'), 400, 'video.json-invalid', '(body)'],
  [
    'a missing field',
    () => post(JSON.stringify({ ...alarm('evt-miss'), alarmType: undefined })),
    400,
    'video.schema-invalid',
    'alarmType',
  ],
  [
    'a snapshot too large',
    () =>
      post(
        JSON.stringify(
          alarm('evt-big', {
            snapshot: {
              contentType: 'image/jpeg',
              data: Buffer.concat([JPEG, Buffer.alloc(6000)]).toString('base64'),
            },
          }),
        ),
      ),
    413,
    'video.snapshot-too-large',
    'snapshot.data',
  ],
  ['a body far too large', () => post(Buffer.alloc(200_000, 0x20)), 413, 'video.body-too-large', '(body)'],
  [
    'a PNG declared as JPEG',
    () =>
      post(
        JSON.stringify(
          alarm('evt-type', { snapshot: { contentType: 'image/jpeg', data: PNG.toString('base64') } }),
        ),
      ),
    415,
    'video.snapshot-type',
    'snapshot.data',
  ],
  [
    'a form instead of JSON',
    () => post('eventId=1', { contentType: 'application/x-www-form-urlencoded' }),
    415,
    'video.content-type',
    'content-type',
  ],
  [
    'an unknown camera',
    () => post(JSON.stringify(alarm('evt-cam', { cameraId: '34020000001320009999' }))),
    422,
    'video.unknown-camera',
    'cameraId',
  ],
  [
    "another platform's camera",
    () => post(JSON.stringify(alarm('evt-cam2')), { platform: 'county-video', secret: otherSecret }),
    422,
    'video.unknown-camera',
    'cameraId',
  ],
])(
  '%s: answered with its field in English and Chinese, kept in the DLQ, nothing stored',
  async (_what, send, status, code, field) => {
    const before = await rows(
      'select (select count(*) from video_alarms)::int a, (select count(*) from video_snapshots)::int s',
    );
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.json.error).toMatchObject({ code, field });
    expect(r.json.error!.message).toMatch(/[a-z]/);
    expect(r.json.error!.messageZh).toMatch(/[\u4e00-\u9fff]/);
    await until(() => got.dlq.some((d) => d.reason.code === code), 30_000, `the DLQ record ${code}`);
    const kept = got.dlq.find((d) => d.reason.code === code)!;
    expect(kept).toMatchObject({ source: 'video', origin: { transport: 'http', path: '/v1/alarms' } });
    expect(kept.reason.message).toContain(field);
    expect(
      await rows(
        'select (select count(*) from video_alarms)::int a, (select count(*) from video_snapshots)::int s',
      ),
    ).toEqual(before);
  },
  60_000,
);

test('the same event id with another body is a conflict, kept, and the first alarm stays as it was', async () => {
  const first = await post(JSON.stringify(alarm('evt-conflict')));
  expect(first.status).toBe(202);
  const second = await post(JSON.stringify(alarm('evt-conflict', { alarmType: 'other' })));
  expect(second.status).toBe(409);
  expect(second.json.error).toMatchObject({ code: 'video.event-conflict', field: 'eventId' });
  await until(
    () => got.dlq.some((d) => d.reason.code === 'video.event-conflict'),
    30_000,
    'the conflict kept',
  );
  expect(
    await rows('select alarm_type from video_alarms where platform_event_id = $1', ['evt-conflict']),
  ).toEqual([{ alarm_type: 'discharge-outside-hours' }]);
}, 60_000);

/** The DLQ record came from `address` (the http origin's remoteAddress). */
const fromAddress = (d: TelemetryDlqV1, address: string) =>
  'remoteAddress' in d.origin && d.origin.remoteAddress === address;

/** A POST from another loopback address (another source address for the gateway). */
function postFrom(
  localAddress: string,
  body: string,
  o: { secret?: string } = {},
): Promise<{ status: number; retryAfter: string | undefined; json: Reply }> {
  const bytes = Buffer.from(body);
  const ts = String(Math.floor(Date.now() / 1000));
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress,
        headers: {
          'content-type': 'application/json',
          'x-offsite-platform': 'city-video',
          'x-offsite-timestamp': ts,
          'x-offsite-signature': signature(o.secret ?? secret, ts, bytes),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            retryAfter: res.headers['retry-after'],
            json: JSON.parse(text) as Reply,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

test('wrongly signed requests from one address past its budget get a bilingual 429 and are not kept; a signed alarm from it and other addresses still pass', async () => {
  const metric = async () => {
    const text = await (await fetch(`${await service.opsUrl}/metrics`)).text();
    const m = /offsite_video_requests_total\{outcome="video\.rate-limited"[^}]*\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };
  const bad = (n: number) => JSON.stringify(alarm(`evt-flood-${n}`));
  const dlqBefore = got.dlq.filter((d) => d.reason.code === 'video.auth-bad-signature').length;
  const answers = [];
  for (let n = 0; n < BURST + 3; n++)
    answers.push(await postFrom('127.0.0.3', bad(n), { secret: otherSecret }));
  expect(answers.slice(0, BURST).every((a) => a.status === 401)).toBe(true);
  const limited = answers.slice(BURST);
  expect(limited.map((a) => a.status)).toEqual([429, 429, 429]);
  expect(limited[0]!.json.error).toMatchObject({ code: 'video.rate-limited', field: '(source)' });
  expect(limited[0]!.json.error!.message).toContain('127.0.0.3');
  expect(limited[0]!.json.error!.messageZh).toMatch(/请求过多/);
  // One refusal a minute: the next in up to 60 s.
  expect(Number(limited[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(limited[0]!.retryAfter)).toBeLessThanOrEqual(60);
  expect(await metric()).toBe(3);
  // The budget's refusals are kept, the limited ones are not: a signed alarm behind them lands after them.
  const ok = await postFrom('127.0.0.3', JSON.stringify(alarm('evt-after-flood', { snapshot: undefined })));
  expect(ok.status).toBe(202);
  const tail = await postFrom('127.0.0.4', bad(999), { secret: otherSecret });
  expect(tail.status).toBe(401);
  await until(
    () => got.dlq.some((d) => fromAddress(d, '127.0.0.4')),
    30_000,
    'the other address refusal kept',
  );
  const kept = got.dlq.filter((d) => fromAddress(d, '127.0.0.3'));
  expect(kept).toHaveLength(BURST);
  expect(got.dlq.filter((d) => d.reason.code === 'video.auth-bad-signature').length - dlqBefore).toBe(
    BURST + 1,
  );
  // Only that address is limited.
  expect((await post(bad(1000), { secret: otherSecret })).status).toBe(401);
}, 90_000);
