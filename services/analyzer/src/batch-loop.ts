// The batch loop: each record of a partition's batch decoded (DLQ otherwise), ingested, and the watermark
// advanced after every record; long batches yield, heartbeat and hand off what they found so far.
import { kafkaDlqRecord, type TelemetryDlqV1 } from '@offsite/contracts';
import { seenAt, type EngineConfig, type Output } from '@offsite/domain';
import type { IncomingRecord, PartitionState, ProcessorCounters } from './partition-state.js';
import { decodeTelemetryRecord } from './telemetry.js';

export interface BatchLoopDeps {
  engineConfig: EngineConfig;
  allowedLatenessMs: number;
  /** Hands off outputs found so far once this many ms passed since the batch started or the last hand-off (0: never). */
  handoffIntervalMs: number;
  handOff(outputs: Output[], dlq: TelemetryDlqV1[]): Promise<void>;
  /** True once shutdown began: the loop stops at the next record. */
  stopping(): boolean;
  counters: ProcessorCounters;
  clock: () => number;
}

/** What the loop leaves to hand off, and whether shutdown cut it short. */
export interface BatchResult {
  outputs: Output[];
  dlq: TelemetryDlqV1[];
  interrupted: boolean;
}

/** Keeps the outlet's earliest hour of hourly data (the emission loads' inputs) until the next checkpoint. */
function noteLoadHour(st: PartitionState, siteId: string, start: number): void {
  if (start < (st.loadHours.get(siteId) ?? Infinity)) st.loadHours.set(siteId, start);
}

function noteLoadHours(st: PartitionState, outputs: readonly Output[]): void {
  for (const o of outputs)
    if (o.type === 'aggregate' && o.interval === 'hour') noteLoadHour(st, o.siteId, o.start);
}

export async function runBatch(
  deps: BatchLoopDeps,
  st: PartitionState,
  topic: string,
  partition: number,
  records: readonly IncomingRecord[],
  heartbeat?: () => Promise<void>,
): Promise<BatchResult> {
  const c = deps.counters;
  let outputs: Output[] = [];
  let dlq: TelemetryDlqV1[] = [];
  let taken = 0;
  let interrupted = false;
  let seen = 0;
  let handedOffAt = performance.now();
  let decodeMs = 0;
  let engineMs = 0;
  for (const r of records) {
    // A long batch yields now and then, so a shutdown signal (and timers) can run in between.
    if (++seen % 256 === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      await heartbeat?.();
    }
    // Deviations found early in a long batch go out without waiting for its end.
    if (
      deps.handoffIntervalMs > 0 &&
      seen % 32 === 0 &&
      (outputs.length > 0 || dlq.length > 0) &&
      performance.now() - handedOffAt >= deps.handoffIntervalMs
    ) {
      await deps.handOff(outputs, dlq);
      outputs = [];
      dlq = [];
      handedOffAt = performance.now();
    }
    if (deps.stopping()) {
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
      dlq.push(
        kafkaDlqRecord({
          service: 'analyzer',
          code: d.code,
          message: d.message,
          topic,
          partition,
          offset: r.offset,
          value: r.value,
          receivedAt: new Date(deps.clock()),
        }),
      );
      c.dlq?.(d.code);
    } else {
      taken++;
      const ingested = st.engine.ingest(d.reading);
      noteLoadHours(st, ingested);
      outputs.push(...ingested);
      if (d.reading.kind === 'emission' && d.reading.interval === 'hour')
        noteLoadHour(st, d.reading.siteId, d.reading.dataTime);
      const received = Date.parse(d.telemetry.receivedAt);
      const ent = d.reading.enterpriseId;
      if (Number.isFinite(received) && received > (st.lastSeen.get(ent) ?? -Infinity))
        st.lastSeen.set(ent, received);
      const dev = d.reading.deviceId;
      if (Number.isFinite(received) && received < (st.reported.get(dev)?.receivedAt ?? Infinity))
        st.reported.set(dev, { enterpriseId: ent, siteId: d.reading.siteId, receivedAt: received });
      const end = seenAt(d.reading, deps.engineConfig);
      if (st.maxEventTime === null || end > st.maxEventTime) st.maxEventTime = end;
      // Advancing after every record makes the outputs a function of the record sequence alone,
      // independent of how the records were batched (a replay after a crash yields the same events).
      const advanced = st.engine.advance(st.maxEventTime - deps.allowedLatenessMs);
      noteLoadHours(st, advanced);
      outputs.push(...advanced);
      engineMs += performance.now() - d1;
    }
    st.nextOffset = (BigInt(r.offset) + 1n).toString();
    st.sinceCheckpoint++;
    st.unsaved = true;
  }
  c.readings?.(taken);
  c.phase?.('decode', decodeMs / 1000);
  c.phase?.('engine', engineMs / 1000);
  return { outputs, dlq, interrupted };
}
