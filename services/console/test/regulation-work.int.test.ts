// The console's regulatory background work on real Postgres, Redis and Kafka (own schema, own
// BullMQ prefix, own topic): complaint reminders filed through the API are requested from the
// alerter (message.request.v1) for the officers before the deadline, an outreach campaign is
// throttled by the BullMQ limiter and counted, the old monthly report's own scheduler left in Redis is
// removed at start-up and requests nothing, a WeChat complaint nobody has assigned yet is reminded to the city's
// supervisors, and the month's figures count the alerter's reminders. The alerter's delivery of requests, exactly once, is
// proven by its own tests.
import { randomBytes } from 'node:crypto';
import { validateMessageRequestV1, type ComplaintIntakeV1, type MessageRequestV1 } from '@offsite/contracts';
import {
  createDurableProducer,
  createKafkaClient,
  type ConsumedBatch,
  type DurableProducer,
} from '@offsite/kafka';
import type { ComplaintDeadlineConfig } from '@offsite/regulation';
import { createSilentLogger } from '@offsite/runtime';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import { Queue } from 'bullmq';
import type { Kafka } from 'kafkajs';
import { createComplaintIntake } from '../src/complaint-intake.js';
import {
  createRegulationWork,
  type MessageKind,
  type PublishMessage,
  type RegulationWork,
} from '../src/regulation-work.js';
import { RETIRED_REPORT_SCHEDULER } from '../src/regulation/index.js';
import { addAlerterHistory, createWorld, http, PASSWORD, readTopic, type World } from './fixture.js';

const complaintConfig: ComplaintDeadlineConfig = {
  // Acknowledge within 4 s, reminded 2 s before and at the deadline; resolve within an hour.
  deadlines: {
    normal: { acknowledgeHours: 4 / 3600, resolveHours: 1 },
    urgent: { acknowledgeHours: 4 / 3600, resolveHours: 1 },
  },
  reminderLeadHours: 2 / 3600,
};
const RATE = { max: 3, durationMs: 1000 };

const topic = `test.console.message-requests.${randomBytes(4).toString('hex')}`;
/** When each request was handed to Kafka (the first time, for a repeated id). */
const sendStarts = new Map<string, number>();
/** Every request as the alerter would consume it, in topic order. */
let requests: MessageRequestV1[] = [];
let reader: Awaited<ReturnType<typeof readTopic<MessageRequestV1>>>;
let kafka: Kafka;
let producer: DurableProducer;
const publish: PublishMessage = async (r) => {
  if (!sendStarts.has(r.id)) sendStarts.set(r.id, Date.now());
  await producer.send(topic, [{ key: r.id, value: JSON.stringify(r) }]);
};

let w: World;
let work: RegulationWork;
/** The reminders queue as an earlier console left it: with its own monthly report scheduler. */
let oldQueue: Queue;
const counted: { kind: MessageKind; medium: string; result: string }[] = [];

beforeAll(async () => {
  kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'console-regulation-work-int',
    logger: silentLogger,
  });
  reader = await readTopic(kafka, topic, validateMessageRequestV1);
  requests = reader.records;
  producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  const u = new URL(requireEnv('OFFSITE_REDIS_URL'));
  const logger = createSilentLogger();
  const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
  const queuePrefix = `test-console-${randomBytes(4).toString('hex')}`;
  oldQueue = new Queue('regulation-reminders', { connection, prefix: queuePrefix });
  await oldQueue.upsertJobScheduler(
    RETIRED_REPORT_SCHEDULER,
    { pattern: '* * * * * *', tz: 'Asia/Shanghai' },
    { name: RETIRED_REPORT_SCHEDULER, data: {} },
  );
  w = await createWorld({
    regulation: (pool) => {
      work = createRegulationWork({
        db: pool,
        connection,
        queuePrefix,
        publish,
        outreachRate: RATE,
        complaintConfig,
        logger,
        onMessage: (kind, medium, result) => counted.push({ kind, medium, result }),
      });
      return { reminders: work.reminders, outreach: work.outreach, complaintConfig };
    },
  });
  await work.start();
  // Landong's roster: one officer reachable by email, one by phone only, a non-officer; Lanxi's officer.
  await w.pool.query(`insert into inspectors (id, name, district_id, is_officer, phone, email) values
    ('insp-ld-1', '张科长', 'dist-landong', true, null, 'zhang@landong.example'),
    ('insp-ld-2', '李科员', 'dist-landong', true, '13900000002', null),
    ('insp-ld-3', '王检查员', 'dist-landong', false, '13900000003', 'wang@landong.example'),
    ('insp-lx-1', '赵科长', 'dist-lanxi', true, null, 'zhao@lanxi.example')`);
});
afterAll(async () => {
  await work?.close(10_000);
  await oldQueue?.close();
  await w?.close();
  await reader?.close();
  await producer?.disconnect();
});

