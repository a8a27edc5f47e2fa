// Complaints from the WeChat official account on real Kafka and Postgres: complaint.intake.v1 records
// (one redelivered, one out of shape) consumed by the console's intake become one unassigned complaint
// each and a DLQ record; city-wide roles see it with the sender masked, a district officer does not
// until a supervisor assigns the enterprise (which brings the verification task of a listed enterprise).
import { randomBytes } from 'node:crypto';
import {
  kafkaMessage,
  kafkaTopics,
  validateTelemetryDlqV1,
  type ComplaintIntakeV1,
} from '@offsite/contracts';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  type BatchConsumer,
} from '@offsite/kafka';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import { createComplaintIntake } from '../src/complaint-intake.js';
import { createWorld, http, loginAs, readTopic, type Session, type World } from './fixture.js';

const run = randomBytes(4).toString('hex');
const topic = `test.console.complaint-intake.${run}`;
const dlqTopic = `test.console.complaint-dlq.${run}`;
const OPENID = `oWx${run}Sender000000000`;
const intake = (msgId: string, text: string): ComplaintIntakeV1 => ({
  schema: 'complaint.intake.v1',
  id: `wechat:gh_offsite:${msgId}`,
  channel: 'wechat',
  account: 'gh_offsite',
  source: OPENID,
  sourceMessageId: msgId,
  text,
  receivedAt: '2026-03-02T01:30:00Z',
});

let w: World;
const kafka = createKafkaClient({
  brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
  clientId: 'console-complaint-intake-int',
  logger: silentLogger,
});
const producer = createDurableProducer(kafka, { logger: silentLogger });
let consumer: BatchConsumer;
let dlq: Awaited<ReturnType<typeof readTopic>>;
const counts: Record<string, number> = {};

beforeAll(async () => {
  w = await createWorld();
  await w.pool.query(
    `insert into positive_list_decisions (enterprise_id, action, reason, valid_from, valid_until, decided_by)
     values ('ent-0002', 'add', '稳定达标', (now() at time zone 'Asia/Shanghai')::date - 1, null, 'supervisor')`,
  );
  await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
  dlq = await readTopic(kafka, dlqTopic, validateTelemetryDlqV1);
  await producer.connect();
  consumer = createBatchConsumer({
    kafka,
    groupId: `console-intake-${run}`,
    topics: [topic],
    fromBeginning: true,
    logger: silentLogger,
    handle: createComplaintIntake({
      db: w.pool,
      logger: silentLogger,
      dlq: async (records) => {
        await producer.send(
          dlqTopic,
          records.map((r) => kafkaMessage(kafkaTopics.telemetryDlq, r)),
        );
      },
      counted: (o) => void (counts[o] = (counts[o] ?? 0) + 1),
    }),
  });
  await consumer.start();
}, 120_000);
afterAll(async () => {
  await consumer?.stop();
  await dlq?.close();
  await producer.disconnect();
  await w.close();
});

