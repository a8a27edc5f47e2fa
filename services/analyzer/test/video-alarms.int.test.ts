// A video alarm as a rule input, end to end on the real servers: a signed `discharge-outside-hours` alarm posted to
// the video-gateway (a child process) is produced to video-alarm.v1, and the analyzer (in process) opens exactly one
// deviation for it — also when the platform delivers it twice, and when Kafka delivers the event twice (a second
// analyzer group reads the topic from its beginning). Its evidence names the camera, platform, alarm, time and
// snapshot checksum; another alarm kind opens nothing; an undecodable record goes to the DLQ.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { DeviationV1, TelemetryDlqV1, VideoAlarmV1 } from '@offsite/contracts';
import { videoAlarmDeviationId } from '@offsite/domain';
import { createMemoryLogger } from '@offsite/runtime';
import { requireEnv, runService, until, type ServiceProcess } from '@offsite/testing';
import type { Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import { createAnalyzer, type Analyzer } from '../src/app.js';
import {
  closeTestServers,
  collectDeviations,
  jobTestAnalyzerOptions,
  openTestServers,
  produceTo,
  testResources,
  type TestServers,
} from './resources.js';

const res = testResources('video');
const CAMERA = '34020000001320000301'; // out-0003-w1 of ent-0003 in registry/example.yaml
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(2000)]);
const secret = `s-${randomBytes(24).toString('hex')}`;

let servers: TestServers;
let kafka: Kafka;
let pool: pg.Pool;
let collector: Consumer;
let dlqCollector: Consumer;
let analyzer: Analyzer;
let second: Analyzer | undefined;
let gateway: ServiceProcess;
let url = '';
const events: DeviationV1[] = [];
const firstLog = createMemoryLogger();
const opened = (l: typeof firstLog) =>
  l.entries.filter((e) => e.message === 'video alarm opened a deviation');
const dlq: TelemetryDlqV1[] = [];

async function post(body: string): Promise<{ status: number; json: { id?: string; duplicate?: boolean } }> {
  const ts = String(Math.floor(Date.now() / 1000));
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-offsite-platform': 'city-video',
      'x-offsite-timestamp': ts,
      // The gateway's documented signature: HMAC-SHA256 of "<timestamp>.<body>" with the platform's secret.
      'x-offsite-signature': `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`,
    },
    body,
  });
  return { status: r.status, json: (await r.json()) as { id?: string; duplicate?: boolean } };
}

const alarm = (eventId: string, alarmType: string, withSnapshot: boolean) =>
  JSON.stringify({
    eventId,
    cameraId: CAMERA,
    alarmType,
    alarmTime: '2026-12-07T23:15:07+08:00',
    description: '排口夜间有排水',
    ...(withSnapshot ? { snapshot: { contentType: 'image/jpeg', data: JPEG.toString('base64') } } : {}),
  });

beforeAll(async () => {
  servers = await openTestServers(res, 'analyzer-video-int');
  ({ kafka, pool } = servers);
  collector = await collectDeviations(kafka, res, events);
  dlqCollector = kafka.consumer({ groupId: `test-dlq-${res.suffix}` });
  await dlqCollector.connect();
  await dlqCollector.subscribe({ topics: [res.dlqTopic], fromBeginning: true });
  await dlqCollector.run({
    eachMessage: async ({ message }) =>
      void dlq.push(JSON.parse(message.value!.toString()) as TelemetryDlqV1),
  });
  gateway = runService(new URL('../../video-gateway/', import.meta.url), {
    OFFSITE_KAFKA_BROKERS: requireEnv('OFFSITE_KAFKA_BROKERS'),
    OFFSITE_PG_URL: requireEnv('OFFSITE_PG_URL'),
    OFFSITE_PG_SCHEMA: res.schema,
    OFFSITE_VIDEO_PORT: '0',
    OFFSITE_VIDEO_PLATFORMS: `city-video=${secret}`,
    OFFSITE_VIDEO_ALARM_TOPIC: res.videoAlarmTopic,
    OFFSITE_DLQ_TOPIC: res.dlqTopic,
  });
  const ops = await gateway.opsUrl;
  await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 60_000, 'gateway ready');
  // The webhook listens on a port the system chose (OFFSITE_VIDEO_PORT 0); the gateway logs its address.
  const listeningAt = () =>
    gateway.logs
      .map((l) => {
        try {
          return JSON.parse(l) as { msg?: string; at?: string };
        } catch {
          return {};
        }
      })
      .find((j) => j.msg === 'video webhook listening')?.at;
  await until(() => listeningAt() !== undefined, 30_000, 'the webhook address in the log');
  url = `${listeningAt()!}/v1/alarms`;
  analyzer = await createAnalyzer({ ...jobTestAnalyzerOptions(res, servers, 'video'), logger: firstLog });
  await analyzer.start();
}, 180_000);

