// Partition-scoped rule engines: one engine per assigned telemetry partition, restored from its Postgres
// checkpoint, fed record by record, its outputs handed off (deviations to Kafka, aggregates to InfluxDB)
// before the checkpoint is written and before the consumer commits the Kafka offset.
import { kafkaDlqRecord, type DeviationV1, type TelemetryDlqV1 } from '@offsite/contracts';
import {
  createEngine,
  seenAt,
  type AggregateOutput,
  type DeviationOutput,
  type Engine,
  type EngineConfig,
  type Output,
  type RegistryView,
} from '@offsite/domain';
import type { Logger } from '@offsite/runtime';
import { OffsiteError } from '@offsite/runtime/errors';
import type { CheckpointStore } from './checkpoints.js';
import { deviationEvent } from './deviation-event.js';
import { decodeTelemetryRecord } from './telemetry.js';

/** Where the processor hands its results; each call resolves once the hand-off is durable. */
export interface OutputSinks {
  deviations(events: DeviationV1[]): Promise<void>;
  aggregates(aggregates: AggregateOutput[]): Promise<void>;
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  /** The analyzer's own deviation log (stability input), after the Kafka hand-off. */
  deviationLog?(entries: { output: DeviationOutput; event: DeviationV1 }[]): Promise<void>;
  /** Largest receivedAt per enterprise since the last checkpoint, written just before it. */
  lastSeen?(byEnterprise: ReadonlyMap<string, number>): Promise<void>;
}

export interface ProcessorCounters {
  readings?(n: number): void;
  rejected?(code: string, n: number): void;
  dlq?(code: string): void;
  deviations?(state: string, n: number): void;
  aggregates?(n: number): void;
  checkpoints?(): void;
  /** Records between the checkpoint and the first one Kafka still had (deleted by retention): never analysed. */
  gone?(n: number): void;
  /** Wall seconds the partition loop spent per phase (decode, engine, handoff, checkpoint): where the time goes. */
  phase?(phase: 'decode' | 'engine' | 'handoff' | 'checkpoint', seconds: number): void;
}

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
   * passed since the batch started or the last hand-off, instead of waiting for the end of the batch (a fetch of
   * several MB took about a second at national load, which was the detection latency's p99). 0: end of batch only.
   */
  handoffIntervalMs?: number;
}

export interface IncomingRecord {
  offset: string;
  value: Buffer | null;
}

