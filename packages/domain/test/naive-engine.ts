// Test-only oracle: the original engine, which re-evaluates the enterprise's whole buffer with the pure Evaluator on
// every change. The incremental engine must give exactly its outputs (engine-oracle.test.ts).
import { createHash } from 'node:crypto';
import type { EngineConfig } from '../src/config.js';
import { DomainError } from '../src/errors.js';
import type {
  AggregateOutput,
  DeviationOutput,
  DeviationState,
  Output,
  Reading,
  RegistryView,
  RuleName,
  Severity,
} from '../src/model.js';
import { indexRegistry, offlineThresholdMs, type RegistryIndex } from '../src/registry.js';
import { Evaluator } from '../src/rules.js';
import type { EpisodeOut } from '../src/scope.js';
import { seenAt } from '../src/series.js';
import { dayStart, MINUTE_MS } from '../src/time.js';
import { lastAlive, noteArrival, type HeldGap } from '../src/offline.js';
import { rulesFor } from '../src/config.js';

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

export interface Engine {
  /** Adds a reading (at-least-once delivery is fine: a repeated eventId is ignored). */
  ingest(reading: Reading): Output[];
  /** Moves event time forward: closes windows, detects offline devices, evicts beyond the lateness horizon. */
  advance(watermarkMs: number): Output[];
  snapshot(): EngineState;
  restore(state: EngineState): void;
  readonly watermark: number | null;
}

