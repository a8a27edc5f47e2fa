// Postgres checkpoints of the partition engines: analyzer_checkpoints (migration 030) holds the engine state without
// its readings buffers, analyzer_checkpoint_parts (migration 032) the readings, appended per checkpoint (incremental:
// a checkpoint writes only what was ingested since the previous one). Both in the domain's compact checkpoint format
// (checkpoint-format.ts); rows and parts of the format before are read too.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import {
  decodePart,
  decodeStateRow,
  encodePart,
  encodeStateRow,
  type EngineState,
  type Reading,
  type StateRow,
  type StoredPart,
} from '@offsite/domain';
import { OffsiteError } from '@offsite/runtime/errors';
import type pg from 'pg';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface Checkpoint {
  /** Offset of the next record to process. */
  nextOffset: string;
  /** Largest reading-interval end seen (epoch ms); the event-time watermark trails it. */
  maxEventTime: number | null;
  /** Engine state; its readings buffers are empty (the readings are in the parts). */
  state: EngineState;
  /** Readings of the parts written since the last full checkpoint, in order (restore with `restoreParts`). */
  readings: Reading[];
  /** Row version the checkpoint was read or written at (optimistic concurrency). */
  version: number;
}

export interface CheckpointWrite {
  nextOffset: string;
  maxEventTime: number | null;
  /** The engine state without readings (`Engine.checkpoint().state`); serialised before `save` first awaits. */
  state: EngineState;
  /** Readings since the previous checkpoint, or all of them when `full`. */
  readings: readonly Reading[];
  /** Replace every earlier part of the partition. */
  full: boolean;
  /** Parts whose newest reading is before this are deleted (lateness horizon). */
  keepFrom: number;
}

/** The port the partition processor uses; Postgres below, an in-memory fake in unit tests. */
export interface CheckpointStore {
  load(topic: string, partition: number): Promise<Checkpoint | null>;
  /**
   * Writes state, readings part and offset in one statement, if the row is still at `expectedVersion` (null: no
   * row yet). Returns the new version, or null when another consumer moved the checkpoint meanwhile.
   */
  save(
    topic: string,
    partition: number,
    cp: CheckpointWrite,
    expectedVersion: number | null,
  ): Promise<number | null>;
}

/** Newest dataTime of a part (what decides when the horizon has passed it). */
function newest(readings: readonly Reading[]): number {
  let n = -8.64e15;
  for (const r of readings) if (r.dataTime > n) n = r.dataTime;
  return n;
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
      let parts;
      try {
        res = await db.query<{
          next_offset: string;
          max_event_time: string | null;
          engine_state: StateRow | EngineState;
          version: string;
        }>(
          `select next_offset::text, max_event_time::text, engine_state, version::text
             from analyzer_checkpoints where group_id = $1 and topic = $2 and partition = $3`,
          [groupId, topic, partition],
        );
        parts = await db.query<{ readings: Buffer }>(
          `select readings from analyzer_checkpoint_parts
            where group_id = $1 and topic = $2 and partition = $3 order by id`,
          [groupId, topic, partition],
        );
      } catch (err) {
        throw storeError('load', err);
      }
      const row = res.rows[0];
      if (!row) return null;
      const readings: Reading[] = [];
      for (const p of parts.rows)
        for (const r of decodePart(
          JSON.parse((await gunzipAsync(p.readings)).toString('utf8')) as StoredPart | Reading[],
        ))
          readings.push(r);
      return {
        nextOffset: row.next_offset,
        maxEventTime: row.max_event_time === null ? null : Number(row.max_event_time),
        state: decodeStateRow(row.engine_state),
        readings,
        version: Number(row.version),
      };
    },
    async save(topic, partition, cp, expectedVersion) {
      // Serialised before the first await: the engine may move on meanwhile.
      const state = JSON.stringify(encodeStateRow(cp.state));
      const json = JSON.stringify(encodePart(cp.readings));
      const count = cp.readings.length;
      const newestTime = String(Math.trunc(newest(cp.readings)));
      const maxEventTime = cp.maxEventTime === null ? null : String(Math.trunc(cp.maxEventTime));
      const keepFrom = String(Math.trunc(Math.max(-8.64e15, cp.keepFrom)));
      try {
        // Compressed on the thread pool (the JSON of a part is MBs at national load).
        const packed = await gzipAsync(json, { level: 1 });
        // One statement: the version bump fences the part (a fenced member writes nothing), and the deletion of
        // replaced (full) or expired parts only happens with it. Data-modifying CTEs share one snapshot, so the
        // delete never sees the part inserted here.
        const res = await db.query<{ version: string }>(
          `with m as (
             ${
               expectedVersion === null
                 ? `insert into analyzer_checkpoints (group_id, topic, partition, next_offset, max_event_time, engine_state)
                    select $1, $2, $3, $4, $5, $6::jsonb where $11::bigint is null
                    on conflict (group_id, topic, partition) do nothing
                    returning version`
                 : `update analyzer_checkpoints
                       set next_offset = $4, max_event_time = $5, engine_state = $6::jsonb,
                           version = version + 1, updated_at = now()
                     where group_id = $1 and topic = $2 and partition = $3 and version = $11::bigint
                     returning version`
             }
           ), d as (
             delete from analyzer_checkpoint_parts p
              where p.group_id = $1 and p.topic = $2 and p.partition = $3
                and ($7::boolean or p.newest_data_time < $8::bigint) and exists (select 1 from m)
           ), i as (
             insert into analyzer_checkpoint_parts
                    (group_id, topic, partition, newest_data_time, reading_count, readings)
             select $1, $2, $3, $9::bigint, $10::integer, $12::bytea from m where $10::integer > 0
           )
           select version::text from m`,
          [
            groupId,
            topic,
            partition,
            cp.nextOffset,
            maxEventTime,
            state,
            cp.full,
            keepFrom,
            newestTime,
            count,
            ...(expectedVersion === null ? [null] : [expectedVersion]),
            packed,
          ],
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
export function createMemoryCheckpointStore(): CheckpointStore & {
  rows: Map<string, Omit<Checkpoint, 'readings'>>;
  parts: Map<string, { newest: number; readings: Reading[] }[]>;
} {
  const rows = new Map<string, Omit<Checkpoint, 'readings'>>();
  const parts = new Map<string, { newest: number; readings: Reading[] }[]>();
  const key = (t: string, p: number) => `${t}|${p}`;
  return {
    rows,
    parts,
    load: async (t, p) => {
      const cp = rows.get(key(t, p));
      if (!cp) return null;
      return structuredClone({ ...cp, readings: (parts.get(key(t, p)) ?? []).flatMap((x) => x.readings) });
    },
    save: async (t, p, cp, expected) => {
      const cur = rows.get(key(t, p));
      if ((cur?.version ?? null) !== expected) return null;
      const version = (cur?.version ?? 0) + 1;
      const k = key(t, p);
      rows.set(k, {
        nextOffset: cp.nextOffset,
        maxEventTime: cp.maxEventTime,
        state: structuredClone(cp.state),
        version,
      });
      const kept = cp.full ? [] : (parts.get(k) ?? []).filter((x) => x.newest >= cp.keepFrom);
      if (cp.readings.length > 0)
        kept.push({ newest: newest(cp.readings), readings: structuredClone([...cp.readings]) });
      parts.set(k, kept);
      return version;
    },
  };
}
