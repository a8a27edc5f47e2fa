import fc from 'fast-check';
import { createEngine, type EngineState } from './engine.js';
import type { DeviationOutput, Output, Reading } from './model.js';
import { HOUR, MIN, T0, config, energy, minute, registry } from './testkit.js';

const reg = registry({
  devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 600, cadenceInterval: 'minute' }],
  meters: [
    { id: 'P1', enterpriseId: 'E1', role: 'production', ratedWindowKwh: 10 },
    { id: 'T1', enterpriseId: 'E1', role: 'treatment', servesMeterId: 'P1', ratedWindowKwh: 5 },
  ],
});

type Op = { kind: 'ingest'; reading: Reading } | { kind: 'advance'; to: number };

/** Random streams: 10-minute values over 6 hours (some high, some flagged), shuffled locally, with watermarks. */
const opsArb = fc
  .array(
    fc.record({
      slot: fc.integer({ min: 0, max: 35 }),
      so2: fc.constantFrom(10, 20, 34, 35, 36, 50, 80),
      flag: fc.constantFrom('N', 'N', 'N', 'N', 'D', 'S'),
      o2: fc.constantFrom(8.5, 9, 9.5, 19.6),
      prodKwh: fc.constantFrom(0, 1.5, 2, 6),
      treatKwh: fc.constantFrom(0, 0.4, 3),
      advance: fc.boolean(),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((items) => {
    const ops: Op[] = [];
    let cumP = 0;
    let cumT = 0;
    let wm = T0;
    items.forEach((it, i) => {
      const t = T0 + it.slot * 10 * MIN;
      ops.push({
        kind: 'ingest',
        reading: minute(t, { a21026: [it.so2, it.flag], a19001: it.o2 }, { id: `ev-${i}` }),
      });
      cumP += it.prodKwh;
      cumT += it.treatKwh;
      ops.push({ kind: 'ingest', reading: { ...energy('P1', T0 + i * 5 * MIN, cumP), eventId: `p-${i}` } });
      ops.push({ kind: 'ingest', reading: { ...energy('T1', T0 + i * 5 * MIN, cumT), eventId: `t-${i}` } });
      if (it.advance) {
        wm = Math.max(wm, t + 10 * MIN);
        ops.push({ kind: 'advance', to: wm });
      }
    });
    ops.push({ kind: 'advance', to: T0 + 8 * HOUR });
    return ops;
  });

function apply(engine: ReturnType<typeof createEngine>, ops: Op[]): Output[] {
  const out: Output[] = [];
  for (const op of ops)
    out.push(...(op.kind === 'ingest' ? engine.ingest(op.reading) : engine.advance(op.to)));
  return out;
}

describe('checkpoints and determinism', () => {
  it('snapshot/restore mid-stream gives exactly the outputs of an uninterrupted run', () => {
    fc.assert(
      fc.property(opsArb, fc.nat(), (ops, cut) => {
        const k = cut % (ops.length + 1);
        const whole = apply(createEngine(config(), reg), ops);
        const a = createEngine(config(), reg);
        const before = apply(a, ops.slice(0, k));
        const saved = JSON.parse(JSON.stringify(a.snapshot())) as EngineState;
        const b = createEngine(config(), reg);
        b.restore(saved);
        const after = apply(b, ops.slice(k));
        expect(JSON.stringify([...before, ...after])).toBe(JSON.stringify(whole));
      }),
      { numRuns: 60 },
    );
  });

  it('never duplicates a deviation: one opened per id, revisions strictly increase', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const out = apply(createEngine(config(), reg), ops).filter(
          (o): o is DeviationOutput => o.type === 'deviation',
        );
        const last = new Map<string, number>();
        for (const d of out) {
          const prev = last.get(d.id);
          if (prev === undefined) expect(d).toMatchObject({ state: 'opened', revision: 1 });
          else {
            expect(d.state).not.toBe('opened');
            expect(d.revision).toBe(prev + 1);
          }
          last.set(d.id, d.revision);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic: the same input twice gives identical output', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        expect(JSON.stringify(apply(createEngine(config(), reg), ops))).toBe(
          JSON.stringify(apply(createEngine(config(), reg), ops)),
        );
      }),
      { numRuns: 30 },
    );
  });

  it('restore rejects something that is not an engine state', () => {
    const e = createEngine(config(), reg);
    expect(() => e.restore({ version: 2 } as unknown as EngineState)).toThrow(
      expect.objectContaining({ code: 'invalid-snapshot', retryable: false }),
    );
  });

  it('keeps memory bounded: readings and resolved deviations beyond the horizon are evicted', () => {
    const e = createEngine(config(), reg);
    for (let i = 0; i < 6 * 24 * 5; i++) {
      e.ingest(minute(T0 + i * 10 * MIN, { a21026: i % 7, a19001: 9 + (i % 3) / 10 }));
      e.advance(T0 + (i + 1) * 10 * MIN);
    }
    const s = e.snapshot();
    const readings = s.enterprises.E1!.readings;
    expect(readings.length).toBeLessThanOrEqual(6 * 24 * 3);
    expect(Math.min(...readings.map((r) => r.dataTime))).toBeGreaterThanOrEqual(
      T0 + 5 * 24 * HOUR - 72 * HOUR,
    );
    expect(Object.keys(s.aggregates).length).toBeLessThanOrEqual(2 * (72 + 3));
  });
});
