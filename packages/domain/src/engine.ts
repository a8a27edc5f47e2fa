// Over 500 lines: createEngine is one closure over the per-enterprise buffers, their checkpoint and the
// reconciliation of changed deviation series with what was emitted.
// The incremental engine: buffers readings per enterprise, re-evaluates only the sections of the enterprise a change
// touches (workspace.ts) and reconciles the changed deviation series with what it already emitted, so late data
// update deviations instead of duplicating them.
import { createHash } from 'node:crypto';
import type { EngineConfig } from './config.js';
import { DomainError } from './errors.js';
import type {
  AggregateOutput,
  DeviationOutput,
  DeviationState,
  Output,
  Reading,
  RegistryView,
  RuleName,
  Severity,
} from './model.js';
import { indexRegistry, type RegistryIndex } from './registry.js';
import { Evaluator } from './rules.js';
import type { EpisodeOut } from './scope.js';
import { seenAt } from './series.js';
import { Workspace } from './workspace.js';
import type { HeldGap } from './offline.js';
import { dayStart, MINUTE_MS } from './time.js';

export interface DeviationRecord {
  id: string;
  key: string;
  enterpriseId: string;
  rule: RuleName;
  siteId: string;
  subject: string;
  factor?: string;
  windowStart: number;
  windowEnd?: number;
  state: DeviationState;
  revision: number;
  severity: Severity;
  suspected: boolean;
  inResumptionWindow: boolean;
  evidence: Record<string, unknown>;
  fingerprint: string;
  retracted?: boolean;
}

interface EnterpriseState {
  /** Ordered by (dataTime, eventId). */
  readings: Reading[];
  /** Device id → last seen time among evicted readings. */
  seenBefore: Record<string, number>;
  /** Device id → outages closed by an arrival (offline judged by arrival, offline.ts); absent in older snapshots. */
  held?: Record<string, HeldGap[]>;
}

