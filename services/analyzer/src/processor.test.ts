import { makeConfig } from '@offsite/domain';
import { createSilentLogger } from '@offsite/runtime';
import type { AggregateOutput } from '@offsite/domain';
import type { DeviationV1, TelemetryDlqV1, TelemetryV1 } from '@offsite/contracts';
import { validateDeviationV1, validateTelemetryDlqV1 } from '@offsite/contracts';
import { createMemoryCheckpointStore } from './checkpoints.js';
import { createPartitionProcessor, type IncomingRecord } from './processor.js';
import { exceedanceStream, HOUR, minuteTelemetry, MIN, OUTLET, T0, testRegistry } from '../test/testkit.js';

const TOPIC = 'telemetry.v1';

function setup(
  store = createMemoryCheckpointStore(),
  clock = () => T0 + 100 * HOUR,
  extra: Partial<Parameters<typeof createPartitionProcessor>[0]> = {},
) {
  const deviations: DeviationV1[] = [];
  const aggregates: AggregateOutput[] = [];
  const dlq: TelemetryDlqV1[] = [];
  const processor = createPartitionProcessor({
    engineConfig: makeConfig(),
    registry: testRegistry(),
    checkpoints: store,
    sinks: {
      deviations: async (e) => void deviations.push(...e),
      aggregates: async (a) => void aggregates.push(...a),
      dlq: async (d) => void dlq.push(...d),
    },
    logger: createSilentLogger(),
    allowedLatenessMs: 10 * MIN,
    tickLagMs: 10 * MIN,
    clock,
    ...extra,
  });
  return { processor, store, deviations, aggregates, dlq };
}

const records = (events: TelemetryV1[], from = 0): IncomingRecord[] =>
  events.map((e, i) => ({ offset: String(from + i), value: Buffer.from(JSON.stringify(e)) }));

const ids = (d: DeviationV1[]) => d.map((e) => `${e.id}#${e.revision}:${e.state}`);

