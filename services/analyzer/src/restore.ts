// Restore: a partition's engine rebuilt from its Postgres checkpoint (the state row plus the readings
// parts), or an empty engine when the partition has none.
import { createEngine, type EngineConfig, type RegistryView } from '@offsite/domain';
import type { Logger } from '@offsite/runtime';
import { OffsiteError } from '@offsite/runtime/errors';
import type { CheckpointStore } from './checkpoints.js';
import type { DeviceReport, PartitionState } from './partition-state.js';

export interface RestoreDeps {
  checkpoints: Pick<CheckpointStore, 'load'>;
  engineConfig: EngineConfig;
  registry: RegistryView;
  clock: () => number;
  logger: Logger;
}

export async function restorePartition(
  deps: RestoreDeps,
  topic: string,
  partition: number,
): Promise<PartitionState> {
  const cp = await deps.checkpoints.load(topic, partition);
  const engine = createEngine(deps.engineConfig, deps.registry);
  const fresh = {
    checkpointedAt: deps.clock(),
    sinceCheckpoint: 0,
    rewoundTo: null,
    unsaved: false,
    lastSeen: new Map<string, number>(),
    reported: new Map<string, DeviceReport>(),
    loadHours: new Map<string, number>(),
  };
  if (!cp) {
    deps.logger.info({ topic, partition }, 'no checkpoint: starting an empty engine');
    return {
      engine,
      nextOffset: null,
      maxEventTime: null,
      version: null,
      checkpointedOffset: null,
      ...fresh,
    };
  }
  // The state row holds no readings; they are in the parts. A row with readings inside is a whole
  // snapshot in a format this analyzer does not write: restoring it as if its readings were in parts
  // would drop them at the next checkpoint, so it is refused.
  if (Object.values(cp.state.enterprises).some((e) => e.readings.length > 0))
    throw new OffsiteError(
      'ANALYZER_CHECKPOINT_FORMAT',
      `the checkpoint of ${topic}/${partition} keeps its readings in analyzer_checkpoints.engine_state, ` +
        'a format this analyzer does not read; delete that row (and its analyzer_checkpoint_parts) to start the ' +
        "partition afresh from the group's committed offset",
      { retryable: false },
    );
  engine.restoreParts(cp.state, cp.readings, { durable: true });
  deps.logger.info(
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
