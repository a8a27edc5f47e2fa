/**
 * Integration harness: a gateway in-process against the real Kafka and Postgres, with its own
 * topics (unique prefix), its own Postgres schema holding the example registry, a consumer that
 * collects what reached Kafka, and a data-logger client.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type pg from 'pg';
import {
  createBatchConsumer,
  createDurableProducer,
  createKafkaClient,
  ensureTopics,
  type BatchConsumer,
  type DurableProducer,
} from '@offsite/kafka';
import { createMetricsRegistry, createSilentLogger, type Registry } from '@offsite/runtime';
import { findDeviceByMn, importRegistry, runMigrations } from '@offsite/store';
import { createTestSchema, requireEnv, silentLogger } from '@offsite/testing';
import {
  createCommandStore,
  createDeviceDirectory,
  createGateway,
  createGatewayMetrics,
  createPublisher,
  topicsWithPrefix,
  DEFAULT_COMMANDS,
  DEFAULT_GUARD,
  type BatchProducer,
  type Gateway,
  type CommandOptions,
  type GuardOptions,
  type Topics,
} from '../src/gateway.js';
import { createCommandIntake } from '../src/command-intake.js';
import type { GatewayMetrics } from '../src/metrics.js';

export const examplePath = new URL('../../../registry/example.yaml', import.meta.url).pathname;

export interface Collected {
  topic: string;
  key: string | null;
  value: Record<string, unknown>;
  /** The Kafka record timestamp, ms since epoch. */
  timestamp: number;
}

/** A seam in front of the real producer: while closed, produce requests wait (as if Kafka were unreachable). */
export class ProducerGate implements BatchProducer {
  private waiting: (() => void)[] = [];
  private closed = false;
  failNext = 0;
  constructor(private readonly inner: DurableProducer) {}
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.closed = false;
    for (const w of this.waiting.splice(0)) w();
  }
  async sendBatch(batches: Parameters<DurableProducer['sendBatch']>[0]): Promise<unknown> {
    if (this.closed) await new Promise<void>((r) => this.waiting.push(r));
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('injected produce failure');
    }
    return this.inner.sendBatch(batches);
  }
}

export interface Harness {
  gateway: Gateway;
  port: number;
  topics: Topics;
  pool: pg.Pool;
  gate: ProducerGate;
  metrics: GatewayMetrics;
  registry: Registry;
  collected: Collected[];
  /** deviation.v1 and hj212.command.v1 of this harness (consumed by the command intake when started). */
  commandTopics: { deviation: string; command: string };
  /** Produces JSON values to a topic (acks=-1). */
  produce(topic: string, key: string, values: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(
  opts: {
    idleTimeoutMs?: number;
    policy?: 'strict' | 'tolerant';
    maxConnections?: number;
    /** Defaults: DEFAULT_GUARD, with room for 2,000 connections from loopback. */
    guard?: Partial<GuardOptions>;
    /** Defaults: DEFAULT_COMMANDS without calibration on drift (the tests' QNs are in 2024). */
    commands?: Partial<CommandOptions>;
    /** Start the command intake (deviation.v1 and hj212.command.v1 → gateway_commands). */
    intake?: { backfillExpiryMs?: number; supervisorExpiryMs?: number; maxAttempts?: number };
  } = {},
): Promise<Harness> {
  const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
  const id = randomBytes(4).toString('hex');
  const db = await createTestSchema({ prefix: 'test_gw' });
  const pool = db.pool;
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: examplePath }, { logger: silentLogger });

  const topics = topicsWithPrefix(`t-gw-${id}.`);
  const kafka = createKafkaClient({ brokers, clientId: `gw-test-${id}`, logger: silentLogger, retries: 3 });
  await ensureTopics(kafka, [
    { topic: topics.telemetry, numPartitions: 3 },
    { topic: topics.raw, numPartitions: 2 },
    { topic: topics.dlq, numPartitions: 1 },
    { topic: `t-gw-${id}.deviation.v1`, numPartitions: 2 },
    { topic: `t-gw-${id}.hj212.command.v1`, numPartitions: 2 },
  ]);
  const commandTopics = { deviation: `t-gw-${id}.deviation.v1`, command: `t-gw-${id}.hj212.command.v1` };
  const producer = createDurableProducer(kafka, { logger: silentLogger, timeoutMs: 10_000 });
  await producer.connect();
  const gate = new ProducerGate(producer);