describe('partition processor', () => {
  it('opens and resolves a two-hour NOx exceedance with valid deviation.v1 events', async () => {
    const { processor, deviations, aggregates } = setup();
    await processor.handleBatch(TOPIC, 0, records(exceedanceStream()));
    expect(deviations.map((d) => [d.rule, d.state, d.revision, d.windowStart, d.windowEnd ?? null])).toEqual([
      ['exceedance', 'opened', 1, new Date(T0 + 2 * HOUR).toISOString(), null],
      ['exceedance', 'updated', 2, new Date(T0 + 2 * HOUR).toISOString(), null],
      [
        'exceedance',
        'resolved',
        3,
        new Date(T0 + 2 * HOUR).toISOString(),
        new Date(T0 + 4 * HOUR).toISOString(),
      ],
    ]);
    for (const d of deviations) expect(validateDeviationV1(d)).toMatchObject({ ok: true });
    expect(deviations[0]).toMatchObject({ severity: 'high', siteId: OUTLET, factor: 'a21002' });
    expect(deviations[2]!.evidence.values.map((v) => [v.value, v.limit])).toEqual([
      [80, 50],
      [80, 50],
    ]);
    const hour2 = aggregates.find(
      (a) => a.interval === 'hour' && a.factor === 'a21002' && a.start === T0 + 2 * HOUR,
    );
    expect(hour2).toMatchObject({ value: 80, convertedValue: 80, valid: true, flag: 'N', coverage: 1 });
  });

  it('emits the same events whether records come in one batch or one by one', async () => {
    const a = setup();
    await a.processor.handleBatch(TOPIC, 0, records(exceedanceStream()));
    const b = setup();
    for (const r of records(exceedanceStream())) await b.processor.handleBatch(TOPIC, 0, [r]);
    expect(ids(b.deviations)).toEqual(ids(a.deviations));
  });

  it('resumes from the checkpoint after a crash: a re-delivered batch adds no new (id, revision)', async () => {
    const stream = records(exceedanceStream());
    const whole = setup();
    await whole.processor.handleBatch(TOPIC, 0, stream);

    const store = createMemoryCheckpointStore();
    const first = setup(store);
    await first.processor.handleBatch(TOPIC, 0, stream.slice(0, 20));
    expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe('20');
    // A new process: Kafka re-delivers from an older committed offset (10); records below 20 are skipped.
    const second = setup(store);
    await second.processor.handleBatch(TOPIC, 0, stream.slice(10));
    expect([...ids(first.deviations), ...ids(second.deviations)]).toEqual(ids(whole.deviations));
  });

  it('checkpoints incrementally: each part holds only the readings since the previous checkpoint', async () => {
    const stream = records(exceedanceStream());
    const whole = setup();
    await whole.processor.handleBatch(TOPIC, 0, stream);
    const store = createMemoryCheckpointStore();
    const a = setup(store);
    for (let i = 0; i < 30; i += 10) await a.processor.handleBatch(TOPIC, 0, stream.slice(i, i + 10));
    const parts = store.parts.get(`${TOPIC}|0`)!;
    expect(parts.map((p) => p.readings.length)).toEqual([10, 10, 10]);
    expect(parts.flatMap((p) => p.readings.map((r) => r.eventId))).toEqual(
      exceedanceStream()
        .slice(0, 30)
        .map((e) => e.eventId),
    );
    const row = store.rows.get(`${TOPIC}|0`)!;
    expect(Object.values(row.state.enterprises).every((e) => e.readings.length === 0)).toBe(true);
    // A new process restores state + parts and continues exactly where an uninterrupted run would.
    const b = setup(store);
    await b.processor.handleBatch(TOPIC, 0, stream.slice(30));
    expect([...ids(a.deviations), ...ids(b.deviations)]).toEqual(ids(whole.deviations));
  });

  it('refuses a checkpoint whose state row holds its readings, by name, and keeps the row as it is', async () => {
    const stream = records(exceedanceStream());
    const store = createMemoryCheckpointStore();
    const a = setup(store);
    await a.processor.handleBatch(TOPIC, 0, stream.slice(0, 20));
    // A whole snapshot in the state row and no parts: restoring it as parts would drop its readings.
    const row = store.rows.get(`${TOPIC}|0`)!;
    const whole = await store.load(TOPIC, 0);
    for (const r of whole!.readings) row.state.enterprises[r.enterpriseId]!.readings.push(r);
    store.parts.set(`${TOPIC}|0`, []);
    const before = structuredClone(row);
    const b = setup(store);
    await expect(b.processor.handleBatch(TOPIC, 0, stream.slice(20, 25))).rejects.toMatchObject({
      code: 'ANALYZER_CHECKPOINT_FORMAT',
      retryable: false,
      message: expect.stringContaining(`${TOPIC}/0`),
    });
    expect(store.rows.get(`${TOPIC}|0`)).toEqual(before);
    expect(b.deviations).toEqual([]);
  });

  it('hands off a long batch every handoffIntervalMs: same events, several hand-offs in one batch', async () => {
    const stream = records(exceedanceStream(48));
    const whole = setup();
    await whole.processor.handleBatch(TOPIC, 0, stream);
    let calls = 0;
    const deviations: DeviationV1[] = [];
    const { processor: p } = setup(undefined, undefined, {
      handoffIntervalMs: 1e-6,
      sinks: {
        deviations: async (e) => {
          calls++;
          deviations.push(...e);
        },
        aggregates: async () => void calls++,
        dlq: async () => undefined,
      },
    });
    await p.handleBatch(TOPIC, 0, stream);
    expect(ids(deviations)).toEqual(ids(whole.deviations));
    expect(calls).toBeGreaterThan(2);
  });

  it('forgets the engine when a hand-off fails, so the retry starts from the checkpoint', async () => {
    const store = createMemoryCheckpointStore();
    const s = setup(store);
    const stream = records(exceedanceStream());
    await s.processor.handleBatch(TOPIC, 0, stream.slice(0, 20));
    let fail = true;
    const flaky = createPartitionProcessor({
      engineConfig: makeConfig(),
      registry: testRegistry(),
      checkpoints: store,
      sinks: {
        deviations: async (e) => {
          if (fail) throw new Error('broker down');
          s.deviations.push(...e);
        },
        aggregates: async () => undefined,
        dlq: async () => undefined,
      },
      logger: createSilentLogger(),
      allowedLatenessMs: 10 * MIN,
      tickLagMs: 10 * MIN,
    });
    await expect(flaky.handleBatch(TOPIC, 0, stream.slice(20))).rejects.toThrow('broker down');
    expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe('20');
    fail = false;
    await flaky.handleBatch(TOPIC, 0, stream.slice(20));
    const whole = setup();
    await whole.processor.handleBatch(TOPIC, 0, stream);
    expect(ids(s.deviations)).toEqual(ids(whole.deviations));
  });

  it('refuses to overwrite a checkpoint another member moved (rebalance fencing)', async () => {
    const store = createMemoryCheckpointStore();
    const a = setup(store);
    const b = setup(store);
    const stream = records(exceedanceStream());
    await a.processor.handleBatch(TOPIC, 0, stream.slice(0, 10));
    await b.processor.handleBatch(TOPIC, 0, stream.slice(10, 20)); // b restores a's checkpoint, moves it
    await expect(a.processor.handleBatch(TOPIC, 0, stream.slice(10, 12))).rejects.toMatchObject({
      code: 'ANALYZER_CHECKPOINT_FENCED',
    });
    expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe('20');
  });

  it('sends undecodable records to the DLQ with the raw bytes and the offset', async () => {
    const { processor, dlq, store } = setup();
    await processor.handleBatch(TOPIC, 3, [
      { offset: '7', value: Buffer.from('{nope') },
      { offset: '8', value: Buffer.from(JSON.stringify({ schema: 'telemetry.v1' })) },
    ]);
    expect(dlq.map((d) => d.reason.code)).toEqual(['analyzer.not-json', 'analyzer.schema-invalid']);
    expect(dlq[0]).toMatchObject({
      raw: Buffer.from('{nope').toString('base64'),
      origin: { partition: 3, offset: '7' },
    });
    for (const d of dlq) expect(validateTelemetryDlqV1(d)).toEqual({ ok: true, value: d });
    expect(store.rows.get(`${TOPIC}|3`)?.nextOffset).toBe('9');
  });

  it('detects an offline device on the wall-clock tick when data stop', async () => {
    let now = T0 + HOUR;
    const { processor, deviations } = setup(undefined, () => now);
    await processor.handleBatch(
      TOPIC,
      0,
      records([minuteTelemetry(T0, 20), minuteTelemetry(T0 + 10 * MIN, 20)]),
    );
    expect(deviations).toEqual([]);
    now = T0 + 2 * HOUR;
    await processor.tick();
    expect(deviations.map((d) => [d.rule, d.state])).toEqual([['offline', 'opened']]);
  });

  it('applies a reloaded registry (a raised limit) without losing state', async () => {
    const { processor, deviations } = setup();
    const stream = records(exceedanceStream());
    await processor.handleBatch(TOPIC, 0, stream.slice(0, 12)); // hours 0–1, below 50
    await processor.setRegistry(testRegistry(100));
    await processor.handleBatch(TOPIC, 0, stream.slice(12));
    expect(deviations).toEqual([]);
    expect(processor.held()).toEqual([
      expect.objectContaining({ partition: 0, nextOffset: String(stream.length) }),
    ]);
  });

  it('drops engines of revoked partitions', async () => {
    const { processor } = setup();
    await processor.handleBatch(TOPIC, 0, records([minuteTelemetry(T0, 20)]));
    await processor.handleBatch(TOPIC, 1, records([minuteTelemetry(T0, 20)]));
    await processor.assigned([{ topic: TOPIC, partitions: [1] }]);
    expect(processor.held().map((h) => h.partition)).toEqual([1]);
  });

  it('after its membership lapsed it holds no engine: no wall-clock tick speaks for a partition another member may own', async () => {
    let now = T0 + HOUR;
    const { processor, deviations } = setup(undefined, () => now);
    await processor.handleBatch(
      TOPIC,
      0,
      records([minuteTelemetry(T0, 20), minuteTelemetry(T0 + 10 * MIN, 20)]),
    );
    await processor.assigned([]); // the consumer's onMembershipLost
    now = T0 + 2 * HOUR;
    await processor.tick();
    expect(deviations).toEqual([]);
    // Assigned again: the next batch restores the engine from the checkpoint, and the tick speaks again.
    await processor.assigned([{ topic: TOPIC, partitions: [0] }]);
    await processor.handleBatch(TOPIC, 0, records([minuteTelemetry(T0, 20)]));
    await processor.tick();
    expect(deviations.map((d) => [d.rule, d.state])).toEqual([['offline', 'opened']]);
  });

  describe('deferred checkpoints', () => {
    it('checkpoints the first batch at once, then every M records; the timer catches up', async () => {
      let now = T0;
      const { processor, store } = setup(undefined, () => now, {
        checkpointEveryRecords: 10,
        checkpointIntervalMs: 60_000,
      });
      const stream = records(exceedanceStream());
      const saved = () => store.rows.get(`${TOPIC}|0`)?.nextOffset;
      await processor.handleBatch(TOPIC, 0, stream.slice(0, 3));
      expect(saved()).toBe('3'); // the anchor
      await processor.handleBatch(TOPIC, 0, stream.slice(3, 8));
      expect(saved()).toBe('3'); // 5 records since: not due
      await processor.handleBatch(TOPIC, 0, stream.slice(8, 13));
      expect(saved()).toBe('13'); // 10 records since
      await processor.handleBatch(TOPIC, 0, stream.slice(13, 15));
      await processor.checkpointDue();
      expect(saved()).toBe('13'); // neither 10 records nor 60 s
      now += 60_000;
      await processor.checkpointDue();
      expect(saved()).toBe('15');
      await processor.checkpointDue(true); // nothing new: no write
      expect(store.rows.get(`${TOPIC}|0`)?.version).toBe(3);
    });

    it('after a crash between checkpoints, seeks back to the checkpoint and replays the same (id, revision) events', async () => {
      const stream = records(exceedanceStream());
      const whole = setup();
      await whole.processor.handleBatch(TOPIC, 0, stream);

      const store = createMemoryCheckpointStore();
      const first = setup(store, undefined, {
        checkpointEveryRecords: 1_000,
        checkpointIntervalMs: 3_600_000,
      });
      await first.processor.handleBatch(TOPIC, 0, stream.slice(0, 5));
      await first.processor.handleBatch(TOPIC, 0, stream.slice(5, 30)); // handed off, not checkpointed
      expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe('5');
      // Crash. Kafka committed 30; the new process is handed records from 30 and must seek back to 5.
      const rewinds: string[] = [];
      const second = setup(store, undefined, {
        checkpointEveryRecords: 1_000,
        checkpointIntervalMs: 3_600_000,
        rewind: (_t, _p, offset) => void rewinds.push(offset),
      });
      await second.processor.handleBatch(TOPIC, 0, stream.slice(30));
      expect(rewinds).toEqual(['5']);
      expect(second.deviations).toEqual([]); // the batch past the checkpoint was skipped
      await second.processor.handleBatch(TOPIC, 0, stream.slice(5));
      const union = new Set([...ids(first.deviations), ...ids(second.deviations)]);
      expect([...union].sort()).toEqual([...ids(whole.deviations)].sort());
      // Events re-sent by the replay carry the same (id, revision) and content.
      const strip = ({ emittedAt: _e, ...rest }: DeviationV1) => JSON.stringify(rest);
      const byKey = new Map(whole.deviations.map((d) => [`${d.id}#${d.revision}`, strip(d)]));
      for (const d of [...first.deviations, ...second.deviations])
        expect(strip(d)).toBe(byKey.get(`${d.id}#${d.revision}`));
    });

    it('accepts a gap a rewind cannot close (records deleted by retention) instead of looping', async () => {
      const stream = records(exceedanceStream());
      const store = createMemoryCheckpointStore();
      const first = setup(store);
      await first.processor.handleBatch(TOPIC, 0, stream.slice(0, 5));
      const rewinds: string[] = [];
      const gone: number[] = [];
      const second = setup(store, undefined, {
        rewind: (_t, _p, o) => void rewinds.push(o),
        counters: { gone: (n) => void gone.push(n) },
      });
      await second.processor.handleBatch(TOPIC, 0, stream.slice(20));
      expect(gone).toEqual([]); // the first miss seeks back: the records may still be there
      await second.processor.handleBatch(TOPIC, 0, stream.slice(20)); // the broker's earliest is still 20
      expect(rewinds).toEqual(['5']);
      expect(gone).toEqual([15]); // offsets 5..19 never analysed, counted
      expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe(String(stream.length));
    });

    it('checkpoints before swapping the registry', async () => {
      const store = createMemoryCheckpointStore();
      const { processor } = setup(store, undefined, {
        checkpointEveryRecords: 1_000,
        checkpointIntervalMs: 3_600_000,
      });
      const stream = records(exceedanceStream());
      await processor.handleBatch(TOPIC, 0, stream.slice(0, 2));
      await processor.handleBatch(TOPIC, 0, stream.slice(2, 9));
      expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe('2');
      await processor.setRegistry(testRegistry(100));
      expect(store.rows.get(`${TOPIC}|0`)?.nextOffset).toBe('9');
    });
  });

  it('stop() interrupts a long batch at a record boundary: what was taken is handed off and checkpointed, later batches are skipped', async () => {
    const { processor, store } = setup(undefined, undefined, {
      checkpointIntervalMs: 60_000,
      checkpointEveryRecords: 100_000,
    });
    const stream = exceedanceStream(24 * 7); // 1008 records
    await processor.handleBatch(TOPIC, 0, records(stream.slice(0, 8))); // first batch: checkpoint at once
    const running = processor.handleBatch(TOPIC, 0, records(stream.slice(8), 8));
    setImmediate(() => processor.stop()); // runs while the batch yields after 256 records
    await running;
    const next = Number(store.rows.get(`${TOPIC}|0`)?.nextOffset);
    expect(next).toBeGreaterThan(8);
    expect(next).toBeLessThan(stream.length);
    await processor.handleBatch(TOPIC, 0, records(stream.slice(next), next));
    expect(Number(store.rows.get(`${TOPIC}|0`)?.nextOffset)).toBe(next);
  });
});
