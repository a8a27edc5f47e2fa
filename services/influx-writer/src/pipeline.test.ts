import type { TelemetryDlqV1, TelemetryLateV1, TelemetryV1 } from '@offsite/contracts';
import { InfluxError } from '@offsite/influx';
import type { ConsumedMessage } from '@offsite/kafka';
import { createMetricsRegistry, createSilentLogger } from '@offsite/runtime';
import { createWriterMetrics } from './metrics.js';
import { createPipeline, type LineSink } from './pipeline.js';

let offset = 0;
const msg = (value: string | object): ConsumedMessage => ({
  topic: 'telemetry.v1',
  partition: 0,
  offset: String(offset++),
  key: Buffer.from('ent-a'),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
  timestamp: '0',
});
const reading = (i: number, value = 1): TelemetryV1 => ({
  schema: 'telemetry.v1',
  eventId: `tel-${i}`,
  enterpriseId: 'ent-a',
  siteId: 'm1',
  deviceId: 'm1',
  source: 'mqtt',
  kind: 'energy',
  interval: 'realtime',
  dataTime: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  receivedAt: '2024-01-01T00:00:00Z',
  irregularities: [],
  measurements: [{ factor: 'power_kw', stat: 'Rtd', value }],
});

function setup(
  influx: LineSink,
  over: { maxBatchPoints?: number; maxBatchDelayMs?: number; maxConcurrentWrites?: number } = {},
) {
  const dlq: TelemetryDlqV1[] = [];
  const late: TelemetryLateV1[] = [];
  const availability: boolean[] = [];
  const pipeline = createPipeline({
    influx,
    dlq: { send: async (r) => void dlq.push(...r) },
    late: { send: async (e) => void late.push(...e) },
    logger: createSilentLogger(),
    metrics: createWriterMetrics(createMetricsRegistry({ defaultMetrics: false })),
    maxBatchPoints: over.maxBatchPoints ?? 1000,
    maxBatchDelayMs: over.maxBatchDelayMs ?? 20,
    maxConcurrentWrites: over.maxConcurrentWrites ?? 1,
    retryInitialMs: 5,
    retryMaxMs: 20,
    onAvailabilityChange: (up) => availability.push(up),
  });
  return { pipeline, dlq, late, availability };
}
const heartbeat = async () => undefined;

