// A private message.request.v1 topic for the console's background-work tests: the publish function
// the regulation sink hands requests to (the durable producer, keyed by id), every request read back
// and validated as the alerter would consume it, and the Redis connection for BullMQ.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { validateMessageRequestV1, type MessageRequestV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient } from '@offsite/kafka';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { PublishMessage } from '../src/regulation-work.js';
import { readTopic } from './fixture.js';

export interface MessageTopic {
  publish: PublishMessage;
  /** Every request on the topic, in order. */
  records: MessageRequestV1[];
  /** BullMQ's connection to the test Redis. */
  connection: { host: string; port: number; maxRetriesPerRequest: null };
  /** The job schedulers of a queue: [key, pattern, tz] each. */
  schedulers(queue: string, prefix: string): Promise<[string, string | undefined, string | undefined][]>;
  close(): Promise<void>;
}

export async function messageTopic(name: string): Promise<MessageTopic> {
  const topic = `test.console.${name}.${randomBytes(4).toString('hex')}`;
  const kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: `console-${name}-int`,
    logger: silentLogger,
  });
  const reader = await readTopic(kafka, topic, validateMessageRequestV1);
  const producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  const u = new URL(requireEnv('OFFSITE_REDIS_URL'));
  const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
  return {
    publish: async (r) => {
      await producer.send(topic, [{ key: r.id, value: JSON.stringify(r) }]);
    },
    records: reader.records,
    connection,
    async schedulers(name, prefix) {
      const q = new Queue(name, { connection, prefix });
      try {
        return (await q.getJobSchedulers()).map((s) => [s.key, s.pattern, s.tz]);
      } finally {
        await q.close();
      }
    },
    async close() {
      await reader.close();
      await producer.disconnect();
    },
  };
}

/** Two console instances of a background job over the same database, Redis prefix and topic, started. */
export async function startTwo<T extends { start(): Promise<void> }>(make: () => T): Promise<[T, T]> {
  const two: [T, T] = [make(), make()];
  await Promise.all(two.map((x) => x.start()));
  return two;
}