const get = (s: Session, url: string) => http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
const post = (s: Session, url: string, payload: object) =>
  http(w.base, { method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
interface Listed {
  id: number;
  channel: string;
  enterpriseId: string | null;
  districtId: string | null;
  sourceMasked: string | null;
  summary: string;
  status: string;
  verificationTaskId: number | null;
}

it('records a WeChat complaint once, unassigned, seen by city-wide roles with the sender masked', async () => {
  const first = intake('24000000000000001', '夜间偷排废气，气味刺鼻');
  // The same message twice (WeChat pushed it again; the alerter passed it on twice), and one out of shape.
  await producer.send(topic, [
    kafkaMessage(kafkaTopics.complaintIntake, first),
    kafkaMessage(kafkaTopics.complaintIntake, first),
  ]);
  await producer.send(topic, [{ key: 'bad', value: JSON.stringify({ ...first, id: 'x y', text: '' }) }]);
  await until(
    () => (counts.new ?? 0) + (counts.repeat ?? 0) >= 2 && dlq.records.length >= 1,
    60_000,
    'the three records handled',
  );
  expect(counts).toEqual({ new: 1, repeat: 1, rejected: 1 });
  const rows = (
    await w.pool.query<{ n: number; source_ref: string; created_by: string }>(
      `select count(*) over ()::int as n, source_ref, created_by from complaints where intake_id = $1`,
      [first.id],
    )
  ).rows;
  expect(rows).toEqual([{ n: 1, source_ref: OPENID, created_by: 'intake:wechat' }]);
  expect((dlq.records[0] as { reason: { code: string } }).reason.code).toBe('console.schema-invalid');

  const sup = await loginAs(w.base, 'supervisor');
  const res = await get(sup, '/api/regulation/complaints');
  expect(res.statusCode).toBe(200);
  // The openid never leaves the console in full.
  expect(res.body).not.toContain(OPENID);
  const mine = (res.json() as Listed[]).filter((c) => c.summary === first.text);
  expect(mine).toEqual([
    expect.objectContaining({
      channel: 'wechat',
      enterpriseId: null,
      districtId: null,
      status: 'received',
      sourceMasked: `${OPENID.slice(0, 4)}…${OPENID.slice(-2)}`,
    }),
  ]);
  const officer = await loginAs(w.base, 'officer-dist-landong');
  const theirs = (await get(officer, '/api/regulation/complaints')).json() as Listed[];
  expect(theirs.some((c) => c.id === mine[0]!.id)).toBe(false);
}, 90_000);

it('an unassigned complaint is only rejected or assigned; the enterprise brings district and verification task', async () => {
  const sup = await loginAs(w.base, 'supervisor');
  const [c] = ((await get(sup, '/api/regulation/complaints')).json() as Listed[]).filter(
    (x) => x.enterpriseId === null && x.status === 'received',
  );
  expect(c).toBeDefined();
  const ack = await post(sup, `/api/regulation/complaints/${c!.id}/transitions`, { to: 'acknowledged' });
  expect(ack.statusCode).toBe(409);
  expect(ack.json()).toMatchObject({ code: 'INVALID_TRANSITION' });

  // A district officer cannot reach it; a bad enterprise id is a field-named 400; an unknown one 404.
  const officer = await loginAs(w.base, 'officer-dist-landong');
  expect(
    (await post(officer, `/api/regulation/complaints/${c!.id}/enterprise`, { enterpriseId: 'ent-0002' }))
      .statusCode,
  ).toBe(404);
  const bad = await post(sup, `/api/regulation/complaints/${c!.id}/enterprise`, {
    enterpriseId: 'NOT AN ID',
  });
  expect(bad.statusCode).toBe(400);
  expect(bad.body).toContain('enterpriseId');
  expect(
    (await post(sup, `/api/regulation/complaints/${c!.id}/enterprise`, { enterpriseId: 'ent-9999' }))
      .statusCode,
  ).toBe(404);

  const assigned = await post(sup, `/api/regulation/complaints/${c!.id}/enterprise`, {
    enterpriseId: 'ent-0002',
  });
  expect(assigned.statusCode).toBe(200);
  const out = assigned.json() as { complaint: Listed; verificationTask: { id: number } | null };
  expect(out.complaint).toMatchObject({ enterpriseId: 'ent-0002', districtId: 'dist-landong' });
  expect(out.verificationTask).not.toBeNull();
  // Once: a second assignment is refused.
  expect(
    (await post(sup, `/api/regulation/complaints/${c!.id}/enterprise`, { enterpriseId: 'ent-0001' }))
      .statusCode,
  ).toBe(409);
  // Now the district's officer sees it and handles it as any other.
  const theirs = (await get(officer, '/api/regulation/complaints')).json() as Listed[];
  expect(theirs.find((x) => x.id === c!.id)).toMatchObject({ enterpriseId: 'ent-0002', channel: 'wechat' });
  const acked = await post(officer, `/api/regulation/complaints/${c!.id}/transitions`, {
    to: 'acknowledged',
  });
  expect(acked.statusCode).toBe(200);
  const history = await w.pool.query<{ to_status: string; note: string | null; actor: string }>(
    `select to_status, note, actor from complaint_events where complaint_id = $1 order by id`,
    [c!.id],
  );
  expect(history.rows.map((r) => [r.to_status, r.note])).toEqual([
    ['received', null],
    ['received', 'enterprise ent-0002'],
    ['acknowledged', null],
  ]);
}, 60_000);