describe('pipeline', () => {
  it('batches readings of several partitions into one write and resolves each batch after it', async () => {
    const writes: string[][] = [];
    const { pipeline } = setup({ write: async (l) => void writes.push(l) });
    await Promise.all([
      pipeline.handle({ messages: [msg(reading(1)), msg(reading(2))], heartbeat }),
      pipeline.handle({ messages: [msg(reading(3))], heartbeat }),
    ]);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(3);
  });

  it('flushes by size in writes of at most maxBatchPoints', async () => {
    const writes: string[][] = [];
    const { pipeline } = setup(
      { write: async (l) => void writes.push(l) },
      { maxBatchPoints: 2, maxBatchDelayMs: 60_000 },
    );
    await pipeline.handle({ messages: [1, 2, 3, 4, 5].map((i) => msg(reading(i))), heartbeat });
    expect(writes.map((w) => w.length)).toEqual([2, 2, 1]);
  });

  it('keeps at most maxConcurrentWrites writes in flight, also within one partition batch', async () => {
    let inFlight = 0;
    let most = 0;
    const written: string[] = [];
    const { pipeline } = setup(
      {
        write: async (l) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 10));
          written.push(...l);
          inFlight -= 1;
        },
      },
      { maxBatchPoints: 2, maxBatchDelayMs: 1, maxConcurrentWrites: 3 },
    );
    await Promise.all([
      pipeline.handle({ messages: Array.from({ length: 12 }, (_, i) => msg(reading(i))), heartbeat }),
      pipeline.handle({ messages: Array.from({ length: 4 }, (_, i) => msg(reading(100 + i))), heartbeat }),
    ]);
    expect(most).toBe(3);
    expect(written).toHaveLength(16);
  });

  it('settles every batch with random batch sizes, write delays, outages and partitions arriving meanwhile (no stall)', async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      const written = new Set<string>();
      const { pipeline } = setup(
        {
          write: async (lines) => {
            await new Promise((r) => setTimeout(r, rnd() * 4));
            if (rnd() < 0.15) throw new InfluxError('INFLUX_UNAVAILABLE', 'down', true);
            for (const l of lines) written.add(l);
          },
        },
        {
          maxBatchPoints: 1 + Math.floor(rnd() * 7),
          maxBatchDelayMs: 1 + Math.floor(rnd() * 5),
          maxConcurrentWrites: 1 + Math.floor(rnd() * 3),
        },
      );
      let next = 0;
      const partitions = Array.from({ length: 6 }, async () => {
        for (let b = 0; b < 5; b++) {
          await new Promise((r) => setTimeout(r, rnd() * 3));
          const n = 1 + Math.floor(rnd() * 6);
          await pipeline.handle({
            messages: Array.from({ length: n }, () => msg(reading(round * 10_000 + next++))),
            heartbeat,
          });
        }
      });
      await Promise.all(partitions);
      expect(written.size).toBe(next);
    }
  }, 30_000);

  it('sends invalid JSON and schema violations to the DLQ with their reason and writes the rest', async () => {
    const writes: string[][] = [];
    const { pipeline, dlq } = setup({ write: async (l) => void writes.push(l) });
    await pipeline.handle({
      messages: [msg('{not json'), msg({ schema: 'telemetry.v1', enterpriseId: 'ent-a' }), msg(reading(9))],
      heartbeat,
    });
    expect(dlq.map((d) => d.reason.code)).toEqual(['json.invalid', 'schema.invalid']);
    expect(dlq[1]!.enterpriseId).toBe('ent-a');
    expect(dlq[1]!.reason.message).toMatch(/eventId/);
    expect(Buffer.from(dlq[0]!.raw, 'base64').toString()).toBe('{not json');
    expect(writes.flat()).toHaveLength(1);
  });

  it('retries an unavailable InfluxDB with backoff, reports it unavailable meanwhile, then resolves', async () => {
    let calls = 0;
    const { pipeline, availability } = setup({
      write: async () => {
        calls += 1;
        if (calls <= 3) throw new InfluxError('INFLUX_UNAVAILABLE', 'down', true);
      },
    });
    await pipeline.handle({ messages: [msg(reading(1))], heartbeat });
    expect(calls).toBe(4);
    expect(availability).toEqual([false, true]);
    expect(pipeline.isAvailable()).toBe(true);
  });

  it('isolates a line InfluxDB refuses by halving, sends only its reading to the DLQ', async () => {
    const accepted: string[] = [];
    const { pipeline, dlq } = setup({
      write: async (lines) => {
        if (lines.some((l) => l.includes('Rtd=-7.0')))
          throw new InfluxError('INFLUX_REJECTED', 'field type conflict', false, 400);
        accepted.push(...lines);
      },
    });
    const messages = [1, 2, 3, 4, 5].map((i) => msg(reading(i, i === 4 ? -7 : i)));
    await pipeline.handle({ messages, heartbeat });
    expect(accepted).toHaveLength(4);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.reason.code).toBe('influx.rejected');
    expect(dlq[0]!.origin).toEqual({
      transport: 'kafka',
      topic: 'telemetry.v1',
      partition: 0,
      offset: messages[3]!.offset,
    });
  });

  it('rejects the waiting batch on shutdown while InfluxDB is down (offsets stay uncommitted)', async () => {
    const { pipeline } = setup({
      write: async () => Promise.reject(new InfluxError('INFLUX_UNAVAILABLE', 'down', true)),
    });
    const p = pipeline.handle({ messages: [msg(reading(1))], heartbeat });
    await new Promise((r) => setTimeout(r, 60));
    pipeline.shutdown();
    await expect(p).rejects.toMatchObject({ code: 'WRITER_SHUTTING_DOWN' });
  });

  it('reports late minute emission readings per device and Shanghai day of a write, before the batch resolves', async () => {
    const now = Date.now();
    const minute = (
      i: number,
      device: string,
      ago: number,
      over: Partial<TelemetryV1> = {},
    ): TelemetryV1 => ({
      ...reading(i),
      deviceId: device,
      kind: 'emission',
      interval: 'minute',
      dataTime: new Date(Math.floor((now - ago) / 60_000) * 60_000).toISOString(),
      measurements: [{ factor: 'a21026', stat: 'Avg', value: 1, flag: 'N' }],
      ...over,
    });
    const events: TelemetryLateV1[] = [];
    let resolved = false;
    const { pipeline, late } = setup({
      write: async () => {
        // The write is done before anything is reported.
        expect(late).toHaveLength(0);
      },
    });
    const day = 86_400_000;
    await pipeline
      .handle({
        messages: [
          // Three late readings of one device and day: one event.
          msg(minute(1, 'MN1', 3 * day)),
          msg(minute(2, 'MN1', 3 * day - 60_000)),
          msg(minute(3, 'MN1', 3 * day - 120_000)),
          // Another day of the same device: its own event.
          msg(minute(4, 'MN1', 5 * day)),
          // Another device.
          msg(minute(5, 'MN2', 3 * day)),
          // In time (5 minutes old), hourly data and energy readings: not reported.
          msg(minute(6, 'MN3', 5 * 60_000)),
          msg(minute(7, 'MN4', 3 * day, { interval: 'hour' })),
          msg({ ...reading(8), dataTime: new Date(now - 3 * day).toISOString() }),
        ],
        heartbeat,
      })
      .then(() => {
        resolved = true;
        events.push(...late);
      });
    expect(resolved).toBe(true);
    const shanghai = (ago: number) =>
      new Date(Math.floor((now - ago) / 60_000) * 60_000 + 8 * 3_600_000).toISOString().slice(0, 10);
    expect(
      events.map((e) => [e.deviceId, e.day, e.readings]).sort((a, b) => String(a).localeCompare(String(b))),
    ).toEqual(
      [
        ['MN1', shanghai(3 * day), 3],
        ['MN1', shanghai(5 * day), 1],
        ['MN2', shanghai(3 * day), 1],
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    const e = events.find((x) => x.deviceId === 'MN1' && x.readings === 3)!;
    expect(e.firstDataTime < e.lastDataTime).toBe(true);
    expect(Date.parse(e.observedAt)).toBeGreaterThanOrEqual(now);
    expect(e.enterpriseId).toBe('ent-a');
  });

  it('leaves a batch unresolved when its late-data events cannot be produced (its offsets stay uncommitted)', async () => {
    const pipeline = createPipeline({
      influx: { write: async () => undefined },
      dlq: { send: async () => undefined },
      late: {
        send: async () => {
          throw new Error('Kafka unavailable');
        },
      },
      logger: createSilentLogger(),
      metrics: createWriterMetrics(createMetricsRegistry({ defaultMetrics: false })),
      maxBatchPoints: 1000,
      maxBatchDelayMs: 5,
      retryInitialMs: 5,
      retryMaxMs: 20,
    });
    const old: TelemetryV1 = {
      ...reading(1),
      kind: 'emission',
      interval: 'minute',
      dataTime: '2024-01-01T00:00:00.000Z',
      measurements: [{ factor: 'a21026', stat: 'Avg', value: 1 }],
    };
    await expect(pipeline.handle({ messages: [msg(old)], heartbeat })).rejects.toThrow('Kafka unavailable');
  });
});