  const collected: Collected[] = [];
  const consumer = kafka.consumer({ groupId: `gw-test-${id}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.telemetry, topics.raw, topics.dlq], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      collected.push({
        topic,
        key: message.key?.toString() ?? null,
        value: JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>,
        timestamp: Number(message.timestamp),
      });
    },
  });

  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = createGatewayMetrics(registry);
  const publisher = createPublisher({ producer: gate, lingerMs: 2, batchMax: 2000, maxPending: 20_000 });
  const directory = createDeviceDirectory({ find: (mn) => findDeviceByMn(pool, mn), ttlMs: 30_000 });
  const commandStore = createCommandStore(pool);
  const gateway = createGateway({
    host: '127.0.0.1',
    port: 0,
    policy: opts.policy ?? 'tolerant',
    maxSegmentBytes: 9999,
    idleTimeoutMs: opts.idleTimeoutMs ?? 20_000,
    maxConnections: opts.maxConnections ?? 5000,
    splitTimeoutMs: 10_000,
    maxFramesInFlight: 32,
    cipherEncoding: 'hex',
    topics,
    directory,
    publisher,
    metrics,
    logger: createSilentLogger(),
    guard: { ...DEFAULT_GUARD, maxConnectionsPerSource: 2000, ...opts.guard },
    commands: { ...DEFAULT_COMMANDS, clockDriftMaxS: 0, pollMs: 100, ...opts.commands },
    commandStore,
  });
  const port = await gateway.listen();
  let intake: BatchConsumer | undefined;
  if (opts.intake) {
    intake = createBatchConsumer({
      kafka,
      groupId: `gw-test-${id}.commands`,
      topics: [commandTopics.deviation, commandTopics.command],
      fromBeginning: true,
      logger: silentLogger,
      handle: createCommandIntake({
        store: commandStore,
        topics: commandTopics,
        isLogger: async (mn) => (await directory.lookup(mn)) !== null,
        backfillExpiryMs: opts.intake.backfillExpiryMs ?? 600_000,
        supervisorExpiryMs: opts.intake.supervisorExpiryMs ?? 600_000,
        maxAttempts: opts.intake.maxAttempts ?? 3,
        dlq: (records) =>
          publisher.publish(
            records.map((r) => ({ topic: topics.dlq, message: { key: r.id, value: JSON.stringify(r) } })),
          ),
        metrics,
        logger: createSilentLogger(),
      }),
    });
    await intake.start();
  }

  return {
    gateway,
    port,
    topics,
    pool,
    gate,
    metrics,
    registry,
    collected,
    commandTopics,
    async produce(topic, key, values) {
      await producer.send(
        topic,
        values.map((v) => ({ key, value: JSON.stringify(v) })),
      );
    },
    async stop() {
      gate.open();
      await intake?.stop();
      await gateway.close(5_000);
      await publisher.close(5_000).catch(() => undefined);
      await consumer.disconnect();
      await producer.disconnect();
      const a = kafka.admin();
      await a.connect();
      await a
        .deleteTopics({
          topics: [topics.telemetry, topics.raw, topics.dlq, commandTopics.deviation, commandTopics.command],
        })
        .catch(() => undefined);
      await a.deleteGroups([`gw-test-${id}`, `gw-test-${id}.commands`]).catch(() => undefined);
      await a.disconnect();
      await db.drop();
    },
  };
}

/** A data logger: a socket that collects complete reply frames (lines ending in CR LF). */
export class Logger212 {
  readonly frames: string[] = [];
  closed = false;
  private buf = '';
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buf += text;
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        this.frames.push(this.buf.slice(0, i + 2));
        this.buf = this.buf.slice(i + 2);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  /** `from`: the client's own address (any of 127/8), so tests can act as several sources. */
  static connect(port: number, from?: string): Promise<Logger212> {
    return new Promise((resolve, reject) => {
      const s = net.connect(
        { port, host: '127.0.0.1', noDelay: true, ...(from ? { localAddress: from } : {}) },
        () => resolve(new Logger212(s)),
      );
      s.once('error', reject);
    });
  }

  send(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Waits until `n` frames in total have arrived. */
  async waitFrames(n: number, ms = 10_000): Promise<string[]> {
    const end = Date.now() + ms;
    while (this.frames.length < n) {
      if (this.closed) throw new Error(`connection closed with ${this.frames.length} of ${n} frames`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.frames.length} of ${n} frames`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.frames.slice(0, n);
  }

  end(): void {
    this.socket.destroy();
  }

  /** Waits until the other side closed the connection. */
  async waitClosed(ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed) {
      const left = end - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the gateway to close the connection');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

/** The value of one metric series (0 when absent). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
  }
  return sum;
}
