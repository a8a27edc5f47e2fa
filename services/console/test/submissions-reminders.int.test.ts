// Due-date reminders of districts' submissions on real Postgres, Redis and Kafka (own schema, BullMQ
// prefix and topic): before the due day the officers of every district that has not submitted are
// reminded through the console's one way to the alerter (message.request.v1), exactly once per
// district and period, whether two console instances tick at the same moment or one ticks again;
// a district that submitted is not reminded, and nothing is reminded outside the window.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { validateMessageRequestV1, type MessageRequestV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, type DurableProducer } from '@offsite/kafka';
import { createSilentLogger } from '@offsite/runtime';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import type { Kafka } from 'kafkajs';
import { createRegulationSink, type PublishMessage } from '../src/regulation-work.js';
import { createSubmissionReminders, type SubmissionReminders } from '../src/submissions-reminders.js';
import { submitSubmission } from '../src/submissions.js';
import { defaultSubmissionCalendar } from '../src/submissions-rules.js';
import type { Principal } from '../src/principal.js';
import { createWorld, readTopic, type World } from './fixture.js';

const topic = `test.console.submission-reminders.${randomBytes(4).toString('hex')}`;
const prefix = `test-submissions-${randomBytes(4).toString('hex')}`;
let kafka: Kafka;
let producer: DurableProducer;
let reader: Awaited<ReturnType<typeof readTopic<MessageRequestV1>>>;
let w: World;
let a: SubmissionReminders;
let b: SubmissionReminders;
let connection: { host: string; port: number; maxRetriesPerRequest: null };
const publish: PublishMessage = async (r) => {
  await producer.send(topic, [{ key: r.id, value: JSON.stringify(r) }]);
};

beforeAll(async () => {
  kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'console-submission-reminders-int',
    logger: silentLogger,
  });
  reader = await readTopic(kafka, topic, validateMessageRequestV1);
  producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  w = await createWorld();
  const u = new URL(requireEnv('OFFSITE_REDIS_URL'));
  connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
  // Two console instances: each its own sink and scheduler over the same database, Redis prefix and topic.
  const instance = () =>
    createSubmissionReminders({
      pool: w.pool,
      connection,
      prefix,
      toInspector: createRegulationSink({ db: w.pool, publish, logger: createSilentLogger() }).toInspector,
      logger: createSilentLogger(),
      calendar: defaultSubmissionCalendar,
      // The scheduled ticks' clock: outside every reminder window (the test's ticks name their moment).
      now: () => new Date('2027-06-01T00:00:00Z'),
    });
  a = instance();
  b = instance();
  await Promise.all([a.start(), b.start()]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await w?.close();
  await reader?.close();
  await producer?.disconnect();
});

it('both instances keep one hourly scheduler', async () => {
  const q = new Queue('submission-reminders', { connection, prefix });
  try {
    const schedulers = await q.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.pattern, s.tz])).toEqual([
      ['submission-reminder', '5 * * * *', 'Asia/Shanghai'],
    ]);
  } finally {
    await q.close();
  }
});

it('reminds each district that has not submitted once, through the alerter, whatever the ticks', async () => {
  const officer = (
    await w.pool.query(
      `select id::text as "userId", username, display_name as "displayName", role, district_id as "districtId",
              enterprise_id as "enterpriseId" from console_users where username = 'officer-dist-lanxi'`,
    )
  ).rows[0] as Principal;
  // Lanxi submitted its February 2027 submission; the other two have not.
  await submitSubmission(
    w.pool,
    officer,
    'monthly',
    '2027-02',
    { articleHtml: '<p>亮点</p>', caseIds: [] },
    defaultSubmissionCalendar,
    new Date('2027-02-10T02:00:00Z'),
  );
  // Before the window (09:00 five days before the 25th) nothing; then two instances at once, then again.
  expect(await a.tick(new Date('2027-02-20T00:59:00Z'))).toEqual([]);
  const at = new Date('2027-02-20T01:05:00Z');
  const [ra, rb] = await Promise.all([a.tick(at), b.tick(at)]);
  const again = await b.tick(new Date('2027-02-25T15:00:00Z'));
  const reminded = [...ra, ...rb].map((r) => r.districtId).sort();
  expect(reminded).toEqual(['dist-kaifa', 'dist-landong']);
  expect(again).toEqual([]);
  // After the due day nothing more (the status shows it missing instead).
  expect(await a.tick(new Date('2027-02-25T16:00:00Z'))).toEqual([]);
  const rows = await w.pool.query(
    `select kind, period, district_id, officers from submission_reminders order by district_id`,
  );
  expect(rows.rows.map((r) => [r.kind, r.period, r.district_id])).toEqual([
    ['monthly', '2027-02', 'dist-kaifa'],
    ['monthly', '2027-02', 'dist-landong'],
  ]);
  const officers = rows.rows.reduce((n, r) => n + Number(r.officers), 0);
  expect(officers).toBeGreaterThanOrEqual(2);
  await until(async () => reader.records.length >= officers, 10_000, 'the reminders on the topic');
  const sent = reader.records;
  expect(sent).toHaveLength(officers);
  expect(new Set(sent.map((m) => m.id)).size).toBe(officers);
  for (const m of sent) {
    expect(m.kind).toBe('report-reminder');
    expect(m.recipient.kind).toBe('inspector');
    expect(m.id).toMatch(/^regulation-submission-monthly-2027-02-dist-(kaifa|landong)-/);
    expect(m.text).toContain('2027-02 月度报送');
    expect(m.text).toContain('2027-02-25 23:59');
  }
});
