import fc from 'fast-check';
import {
  decodePart,
  decodeStateRow,
  encodePart,
  encodeStateRow,
  type StateRow,
  type StoredPart,
} from './checkpoint-format.js';
import { aggregateFingerprint, createEngine, type EngineState } from './engine.js';
import type { DeviationOutput, Output, Reading } from './model.js';
import { olderState } from './testing.js';
import { HOUR, MIN, T0, config, energy, minute, registry } from '../test/testkit.js';

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

/** The whole run's outputs, and an engine that took the ops before a cut `k` with its outputs. */
function runTo(ops: Op[], cut: number) {
  const k = cut % (ops.length + 1);
  const whole = apply(createEngine(config(), reg), ops);
  const a = createEngine(config(), reg);
  return { k, whole, a, before: apply(a, ops.slice(0, k)) };
}

describe('checkpoints and determinism', () => {
  it('snapshot/restore mid-stream gives exactly the outputs of an uninterrupted run', () => {
    fc.assert(
      fc.property(opsArb, fc.nat(), (ops, cut) => {
        const { k, whole, a, before } = runTo(ops, cut);
        const saved = JSON.parse(JSON.stringify(a.snapshot())) as EngineState;
        const b = createEngine(config(), reg);
        b.restore(saved);
        const after = apply(b, ops.slice(k));
        expect(JSON.stringify([...before, ...after])).toBe(JSON.stringify(whole));
      }),
      { numRuns: 60 },
    );
  });

  it('version-1 and -2 checkpoints (fingerprints as JSON) restore to exactly what their version-3 form gives', () => {
    fc.assert(
      fc.property(opsArb, fc.nat(), (ops, cut) => {
        const { k, whole, a, before } = runTo(ops, cut);
        const v3 = JSON.parse(JSON.stringify(a.snapshot())) as EngineState;
        expect(v3.version).toBe(3);
        const v2 = olderState(v3, 2);
        // What a version-1 engine kept: the JSON of the last emitted aggregate of every key still held.
        const json = new Map<string, string>();
        for (const o of before)
          if (o.type === 'aggregate')
            json.set(`${o.enterpriseId}|${o.siteId}|${o.factor}|${o.interval}|${o.start}`, JSON.stringify(o));
        const v1: EngineState = {
          ...olderState(v3, 1),
          aggregates: Object.fromEntries(Object.keys(v2.aggregates).map((key) => [key, json.get(key)!])),
        };
        for (const [key, fp] of Object.entries(v2.aggregates))
          expect(aggregateFingerprint(v1.aggregates[key]!)).toBe(fp);
        const b = createEngine(config(), reg);
        b.restoreParts(v1, [], { durable: true });
        expect(b.snapshot().version).toBe(3);
        expect(JSON.stringify({ ...b.snapshot(), enterprises: {} })).toBe(
          JSON.stringify({ ...v3, enterprises: {} }),
        );
        b.restore(v1);
        expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(v3));
        b.restore(v2);
        expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(v3));
        const after = apply(b, ops.slice(k));
        expect(JSON.stringify([...before, ...after])).toBe(JSON.stringify(whole));
      }),
      { numRuns: 40 },
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

describe('incremental checkpoints (checkpoint parts)', () => {
  // Three days of 10-minute data so the lateness horizon moves and evicts readings between parts.
  const daysArb = fc
    .array(
      fc.record({
        slot: fc.integer({ min: 0, max: 3 * 144 }),
        so2: fc.constantFrom(10, 34, 36, 80),
        flag: fc.constantFrom('N', 'N', 'N', 'T'),
        cut: fc.boolean(),
      }),
      { minLength: 5, maxLength: 80 },
    )
    .map((items) => {
      items.sort((x, y) => x.slot - y.slot);
      const ops: (Op | { kind: 'cut' })[] = [];
      items.forEach((it, i) => {
        const t = T0 + it.slot * 10 * MIN;
        ops.push({ kind: 'ingest', reading: minute(t, { a21026: [it.so2, it.flag] }, { id: `d-${i}` }) });
        // Some readings arrive late (30 min behind the watermark).
        ops.push({ kind: 'advance', to: t + (i % 3 === 0 ? -20 * MIN : 10 * MIN) });
        if (it.cut) ops.push({ kind: 'cut' });
      });
      ops.push({ kind: 'advance', to: T0 + 4 * 24 * HOUR });
      return ops;
    });

  /** How a checkpoint is stored: the compact format 3, the JSON an analyzer wrote before (version 2), or a rolling
   * upgrade (the checkpoints before `upgradeAt` written the old way, the later ones compact). */
  const stores = {
    'format 3': { upgradeAt: 0 },
    'the JSON before (version 2)': { upgradeAt: Infinity },
    'a rolling upgrade': { upgradeAt: 2 },
  };
  it.each(Object.keys(stores))(
    'the last state part plus the kept reading parts restore exactly (cut anywhere, horizon moving; %s)',
    (store) => {
      const { upgradeAt } = stores[store as keyof typeof stores];
      fc.assert(
        fc.property(daysArb, fc.nat(), (ops, at) => {
          const plain = ops.filter((o): o is Op => o.kind !== 'cut');
          const whole = apply(createEngine(config(), reg), plain);
          const a = createEngine(config(), reg);
          const out: Output[] = [];
          // What a checkpoint store keeps: the latest state, and reading parts pruned by their newest dataTime.
          let saved: { state: string; parts: { json: string; newest: number }[] } = { state: '', parts: [] };
          const cuts = ops.filter((o) => o.kind === 'cut').length;
          const stopAt = cuts === 0 ? -1 : at % cuts;
          let seen = 0;
          let i = 0;
          for (; i < ops.length; i++) {
            const op = ops[i]!;
            if (op.kind !== 'cut') {
              out.push(...(op.kind === 'ingest' ? a.ingest(op.reading) : a.advance(op.to)));
              continue;
            }
            const cp = a.checkpoint();
            const parts = cp.full ? [] : saved.parts;
            const compact = seen >= upgradeAt;
            saved = {
              state: JSON.stringify(compact ? encodeStateRow(cp.state) : olderState(cp.state, 2)),
              parts: [
                ...parts.filter((p) => p.newest >= cp.keepFrom),
                {
                  json: JSON.stringify(compact ? encodePart(cp.readings) : cp.readings),
                  newest: Math.max(-Infinity, ...cp.readings.map((r) => r.dataTime)),
                },
              ],
            };
            if (seen++ === stopAt) break;
          }
          if (stopAt < 0) return;
          const b = createEngine(config(), reg);
          b.restoreParts(
            decodeStateRow(JSON.parse(saved.state) as StateRow | EngineState),
            saved.parts.flatMap((p) => decodePart(JSON.parse(p.json) as StoredPart | Reading[])),
            { durable: true },
          );
          expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()));
          const rest = ops.slice(i + 1).filter((o): o is Op => o.kind !== 'cut');
          out.push(...apply(b, rest));
          expect(JSON.stringify(out)).toBe(JSON.stringify(whole));
        }),
        { numRuns: 80, seed: 5 },
      );
    },
  );

  it('a part carries only the readings since the previous checkpoint; a plain restore makes the next one full', () => {
    const e = createEngine(config(), reg);
    e.ingest(minute(T0, { a21026: 20 }, { id: 'x1' }));
    expect(e.checkpoint()).toMatchObject({ full: true, readings: [{ eventId: 'x1' }] });
    e.ingest(minute(T0 + 10 * MIN, { a21026: 20 }, { id: 'x2' }));
    e.ingest(minute(T0 + 10 * MIN, { a21026: 20 }, { id: 'x2' })); // duplicate: ignored
    const cp = e.checkpoint();
    expect(cp.full).toBe(false);
    expect(cp.readings.map((r) => r.eventId)).toEqual(['x2']);
    expect(Object.values(cp.state.enterprises).every((x) => x.readings.length === 0)).toBe(true);
    expect(e.checkpoint().readings).toEqual([]);
    e.restore(e.snapshot());
    expect(e.checkpoint()).toMatchObject({ full: true });
    e.restore(e.snapshot(), { durable: true });
    expect(e.checkpoint()).toMatchObject({ full: false, readings: [] });
  });
});
