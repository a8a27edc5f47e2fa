// Review decisions leave the console through its outbox: the action's transaction writes the row, the
// relay publishes it to Kafka (review.decision.v1) and stamps it only after Kafka acknowledged. A
// publish that Kafka took but whose stamp was lost is published again with the same id and sequence.
import { randomBytes } from 'node:crypto';
import { validateReviewDecisionV1, type ReviewDecisionV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, type DurableProducer } from '@offsite/kafka';
import { createSilentLogger } from '@offsite/runtime';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import type { Kafka } from 'kafkajs';
import { applyAction } from '../src/cases.js';
import type { Principal } from '../src/principal.js';
import { createReviewDecisionRelay } from '../src/review-decisions.js';
import { CASES, createWorld, readTopic, type World } from './fixture.js';

const topic = `test.console.review-decisions.${randomBytes(4).toString('hex')}`;
let w: World;
let kafka: Kafka;
let producer: DurableProducer;
let seen: ReviewDecisionV1[] = [];
let reader: Awaited<ReturnType<typeof readTopic<ReviewDecisionV1>>>;
let supervisor: Principal;

beforeAll(async () => {
  w = await createWorld();
  kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'console-review-decisions-int',
    logger: silentLogger,
  });
  reader = await readTopic(kafka, topic, validateReviewDecisionV1);
  seen = reader.records;
  producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  const u = await w.pool.query<{ id: string }>(
    `select id::text from console_users where username = 'supervisor'`,
  );
  supervisor = {
    userId: u.rows[0]!.id,
    username: 'supervisor',
    displayName: 'supervisor',
    role: 'city-supervisor',
    districtId: null,
    enterpriseId: null,
  };
}, 60_000);

afterAll(async () => {
  await reader?.close();
  await producer?.disconnect();
  await w?.close();
});

test('each decision is published once Kafka took it, in sequence order per case; assign and comment are not decisions', async () => {
  const id = CASES.falsified;
  await applyAction(w.pool, supervisor, id, { action: 'acknowledge' });
  await applyAction(w.pool, supervisor, id, { action: 'comment', body: '调取运维记录' });
  await applyAction(w.pool, supervisor, id, { action: 'confirm', decision: 'penalty' });
  const pending = await w.pool.query(`select 1 from review_decision_outbox where published_at is null`);
  expect(pending.rowCount).toBe(2);

  const relay = createReviewDecisionRelay({
    pool: w.pool,
    send: (t, m) => producer.send(t, m),
    topic,
    logger: createSilentLogger(),
  });
  await relay.kick();
  await until(() => seen.length >= 2, 30_000, 'two review decisions on Kafka');
  const mine = seen.filter((e) => e.deviationId === id);
  expect(mine.map((e) => [e.action, e.reviewState, e.decision ?? null])).toEqual([
    ['acknowledge', 'acknowledged', null],
    ['confirm', 'confirmed', 'penalty'],
  ]);
  expect(mine[0]!.sequence).toBeLessThan(mine[1]!.sequence);
  expect(mine[1]).toMatchObject({
    enterpriseId: 'ent-0003',
    suspectedFalsification: true,
    id: `${id}:${mine[1]!.sequence}`,
  });
  const left = await w.pool.query(`select 1 from review_decision_outbox where published_at is null`);
  expect(left.rowCount).toBe(0);
  await relay.stop();
});

test('a publish whose stamp failed is published again with the same id; nothing is lost', async () => {
  await applyAction(w.pool, supervisor, CASES.lanxi, { action: 'escalate' });
  let calls = 0;
  const relay = createReviewDecisionRelay({
    pool: w.pool,
    // Kafka takes the first publish, then the console "crashes" before stamping the row.
    send: async (t, m) => {
      await producer.send(t, m);
      if (++calls === 1) throw new Error('lost before the stamp');
    },
    topic,
    logger: createSilentLogger(),
  });
  await relay.kick();
  const stillPending = await w.pool.query(`select 1 from review_decision_outbox where published_at is null`);
  expect(stillPending.rowCount).toBe(1);
  await relay.kick();
  await until(
    () => seen.filter((e) => e.deviationId === CASES.lanxi).length >= 2,
    30_000,
    'the republished decision',
  );
  const events = seen.filter((e) => e.deviationId === CASES.lanxi);
  expect(events).toHaveLength(2);
  expect(events[1]).toEqual(events[0]);
  expect(events[0]).toMatchObject({ action: 'escalate', reviewState: 'inspection' });
  const left = await w.pool.query(`select 1 from review_decision_outbox where published_at is null`);
  expect(left.rowCount).toBe(0);
  await relay.stop();
});
