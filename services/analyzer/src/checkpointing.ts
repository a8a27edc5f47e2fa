// Checkpoint: a partition's engine state, its readings since the previous checkpoint and the next offset,
// written in one statement fenced by the row version, and the rule for when one is due.
import { OffsiteError } from '@offsite/runtime/errors';
import type { CheckpointStore } from './checkpoints.js';
import type { OutputSinks, PartitionState, ProcessorCounters } from './partition-state.js';

export interface CheckpointDeps {
  checkpoints: Pick<CheckpointStore, 'save'>;
  sinks: Pick<OutputSinks, 'lastSeen' | 'loadHours'>;
  counters: ProcessorCounters;
  clock: () => number;
}

/** Checkpoint cadence: at most every `intervalMs`, or after `everyRecords` records (both 0: every batch). */
export interface CheckpointCadence {
  intervalMs: number;
  everyRecords: number;
}

/** Writes the engine's checkpoint and offset (when the engine moved since the last one), fenced by the row version. */
export async function writeCheckpoint(
  deps: CheckpointDeps,
  topic: string,
  partition: number,
  st: PartitionState,
): Promise<void> {
  if (st.nextOffset === null || !st.unsaved) return;
  if ((st.lastSeen.size > 0 || st.reported.size > 0) && deps.sinks.lastSeen) {
    await deps.sinks.lastSeen(st.lastSeen, st.reported);
    st.lastSeen = new Map();
    st.reported = new Map();
  }
  if (st.loadHours.size > 0 && deps.sinks.loadHours) {
    await deps.sinks.loadHours(st.loadHours);
    st.loadHours = new Map();
  }
  const cp0 = performance.now();
  // Incremental: the state without readings plus the readings since the last checkpoint (the store serialises
  // them before it first awaits). If the save fails the engine is dropped and restored, so nothing is lost.
  const parts = st.engine.checkpoint();
  const version = await deps.checkpoints.save(
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
  st.checkpointedAt = deps.clock();
  st.sinceCheckpoint = 0;
  deps.counters.checkpoints?.();
  deps.counters.phase?.('checkpoint', (performance.now() - cp0) / 1000);
}

/** The first checkpoint of a partition is due at once (it anchors the replay position). */
export function checkpointIsDue(cadence: CheckpointCadence, st: PartitionState, now: number): boolean {
  if (st.version === null) return true;
  if (cadence.intervalMs === 0 && cadence.everyRecords === 0) return true;
  if (cadence.everyRecords > 0 && st.sinceCheckpoint >= cadence.everyRecords) return true;
  return cadence.intervalMs > 0 && now - st.checkpointedAt >= cadence.intervalMs;
}
