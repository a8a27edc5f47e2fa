import type { ICustomPartitioner, Kafka, Message, Producer, RecordMetadata } from 'kafkajs';
import { kafkajs } from './kafkajs-module.js';
import type { Logger } from './logger.js';

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** Event time in ms since epoch (Kafka message timestamp). */
  timestamp?: number;
}

export interface DurableProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /**
   * Resolves only once every message is acknowledged by all in-sync replicas (acks = -1). Callers
   * acknowledge their own upstream after this resolves, never before.
   */
  send(topic: string, messages: OutgoingMessage[]): Promise<RecordMetadata[]>;
  /** Several topics in one request; same guarantee. */
  sendBatch(batches: { topic: string; messages: OutgoingMessage[] }[]): Promise<RecordMetadata[]>;
}

export interface ProducerOptions {
  logger: Logger;
  /** gzip is the codec KafkaJS ships; others need plugins. */
  compression?: 'none' | 'gzip';
  /** Request timeout for one produce, ms. */
  timeoutMs?: number;
}

/**
 * KafkaJS's default (Java-compatible murmur2) partitioner, memoised for keyed messages per topic,
 * partition count and key: the default computes the hash and filters the partition list for every
 * message, which was ~4 % of the mqtt-ingestor's CPU while keys are a few thousand enterprise ids.
 * Same partitions as the default (tested), so key order holds across producers.
 */
export const memoisedDefaultPartitioner: ICustomPartitioner = () => {
  const inner = kafkajs().Partitioners.DefaultPartitioner();
  const cache = new Map<string, number>();
  return (args) => {
    const { message, partitionMetadata, topic } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (typeof key !== 'string') return inner(args);
    const k = `${topic}\u0000${partitionMetadata.length}\u0000${key}`;
    let p = cache.get(k);
    if (p === undefined) {
      p = inner(args);
      if (cache.size >= 100_000) cache.clear();
      cache.set(k, p);
    }
    return p;
  };
};

/**
 * A durable producer: acks = all, one request in flight, and a send resolves only once every in-sync
 * replica has the records. It is at-least-once: a retry after a lost ack may write a record twice, and
 * every consumer is idempotent (InfluxDB points overwrite, deviations and notifications key on their ids).
 *
 * KafkaJS's idempotent mode (experimental in KafkaJS) is off. The chaos run showed it losing records:
 * after a partition leader was killed, its sequence numbers fell out of step with the broker's
 * (OUT_OF_ORDER_SEQUENCE_NUMBER on every later send), and records the broker reported as written were
 * missing from the topic.
 *
 * KafkaJS makes one attempt per send, and a failed send is retried here as a whole. KafkaJS's own retry
 * re-sends only to the brokers that have not answered within the same send, with the partitions each
 * leads by then: the records of a partition whose leader died and whose leadership moved to a broker that
 * had already answered are never sent, and the send resolves as if they were (kafkajs#1303; the chaos
 * run lost meter readings so at a broker's kill -9).
 */
/** Retries of a failed send (each a whole new KafkaJS send), as many as KafkaJS's producer default. */
export const SEND_RETRIES = 5;

/**
 * `send` again, whole, after a failure KafkaJS calls retriable (with one attempt per KafkaJS send, such a
 * failure arrives as `KafkaJSNumberOfRetriesExceeded`), up to SEND_RETRIES times, waiting 200 ms, 400 ms,
 * … at most 5 s between attempts (KafkaJS has refreshed the metadata by then). Other errors at once.
 */
export async function wholeSendRetried<T>(
  send: () => Promise<T>,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= SEND_RETRIES || (err as Error | undefined)?.name !== 'KafkaJSNumberOfRetriesExceeded')
        throw err;
      await wait(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}

export function createDurableProducer(kafka: Kafka, opts: ProducerOptions): DurableProducer {
  const producer: Producer = kafka.producer({
    idempotent: false,
    maxInFlightRequests: 1,
    createPartitioner: memoisedDefaultPartitioner,
    allowAutoTopicCreation: false,
    retry: { retries: 0 },
  });
  const { CompressionTypes } = kafkajs();
  const compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const timeout = opts.timeoutMs ?? 30_000;
  // KafkaJS reads messages without changing them: one without headers or timestamp goes as it is
  // (no copy per message on the ingestors' hot path).
  const toKafka = (m: OutgoingMessage): Message =>
    m.headers === undefined && m.timestamp === undefined
      ? (m as Omit<OutgoingMessage, 'timestamp'>)
      : {
          key: m.key,
          value: m.value,
          ...(m.headers ? { headers: m.headers } : {}),
          ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
        };
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    send: (topic, messages) =>
      wholeSendRetried(() =>
        producer.send({ topic, acks: -1, timeout, compression, messages: messages.map(toKafka) }),
      ),
    sendBatch: (batches) =>
      wholeSendRetried(() =>
        producer.sendBatch({
          acks: -1,
          timeout,
          compression,
          topicMessages: batches.map((b) => ({ topic: b.topic, messages: b.messages.map(toKafka) })),
        }),
      ),
  };
}
