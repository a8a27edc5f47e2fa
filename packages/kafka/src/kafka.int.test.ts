import { randomUUID } from 'node:crypto';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  kafkajsFastPaths,
  type ConsumedMessage,
} from './index.js';
import { requireEnv, silentLogger, until } from '@offsite/testing';

const brokers = () => requireEnv('OFFSITE_KAFKA_BROKERS').split(',');

describe('kafka adapter against the real broker', () => {
  const kafka = createKafkaClient({ brokers: brokers(), clientId: 'kafka-int-test', logger: silentLogger });
  const topic = `test.kafka.${randomUUID()}`;

  beforeAll(async () => {
    const first = await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
    expect(first.created).toEqual([topic]);
    const second = await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
    expect(second).toEqual({ created: [], mismatched: [] });
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it("runs on the KafkaJS fast paths, as the services do (installed by the tests' Jest setup)", () => {
    expect(kafkajsFastPaths()).toEqual({
      groupMessagesPerPartition: true,
      record: true,
      crc32C: true,
      produceRequest: true,
    });
  });

  it('delivers every produced message to a consumer group once, in key order, and resumes after the committed offset', async () => {
    const producer = createDurableProducer(kafka, { logger: silentLogger, compression: 'gzip' });
    await producer.connect();
    const keys = ['ent-a', 'ent-b', 'ent-c'];
    const sent = Array.from({ length: 60 }, (_, i) => ({ key: keys[i % 3]!, value: JSON.stringify({ i }) }));
    const meta = await producer.send(topic, sent);
    expect(meta.every((m) => m.errorCode === 0)).toBe(true);

    const groupId = `g-${randomUUID()}`;
    const got: ConsumedMessage[] = [];
    const consumer = createBatchConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger: silentLogger,
      handle: async (batch) => {
        got.push(...batch.messages);
      },
    });
    await consumer.start();
    await until(() => got.length >= 60, 30_000, '60 messages');
    await consumer.stop();
    expect(got).toHaveLength(60);
    for (const key of keys) {
      const seq = got
        .filter((m) => m.key?.toString() === key)
        .map((m) => JSON.parse(m.value!.toString()).i as number);
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      expect(new Set(got.filter((m) => m.key?.toString() === key).map((m) => m.partition)).size).toBe(1);
    }

    // A new member of the same group starts after the committed offsets: only the new message arrives.
    await producer.send(topic, [{ key: 'ent-a', value: JSON.stringify({ i: 60 }) }]);
    const again: ConsumedMessage[] = [];
    const consumer2 = createBatchConsumer({
      kafka,
      groupId,
      topics: [topic],
      logger: silentLogger,
      handle: async (batch) => {
        again.push(...batch.messages);
      },
    });
    await consumer2.start();
    await until(() => again.length >= 1, 30_000, 'the new message');
    await new Promise((r) => setTimeout(r, 500));
    await consumer2.stop();
    await producer.disconnect();
    expect(again.map((m) => JSON.parse(m.value!.toString()).i)).toEqual([60]);
  });

  it('re-delivers a batch whose handler failed (offsets are committed only after success)', async () => {
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    await producer.send(topic, [{ key: 'ent-z', value: 'x' }]);
    await producer.disconnect();
    let attempts = 0;
    let handled = false;
    const consumer = createBatchConsumer({
      kafka,
      groupId: `g-${randomUUID()}`,
      topics: [topic],
      logger: silentLogger,
      handle: async (batch) => {
        if (!batch.messages.some((m) => m.key?.toString() === 'ent-z')) return;
        attempts += 1;
        if (attempts === 1) throw new Error('simulated failure');
        handled = true;
      },
    });
    await consumer.start();
    await until(() => handled, 30_000, 'the retried batch');
    await consumer.stop();
    expect(attempts).toBe(2);
  });

  it('stays in the group when its membership lapsed during a handler: the commit fails, the batch comes again', async () => {
    const producer = createDurableProducer(kafka, { logger: silentLogger });
    await producer.connect();
    await producer.send(topic, [{ key: 'ent-slow', value: 'x' }]);
    await producer.disconnect();
    const offsets: string[] = [];
    const crashes: { restart: boolean; cause: string }[] = [];
    const lost: string[] = [];
    const consumer = createBatchConsumer({
      kafka,
      groupId: `g-${randomUUID()}`,
      topics: [topic],
      logger: silentLogger,
      // The broker's least session timeout: the member is expelled while its first batch runs.
      sessionTimeoutMs: 6_000,
      onMembershipLost: (why) => lost.push(why),
      handle: async (batch) => {
        const mine = batch.messages.find((m) => m.key?.toString() === 'ent-slow');
        if (!mine) return;
        offsets.push(mine.offset);
        if (offsets.length === 1) await new Promise((r) => setTimeout(r, 9_000));
      },
    });
    consumer.consumer.on(consumer.consumer.events.CRASH, (e) => {
      const err = e.payload.error as Error & { cause?: { type?: string } };
      crashes.push({ restart: e.payload.restart, cause: err.cause?.type ?? err.name });
    });
    await consumer.start();
    await until(() => offsets.length >= 2, 40_000, 'the batch again, after the lapsed membership');
    await until(() => consumer.isRunning(), 20_000, 'a member again');
    await consumer.stop();
    // The same record, handled twice (at least once); never a crash that KafkaJS would not restart.
    expect(new Set(offsets).size).toBe(1);
    expect(crashes.filter((c) => !c.restart)).toEqual([]);
    // The handler heard that it had lost its partitions before it got them back.
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(lost[0]).toMatch(/UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS|rebalancing/);
  }, 70_000);
});
