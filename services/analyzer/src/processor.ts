// Partition-scoped rule engines: one engine per assigned telemetry partition, restored from its Postgres
// checkpoint, fed record by record, its outputs handed off (deviations to Kafka, aggregates to InfluxDB)
// before the checkpoint is written and before the consumer commits the Kafka offset.
import type { DeviationV1, TelemetryDlqV1 } from '@offsite/contracts';
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
}

export interface ProcessorCounters {
  readings?(n: number): void;
  rejected?(code: string, n: number): void;
  dlq?(code: string): void;
  deviations?(state: string, n: number): void;
  aggregates?(n: number): void;
  checkpoints?(): void;
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
  clock?: () => number;
  counters?: ProcessorCounters;
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
}

export interface PartitionProcessor {
  handleBatch(topic: string, partition: number, records: readonly IncomingRecord[]): Promise<void>;
  /** Advances every held engine to the wall clock minus the tick lag (offline detection). */
  tick(): Promise<void>;
  /** The current assignment: engines of partitions no longer assigned are dropped. */
  assigned(assignment: readonly { topic: string; partitions: readonly number[] }[]): Promise<void>;
  /** A new registry (limits, meters, status dates) for every engine, without losing their state. */
  setRegistry(view: RegistryView): Promise<void>;
  held(): { topic: string; partition: number; nextOffset: string | null; watermark: number | null }[];
}

const key = (topic: string, partition: number) => `${topic}|${partition}`;

export function createPartitionProcessor(opts: ProcessorOptions): PartitionProcessor {
  const log = opts.logger.child({ component: 'processor' });
  const clock = opts.clock ?? Date.now;
  const c = opts.counters ?? {};
  let registry = opts.registry;
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
    if (!cp) {
      log.info({ topic, partition }, 'no checkpoint: starting an empty engine');
      return { engine, nextOffset: null, maxEventTime: null, version: null };
    }
    engine.restore(cp.state);
    log.info(
      { topic, partition, nextOffset: cp.nextOffset, watermark: engine.watermark },
      'engine restored from checkpoint',
    );
    return { engine, nextOffset: cp.nextOffset, maxEventTime: cp.maxEventTime, version: cp.version };
  }

  /** Hands off the outputs (deviations to Kafka, aggregates to InfluxDB) and only then checkpoints. */
  async function flush(
    topic: string,
    partition: number,
    st: PartitionState,
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
      await opts.sinks.deviations(deviations.map((d) => deviationEvent(d, now)));
      for (const d of deviations) c.deviations?.(d.state, 1);
    }
    if (st.nextOffset === null) return; // nothing consumed yet: nothing to checkpoint
    const version = await opts.checkpoints.save(
      topic,
      partition,
      { nextOffset: st.nextOffset, maxEventTime: st.maxEventTime, state: st.engine.snapshot() },
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
    c.checkpoints?.();
  }

  function dlqRecord(topic: string, partition: number, r: IncomingRecord, code: string, message: string) {
    const raw = r.value ?? Buffer.alloc(0);
    const rec: TelemetryDlqV1 = {
      schema: 'telemetry.dlq.v1',
      id: `analyzer.${topic}.${partition}.${r.offset}`,
      source: 'kafka',
      reason: { code: `analyzer.${code}`, message },
      raw: raw.toString('base64'),
      rawText: raw.toString('utf8').slice(0, 1_000_000),
      receivedAt: new Date(clock()).toISOString(),
      origin: { transport: 'kafka', topic, partition, offset: r.offset },
      irregularities: [],
    };
    return rec;
  }

  return {
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

    handleBatch(topic, partition, records) {
      const k = key(topic, partition);
      return withLock(k, async () => {
        const first = records[0];
        if (!first) return;
        let st = states.get(k);
        // Not held, or the batch starts past what we processed (another member owned the partition meanwhile).
        if (!st || (st.nextOffset !== null && BigInt(first.offset) > BigInt(st.nextOffset))) {
          st = await restore(topic, partition);
          states.set(k, st);
        }
        if (st.nextOffset !== null && BigInt(first.offset) > BigInt(st.nextOffset)) {
          log.warn(
            { topic, partition, expected: st.nextOffset, got: first.offset },
            'records between the checkpoint and this batch are gone (retention?): continuing',
          );
        }
        const outputs: Output[] = [];
        const dlq: TelemetryDlqV1[] = [];
        let taken = 0;
        try {
          for (const r of records) {
            // Already inside the checkpoint (the Kafka commit trails the checkpoint after a crash).
            if (st.nextOffset !== null && BigInt(r.offset) < BigInt(st.nextOffset)) continue;
            const d = decodeTelemetryRecord(r.value);
            if (!d.ok) {
              dlq.push(dlqRecord(topic, partition, r, d.code, d.message));
              c.dlq?.(d.code);
            } else {
              taken++;
              outputs.push(...st.engine.ingest(d.reading));
              const end = seenAt(d.reading, opts.engineConfig);
              if (st.maxEventTime === null || end > st.maxEventTime) st.maxEventTime = end;
              // Advancing after every record makes the outputs a function of the record sequence alone,
              // independent of how the records were batched (a replay after a crash yields the same events).
              outputs.push(...st.engine.advance(st.maxEventTime - opts.allowedLatenessMs));
            }
            st.nextOffset = (BigInt(r.offset) + 1n).toString();
          }
          c.readings?.(taken);
          await flush(topic, partition, st, outputs, dlq);
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
            const i = k.lastIndexOf('|');
            const topic = k.slice(0, i);
            const partition = Number(k.slice(i + 1));
            try {
              const outputs = st.engine.advance(target);
              if (outputs.length > 0) await flush(topic, partition, st, outputs, []);
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
            const engine = createEngine(opts.engineConfig, view);
            engine.restore(st.engine.snapshot());
            st.engine = engine;
          }),
        ),
      );
      log.info({ partitions: states.size }, 'registry reloaded into the engines');
    },
  };
}
