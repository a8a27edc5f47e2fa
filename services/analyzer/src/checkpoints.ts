// Postgres checkpoints of the partition engines (table analyzer_checkpoints, migration 030).
import type { EngineState } from '@offsite/domain';
import { OffsiteError } from '@offsite/runtime/errors';
import type pg from 'pg';

export interface Checkpoint {
  /** Offset of the next record to process. */
  nextOffset: string;
  /** Largest reading-interval end seen (epoch ms); the event-time watermark trails it. */
  maxEventTime: number | null;
  state: EngineState;
  /** Row version the checkpoint was read or written at (optimistic concurrency). */
  version: number;
}

/** The port the partition processor uses; Postgres below, an in-memory fake in unit tests. */
export interface CheckpointStore {
  load(topic: string, partition: number): Promise<Checkpoint | null>;
  /**
   * Writes snapshot and offset in one statement, if the row is still at `expectedVersion` (null: no row
   * yet). Returns the new version, or null when another consumer moved the checkpoint meanwhile.
   */
  save(
    topic: string,
    partition: number,
    cp: Omit<Checkpoint, 'version'>,
    expectedVersion: number | null,
  ): Promise<number | null>;
}

type Db = Pick<pg.Pool, 'query'>;

function storeError(op: string, err: unknown): OffsiteError {
  return new OffsiteError(
    'ANALYZER_CHECKPOINT_FAILED',
    `checkpoint ${op} failed: ${(err as Error).message}`,
    {
      retryable: true,
      cause: err,
    },
  );
}

export function createPgCheckpointStore(db: Db, groupId: string): CheckpointStore {
  return {
    async load(topic, partition) {
      let res;
      try {
        res = await db.query<{
          next_offset: string;
          max_event_time: string | null;
          engine_state: EngineState;
          version: string;
        }>(
          `select next_offset::text, max_event_time::text, engine_state, version::text
             from analyzer_checkpoints where group_id = $1 and topic = $2 and partition = $3`,
          [groupId, topic, partition],
        );
      } catch (err) {
        throw storeError('load', err);
      }
      const row = res.rows[0];
      if (!row) return null;
      return {
        nextOffset: row.next_offset,
        maxEventTime: row.max_event_time === null ? null : Number(row.max_event_time),
        state: row.engine_state,
        version: Number(row.version),
      };
    },
    async save(topic, partition, cp, expectedVersion) {
      const state = JSON.stringify(cp.state);
      const maxEventTime = cp.maxEventTime === null ? null : String(Math.trunc(cp.maxEventTime));
      try {
        const res =
          expectedVersion === null
            ? await db.query<{ version: string }>(
                `insert into analyzer_checkpoints (group_id, topic, partition, next_offset, max_event_time, engine_state)
                 values ($1, $2, $3, $4, $5, $6::jsonb)
                 on conflict (group_id, topic, partition) do nothing
                 returning version::text`,
                [groupId, topic, partition, cp.nextOffset, maxEventTime, state],
              )
            : await db.query<{ version: string }>(
                `update analyzer_checkpoints
                    set next_offset = $4, max_event_time = $5, engine_state = $6::jsonb,
                        version = version + 1, updated_at = now()
                  where group_id = $1 and topic = $2 and partition = $3 and version = $7
                  returning version::text`,
                [groupId, topic, partition, cp.nextOffset, maxEventTime, state, expectedVersion],
              );
        const row = res.rows[0];
        return row ? Number(row.version) : null;
      } catch (err) {
        throw storeError('save', err);
      }
    },
  };
}

/** In-memory store with the same semantics, for unit tests of the processor. */
export function createMemoryCheckpointStore(): CheckpointStore & { rows: Map<string, Checkpoint> } {
  const rows = new Map<string, Checkpoint>();
  const key = (t: string, p: number) => `${t}|${p}`;
  return {
    rows,
    load: async (t, p) => {
      const cp = rows.get(key(t, p));
      return cp ? structuredClone(cp) : null;
    },
    save: async (t, p, cp, expected) => {
      const cur = rows.get(key(t, p));
      if ((cur?.version ?? null) !== expected) return null;
      const version = (cur?.version ?? 0) + 1;
      rows.set(key(t, p), { ...structuredClone(cp), version });
      return version;
    },
  };
}
