// The incremental engine: buffers readings per enterprise, re-evaluates only the sections of the enterprise a change
// touches (workspace.ts) and reconciles the changed deviation series with what it already emitted, so late data
// update deviations instead of duplicating them.
import type { EngineConfig } from './config.js';
import {
  cmpReading,
  deviationOutput,
  evictable,
  evictBuffer,
  horizonStartOf,
  mayStandFor,
  NO_TIME,
  overlaps,
  rejectReading,
  retract,
  revise,
  seriesIdFor,
  type DeviationRecord,
  type EnterpriseState,
} from './deviation-records.js';
import { DomainError } from './errors.js';
import type { AggregateOutput, DeviationOutput, Output, Reading, RegistryView } from './model.js';
import { indexRegistry, type RegistryIndex } from './registry.js';
import { Evaluator } from './rules.js';
import type { EpisodeOut } from './scope.js';
import { Workspace } from './workspace.js';
import { Packer, unpack, type PackedReading } from './packed.js';
import { MINUTE_MS } from './time.js';
import { fingerprint64 } from './fingerprint.js';
import { EventIds } from './event-ids.js';

export { deviationId, type DeviationRecord, type EnterpriseState } from './deviation-records.js';

/**
 * JSON-serialisable engine state (checkpoint). Version 3 keeps each deviation record's fingerprint, and version 2 and 3
 * each emitted aggregate's, as a 64-bit hash of the JSON (fingerprint.ts); the versions before kept the JSON itself and
 * are migrated on restore (the hash of the old value is the new value). The engine writes version 3; checkpoint-format.ts
 * stores it compactly.
 */
export interface EngineState {
  version: 1 | 2 | 3;
  watermark: number | null;
  enterprises: Record<string, EnterpriseState>;
  deviations: Record<string, DeviationRecord>;
  /** Aggregate key → fingerprint of the last emitted value (version 1: its JSON). */
  aggregates: Record<string, string>;
}

/**
 * A checkpoint in parts (`Engine.checkpoint`): the state without the readings buffers, and the readings ingested since
 * the previous checkpoint (all of them when `full`). Restoring the last full part plus every later part with
 * `restoreParts` gives the engine state back; readings before the lateness horizon are dropped there.
 */
export interface CheckpointParts {
  /** The engine state with every `enterprises.*.readings` empty. Live objects: serialise before using the engine. */
  state: EngineState;
  /** Readings ingested since the last checkpoint (every buffered reading when `full`). */
  readings: Reading[];
  /** The readings of earlier parts are not needed (first checkpoint, or after a plain `restore`). */
  full: boolean;
  /** Readings with a dataTime before this are no longer needed by any restore (the lateness horizon). */
  keepFrom: number;
}

export interface Engine {
  /** Adds a reading (at-least-once delivery is fine: a repeated eventId is ignored). */
  ingest(reading: Reading): Output[];
  /** Moves event time forward: closes windows, detects offline devices, evicts beyond the lateness horizon. */
  advance(watermarkMs: number): Output[];
  snapshot(): EngineState;
  /**
   * `durable: true` says the state's readings are already in a checkpoint (the next `checkpoint()` then carries only
   * new readings); otherwise the next one is full.
   */
  restore(state: EngineState, opts?: { durable?: boolean }): void;
  /** An incremental checkpoint: cost proportional to the readings since the last one, not to the buffer. */
  checkpoint(): CheckpointParts;
  /** Restores from a state (readings empty or not, e.g. an older full snapshot) plus the readings of later parts. */
  restoreParts(state: EngineState, readings: readonly Reading[], opts?: { durable?: boolean }): void;
  readonly watermark: number | null;
}

/** What `sameAggregate` compares of an emitted aggregate (kept per key instead of the whole output). */
type AggregateContent = Pick<
  AggregateOutput,
  'start' | 'value' | 'convertedValue' | 'valid' | 'flag' | 'coverage' | 'anomaly'
>;

function contentOf(a: AggregateOutput): AggregateContent {
  return {
    start: a.start,
    value: a.value,
    convertedValue: a.convertedValue,
    valid: a.valid,
    flag: a.flag,
    coverage: a.coverage,
    anomaly: a.anomaly,
  };
}

