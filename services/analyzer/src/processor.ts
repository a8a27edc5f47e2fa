// Partition-scoped rule engines: one engine per assigned telemetry partition, restored from its Postgres
// checkpoint, fed record by record, its outputs handed off (deviations to Kafka, aggregates to InfluxDB)
// before the checkpoint is written and before the consumer commits the Kafka offset. The parts live in
// their own modules: restore, rewind, the batch loop, hand-off and checkpoint; this one holds the
// partitions and serialises what is done to each.
import type { TelemetryDlqV1 } from '@offsite/contracts';
import { createEngine, type EngineConfig, type Output, type RegistryView } from '@offsite/domain';
import type { Logger } from '@offsite/runtime';
import { runBatch } from './batch-loop.js';
import type { CheckpointStore } from './checkpoints.js';
import { checkpointIsDue, writeCheckpoint, type CheckpointCadence } from './checkpointing.js';
import { handOff } from './handoff.js';
import type { IncomingRecord, OutputSinks, PartitionState, ProcessorCounters } from './partition-state.js';
import { restorePartition } from './restore.js';
import { positionForBatch } from './rewind.js';

export type { IncomingRecord, OutputSinks, ProcessorCounters } from './partition-state.js';

export interface ProcessorOptions {
  engineConfig: EngineConfig;
  registry: RegistryView;
  checkpoints: CheckpointStore;
  sinks: OutputSinks;
  logger: Logger;
  /** The event-time watermark trails the largest reading-interval end seen by this much. */
  allowedLatenessMs: number;
  /** On a wall-clock tick the watermark moves to now − this (offline detection when data stop). */
  tickLagMs: number;
  /**
   * Checkpoint a partition at most this often (ms) … 0 checkpoints after every batch. Between
   * checkpoints the outputs are still handed off after every batch; a crash replays from the
   * checkpoint's offset and re-emits the same (id, revision) events (downstream de-duplicates).
   */
  checkpointIntervalMs?: number;
  /** … or once this many records were processed since the last checkpoint (0: no record limit). */
  checkpointEveryRecords?: number;
  /**
   * Moves the partition's fetch position back (Kafka consumer seek). Called when a batch starts past
   * the checkpoint (the Kafka commit runs ahead of a deferred checkpoint); the batch is then skipped.
   */
  rewind?: (topic: string, partition: number, offset: string) => void;
  clock?: () => number;
  counters?: ProcessorCounters;
  /**
   * Within a long batch, deviations (and aggregates, DLQ records) found so far are handed off once this many ms
   * passed since the batch started or the last hand-off, instead of waiting for the end of the batch (a multi-MB
   * fetch would otherwise add its whole processing time to the detection latency). 0: end of batch only.
   */
  handoffIntervalMs?: number;
}

export interface PartitionProcessor {
  /** `heartbeat` keeps the group membership alive during a long batch (called every few hundred records). */
  handleBatch(
    topic: string,
    partition: number,
    records: readonly IncomingRecord[],
    heartbeat?: () => Promise<void>,
  ): Promise<void>;
  /** Advances every held engine to the wall clock minus the tick lag (offline detection). */
  tick(): Promise<void>;
  /** The current assignment: engines of partitions no longer assigned are dropped. */
  assigned(assignment: readonly { topic: string; partitions: readonly number[] }[]): Promise<void>;
  /** A new registry (limits, meters, status dates) for every engine, without losing their state. */
  setRegistry(view: RegistryView): Promise<void>;
  /** Checkpoints every held partition with progress since its last checkpoint (timer, shutdown). */
  checkpointDue(force?: boolean): Promise<void>;
  /**
   * Shutdown begins: a batch in progress stops at the next record, hands off and checkpoints what it took, and
   * later batches are skipped (the Kafka commit may run past the checkpoint; the next start seeks back to it).
   */
  stop(): void;
  held(): { topic: string; partition: number; nextOffset: string | null; watermark: number | null }[];
}

const key = (topic: string, partition: number) => `${topic}|${partition}`;
const parseKey = (k: string): [string, number] => {
  const i = k.lastIndexOf('|');
  return [k.slice(0, i), Number(k.slice(i + 1))];
};