interface PartitionState {
  engine: Engine;
  nextOffset: string | null;
  maxEventTime: number | null;
  version: number | null;
  /** Offset of the last checkpoint (null: none yet) and when / how many records ago it was written. */
  checkpointedOffset: string | null;
  /** The engine moved (records or a tick) since the last checkpoint. */
  unsaved: boolean;
  checkpointedAt: number;
  sinceCheckpoint: number;
  /** The offset a rewind asked for, so a gap that a rewind cannot close (retention) is accepted once. */
  rewoundTo: string | null;
  lastSeen: Map<string, number>;
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

export function createPartitionProcessor(opts: ProcessorOptions): PartitionProcessor {
  const log = opts.logger.child({ component: 'processor' });
  const clock = opts.clock ?? Date.now;
  const c = opts.counters ?? {};
  const cpIntervalMs = opts.checkpointIntervalMs ?? 0;
  const cpEveryRecords = opts.checkpointEveryRecords ?? 0;
  const handoffMs = opts.handoffIntervalMs ?? 0;
  let registry = opts.registry;
  let stopping = false;
  const states = new Map<string, PartitionState>();
  const locks = new Map<string, Promise<unknown>>();

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

  async function restore(topic: string, partition: number): Promise<PartitionState> {
    const cp = await opts.checkpoints.load(topic, partition);
    const engine = createEngine(opts.engineConfig, registry);
    const fresh = {
      checkpointedAt: clock(),
      sinceCheckpoint: 0,
      rewoundTo: null,
      unsaved: false,
      lastSeen: new Map<string, number>(),
    };
    if (!cp) {
      log.info({ topic, partition }, 'no checkpoint: starting an empty engine');
      return {
        engine,
        nextOffset: null,
        maxEventTime: null,
        version: null,
        checkpointedOffset: null,
        ...fresh,
      };
    }
    // An older checkpoint row holds a full snapshot (readings inside): the next checkpoint then writes them all.
    const legacy = Object.values(cp.state.enterprises).some((e) => e.readings.length > 0);
    engine.restoreParts(cp.state, cp.readings, { durable: !legacy });
    log.info(
      { topic, partition, nextOffset: cp.nextOffset, watermark: engine.watermark },
      'engine restored from checkpoint',
    );
    return {
      engine,
      nextOffset: cp.nextOffset,
      maxEventTime: cp.maxEventTime,
      version: cp.version,
      checkpointedOffset: cp.nextOffset,
      ...fresh,
    };
  }

  /** Writes the engine snapshot and offset, fenced by the row version. */
  async function checkpoint(
    topic: string,
    partition: number,
    st: PartitionState,
    evenIfUnchanged = false,
  ): Promise<void> {
    if (st.nextOffset === null || (!st.unsaved && !evenIfUnchanged)) return;
    if (st.lastSeen.size > 0 && opts.sinks.lastSeen) {
      await opts.sinks.lastSeen(st.lastSeen);
      st.lastSeen = new Map();
    }
    const cp0 = performance.now();
    // Incremental: the state without readings plus the readings since the last checkpoint (the store serialises
    // them before it first awaits). If the save fails the engine is dropped and restored, so nothing is lost.
    const parts = st.engine.checkpoint();
    const version = await opts.checkpoints.save(
      topic,
      partition,
      {
        nextOffset: st.nextOffset,
        maxEventTime: st.maxEventTime,
        state: parts.state,
        readings: parts.readings,
        full: parts.full,
        keepFrom: parts.keepFrom,
      },
      st.version,
    );
    if (version === null) {
      throw new OffsiteError(
        'ANALYZER_CHECKPOINT_FENCED',
        `checkpoint of ${topic}/${partition} was moved by another consumer (rebalance); reloading`,
        { retryable: true },
      );
    }
    st.version = version;
    st.checkpointedOffset = st.nextOffset;
    st.unsaved = false;
    st.checkpointedAt = clock();
    st.sinceCheckpoint = 0;
    c.checkpoints?.();
    c.phase?.('checkpoint', (performance.now() - cp0) / 1000);
  }

  /** The first checkpoint of a partition is written at once (it anchors the replay position). */
  function checkpointIsDue(st: PartitionState): boolean {
    if (st.version === null) return true;
    if (cpIntervalMs === 0 && cpEveryRecords === 0) return true;
    if (cpEveryRecords > 0 && st.sinceCheckpoint >= cpEveryRecords) return true;
    return cpIntervalMs > 0 && clock() - st.checkpointedAt >= cpIntervalMs;
  }

  /**
   * Hands off the outputs (deviations to Kafka, aggregates to InfluxDB) and only then checkpoints
   * (when due, or always with `forceCheckpoint`).
   */
  async function flush(
    topic: string,
    partition: number,
    st: PartitionState,
    outputs: Output[],
    dlq: TelemetryDlqV1[],
    forceCheckpoint = false,
  ): Promise<void> {
    await handOff(topic, partition, outputs, dlq);
    if (forceCheckpoint || checkpointIsDue(st)) await checkpoint(topic, partition, st);
  }

  /** DLQ records, aggregates and deviations to their sinks; resolves once durable. */
  async function handOff(
    topic: string,
    partition: number,
    outputs: Output[],
    dlq: TelemetryDlqV1[],
  ): Promise<void> {
    const h0 = performance.now();
    await handOffNow(topic, partition, outputs, dlq);
    c.phase?.('handoff', (performance.now() - h0) / 1000);
  }

  async function handOffNow(
    topic: string,
    partition: number,
    outputs: Output[],
    dlq: TelemetryDlqV1[],
  ): Promise<void> {
    const deviations = outputs.filter((o): o is DeviationOutput => o.type === 'deviation');
    // A window recomputed several times within the batch: only its last value matters.
    const aggs = new Map<string, AggregateOutput>();
    for (const o of outputs) {
      if (o.type === 'aggregate') aggs.set(`${o.siteId}|${o.factor}|${o.interval}|${o.start}`, o);
    }
    const rejected = outputs.filter((o) => o.type === 'rejected');
    for (const r of rejected) {
      c.rejected?.(r.code, 1);
      log.warn({ topic, partition, eventId: r.eventId, code: r.code }, r.message);
    }
    if (dlq.length > 0) await opts.sinks.dlq(dlq);
    if (aggs.size > 0) {
      await opts.sinks.aggregates([...aggs.values()]);
      c.aggregates?.(aggs.size);
    }
    if (deviations.length > 0) {
      const now = clock();
      const events = deviations.map((d) => deviationEvent(d, now));
      await opts.sinks.deviations(events);
      await opts.sinks.deviationLog?.(deviations.map((output, i) => ({ output, event: events[i]! })));
      for (const d of deviations) c.deviations?.(d.state, 1);
    }
  }

  const parseKey = (k: string): [string, number] => {
    const i = k.lastIndexOf('|');
    return [k.slice(0, i), Number(k.slice(i + 1))];
  };

  const dlqRecord = (topic: string, partition: number, r: IncomingRecord, code: string, message: string) =>
    kafkaDlqRecord({
      service: 'analyzer',
      code,
      message,
      topic,
      partition,
      offset: r.offset,
      value: r.value,
      receivedAt: new Date(clock()),
    });

  return {
    stop() {
      stopping = true;
    },

    held() {
      return [...states.entries()].map(([k, st]) => {
        const i = k.lastIndexOf('|');
        return {
          topic: k.slice(0, i),
          partition: Number(k.slice(i + 1)),
          nextOffset: st.nextOffset,
          watermark: st.engine.watermark,
        };
      });
    },

    handleBatch(topic, partition, records, heartbeat) {
      const k = key(topic, partition);
      return withLock(k, async () => {
        const first = records[0];
        if (!first || stopping) return;
        let st = states.get(k);
        // Not held, or the batch starts past what we processed (another member owned the partition meanwhile).
        if (!st || (st.nextOffset !== null && BigInt(first.offset) > BigInt(st.nextOffset))) {
          const rewoundTo = st?.rewoundTo ?? null;
          st = await restore(topic, partition);
          st.rewoundTo = rewoundTo; // a rewind to the same checkpoint that did not close the gap is not retried
          states.set(k, st);
        }
        if (st.nextOffset !== null && BigInt(first.offset) > BigInt(st.nextOffset)) {
          if (opts.rewind && st.rewoundTo !== st.nextOffset) {
            // The Kafka commit ran ahead of the (deferred) checkpoint: replay from the checkpoint.
            st.rewoundTo = st.nextOffset;
            log.info(
              { topic, partition, checkpoint: st.nextOffset, got: first.offset },
              'batch starts past the checkpoint: seeking back to replay from it',
            );
            opts.rewind(topic, partition, st.nextOffset);
            return;
          }
          // Seen in the kill flow: Kafka's time retention (the message timestamp is the reading's event time) deleted
          // the segments past the checkpoint, so the fetch was out of range and reset to the new log start. Those
          // records can no longer be analysed; say how many, and count them.
          const gone = BigInt(first.offset) - BigInt(st.nextOffset);
          c.gone?.(Number(gone));
          log.error(
            { topic, partition, expected: st.nextOffset, got: first.offset, gone: gone.toString() },
            'records between the checkpoint and this batch are gone from Kafka (retention): continuing without them',
          );
        }
        let outputs: Output[] = [];
        let dlq: TelemetryDlqV1[] = [];
        let taken = 0;
        let interrupted = false;
        let seen = 0;
        let handedOffAt = performance.now();
        let decodeMs = 0;
        let engineMs = 0;
        try {
          for (const r of records) {
            // A long batch yields now and then, so a shutdown signal (and timers) can run in between.
            if (++seen % 256 === 0) {
              await new Promise((resolve) => setImmediate(resolve));
              await heartbeat?.();
            }
            // Deviations found early in a long batch go out without waiting for its end.
            if (
              handoffMs > 0 &&
              seen % 32 === 0 &&
              (outputs.length > 0 || dlq.length > 0) &&
              performance.now() - handedOffAt >= handoffMs
            ) {
              await handOff(topic, partition, outputs, dlq);
              outputs = [];
              dlq = [];
              handedOffAt = performance.now();
            }
            if (stopping) {
              interrupted = true;
              break;
            }
            // Already inside the checkpoint (the Kafka commit trails the checkpoint after a crash).
            if (st.nextOffset !== null && BigInt(r.offset) < BigInt(st.nextOffset)) continue;
            const d0 = performance.now();
            const d = decodeTelemetryRecord(r.value);
            const d1 = performance.now();
            decodeMs += d1 - d0;
            if (!d.ok) {
              dlq.push(dlqRecord(topic, partition, r, d.code, d.message));
              c.dlq?.(d.code);
            } else {
              taken++;
              outputs.push(...st.engine.ingest(d.reading));
              const received = Date.parse(d.telemetry.receivedAt);
              const ent = d.reading.enterpriseId;
              if (Number.isFinite(received) && received > (st.lastSeen.get(ent) ?? -Infinity))
                st.lastSeen.set(ent, received);
              const end = seenAt(d.reading, opts.engineConfig);
              if (st.maxEventTime === null || end > st.maxEventTime) st.maxEventTime = end;
              // Advancing after every record makes the outputs a function of the record sequence alone,
              // independent of how the records were batched (a replay after a crash yields the same events).
              outputs.push(...st.engine.advance(st.maxEventTime - opts.allowedLatenessMs));
              engineMs += performance.now() - d1;
            }
            st.nextOffset = (BigInt(r.offset) + 1n).toString();
            st.sinceCheckpoint++;
            st.unsaved = true;
          }
          c.readings?.(taken);
          c.phase?.('decode', decodeMs / 1000);
          c.phase?.('engine', engineMs / 1000);
          await flush(topic, partition, st, outputs, dlq, interrupted);
        } catch (err) {
          // The engine ran ahead of its checkpoint: forget it, the retry restores from the checkpoint.
          states.delete(k);
          throw err;
        }
      });
    },

    async tick() {
      const target = clock() - opts.tickLagMs;
      await Promise.all(
        [...states.keys()].map((k) =>
          withLock(k, async () => {
            const st = states.get(k);
            if (!st || (st.engine.watermark !== null && st.engine.watermark >= target)) return;
            const [topic, partition] = parseKey(k);
            try {
              const outputs = st.engine.advance(target);
              st.unsaved = true;
              // A wall-clock advance is not a function of the records: checkpoint it at once, so a
              // replay after a crash does not depend on when the ticks happened.
              if (outputs.length > 0) await flush(topic, partition, st, outputs, [], true);
            } catch (err) {
              states.delete(k);
              log.error(
                { err, topic, partition },
                'tick failed: engine dropped, it restores on the next batch',
              );
            }
          }),
        ),
      );
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
      await Promise.all(
        [...states.keys()].map((k) =>
          withLock(k, async () => {
            const st = states.get(k);
            if (!st) return;
            // The records so far were judged under the old registry: make that durable first, so a
            // replay after a crash does not judge them under the new one.
            const [topic, partition] = parseKey(k);
            try {
              // Even without progress: a full checkpoint still owed (after a legacy restore) is written now.
              await checkpoint(topic, partition, st, true);
            } catch (err) {
              states.delete(k);
              log.error({ err, topic, partition }, 'checkpoint before registry swap failed: engine dropped');
              return;
            }
            const engine = createEngine(opts.engineConfig, view);
            // Everything it holds was just checkpointed: the next checkpoint carries only new readings.
            engine.restore(st.engine.snapshot(), { durable: true });
            st.engine = engine;
          }),
        ),
      );
      log.info({ partitions: states.size }, 'registry reloaded into the engines');
    },

    async checkpointDue(force = false) {
      await Promise.all(
        [...states.keys()].map((k) =>
          withLock(k, async () => {
            const st = states.get(k);
            if (!st || !st.unsaved) return;
            if (!force && !checkpointIsDue(st)) return;
            const [topic, partition] = parseKey(k);
            try {
              await checkpoint(topic, partition, st);
            } catch (err) {
              states.delete(k);
              log.error(
                { err, topic, partition },
                'checkpoint failed: engine dropped, it restores on the next batch',
              );
            }
          }),
        ),
      );
    },
  };
}