/** Deterministic deviation id: sha256 of enterprise, site, rule, subject and window start (first 32 hex digits). */
function deviationId(
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

function cmpReading(a: Reading, b: Reading): number {
  if (a.dataTime !== b.dataTime) return a.dataTime - b.dataTime;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

function overlaps(rec: DeviationRecord, ep: EpisodeOut): boolean {
  if (rec.windowStart === ep.start) return true;
  return ep.start < (rec.windowEnd ?? Infinity) && rec.windowStart < (ep.end ?? Infinity);
}

function emptyState(): EngineState {
  return { version: 1, watermark: null, enterprises: {}, deviations: {}, aggregates: {} };
}

export function createNaiveEngine(config: EngineConfig, registry: RegistryView): Engine {
  const idx: RegistryIndex = indexRegistry(registry, config);
  const evaluator = new Evaluator(config, idx);
  let state = emptyState();
  let eventIds = new Map<string, Set<string>>();

  const horizonStart = (): number =>
    state.watermark === null
      ? NO_TIME
      : dayStart(state.watermark - config.latenessHorizonMs, config.timezoneOffsetMinutes);

  function rebuildIndexes(): void {
    eventIds = new Map(
      Object.entries(state.enterprises).map(([id, e]) => [id, new Set(e.readings.map((r) => r.eventId))]),
    );
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
    const mine = Object.values(state.deviations).filter((d) => d.enterpriseId === enterpriseId);
    const carried = new Set(
      mine.filter((d) => d.state !== 'resolved' && d.windowStart < hs).map((d) => d.key),
    );
    const result = evaluator.evaluate({
      enterpriseId,
      readings: ent.readings,
      watermark: state.watermark ?? NO_TIME,
      horizonStart: hs,
      carried,
      seenBefore: ent.seenBefore,
      held: ent.held ?? {},
    });
    const out: Output[] = [];
    for (const a of result.aggregates) {
      const key = `${a.enterpriseId}|${a.siteId}|${a.factor}|${a.interval}|${a.start}`;
      const fp = JSON.stringify(a);
      if (state.aggregates[key] === fp) continue;
      state.aggregates[key] = fp;
      out.push(a satisfies AggregateOutput);
    }
    out.push(...reconcile(enterpriseId, mine, result.episodes, hs));
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
      for (const ep of g.eps) {
        let rec = g.recs.find((r) => !used.has(r.id) && overlaps(r, ep));
        const id = rec?.id ?? deviationId(enterpriseId, ep.siteId, ep.rule, ep.subject, ep.start);
        rec ??= state.deviations[id];
        used.add(id);
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
          state.deviations[id] = opened;
          out.push(toOutput(opened));
          if (ep.end !== undefined) {
            const resolved: DeviationRecord = { ...base, windowEnd: ep.end, state: 'resolved', revision: 2 };
            state.deviations[id] = resolved;
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
        state.deviations[id] = next;
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
        state.deviations[rec.id] = next;
        out.push(toOutput(next));
      }
    }
    return out;
  }

  function evict(): void {
    const hs = horizonStart();
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
      if (d.state === 'resolved' && (d.windowEnd ?? d.windowStart) < hs) delete state.deviations[id];
    }
    for (const [key, fp] of Object.entries(state.aggregates)) {
      const start = Number(key.slice(key.lastIndexOf('|') + 1));
      if (start < hs) delete state.aggregates[key];
      else void fp;
    }
    rebuildIndexes();
  }

  /** Whether anything time-driven can change for this enterprise between two watermarks. */
  function timeMatters(enterpriseId: string, from: number | null, to: number): boolean {
    if (from === null) return true;
    if (Math.floor(from / MINUTE_MS) !== Math.floor(to / MINUTE_MS)) return true;
    const ent = state.enterprises[enterpriseId];
    if (!ent) return false;
    const last = new Map<string, number>(Object.entries(ent.seenBefore));
    for (const r of ent.readings)
      last.set(r.deviceId, Math.max(last.get(r.deviceId) ?? NO_TIME, seenAt(r, config)));
    for (const [deviceId, t] of last) {
      const device = idx.devices.get(deviceId);
      if (!device) continue;
      const thr = offlineThresholdMs(rulesFor(config, enterpriseId, device.siteId), device);
      const held = ent.held?.[deviceId];
      const due = lastAlive(t, held) + thr;
      if (due > from && due <= to) return true;
      for (const h of held ?? []) if (h.end + thr > from && h.end + thr <= to) return true;
    }
    return false;
  }

  return {
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
      if (!ent) state.enterprises[reading.enterpriseId] = ent = { readings: [], seenBefore: {} };
      let ids = eventIds.get(reading.enterpriseId);
      if (!ids) eventIds.set(reading.enterpriseId, (ids = new Set()));
      if (ids.has(reading.eventId)) return [];
      ids.add(reading.eventId);
      const copy = structuredClone(reading);
      const device = idx.devices.get(copy.deviceId);
      if (device) {
        let last: number = ent.seenBefore[copy.deviceId] ?? NO_TIME;
        for (const r of ent.readings)
          if (r.deviceId === copy.deviceId) last = Math.max(last, seenAt(r, config));
        const rules = rulesFor(config, copy.enterpriseId, device.siteId);
        const held = (ent.held ??= {});
        const list = held[copy.deviceId] ?? [];
        noteArrival(
          list,
          lastAlive(last, list),
          state.watermark,
          offlineThresholdMs(rules, device),
          seenAt(copy, config),
          rules.offline.enabled,
        );
        if (list.length > 0) held[copy.deviceId] = list;
        if (Object.keys(held).length === 0) delete ent.held;
      }
      let lo = 0;
      let hi = ent.readings.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmpReading(ent.readings[mid]!, copy) <= 0) lo = mid + 1;
        else hi = mid;
      }
      ent.readings.splice(lo, 0, copy);
      return evaluate(reading.enterpriseId);
    },
    advance(watermarkMs) {
      if (!Number.isFinite(watermarkMs))
        throw new DomainError('invalid-watermark', `watermark must be finite, got ${watermarkMs}`);
      const from = state.watermark;
      if (from !== null && watermarkMs <= from) return [];
      const due = Object.keys(state.enterprises)
        .sort()
        .filter((id) => timeMatters(id, from, watermarkMs));
      state.watermark = watermarkMs;
      evict();
      const out: Output[] = [];
      for (const id of due) out.push(...evaluate(id));
      return out;
    },
    snapshot() {
      return structuredClone(state);
    },
    restore(s) {
      if (
        s === null ||
        typeof s !== 'object' ||
        s.version !== 1 ||
        typeof s.enterprises !== 'object' ||
        typeof s.deviations !== 'object'
      ) {
        throw new DomainError('invalid-snapshot', 'not an engine state of version 1');
      }
      state = structuredClone(s);
      rebuildIndexes();
    },
  };
}