async function loginAs(username: string): Promise<{ cookie: string; csrf: string }> {
  const r = await http(w.base, {
    method: 'POST',
    url: '/api/login',
    payload: { username, password: PASSWORD },
  });
  expect(r.statusCode).toBe(200);
  const c = r.cookies.find((x) => x.name === 'offsite_session')!;
  return { cookie: `offsite_session=${c.value}`, csrf: (r.json() as { csrfToken: string }).csrfToken };
}

/** Requests on `channel` whose id starts with `prefix`, oldest first. */
const requested = (channel: 'email' | 'sms', prefix: string) =>
  requests.filter((r) => r.channel === channel && r.id.startsWith(prefix));
const at = (r: MessageRequestV1) => sendStarts.get(r.id)!;

it('asks the alerter to remind the district officers of a complaint before its acknowledgement deadline', async () => {
  const s = await loginAs('officer-dist-landong');
  const r = await http(w.base, {
    method: 'POST',
    url: '/api/regulation/complaints',
    payload: { channel: 'hotline', enterpriseId: 'ent-0001', urgency: 'normal', summary: '夜间排放异味' },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  expect(r.statusCode).toBe(201);
  const c = (r.json() as { complaint: { id: number; ackDueAt: string; receivedAt: string } }).complaint;
  const prefix = `regulation-complaint-${c.id}-acknowledge-`;
  // Lead reminder (2 s before) and the deadline reminder, each to the three Landong officers.
  await until(
    async () => requested('email', prefix).length + requested('sms', prefix).length >= 6,
    15_000,
    'six acknowledge reminders requested',
  );
  const email = requested('email', prefix);
  const sms = requested('sms', prefix);
  // The roster's officer with an address, and the console's officer of the district (one user model).
  expect(email.map((m) => m.recipient.address)).toEqual([
    'zhang@landong.example',
    'landong.officer@qinglan.example',
    'zhang@landong.example',
    'landong.officer@qinglan.example',
  ]);
  expect(sms.map((m) => m.recipient.address)).toEqual(['13900000002', '13900000002']);
  expect(email[0]!.recipient).toMatchObject({ kind: 'inspector', id: 'insp-ld-1' });
  const due = Date.parse(c.ackDueAt);
  const [lead, , atDeadline] = email;
  expect(lead!.kind).toBe('complaint-reminder');
  expect(lead!.id).toContain('-lead-');
  expect(at(lead!)).toBeLessThan(due);
  expect(at(lead!)).toBeGreaterThanOrEqual(due - 2_000 - 50);
  expect(lead!.subject).toContain(`#${c.id}`);
  expect(lead!.text).toContain('受理时限临近');
  expect(lead!.text).toContain('acknowledgement deadline approaching');
  expect(atDeadline!.id).toContain('-due-');
  expect(atDeadline!.text).toContain('已超过受理时限');
  expect(at(atDeadline!)).toBeGreaterThanOrEqual(due - 50);
  expect(sms[0]!.sms).toMatch(/^信访举报#\d+（.+）受理时限临近/);
  // Nobody outside Landong's officers was reminded.
  const all = requests.filter((r) => r.id.startsWith('regulation-complaint-'));
  expect(new Set(all.map((m) => m.recipient.address))).toEqual(
    new Set(['zhang@landong.example', 'landong.officer@qinglan.example', '13900000002']),
  );
  expect(counted.filter((x) => x.kind === 'complaint-reminder' && x.result === 'requested')).toHaveLength(6);
  expect(await work.reminders.cancelComplaint(c.id)).toBe(2); // the two resolve reminders
});

it('reminds the city supervisors of a WeChat complaint whose enterprise nobody named, once per reminder', async () => {
  const msgId = String(Date.now());
  const record: ComplaintIntakeV1 = {
    schema: 'complaint.intake.v1',
    id: `wechat:gh_offsite:${msgId}`,
    channel: 'wechat',
    account: 'gh_offsite',
    source: 'oWxReminderSender000000000',
    sourceMessageId: msgId,
    text: '河边有管子夜里排黑水',
    receivedAt: new Date().toISOString(),
  };
  const handle = createComplaintIntake({
    db: w.pool,
    logger: silentLogger,
    config: complaintConfig,
    dlq: async () => {
      throw new Error('no record should be refused');
    },
    schedule: (c) => work.reminders.scheduleComplaint(c),
  });
  const batch = (offset: string): ConsumedBatch => ({
    topic: 'complaint-intake',
    partition: 0,
    messages: [
      {
        topic: 'complaint-intake',
        partition: 0,
        offset,
        key: Buffer.from(record.id),
        value: Buffer.from(JSON.stringify(record)),
        headers: {},
        timestamp: String(Date.now()),
      },
    ],
    heartbeat: async () => undefined,
    isStale: () => false,
  });
  await handle(batch('0'));
  await handle(batch('1')); // redelivered: still one complaint, its reminders scheduled once
  const { rows } = await w.pool.query<{ id: string }>(`select id from complaints where intake_id = $1`, [
    record.id,
  ]);
  expect(rows).toHaveLength(1);
  const prefix = `regulation-complaint-${rows[0]!.id}-acknowledge-`;
  await until(async () => requested('email', prefix).length >= 2, 15_000, 'lead and deadline reminders');
  await new Promise((r) => setTimeout(r, 1_000));
  const mails = requested('email', prefix);
  // The city's supervisor on duty, not a district officer: no district owns the complaint yet.
  expect(mails.map((m) => m.recipient)).toEqual([
    expect.objectContaining({ kind: 'inspector', id: 'supervisor', address: 'supervisor@qinglan.example' }),
    expect.objectContaining({ kind: 'inspector', id: 'supervisor', address: 'supervisor@qinglan.example' }),
  ]);
  expect(requested('sms', prefix)).toEqual([]);
  expect(mails[0]!.subject).toContain('企业待指定');
  expect(mails[0]!.text).toContain('尚未指定被投诉企业');
  expect(mails[0]!.text).toContain('name the enterprise it concerns');
  expect(mails[0]!.text).toContain('河边有管子夜里排黑水');
  expect(await work.reminders.cancelComplaint(Number(rows[0]!.id))).toBe(2); // the two resolve reminders
});

it('throttles a campaign to 10 enterprises and counts the messages handed to the alerter', async () => {
  // One email contact per enterprise: ten enterprises of the registry have one (ent-0001 has two).
  await w.pool.query(
    `update contacts set email = null where id = (select max(id) from contacts where enterprise_id = 'ent-0001' and email is not null)`,
  );
  const s = await loginAs('supervisor');
  const started = Date.now();
  const r = await http(w.base, {
    method: 'POST',
    url: '/api/regulation/campaigns',
    payload: {
      name: '汛期治污设施运行提醒',
      channel: 'email',
      template: {
        zh: {
          subject: '{{enterpriseName}}：汛期提醒',
          body: '{{contactName}}您好，请确保治污设施正常运行。',
        },
        en: {
          subject: '{{enterpriseName}}: flood season',
          body: 'Dear {{contactName}}, keep treatment running.',
        },
      },
      audience: {},
    },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  expect(r.statusCode).toBe(201);
  const { campaignId, messages } = r.json() as { campaignId: number; messages: number };
  expect(messages).toBe(10);
  type Stats = {
    total: number;
    queued: number;
    sent: number;
    failed: number;
    firstSentAt: string;
    lastSentAt: string;
  };
  const stats = async () =>
    (
      await http(w.base, {
        method: 'GET',
        url: `/api/regulation/campaigns/${campaignId}/stats`,
        headers: { cookie: s.cookie },
      })
    ).json() as Stats;
  await until(async () => (await stats()).sent === 10, 20_000, 'ten campaign messages handed over');
  const done = Date.now();
  const st = await stats();
  expect(st).toMatchObject({ total: 10, queued: 0, sent: 10, failed: 0 });
  await until(
    async () => requested('email', `campaign-${campaignId}-msg-`).length >= 10,
    10_000,
    'ten outreach requests on Kafka',
  );
  const sent = requested('email', `campaign-${campaignId}-msg-`);
  expect(sent).toHaveLength(10);
  expect(new Set(sent.map((m) => m.recipient.address)).size).toBe(10);
  expect(sent.every((m) => m.kind === 'outreach' && m.recipient.kind === 'enterprise-contact')).toBe(true);
  const times = sent.map(at).sort((a, b) => a - b);
  // At most 3 requests in any 1-second window: the limiter admits job starts in Redis time, and the
  // request follows after two Postgres round trips, which a loaded machine (load 20+) delays by up to
  // several hundred ms. So allow 800 ms of such delay; without the limiter the ten would leave within a
  // few milliseconds of each other.
  const slackMs = 800;
  for (let i = RATE.max; i < times.length; i += 1)
    expect(times[i]! - times[i - RATE.max]!).toBeGreaterThanOrEqual(RATE.durationMs - slackMs);
  expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(3 * RATE.durationMs - slackMs);
  expect(done - started).toBeGreaterThanOrEqual(3 * RATE.durationMs - slackMs);
  expect(Date.parse(st.lastSentAt) - Date.parse(st.firstSentAt)).toBeGreaterThanOrEqual(
    3 * RATE.durationMs - slackMs,
  );
  expect(sent.some((m) => /汛期提醒$/.test(m.subject))).toBe(true);
  process.stdout.write(
    `campaign of 10 at ${RATE.max}/${RATE.durationMs} ms: first→last send ${times.at(-1)! - times[0]!} ms, ` +
      `gaps ${times
        .slice(1)
        .map((t, i) => t - times[i]!)
        .join(',')} ms\n`,
  );
});

it('removed the old monthly report scheduler at start-up: it requests no report reminder', async () => {
  expect(await oldQueue.getJobSchedulersCount()).toBe(0);
  expect(await oldQueue.getJobs(['delayed', 'waiting', 'active'])).toEqual(
    expect.not.arrayContaining([expect.objectContaining({ name: RETIRED_REPORT_SCHEDULER })]),
  );
  // The complaint reminders above went through Kafka on this topic; no old report reminder among them.
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.filter((r) => r.id.startsWith('regulation-report-'))).toEqual([]);
});

it('counts the alerter’s reminders and acknowledgements in the monthly report', async () => {
  // The fixture's alerter history: one reminder to an ent-0002 contact on 2026-03-02, acknowledged.
  const s = await loginAs('officer-dist-landong');
  const get = async (district: string, month: string) =>
    http(w.base, {
      method: 'GET',
      url: `/api/regulation/reports/monthly?district=${district}&month=${month}`,
      headers: { cookie: s.cookie },
    });
  const r = await get('dist-landong', '2026-03');
  expect(r.statusCode).toBe(200);
  const before = (r.json() as { figures: { remindersSent: number; remindersAcknowledged: number } }).figures;
  // SMS and email to the same contact for the same group count once.
  expect(before).toEqual(expect.objectContaining({ remindersSent: 1, remindersAcknowledged: 1 }));
  // A second case of ent-0001 reminded the same way adds one.
  await addAlerterHistory(w.pool, 'dev-landong-exceed-2');
  const after = ((await get('dist-landong', '2026-03')).json() as { figures: typeof before }).figures;
  expect(after).toEqual(expect.objectContaining({ remindersSent: 2, remindersAcknowledged: 2 }));
  expect((await get('dist-lanxi', '2026-03')).statusCode).toBe(404);
});