afterAll(async () => {
  await second?.stop();
  await gateway?.stop();
  await dlqCollector?.disconnect();
  await closeTestServers(res, servers, analyzer, collector);
});

test('an alarm posted to the video-gateway twice, and consumed twice, ends as exactly one deviation with its evidence', async () => {
  const body = alarm('evt-night-1', 'discharge-outside-hours', true);
  const first = await post(body);
  expect(first.status).toBe(202);
  const alarmId = first.json.id!;
  // The platform did not see the answer and sends it again.
  expect(await post(body)).toEqual({ status: 200, json: { id: alarmId, duplicate: true } });
  // Another kind from the same camera is not a rule input; it lands behind the first in the same partition.
  const smoke = await post(alarm('evt-smoke-1', 'visible-smoke', false));
  expect(smoke.status).toBe(202);

  const expectedId = videoAlarmDeviationId({
    id: alarmId,
    enterpriseId: 'ent-0003',
    outletId: 'out-0003-w1',
    alarmTime: '2026-12-07T15:15:07Z',
  });
  await until(() => events.some((e) => e.id === expectedId), 60_000, 'the deviation');
  const sha = createHash('sha256').update(JPEG).digest('hex');
  const ev = events.find((e) => e.id === expectedId)!;
  expect(ev).toMatchObject({
    rule: 'discharge-outside-hours',
    state: 'opened',
    revision: 1,
    severity: 'high',
    enterpriseId: 'ent-0003',
    siteId: 'out-0003-w1',
    suspectedFalsification: true,
    windowStart: '2026-12-07T15:15:07.000Z',
    openedAt: '2026-12-07T15:15:07.000Z',
  });
  expect(ev.evidence.params).toMatchObject({
    alarmId,
    platform: 'city-video',
    platformEventId: 'evt-night-1',
    cameraId: CAMERA,
    alarmTime: '2026-12-07T15:15:07Z',
    alarmTimeText: '2026-12-07 23:15:07',
    hoursCheck: 'no-registry-schedule',
    snapshot: { sha256: sha, contentType: 'image/jpeg', size: JPEG.length },
  });
  expect(ev.evidence.summary).toContain(`snapshot sha256 ${sha}`);
  expect(ev.evidence.summary).toContain(`camera city-video/${CAMERA} at 2026-12-07 23:15:07 Asia/Shanghai`);

  // Kafka delivers the alarm event again: a second analyzer group on the same schema reads video-alarm.v1 from its
  // beginning (as after a lost offset commit) and finds the deviation in the log.
  const secondLog = createMemoryLogger();
  second = await createAnalyzer({
    ...jobTestAnalyzerOptions(res, servers, 'video-again'),
    logger: secondLog,
  });
  await second.start();
  // And a record that is not a video-alarm.v1 goes to the DLQ, behind the redelivered ones.
  await produceTo(kafka, res.videoAlarmTopic, [{ key: 'ent-0003', value: '{"schema":"video-alarm.v1"}' }]);
  await until(() => dlq.length >= 2, 60_000, 'the bad record in the DLQ (read by both groups)');
  expect(dlq.every((d) => d.reason.code === 'analyzer.schema-invalid')).toBe(true);
  // The second group handled the alarms before the bad record behind them, and opened nothing.
  expect(opened(secondLog)).toEqual([]);
  expect(opened(firstLog)).toHaveLength(1);

  const log = await pool.query<{ id: string; rule: string; revision: number; subject: string }>(
    `select id, rule, revision, subject from analyzer_deviations where rule = 'discharge-outside-hours'`,
  );
  expect(log.rows).toEqual([
    { id: expectedId, rule: 'discharge-outside-hours', revision: 1, subject: alarmId },
  ]);
  expect(events.filter((e) => e.rule === 'discharge-outside-hours')).toHaveLength(1);
  // The alarm events themselves: the smoke alarm was produced, opened nothing.
  const alarms = await pool.query<{ id: string; alarm_type: VideoAlarmV1['alarmType'] }>(
    'select id, alarm_type from video_alarms_v1 order by alarm_type',
  );
  expect(alarms.rows.map((r) => r.alarm_type)).toEqual(['discharge-outside-hours', 'visible-smoke']);
}, 180_000);
