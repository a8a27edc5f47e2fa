import { gzipSync } from 'node:zlib';
import {
  decodePart,
  decodeStateRow,
  encodePart,
  encodeStateRow,
  type StateRow,
  type StoredPart,
} from './checkpoint-format.js';
import { createEngine, type EngineState } from './engine.js';
import type { Reading } from './model.js';
import { seenAt } from './series.js';
import { olderState } from './testing.js';
import { HOUR, MIN, T0, config, registry } from '../test/testkit.js';

// The compact stored checkpoint (format 3) against the JSON the analyzer wrote before: the same state and readings back,
// in fewer bytes. Restoring from it (and from the older form, and from a mix in a rolling upgrade) is in
// checkpoint.test.ts.

const FACTORS = ['a21026', 'a21002', 'a34013', 'a19001', 'a00000', 'a01011', 'a01012', 'a01013'];
const reg = registry({
  devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 30 }],
});

/** A deterministic value per factor and step (two decimals, as loggers send). */
const value = (f: number, k: number) =>
  Number((20 + f * 3 + ((k * 7919 + f * 104729) % 1000) / 100).toFixed(2));

/** Twelve hours of one logger: real-time every 30 s (every 50th flagged T), 10-minute and hourly averages. */
function day(): { state: EngineState; readings: Reading[] } {
  const engine = createEngine(config(), reg);
  const cfg = config();
  let wm = -Infinity;
  const reading = (t: number, interval: Reading['interval'], stat: string, k: number): Reading => ({
    eventId: `${interval}-MN1-${t}`,
    enterpriseId: 'E1',
    siteId: 'OUT1',
    deviceId: 'MN1',
    kind: 'emission',
    interval,
    ...(interval === 'minute' ? { periodSeconds: 600 } : interval === 'hour' ? { periodSeconds: 3600 } : {}),
    dataTime: t,
    measurements: FACTORS.map((factor, f) => ({
      factor,
      stat,
      value: value(f, k),
      unit: 'mg/m3',
      flag: interval === 'realtime' && k % 50 === 0 && f === 0 ? 'T' : 'N',
    })),
  });
  for (let k = 0, t = T0; t < T0 + 12 * HOUR; k++, t += 30_000) {
    const batch = [reading(t, 'realtime', 'Rtd', k)];
    if ((t - T0) % (10 * MIN) === 10 * MIN - 30_000)
      batch.push(reading(t - 10 * MIN + 30_000, 'minute', 'Avg', k));
    if ((t - T0) % HOUR === HOUR - 30_000) batch.push(reading(t - HOUR + 30_000, 'hour', 'Avg', k));
    for (const r of batch) {
      engine.ingest(r);
      wm = Math.max(wm, seenAt(r, cfg));
    }
    engine.advance(wm);
  }
  const cp = engine.checkpoint();
  return { state: JSON.parse(JSON.stringify(cp.state)) as EngineState, readings: cp.readings };
}

describe('the compact checkpoint format', () => {
  const { state, readings } = day();

  it('a logger day: the state row decodes to exactly the state, in under half the bytes of the row before (version-2 JSON)', () => {
    // The hourly averages differ from the recomputed ones: deviations with lists of windows as evidence.
    const windows = Object.values(state.deviations).map(
      (d) => (d.evidence.windows as unknown[] | undefined)?.length ?? 0,
    );
    expect(Math.max(...windows)).toBeGreaterThan(2);
    expect(Object.keys(state.aggregates).length).toBeGreaterThan(50);
    const row = JSON.stringify(encodeStateRow(state));
    expect(JSON.stringify(decodeStateRow(JSON.parse(row) as StateRow))).toBe(JSON.stringify(state));
    expect(row.length).toBeLessThan(JSON.stringify(olderState(state, 2)).length / 2);
  });

  it('a logger day: the readings part decodes to exactly the readings, in under half the gzip’d JSON bytes', () => {
    expect(readings.length).toBe(12 * (120 + 6 + 1));
    const part = JSON.stringify(encodePart(readings));
    expect(JSON.stringify(decodePart(JSON.parse(part) as StoredPart))).toBe(JSON.stringify(readings));
    expect(gzipSync(part, { level: 1 }).length).toBeLessThan(
      gzipSync(JSON.stringify(readings), { level: 1 }).length / 2,
    );
  });

  it('keeps what the compact form cannot hold as it is: odd readings, marker keys in evidence, odd aggregate keys', () => {
    const base = readings[0]!;
    const odd: Reading[] = [
      { ...base, eventId: 'x1', extra: 1 } as Reading,
      { ...base, eventId: 'x2', dataTime: base.dataTime + 0.5 },
      {
        ...base,
        eventId: 'x3',
        measurements: [
          { factor: 'a21026', stat: 'Rtd', value: 1 },
          { factor: 'a21026', stat: 'Rtd', value: 2, flag: 'D' },
        ],
      },
      {
        ...base,
        eventId: 'x4',
        periodSeconds: 30,
        measurements: [{ factor: 'a21026', stat: 'Rtd', value: 3 }],
      },
      readings[1]!,
    ];
    expect(decodePart(JSON.parse(JSON.stringify(encodePart(odd))) as StoredPart)).toEqual(
      JSON.parse(JSON.stringify(odd)),
    );
    const dev = Object.values(state.deviations)[0]!;
    const marked: EngineState = {
      ...state,
      deviations: {
        ...state.deviations,
        [dev.id]: { ...dev, evidence: { windows: [{ '~cols': 1 }, { '~cols': 2 }], note: undefined } },
      },
      aggregates: {
        ...state.aggregates,
        'E1|OUT1|a21026|hour|x': '0123456789abcdef',
        'E1|OUT1|a21026|hour|7': 'odd',
      },
    };
    const back = decodeStateRow(JSON.parse(JSON.stringify(encodeStateRow(marked))) as StateRow);
    expect(back).toEqual(JSON.parse(JSON.stringify(marked)));
  });

  it('reads the state row the analyzer wrote before as it is, and refuses a format it does not know', () => {
    const v2 = { ...state, version: 2 } as EngineState;
    expect(decodeStateRow(v2)).toBe(v2);
    expect(decodePart(readings)).toBe(readings);
    expect(() => decodeStateRow({ ...encodeStateRow(state), format: 4 } as unknown as StateRow)).toThrow(
      expect.objectContaining({ code: 'invalid-snapshot' }),
    );
    expect(() => decodePart({ format: 9 } as unknown as StoredPart)).toThrow(
      expect.objectContaining({ code: 'invalid-snapshot' }),
    );
  });
});
