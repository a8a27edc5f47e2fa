import type { Component } from '@offsite/runtime';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from './logger.js';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** Keeps the group membership alive during long handlers. */
  heartbeat(): Promise<void>;
  isStale(): boolean;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  logger: Logger;
  /**
   * Handles one partition's batch. Offsets are committed only after it resolves, so a crash
   * re-delivers the batch (at-least-once): handlers must be idempotent.
   */
  handle(batch: ConsumedBatch): Promise<void>;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  onAssignment?(assigned: { topic: string; partitions: number[] }[]): void;
  /**
   * This member no longer owns its partitions until the next assignment: the group is rebalancing, the
   * coordinator expelled it (a handler outlasted the session), or the consumer crashed. A handler that
   * keeps per-partition state must stop acting for those partitions (their next owner may already run).
   */
  onMembershipLost?(why: string): void;
}

export interface BatchConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  /** True while the consumer is a healthy group member. */
  isRunning(): boolean;
  readonly consumer: Consumer;
}

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;

/**
 * How long a member may take to join its group. A member started right after its predecessor was killed
 * waits, at worst, for the coordinator to expel the dead one (a session timeout) and for the rebalance
 * that follows (another), plus the coordinator's own start after a broker restart.
 */
export function groupJoinDeadlineMs(sessionTimeoutMs: number = DEFAULT_SESSION_TIMEOUT_MS): number {
  return 2 * sessionTimeoutMs + 30_000;
}

/** A consumer's lifecycle step; `isMember` says whether it is a group member now (for metrics). */
export interface ConsumerComponent extends Component {
  isMember(): boolean;
}

/**
 * A batch consumer as a lifecycle step, built when the step starts. A crash KafkaJS will not restart calls
 * `onFatal` (the service shuts down and its supervisor starts it again).
 *
 * By default the step waits for the group join (within the join deadline) and the service is ready only
 * while the consumer is a group member: right for a service whose work is consuming.
 *
 * With `gatesReadiness: false` the step starts the consumer and returns without waiting, and its membership
 * is reported (in /readyz's `degraded` while it is not a member) without making the service unready: for a
 * service that mainly answers requests, whose consumer must not hold them back while the group rebalances
 * (a member started after a kill waits up to a session timeout for the dead one to leave).
 */
export function consumerComponent(o: {
  name: string;
  sessionTimeoutMs?: number | undefined;
  gatesReadiness?: boolean;
  logger?: Logger;
  build: () => BatchConsumer;
  onFatal: (reason: string, error: unknown) => void;
}): ConsumerComponent {
  let consumer: BatchConsumer | undefined;
  let stopping = false;
  let joined: Promise<void> | undefined;
  const gates = o.gatesReadiness ?? true;
  const begin = (): Promise<void> => {
    const c = o.build();
    consumer = c;
    c.consumer.on(c.consumer.events.CRASH, (e) => {
      if (!e.payload.restart && !stopping) o.onFatal(`${o.name} crashed`, e.payload.error);
    });
    return c.start();
  };
  return {
    name: o.name,
    ...(gates ? { startTimeoutMs: groupJoinDeadlineMs(o.sessionTimeoutMs) } : { gatesReadiness: false }),
    async start() {
      if (gates) return begin();
      joined = begin().catch((error: unknown) => {
        if (!stopping) o.onFatal(`${o.name} failed to start`, error);
      });
      const deadlineMs = groupJoinDeadlineMs(o.sessionTimeoutMs);
      const late = setTimeout(() => {
        if (!stopping && !consumer?.isRunning()) {
          o.logger?.warn(
            { step: o.name, deadlineMs },
            'consumer has not joined its group within the join deadline',
          );
        }
      }, deadlineMs);
      late.unref();
      void joined.finally(() => clearTimeout(late));
    },
    async stop() {
      stopping = true;
      await consumer?.stop();
      await joined;
    },
    check: () =>
      consumer?.isRunning()
        ? true
        : {
            healthy: false,
            detail: consumer ? 'not a group member (joining or rebalancing)' : 'not started',
          },
    isMember: () => consumer?.isRunning() ?? false,
  };
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Header values as strings; records without headers (the common case) share one frozen empty object. */
function headersOf(m: KafkaMessage): Record<string, string> {
  const h = m.headers;
  if (!h) return NO_HEADERS;
  let out: Record<string, string> | undefined;
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    (out ??= {})[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out ?? NO_HEADERS;
}

/** Errors by which the coordinator says this member must join the group again. */
const REJOIN = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/** The broker's own error under KafkaJS's wrappers, when it says this member must join again. */
function rejoinCause(e: unknown): (Error & { type: string }) | undefined {
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  const type = (cause as { type?: unknown } | null)?.type;
  return typeof type === 'string' && REJOIN.has(type) ? (cause as Error & { type: string }) : undefined;
}

/** A consumer-group member that commits a partition's offsets only after its handler succeeded. */
export function createBatchConsumer(opts: BatchConsumerOptions): BatchConsumer {
  const log = opts.logger.child({ component: 'consumer', groupId: opts.groupId });
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
    allowAutoTopicCreation: false,
  });
  let running = false;
  const lost = (why: string) => {
    running = false;
    opts.onMembershipLost?.(why);
  };
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    lost('crash');
  });
  consumer.on(consumer.events.REBALANCING, () => {
    log.info({}, 'group rebalancing: re-joining');
    lost('rebalancing');
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    running = true;
    const assigned = Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({
      topic,
      partitions,
    }));
    log.info({ assigned }, 'joined group');
    opts.onAssignment?.(assigned);
  });
  consumer.on(consumer.events.STOP, () => {
    running = false;
  });
  const topicsPaused = () => opts.topics.map((topic) => ({ topic }));
  return {
    consumer,
    isRunning: () => running,
    pause: () => consumer.pause(topicsPaused()),
    resume: () => consumer.resume(topicsPaused()),
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, heartbeat, isStale, isRunning, resolveOffset }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          const messages: ConsumedMessage[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: headersOf(m),
            timestamp: m.timestamp,
          }));
          const last = batch.messages[batch.messages.length - 1]!;
          const next = (BigInt(last.offset) + 1n).toString();
          try {
            await opts.handle({
              topic: batch.topic,
              partition: batch.partition,
              messages,
              heartbeat,
              isStale,
            });
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          } catch (e) {
            // The membership lapsed (a handler outlasted the session, a rebalance; seen by a heartbeat or the
            // commit). KafkaJS's commit wraps the broker's error in a non-retriable one, which would crash the
            // consumer for good; the broker's own error makes KafkaJS's runner join again, and the uncommitted
            // batch is delivered again, to this member or to the partition's next owner.
            const cause = rejoinCause(e);
            if (!cause) throw e;
            log.warn({ type: cause.type, partition: batch.partition }, 'membership lapsed: re-joining');
            lost(cause.type);
            throw cause;
          }
          // Advances the fetch position; without it the next fetch would return this batch again.
          resolveOffset(last.offset);
        },
      });
    },
    async stop() {
      await consumer.disconnect();
      running = false;
    },
  };
}