/** JSON-serialisable engine state (checkpoint). */
export interface EngineState {
  version: 1;
  watermark: number | null;
  enterprises: Record<string, EnterpriseState>;
  deviations: Record<string, DeviationRecord>;
  /** Aggregate key → fingerprint of the last emitted value. */
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

/** Deterministic deviation id: sha256 of enterprise, site, rule, subject and window start (first 32 hex digits). */
export function deviationId(
  enterpriseId: string,
  siteId: string,
  rule: string,
  subject: string,
  windowStart: number,
): string {
  return createHash('sha256')
    .update([enterpriseId, siteId, rule, subject, String(windowStart)].join('\n'))
    .digest('hex')
    .slice(0, 32);
}

const NO_TIME = -8.64e15;

/** The engine's own copy of a reading (a structuredClone per reading was a tenth of the ingest time). */
function cloneReading(r: Reading): Reading {
  const copy: Reading = { ...r, measurements: r.measurements.map((m) => ({ ...m })) };
  return copy;
}

function cmpReading(a: Reading, b: Reading): number {
  if (a.dataTime !== b.dataTime) return a.dataTime - b.dataTime;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

function overlaps(rec: DeviationRecord, ep: EpisodeOut): boolean {
  if (rec.windowStart === ep.start) return true;
  return ep.start < (rec.windowEnd ?? Infinity) && rec.windowStart < (ep.end ?? Infinity);
}

/** Same emitted content (both built by the Evaluator, so equal fields give the same JSON fingerprint). */
function sameAggregate(a: AggregateOutput, b: AggregateOutput): boolean {
  return (
    a.value === b.value &&
    a.convertedValue === b.convertedValue &&
    a.valid === b.valid &&
    a.flag === b.flag &&
    a.coverage === b.coverage &&
    a.anomaly === b.anomaly
  );
}

function emptyState(): EngineState {
  return { version: 1, watermark: null, enterprises: {}, deviations: {}, aggregates: {} };
}

export function createEngine(config: EngineConfig, registry: RegistryView): Engine {
  const idx: RegistryIndex = indexRegistry(registry, config);
  const evaluator = new Evaluator(config, idx);
  let state = emptyState();
  let eventIds = new Map<string, Set<string>>();
  /** Derived, rebuildable state per enterprise (not part of the snapshot). */
  let workspaces = new Map<string, Workspace>();
  /** Enterprise id → ids of its deviation records. */
  let recIndex = new Map<string, Set<string>>();
  let lastHorizon = NO_TIME;
  /** Aggregate key → the aggregate last emitted (derived: lets unchanged aggregates skip serialisation). */
  let lastAggregates = new Map<string, AggregateOutput>();

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
    touched.add(d.id);
    let set = recIndex.get(d.enterpriseId);
    if (!set) recIndex.set(d.enterpriseId, (set = new Set()));
    set.add(d.id);
  }
  function delDev(id: string): void {
    const d = state.deviations[id];
    if (!d) return;
    delete state.deviations[id];
    recIndex.get(d.enterpriseId)?.delete(id);
    applied.delete(id);
    appliedHs.delete(id);
  }
  function recordsOf(enterpriseId: string): DeviationRecord[] {
    const out: DeviationRecord[] = [];
    for (const id of recIndex.get(enterpriseId) ?? []) out.push(state.deviations[id]!);
    return out;
  }
  function buildWorkspace(enterpriseId: string): Workspace {
    const ws = new Workspace(config, idx, evaluator, enterpriseId);
    for (const r of state.enterprises[enterpriseId]?.readings ?? []) ws.add(r);
    ws.touchKeys(recordsOf(enterpriseId).map((d) => d.key));
    workspaces.set(enterpriseId, ws);
    return ws;
  }
  function workspace(enterpriseId: string): Workspace {
    return workspaces.get(enterpriseId) ?? buildWorkspace(enterpriseId);
  }

  const horizonStart = (): number =>
    state.watermark === null
      ? NO_TIME
      : dayStart(state.watermark - config.latenessHorizonMs, config.timezoneOffsetMinutes);

  function rebuildIndexes(): void {
    eventIds = new Map(
      Object.entries(state.enterprises).map(([id, e]) => [id, new Set(e.readings.map((r) => r.eventId))]),
    );
    recIndex = new Map();
    for (const d of Object.values(state.deviations)) putDev(d);
    workspaces = new Map();
    lastAggregates = new Map();
    lastHorizon = horizonStart();
    touched = new Set(Object.keys(state.deviations));
    applied = new Map();
    appliedHs = new Map();
    sortedIds = undefined;
  }

  function toOutput(r: DeviationRecord): DeviationOutput {
    return {
      type: 'deviation',
      id: r.id,
      rule: r.rule,
      state: r.state,
      revision: r.revision,
      severity: r.severity,
      enterpriseId: r.enterpriseId,
      siteId: r.siteId,
      ...(r.factor !== undefined ? { factor: r.factor } : {}),
      subject: r.subject,
      windowStart: r.windowStart,
      ...(r.windowEnd !== undefined ? { windowEnd: r.windowEnd } : {}),
      suspectedFalsification: r.suspected,
      inResumptionWindow: r.inResumptionWindow,
      evidence: structuredClone(r.evidence),
    };
  }

  function evaluate(enterpriseId: string): Output[] {
    const ent = state.enterprises[enterpriseId];
    if (!ent) return [];
    const hs = horizonStart();
    const all = recordsOf(enterpriseId);
    const carried = new Set(
      all.filter((d) => d.state !== 'resolved' && d.windowStart < hs).map((d) => d.key),
    );
    const result = workspace(enterpriseId).evaluate({
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
      lastAggregates.set(key, a);
      const fp = JSON.stringify(a);
      if (state.aggregates[key] === fp) continue;
      state.aggregates[key] = fp;
      out.push(a satisfies AggregateOutput);
    }
    const mine = all.filter((d) => result.changed.has(d.key));
    out.push(...reconcile(enterpriseId, mine, [...result.changed.values()].flat(), hs));
    return out;
  }

  function reconcile(
    enterpriseId: string,
    mine: DeviationRecord[],
    episodes: EpisodeOut[],
    hs: number,
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
      g.recs.sort((a, b) => a.windowStart - b.windowStart);
      g.eps.sort((a, b) => a.start - b.start);
      const used = new Set<string>();
      const recs = g.recs;
      let lo = 0;
      for (const ep of g.eps) {
        // The first unused record (by window start) overlapping the episode. Records start in order, so the scan
        // starts after the used prefix and stops past the episode's end (was a find over all records per episode:
        // quadratic per evaluation for a series with many episodes).
        while (lo < recs.length && used.has(recs[lo]!.id)) lo++;
        let rec: DeviationRecord | undefined;
        const epEnd = ep.end ?? Infinity;
        for (let j = lo; j < recs.length; j++) {
          const r = recs[j]!;
          if (r.windowStart > ep.start && r.windowStart > epEnd) break;
          if (!used.has(r.id) && overlaps(r, ep)) {
            rec = r;
            break;
          }
        }
        // The same episode object applied to this unchanged record at the same horizon: same fingerprint, no output.
        if (rec && !rec.retracted && applied.get(rec.id) === ep && appliedHs.get(rec.id) === hs) {
          used.add(rec.id);
          continue;
        }
        const id = rec?.id ?? deviationId(enterpriseId, ep.siteId, ep.rule, ep.subject, ep.start);
        rec ??= state.deviations[id];
        used.add(id);
        applied.set(id, ep);
        appliedHs.set(id, hs);
        const carriedOver = rec !== undefined && rec.windowStart < hs;
        let evidence = ep.evidence;
        if (carriedOver && rec) {
          const old = Array.isArray(rec.evidence.windows)
            ? (rec.evidence.windows as { start: number }[])
            : [];
          const fresh = Array.isArray(ep.evidence.windows) ? (ep.evidence.windows as unknown[]) : undefined;
          evidence = { ...ep.evidence };
          if (fresh) evidence.windows = [...old.filter((w) => w.start < hs), ...fresh];
          if (rec.evidence.confirmedAt !== undefined) evidence.confirmedAt = rec.evidence.confirmedAt;
        }
        const windowStart = carriedOver && rec ? Math.min(rec.windowStart, ep.start) : ep.start;
        const inRes = carriedOver && rec ? rec.inResumptionWindow : ep.inResumptionWindow;
        const fingerprint = JSON.stringify([
          windowStart,
          ep.end ?? null,
          ep.severity,
          ep.suspected,
          inRes,
          evidence,
        ]);
        const base = {
          id,
          key,
          enterpriseId,
          rule: ep.rule,
          siteId: ep.siteId,
          subject: ep.subject,
          ...(ep.factor !== undefined ? { factor: ep.factor } : {}),
          windowStart,
          severity: ep.severity,
          suspected: ep.suspected,
          inResumptionWindow: inRes,
          evidence,
          fingerprint,
        };
        if (!rec) {
          const opened: DeviationRecord = { ...base, state: 'opened', revision: 1 };
          putDev(opened);
          out.push(toOutput(opened));
          if (ep.end !== undefined) {
            const resolved: DeviationRecord = { ...base, windowEnd: ep.end, state: 'resolved', revision: 2 };
            putDev(resolved);
            out.push(toOutput(resolved));
          }
          continue;
        }
        if (rec.fingerprint === fingerprint && !rec.retracted) continue;
        const next: DeviationRecord = {
          ...base,
          ...(ep.end !== undefined ? { windowEnd: ep.end } : {}),
          state: ep.end !== undefined ? 'resolved' : 'updated',
          revision: rec.revision + 1,
        };
        putDev(next);
        out.push(toOutput(next));
      }
      // Deviations the data no longer support (late data filled a gap, corrected a value): resolve as retracted.
      for (const rec of g.recs) {
        if (used.has(rec.id) || rec.retracted) continue;
        const next: DeviationRecord = {
          ...rec,
          windowEnd: rec.windowEnd ?? rec.windowStart,
          state: 'resolved',
          revision: rec.revision + 1,
          evidence: { ...rec.evidence, retracted: true },
          retracted: true,
        };
        next.fingerprint = JSON.stringify(['retracted', next.windowEnd]);
        putDev(next);
        out.push(toOutput(next));
      }
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
        if (d && d.state === 'resolved' && (d.windowEnd ?? d.windowStart) < hs) delDev(id);
      }
      touched.clear();
      return;
    }
    touched.clear();
    for (const ent of Object.values(state.enterprises)) {
      let n = 0;
      while (n < ent.readings.length && ent.readings[n]!.dataTime < hs) {
        const r = ent.readings[n]!;
        const t = seenAt(r, config);
        const prev = ent.seenBefore[r.deviceId];
        if (prev === undefined || t > prev) ent.seenBefore[r.deviceId] = t;
        n += 1;
      }
      if (n > 0) ent.readings.splice(0, n);
      // Outages that ended before the horizon: their end stays as the device's last alive instant.
      for (const [deviceId, list] of Object.entries(ent.held ?? {})) {
        const keep = list.filter((h) => h.end >= hs);
        for (const h of list) {
          if (h.end >= hs) continue;
          const prev = ent.seenBefore[deviceId];
          if (prev === undefined || h.end > prev) ent.seenBefore[deviceId] = h.end;
        }
        if (keep.length === list.length) continue;
        if (keep.length > 0) ent.held![deviceId] = keep;
        else delete ent.held![deviceId];
      }
    }
    for (const [id, d] of Object.entries(state.deviations)) {
      if (d.state === 'resolved' && (d.windowEnd ?? d.windowStart) < hs) delDev(id);
    }
    for (const [key, fp] of Object.entries(state.aggregates)) {
      const start = Number(key.slice(key.lastIndexOf('|') + 1));
      if (start < hs) delete state.aggregates[key];
      else void fp;
    }
    for (const [key, a] of lastAggregates) if (a.start < hs) lastAggregates.delete(key);
    if (hs !== lastHorizon) {
      eventIds = new Map(
        Object.entries(state.enterprises).map(([id, e]) => [id, new Set(e.readings.map((r) => r.eventId))]),
      );
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
      if (!Number.isFinite(reading.dataTime)) {
        return [
          {
            type: 'rejected',
            eventId: reading.eventId,
            code: 'invalid-reading',
            message: 'dataTime is not a finite epoch ms',
          },
        ];
      }
      const hs = horizonStart();
      if (reading.dataTime < hs) {
        return [
          {
            type: 'rejected',
            eventId: reading.eventId,
            code: 'too-late',
            message: `dataTime ${new Date(reading.dataTime).toISOString()} is before the lateness horizon ${new Date(hs).toISOString()}`,
          },
        ];
      }
      let ent = state.enterprises[reading.enterpriseId];
      if (!ent) {
        state.enterprises[reading.enterpriseId] = ent = { readings: [], seenBefore: {} };
        sortedIds = undefined;
      }
      let ids = eventIds.get(reading.enterpriseId);
      if (!ids) eventIds.set(reading.enterpriseId, (ids = new Set()));
      if (ids.has(reading.eventId)) return [];
      ids.add(reading.eventId);
      const copy = cloneReading(reading);
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
      return structuredClone(state);
    },
    checkpoint() {
      const enterprises: Record<string, EnterpriseState> = {};
      for (const [id, e] of Object.entries(state.enterprises))
        enterprises[id] = { ...e, readings: [] } satisfies EnterpriseState;
      const full = added === null;
      const readings = added ?? Object.values(state.enterprises).flatMap((e) => e.readings);
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
        throw new DomainError('invalid-snapshot', 'not an engine state of version 1');
      const hs =
        merged.watermark === null
          ? NO_TIME
          : dayStart(merged.watermark - config.latenessHorizonMs, config.timezoneOffsetMinutes);
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
      s.version !== 1 ||
      typeof s.enterprises !== 'object' ||
      typeof s.deviations !== 'object'
    ) {
      throw new DomainError('invalid-snapshot', 'not an engine state of version 1');
    }
    state = clone ? structuredClone(s) : s;
    rebuildIndexes();
    added = opts?.durable === true ? [] : null;
  }
  return engine;
}
