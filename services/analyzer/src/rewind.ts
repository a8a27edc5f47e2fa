// Rewind: where a batch starts relative to the partition's checkpoint. A batch past the checkpoint means
// the Kafka commit ran ahead of a deferred checkpoint (or another member owned the partition meanwhile):
// the engine is restored and the consumer seeks back to replay from the checkpoint, once. A gap a seek
// cannot close (Kafka's retention deleted those records) is counted and accepted.
import type { Logger } from '@offsite/runtime';
import type { PartitionState, ProcessorCounters } from './partition-state.js';

export interface RewindDeps {
  restore(topic: string, partition: number): Promise<PartitionState>;
  /** Moves the partition's fetch position back (Kafka consumer seek). */
  rewind?: (topic: string, partition: number, offset: string) => void;
  counters: ProcessorCounters;
  logger: Logger;
}

/** The state to run the batch on, and whether to skip the batch because a seek back was asked for. */
export async function positionForBatch(
  deps: RewindDeps,
  held: PartitionState | undefined,
  topic: string,
  partition: number,
  firstOffset: string,
): Promise<{ st: PartitionState; skip: boolean }> {
  let st = held;
  // Not held, or the batch starts past what we processed (another member owned the partition meanwhile).
  if (!st || (st.nextOffset !== null && BigInt(firstOffset) > BigInt(st.nextOffset))) {
    const rewoundTo = st?.rewoundTo ?? null;
    st = await deps.restore(topic, partition);
    st.rewoundTo = rewoundTo; // a rewind to the same checkpoint that did not close the gap is not retried
  }
  if (st.nextOffset !== null && BigInt(firstOffset) > BigInt(st.nextOffset)) {
    if (deps.rewind && st.rewoundTo !== st.nextOffset) {
      st.rewoundTo = st.nextOffset;
      deps.logger.info(
        { topic, partition, checkpoint: st.nextOffset, got: firstOffset },
        'batch starts past the checkpoint: seeking back to replay from it',
      );
      deps.rewind(topic, partition, st.nextOffset);
      return { st, skip: true };
    }
    // Kafka's retention deleted the segments past the checkpoint, so the fetch was out of range and reset
    // to the new log start. Those records can no longer be analysed; say how many, and count them.
    const gone = BigInt(firstOffset) - BigInt(st.nextOffset);
    deps.counters.gone?.(Number(gone));
    deps.logger.error(
      { topic, partition, expected: st.nextOffset, got: firstOffset, gone: gone.toString() },
      'records between the checkpoint and this batch are gone from Kafka (retention): continuing without them',
    );
  }
  return { st, skip: false };
}
