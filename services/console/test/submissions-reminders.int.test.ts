// Due-date reminders of districts' submissions on real Postgres, Redis and Kafka (own schema, BullMQ
// prefix and topic): before the due day the officers of every district that has not submitted are
// reminded through the console's one way to the alerter (message.request.v1), exactly once per
// district and period, whether two console instances tick at the same moment or one ticks again;
// a district that submitted is not reminded, and nothing is reminded outside the window.
import { randomBytes } from 'node:crypto';
import { createSilentLogger } from '@offsite/runtime';
import { until } from '@offsite/testing';
import { createRegulationSink } from '../src/regulation-work.js';
import { createSubmissionReminders, type SubmissionReminders } from '../src/submissions-reminders.js';
import { submitSubmission } from '../src/submissions.js';
import { defaultSubmissionCalendar } from '../src/submissions-rules.js';
import type { Principal } from '../src/principal.js';
import { createWorld, type World } from './fixture.js';
import { messageTopic, startTwo, type MessageTopic } from './message-topic.js';

const prefix = `test-submissions-${randomBytes(4).toString('hex')}`;
let t: MessageTopic;
let w: World;
let a: SubmissionReminders;
let b: SubmissionReminders;

beforeAll(async () => {
  t = await messageTopic('submission-reminders');
  w = await createWorld();
  // Two console instances: each its own sink and scheduler over the same database, Redis prefix and topic.
  const instance = () =>
    createSubmissionReminders({
      pool: w.pool,
      connection: t.connection,
      prefix,
      toInspector: createRegulationSink({ db: w.pool, publish: t.publish, logger: createSilentLogger() })
        .toInspector,
      logger: createSilentLogger(),
      calendar: defaultSubmissionCalendar,
      // The scheduled ticks' clock: outside every reminder window (the test's ticks name their moment).
      now: () => new Date('2027-06-01T00:00:00Z'),
    });
  [a, b] = await startTwo(instance);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await w?.close();
  await t?.close();
});

it('both instances keep one hourly scheduler', async () => {
  expect(await t.schedulers('submission-reminders', prefix)).toEqual([
    ['submission-reminder', '5 * * * *', 'Asia/Shanghai'],
  ]);
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
  await until(async () => t.records.length >= officers, 10_000, 'the reminders on the topic');
  const sent = t.records;
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
