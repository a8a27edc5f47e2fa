import { makeConfig } from '@offsite/domain';
import { createSilentLogger } from '@offsite/runtime';
import type { AggregateOutput } from '@offsite/domain';
import type { DeviationV1, TelemetryDlqV1, TelemetryV1 } from '@offsite/contracts';
import { validateDeviationV1, validateTelemetryDlqV1 } from '@offsite/contracts';
import { createMemoryCheckpointStore } from './checkpoints.js';
import { createPartitionProcessor, type IncomingRecord } from './processor.js';
import { exceedanceStream, HOUR, minuteTelemetry, MIN, OUTLET, T0, testRegistry } from './testkit.js';

const TOPIC = 'telemetry.v1';

function setup(store = createMemoryCheckpointStore(), clock = () => T0 + 100 * HOUR) {
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
});
