// The Postgres checkpoint store on the real Postgres: a checkpoint is written in the compact format (format 3) and
// restores the engine exactly; a checkpoint an analyzer wrote before (the version-2 state as JSON, a part as a gzip'd
// JSON list of readings) still restores the same engine (a rolling upgrade). Postgres' jsonb keeps an object's keys in
// its own order, so states are compared as values.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  createEngine,
  makeConfig,
  readingFromTelemetry,
  type Engine,
  type EngineState,
} from '@offsite/domain';
import { olderState } from '@offsite/domain/testing';
import { runMigrations } from '@offsite/store';
import { requireEnv, silentLogger } from '@offsite/testing';
import pg from 'pg';
import { createPgCheckpointStore } from '../src/checkpoints.js';
import { exceedanceStream, HOUR, T0, testRegistry } from './testkit.js';

const suffix = randomBytes(4).toString('hex');
const topic = `test-checkpoint-store-${suffix}`;
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: requireEnv('OFFSITE_PG_URL'), max: 2 });
  await runMigrations(pool, { logger: silentLogger });
});

afterAll(async () => {
  await pool.query('delete from analyzer_checkpoint_parts where topic = $1', [topic]);
  await pool.query('delete from analyzer_checkpoints where topic = $1', [topic]);
  await pool.end();
});

/** An engine after eight hours of one outlet's 10-minute data (an exceedance opens and resolves). */
function engineWithDeviations(): Engine {
  const engine = createEngine(makeConfig(), testRegistry());
  for (const t of exceedanceStream(8)) engine.ingest(readingFromTelemetry(t));
  engine.advance(T0 + 9 * HOUR);
  return engine;
}

function restored(state: EngineState, readings: Parameters<Engine['restoreParts']>[1]): EngineState {
  const engine = createEngine(makeConfig(), testRegistry());
  engine.restoreParts(state, readings, { durable: true });
  return engine.snapshot();
}

test('a checkpoint is stored compact (format 3) and restores the engine exactly', async () => {
  const store = createPgCheckpointStore(pool, `g-new-${suffix}`);
  const engine = engineWithDeviations();
  const cp = engine.checkpoint();
  expect(Object.keys(cp.state.deviations).length).toBeGreaterThan(0);
  const write = { nextOffset: '48', maxEventTime: T0 + 8 * HOUR, keepFrom: cp.keepFrom, full: true };
  expect(await store.save(topic, 0, { ...write, state: cp.state, readings: cp.readings }, null)).toBe(1);
  const row = await pool.query<{ format: string }>(
    `select engine_state->>'format' as format from analyzer_checkpoints where group_id = $1 and topic = $2`,
    [`g-new-${suffix}`, topic],
  );
  expect(row.rows[0]!.format).toBe('3');
  const loaded = (await store.load(topic, 0))!;
  expect(loaded.readings).toHaveLength(48);
  expect(restored(loaded.state, loaded.readings)).toEqual(engine.snapshot());
});

test('a checkpoint written before the compact format (version-2 JSON, JSON parts) restores the same engine', async () => {
  const group = `g-old-${suffix}`;
  const engine = engineWithDeviations();
  const cp = engine.checkpoint();
  // The version-2 state: each deviation's fingerprint the JSON of its content.
  const v2 = olderState(cp.state, 2);
  await pool.query(
    `insert into analyzer_checkpoints (group_id, topic, partition, next_offset, max_event_time, engine_state)
     values ($1, $2, 0, 48, $3, $4::jsonb)`,
    [group, topic, String(T0 + 8 * HOUR), JSON.stringify(v2)],
  );
  const half = cp.readings.length >> 1;
  for (const part of [cp.readings.slice(0, half), cp.readings.slice(half)])
    await pool.query(
      `insert into analyzer_checkpoint_parts (group_id, topic, partition, newest_data_time, reading_count, readings)
       values ($1, $2, 0, $3, $4, $5)`,
      [
        group,
        topic,
        String(Math.max(...part.map((r) => r.dataTime))),
        part.length,
        gzipSync(JSON.stringify(part)),
      ],
    );
  const loaded = (await createPgCheckpointStore(pool, group).load(topic, 0))!;
  expect(loaded.state.version).toBe(2);
  expect(restored(loaded.state, loaded.readings)).toEqual(engine.snapshot());
});