export function createPartitionProcessor(opts: ProcessorOptions): PartitionProcessor {
  const log = opts.logger.child({ component: 'processor' });
  const clock = opts.clock ?? Date.now;
  const counters = opts.counters ?? {};
  const cadence: CheckpointCadence = {
    intervalMs: opts.checkpointIntervalMs ?? 0,
    everyRecords: opts.checkpointEveryRecords ?? 0,
  };
  let registry = opts.registry;
  let stopping = false;
  const states = new Map<string, PartitionState>();
  const locks = new Map<string, Promise<unknown>>();
  const handOffDeps = { sinks: opts.sinks, counters, clock, logger: log };
  const checkpointDeps = { checkpoints: opts.checkpoints, sinks: opts.sinks, counters, clock };
  const rewindDeps = {
    restore: (topic: string, partition: number) =>
      restorePartition(
        { checkpoints: opts.checkpoints, engineConfig: opts.engineConfig, registry, clock, logger: log },
        topic,
        partition,
      ),
    ...(opts.rewind ? { rewind: opts.rewind } : {}),
    counters,
    logger: log,
  };

  /** Serialises everything done to one partition's engine (batches, ticks, registry swaps). */
  function withLock<T>(k: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(k) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    locks.set(k, settled);
    void settled.then(() => {
      if (locks.get(k) === settled) locks.delete(k);
    });
    return run;
  }

  /** Runs `fn` on each held partition under its lock; a failure drops that partition's engine (it restores on the next batch). */
  function eachHeld(
    what: string,
    fn: (st: PartitionState, topic: string, partition: number) => Promise<void>,
  ): Promise<void> {
    return Promise.all(
      [...states.keys()].map((k) =>
        withLock(k, async () => {
          const st = states.get(k);
          if (!st) return;
          const [topic, partition] = parseKey(k);
          try {
            await fn(st, topic, partition);
          } catch (err) {
            states.delete(k);
            log.error(
              { err, topic, partition },
              `${what} failed: engine dropped, it restores on the next batch`,
            );
          }
        }),
      ),
    ).then(() => undefined);
  }

  /** Hands off the outputs, and only then checkpoints (when due, or always with `forceCheckpoint`). */
  async function flush(
    topic: string,
    partition: number,
    st: PartitionState,
    outputs: Output[],
    dlq: TelemetryDlqV1[],
    forceCheckpoint = false,
  ): Promise<void> {
    await handOff(handOffDeps, topic, partition, outputs, dlq);
    if (forceCheckpoint || checkpointIsDue(cadence, st, clock()))
      await writeCheckpoint(checkpointDeps, topic, partition, st);
  }

  return {
    stop() {
      stopping = true;
    },

    held() {
      return [...states.entries()].map(([k, st]) => {
        const [topic, partition] = parseKey(k);
        return { topic, partition, nextOffset: st.nextOffset, watermark: st.engine.watermark };
      });
    },

    handleBatch(topic, partition, records, heartbeat) {
      const k = key(topic, partition);
      return withLock(k, async () => {
        const first = records[0];
        if (!first || stopping) return;
        const { st, skip } = await positionForBatch(
          rewindDeps,
          states.get(k),
          topic,
          partition,
          first.offset,
        );
        states.set(k, st);
        if (skip) return;
        try {
          const result = await runBatch(
            {
              engineConfig: opts.engineConfig,
              allowedLatenessMs: opts.allowedLatenessMs,
              handoffIntervalMs: opts.handoffIntervalMs ?? 0,
              handOff: (outputs, dlq) => handOff(handOffDeps, topic, partition, outputs, dlq),
              stopping: () => stopping,
              counters,
              clock,
            },
            st,
            topic,
            partition,
            records,
            heartbeat,
          );
          await flush(topic, partition, st, result.outputs, result.dlq, result.interrupted);
        } catch (err) {
          // The engine ran ahead of its checkpoint: forget it, the retry restores from the checkpoint.
          states.delete(k);
          throw err;
        }
      });
    },

    async tick() {
      const target = clock() - opts.tickLagMs;
      await eachHeld('tick', async (st, topic, partition) => {
        if (st.engine.watermark !== null && st.engine.watermark >= target) return;
        const outputs = st.engine.advance(target);
        st.unsaved = true;
        // A wall-clock advance is not a function of the records: checkpoint it at once, so a
        // replay after a crash does not depend on when the ticks happened.
        if (outputs.length > 0) await flush(topic, partition, st, outputs, [], true);
      });
    },

    async assigned(assignment) {
      const keep = new Set(assignment.flatMap((a) => a.partitions.map((p) => key(a.topic, p))));
      await Promise.all(
        [...states.keys()]
          .filter((k) => !keep.has(k))
          .map((k) =>
            withLock(k, async () => {
              states.delete(k);
              log.info({ partition: k }, 'partition revoked: engine dropped');
            }),
          ),
      );
    },

    async setRegistry(view) {
      registry = view;
      await eachHeld('checkpoint before registry swap', async (st, topic, partition) => {
        // The records so far were judged under the old registry: make that durable first, so a
        // replay after a crash does not judge them under the new one.
        await writeCheckpoint(checkpointDeps, topic, partition, st);
        const engine = createEngine(opts.engineConfig, view);
        // Everything it holds was just checkpointed: the next checkpoint carries only new readings.
        engine.restore(st.engine.snapshot(), { durable: true });
        st.engine = engine;
      });
      log.info({ partitions: states.size }, 'registry reloaded into the engines');
    },

    async checkpointDue(force = false) {
      await eachHeld('checkpoint', async (st, topic, partition) => {
        if (!st.unsaved || (!force && !checkpointIsDue(cadence, st, clock()))) return;
        await writeCheckpoint(checkpointDeps, topic, partition, st);
      });
    },
  };
}