/** Same emitted content (both built by the Evaluator, so equal fields give the same JSON fingerprint). */
function sameAggregate(a: AggregateContent, b: AggregateOutput): boolean {
  return (
    a.value === b.value &&
    a.convertedValue === b.convertedValue &&
    a.valid === b.valid &&
    a.flag === b.flag &&
    a.coverage === b.coverage &&
    a.anomaly === b.anomaly
  );
}

/** The fingerprint of an emitted aggregate's JSON (fingerprint.ts). */
export const aggregateFingerprint = fingerprint64;

function emptyState(): EngineState {
  return { version: 3, watermark: null, enterprises: {}, deviations: {}, aggregates: {} };
}

export function createEngine(config: EngineConfig, registry: RegistryView): Engine {
  const idx: RegistryIndex = indexRegistry(registry, config);
  const evaluator = new Evaluator(config, idx);
  /** The buffers hold packed readings (packed.ts); snapshots and checkpoints carry them unpacked. */
  const packer = new Packer();
  let state = emptyState();
  let eventIds = new Map<string, EventIds>();
  /** Derived, rebuildable state per enterprise (not part of the snapshot). */
  let workspaces = new Map<string, Workspace>();
  /** Enterprise id → ids of its deviation records. */
  let recIndex = new Map<string, Set<string>>();
  /** Enterprise id → its carried series keys at a horizon start (`carriedOf`). */
  let carriedKeys = new Map<string, { hs: number; keys: ReadonlySet<string> }>();
  let lastHorizon = NO_TIME;
  /** Aggregate key → the aggregate last emitted (derived: lets unchanged aggregates skip serialisation). */
  let lastAggregates = new Map<string, AggregateContent>();

  /** Ids put since the last eviction scan (only they can have become evictable while the horizon stays). */
  /** Readings ingested since the last checkpoint(); null: the next checkpoint is full. */
  let added: Reading[] | null = null;
  let touched = new Set<string>();
  /** Record id → the episode object last reconciled into it and the horizon then (derived, lets an unchanged
   * episode skip its fingerprint). */
  let applied = new Map<string, EpisodeOut>();
  let appliedHs = new Map<string, number>();
  /** Enterprise ids in sorted order (advance's evaluation order), rebuilt when an enterprise appears. */
  let sortedIds: string[] | undefined;

  function putDev(d: DeviationRecord): void {
    state.deviations[d.id] = d;
    carriedKeys.delete(d.enterpriseId);
    touched.add(d.id);
    let set = recIndex.get(d.enterpriseId);
    if (!set) recIndex.set(d.enterpriseId, (set = new Set()));
    set.add(d.id);
  }
  function delDev(id: string): void {
    const d = state.deviations[id];
    if (!d) return;
    delete state.deviations[id];
    carriedKeys.delete(d.enterpriseId);
    recIndex.get(d.enterpriseId)?.delete(id);
    applied.delete(id);
    appliedHs.delete(id);
  }
  /**
   * The series keys of an enterprise open since before the horizon start `hs` (records not resolved that start before
   * it), kept until one of its records is put or deleted or the horizon moves (derived).
   */
  function carriedOf(enterpriseId: string, hs: number): ReadonlySet<string> {
    const kept = carriedKeys.get(enterpriseId);
    if (kept && kept.hs === hs) return kept.keys;
    const keys = new Set<string>();
    for (const d of recordsOf(enterpriseId))
      if (d.state !== 'resolved' && d.windowStart < hs) keys.add(d.key);
    carriedKeys.set(enterpriseId, { hs, keys });
    return keys;
  }
  function recordsOf(enterpriseId: string): DeviationRecord[] {
    const out: DeviationRecord[] = [];
    for (const id of recIndex.get(enterpriseId) ?? []) out.push(state.deviations[id]!);
    return out;
  }
  function buildWorkspace(enterpriseId: string): Workspace {
    const ws = new Workspace(config, idx, evaluator, enterpriseId);
    for (const r of state.enterprises[enterpriseId]?.readings ?? []) ws.add(r as PackedReading);
    ws.touchKeys(recordsOf(enterpriseId).map((d) => d.key));
    workspaces.set(enterpriseId, ws);
    return ws;
  }
  function workspace(enterpriseId: string): Workspace {
    return workspaces.get(enterpriseId) ?? buildWorkspace(enterpriseId);
  }

  const horizonStart = (): number => horizonStartOf(state.watermark, config);

  function rebuildIndexes(): void {
    eventIds = new Map(Object.entries(state.enterprises).map(([id, e]) => [id, EventIds.of(e.readings)]));
    recIndex = new Map();
    carriedKeys = new Map();
    for (const d of Object.values(state.deviations)) putDev(d);
    workspaces = new Map();
    lastAggregates = new Map();
    lastHorizon = horizonStart();
    touched = new Set(Object.keys(state.deviations));
    applied = new Map();
    appliedHs = new Map();
    sortedIds = undefined;
  }

  function evaluate(enterpriseId: string): Output[] {
    const ent = state.enterprises[enterpriseId];
    if (!ent) return [];
    const hs = horizonStart();
    const carried = carriedOf(enterpriseId, hs);
    const ws = workspace(enterpriseId);
    const result = ws.evaluate({
      watermark: state.watermark ?? NO_TIME,
      horizonStart: hs,
      carried,
      seenBefore: ent.seenBefore,
      held: ent.held ?? {},
    });
    const out: Output[] = [];
    for (const a of result.aggregates) {
      const key = `${a.enterpriseId}|${a.siteId}|${a.factor}|${a.interval}|${a.start}`;
      const last = lastAggregates.get(key);
      if (last !== undefined && sameAggregate(last, a)) continue;
      lastAggregates.set(key, contentOf(a));
      const fp = aggregateFingerprint(JSON.stringify(a));
      if (state.aggregates[key] === fp) continue;
      state.aggregates[key] = fp;
      out.push(a satisfies AggregateOutput);
    }
    if (result.changed.size === 0) return out;
    const mine = recordsOf(enterpriseId).filter((d) => result.changed.has(d.key));
    const unsettled: string[] = [];
    out.push(...reconcile(enterpriseId, mine, [...result.changed.values()].flat(), hs, unsettled));
    ws.touchKeys(unsettled);
    return out;
  }

  /**
   * One reconciliation pass over the series keys given (the same pass the naive engine makes over every key): each
   * episode to the first unused record that may stand for it, an open one before a resolved one (mayStandFor: a
   * resolved record only for an ended episode), else to the series its id names or a new one (seriesIdFor: for an open episode, the generation after a
   * resolved series holding its id); records no episode took are retracted. Keys whose pass emitted anything go to
   * `unsettled`: the next evaluation passes over them again even if their section did not change, as the naive engine
   * does.
   */
  function reconcile(
    enterpriseId: string,
    mine: DeviationRecord[],
    episodes: EpisodeOut[],
    hs: number,
    unsettled: string[],
  ): DeviationOutput[] {
    const out: DeviationOutput[] = [];
    const byKey = new Map<string, { recs: DeviationRecord[]; eps: EpisodeOut[] }>();
    const group = (k: string) => {
      let g = byKey.get(k);
      if (!g) byKey.set(k, (g = { recs: [], eps: [] }));
      return g;
    };
    for (const r of mine) if (r.windowStart >= hs || r.state !== 'resolved') group(r.key).recs.push(r);
    for (const e of episodes) group(e.key).eps.push(e);
    for (const key of [...byKey.keys()].sort()) {
      const g = byKey.get(key)!;
      const emitted = out.length;
      g.recs.sort((a, b) => a.windowStart - b.windowStart);
      g.eps.sort((a, b) => a.start - b.start);
      const used = new Set<string>();
      const recs = g.recs;
      let lo = 0;
      for (const ep of g.eps) {
        // The first unused open record (by window start) overlapping the episode, else the first unused resolved one
        // if it may stand for the episode (mayStandFor). Records start in order, so the scan starts after the used
        // prefix and stops past the episode's end (linear per series, not quadratic).
        while (lo < recs.length && used.has(recs[lo]!.id)) lo++;
        let rec: DeviationRecord | undefined;
        let resolved: DeviationRecord | undefined;
        const epEnd = ep.end ?? Infinity;
        for (let j = lo; j < recs.length; j++) {
          const r = recs[j]!;
          if (r.windowStart > ep.start && r.windowStart > epEnd) break;
          if (used.has(r.id) || !overlaps(r, ep)) continue;
          if (r.state !== 'resolved') {
            rec = r;
            break;
          }
          resolved ??= r;
        }
        if (!rec && resolved && mayStandFor(resolved, ep)) rec = resolved;
        // The same episode object applied to this unchanged record at the same horizon: same fingerprint, no output.
        if (rec && !rec.retracted && applied.get(rec.id) === ep && appliedHs.get(rec.id) === hs) {
          used.add(rec.id);
          continue;
        }
        const byId = rec
          ? undefined
          : seriesIdFor(enterpriseId, ep, used, (id) => state.deviations[id], resolved);
        const id = rec?.id ?? byId!.id;
        rec ??= byId!.rec;
        used.add(id);
        applied.set(id, ep);
        appliedHs.set(id, hs);
        for (const next of revise(enterpriseId, key, id, rec, ep, hs, byId?.follows)) {
          putDev(next);
          out.push(deviationOutput(next));
        }
      }
      // Deviations the data no longer support (late data filled a gap, corrected a value): resolve as retracted.
      for (const rec of g.recs) {
        if (used.has(rec.id) || rec.retracted) continue;
        const next = retract(rec);
        putDev(next);
        out.push(deviationOutput(next));
      }
      if (out.length > emitted) unsettled.push(key);
    }
    return out;
  }

  function evict(): void {
    const hs = horizonStart();
    // Readings and aggregates older than the horizon exist only once the horizon moved (later ones are rejected or
    // never emitted); resolved deviations can end before it at any time: while the horizon stays, only records put
    // since the last scan can have become evictable.
    if (hs === lastHorizon) {
      for (const id of touched) {
        const d = state.deviations[id];
        if (d && evictable(d, hs)) delDev(id);
      }
      touched.clear();
      return;
    }
    touched.clear();
    for (const ent of Object.values(state.enterprises)) evictBuffer(ent, hs, config);
    for (const [id, d] of Object.entries(state.deviations)) {
      if (evictable(d, hs)) delDev(id);
    }
    for (const [key, fp] of Object.entries(state.aggregates)) {
      const start = Number(key.slice(key.lastIndexOf('|') + 1));
      if (start < hs) delete state.aggregates[key];
      else void fp;
    }
    for (const [key, a] of lastAggregates) if (a.start < hs) lastAggregates.delete(key);
    if (hs !== lastHorizon) {
      eventIds = new Map(Object.entries(state.enterprises).map(([id, e]) => [id, EventIds.of(e.readings)]));
      workspaces = new Map();
      lastHorizon = hs;
    }
  }

  /** Whether anything time-driven can change for this enterprise between two watermarks. */
  function timeMatters(enterpriseId: string, from: number | null, to: number): boolean {
    if (from === null) return true;
    if (Math.floor(from / MINUTE_MS) !== Math.floor(to / MINUTE_MS)) return true;
    const ent = state.enterprises[enterpriseId];
    if (!ent) return false;
    return workspace(enterpriseId).offlineDue(from, to, ent.seenBefore, ent.held ?? {});
  }

  const engine: Engine = {
    get watermark() {
      return state.watermark;
    },
    ingest(reading) {
      const rejected = rejectReading(reading, horizonStart());
      if (rejected) return [rejected];
      let ent = state.enterprises[reading.enterpriseId];
      if (!ent) {
        state.enterprises[reading.enterpriseId] = ent = { readings: [], seenBefore: {} };
        sortedIds = undefined;
      }
      let ids = eventIds.get(reading.enterpriseId);
      if (!ids) eventIds.set(reading.enterpriseId, (ids = new EventIds()));
      if (ids.has(reading.eventId, reading.dataTime, ent.readings)) return [];
      ids.add(reading.eventId);
      const copy = packer.pack(reading);
      const ws = workspace(reading.enterpriseId);
      ws.noteArrival(copy, state.watermark, ent.seenBefore, (ent.held ??= {}));
      if (Object.keys(ent.held).length === 0) delete ent.held;
      let lo = 0;
      let hi = ent.readings.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmpReading(ent.readings[mid]!, copy) <= 0) lo = mid + 1;
        else hi = mid;
      }
      if (lo === ent.readings.length) ent.readings.push(copy);
      else ent.readings.splice(lo, 0, copy);
      added?.push(copy);
      ws.add(copy);
      return evaluate(reading.enterpriseId);
    },
    advance(watermarkMs) {
      if (!Number.isFinite(watermarkMs))
        throw new DomainError('invalid-watermark', `watermark must be finite, got ${watermarkMs}`);
      const from = state.watermark;
      if (from !== null && watermarkMs <= from) return [];
      sortedIds ??= Object.keys(state.enterprises).sort();
      const due = sortedIds.filter((id) => timeMatters(id, from, watermarkMs));
      state.watermark = watermarkMs;
      evict();
      const out: Output[] = [];
      for (const id of due) out.push(...evaluate(id));
      return out;
    },
    snapshot() {
      const enterprises: Record<string, EnterpriseState> = {};
      for (const [id, e] of Object.entries(state.enterprises))
        enterprises[id] = { ...structuredClone({ ...e, readings: [] }), readings: e.readings.map(unpack) };
      return { ...structuredClone({ ...state, enterprises: {} }), enterprises };
    },
    checkpoint() {
      const enterprises: Record<string, EnterpriseState> = {};
      for (const [id, e] of Object.entries(state.enterprises))
        enterprises[id] = { ...e, readings: [] } satisfies EnterpriseState;
      const full = added === null;
      const readings = (added ?? Object.values(state.enterprises).flatMap((e) => e.readings)).map(unpack);
      added = [];
      return {
        state: { ...state, enterprises },
        readings,
        full,
        keepFrom: horizonStart(),
      };
    },
    restoreParts(s, readings, opts) {
      const merged = structuredClone(s) as EngineState;
      if (merged === null || typeof merged !== 'object' || typeof merged.enterprises !== 'object')
        throw new DomainError('invalid-snapshot', 'not an engine state of version 1, 2 or 3');
      const hs = horizonStartOf(merged.watermark, config);
      const ids = new Map<string, Set<string>>();
      for (const [id, e] of Object.entries(merged.enterprises)) {
        e.readings = e.readings.filter((r) => r.dataTime >= hs);
        ids.set(id, new Set(e.readings.map((r) => r.eventId)));
      }
      // Parts are in checkpoint order; a reading evicted since its part was written is before the horizon.
      for (const r of readings) {
        if (r.dataTime < hs) continue;
        const e = (merged.enterprises[r.enterpriseId] ??= { readings: [], seenBefore: {} });
        let set = ids.get(r.enterpriseId);
        if (!set) ids.set(r.enterpriseId, (set = new Set()));
        if (set.has(r.eventId)) continue;
        set.add(r.eventId);
        e.readings.push(r);
      }
      for (const e of Object.values(merged.enterprises)) e.readings.sort(cmpReading);
      load(merged, opts, false);
    },
    restore(s, opts) {
      load(s, opts, true);
    },
  };

  function load(s: EngineState, opts: { durable?: boolean } | undefined, clone: boolean): void {
    if (
      s === null ||
      typeof s !== 'object' ||
      (s.version !== 1 && s.version !== 2 && s.version !== 3) ||
      typeof s.enterprises !== 'object' ||
      typeof s.deviations !== 'object'
    ) {
      throw new DomainError('invalid-snapshot', 'not an engine state of version 1, 2 or 3');
    }
    state = clone ? structuredClone(s) : s;
    for (const e of Object.values(state.enterprises)) e.readings = e.readings.map((r) => packer.pack(r));
    if (state.version === 1)
      for (const [key, json] of Object.entries(state.aggregates)) state.aggregates[key] = fingerprint64(json);
    if (state.version !== 3)
      for (const d of Object.values(state.deviations)) d.fingerprint = fingerprint64(d.fingerprint);
    state.version = 3;
    rebuildIndexes();
    added = opts?.durable === true ? [] : null;
  }
  return engine;
}
