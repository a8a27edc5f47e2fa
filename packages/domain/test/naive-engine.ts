// The engine's test oracle (engine-oracle.test.ts): the engine's outputs recomputed the slow, obvious way.
//
// How independent it is, and why: it checks what the engine does *because it is incremental* and must not share any of
// that. The engine re-evaluates only the sections a change touches (workspace.ts), skips an episode it already applied,
// memoises aggregates, evicts only touched records while the horizon stays, scans records in a window, finds its place
// in the buffer by bisection and decides which enterprises an advance concerns from the workspace; this oracle imports
// none of src/engine.ts or src/workspace.ts and does each of those from scratch: the whole buffer re-evaluated by the
// batch Evaluator (rules.ts) on every change, a plain search over all of the enterprise's records, a full eviction on
// every advance, a re-sort of the buffer, each device's last sighting recounted from the buffer.
// What it shares with the engine are definitions, which an oracle could only copy (a copy proves no more than an
// import): the rule table and the rule functions the batch Evaluator and the workspace both call (one rule table, read
// by both), and the revision rules of a deviation series, its id, its output, the buffer's eviction and the rejection
// of readings (deviation-records.ts). Those are pinned by hand-computed expectations in src/*.test.ts (engine.test.ts,
// treatment.test.ts, rated.test.ts, …), not by this oracle.
import type { EngineConfig } from '../src/config.js';
import { rulesFor } from '../src/config.js';
import {
  cmpReading,
  deviationOutput,
  evictable,
  evictBuffer,
  horizonStartOf,
  mayStandFor,
  seriesIdFor,
  NO_TIME,
  overlaps,
  rejectReading,
  retract,
  revise,
  type DeviationRecord,
  type EnterpriseState,
} from '../src/deviation-records.js';
import { DomainError } from '../src/errors.js';
import type { Output, Reading, RegistryView } from '../src/model.js';
import { lastAlive, noteArrival } from '../src/offline.js';
import { indexRegistry, offlineThresholdMs } from '../src/registry.js';
import { Evaluator } from '../src/rules.js';
import type { EpisodeOut } from '../src/scope.js';
import { seenAt } from '../src/series.js';
import { MINUTE_MS } from '../src/time.js';

export interface NaiveEngine {
  ingest(reading: Reading): Output[];
  advance(watermarkMs: number): Output[];
}

export function createNaiveEngine(config: EngineConfig, registry: RegistryView): NaiveEngine {
  const idx = indexRegistry(registry, config);
  const evaluator = new Evaluator(config, idx);
  let watermark: number | null = null;
  const enterprises = new Map<string, EnterpriseState>();
  const records = new Map<string, DeviationRecord>();
  /** Aggregate key → JSON of the value last emitted. */
  const emitted = new Map<string, string>();
  const horizon = () => horizonStartOf(watermark, config);

  /** The device's last sighting: the buffer and what was evicted before it. */
  function lastSeen(ent: EnterpriseState, deviceId: string): number {
    let last = ent.seenBefore[deviceId] ?? NO_TIME;
    for (const r of ent.readings) if (r.deviceId === deviceId) last = Math.max(last, seenAt(r, config));
    return last;
  }

  function evaluate(enterpriseId: string): Output[] {
    const ent = enterprises.get(enterpriseId);
    if (!ent) return [];
    const hs = horizon();
    const mine = [...records.values()].filter((d) => d.enterpriseId === enterpriseId);
    const result = evaluator.evaluate({
      enterpriseId,
      readings: ent.readings,
      watermark: watermark ?? NO_TIME,
      horizonStart: hs,
      carried: new Set(mine.filter((d) => d.state !== 'resolved' && d.windowStart < hs).map((d) => d.key)),
      seenBefore: ent.seenBefore,
      held: ent.held ?? {},
    });
    const out: Output[] = [];
    for (const a of result.aggregates) {
      const key = `${a.enterpriseId}|${a.siteId}|${a.factor}|${a.interval}|${a.start}`;
      if (emitted.get(key) === JSON.stringify(a)) continue;
      emitted.set(key, JSON.stringify(a));
      out.push(a);
    }
    const keys = new Set<string>([...result.episodes.map((e) => e.key), ...mine.map((d) => d.key)]);
    for (const key of [...keys].sort()) {
      const live = mine
        .filter((d) => d.key === key && (d.windowStart >= hs || d.state !== 'resolved'))
        .sort((a, b) => a.windowStart - b.windowStart);
      const episodes = result.episodes.filter((e) => e.key === key).sort((a, b) => a.start - b.start);
      out.push(...series(enterpriseId, key, live, episodes, hs));
    }
    return out;
  }

  /**
   * One series: each episode matched to the first unused record that may stand for it, an open one before a resolved one
   * (a resolved one only for an ended episode), else the series its id names or a new one (its id's next generation when this pass holds it, or a
   * resolved series does and the episode is open), the rest retracted.
   */
  function series(
    enterpriseId: string,
    key: string,
    live: DeviationRecord[],
    episodes: EpisodeOut[],
    hs: number,
  ): Output[] {
    const out: Output[] = [];
    const used = new Set<string>();
    for (const ep of episodes) {
      const overlapping = live.filter((r) => !used.has(r.id) && overlaps(r, ep));
      const resolved = overlapping.find((r) => r.state === 'resolved');
      const match =
        overlapping.find((r) => r.state !== 'resolved') ??
        (resolved && mayStandFor(resolved, ep) ? resolved : undefined);
      const byId = match ? undefined : seriesIdFor(enterpriseId, ep, used, (id) => records.get(id), resolved);
      const id = match?.id ?? byId!.id;
      used.add(id);
      for (const next of revise(enterpriseId, key, id, match ?? byId!.rec, ep, hs, byId?.follows)) {
        records.set(id, next);
        out.push(deviationOutput(next));
      }
    }
    for (const rec of live.filter((r) => !used.has(r.id) && !r.retracted)) {
      const next = retract(rec);
      records.set(rec.id, next);
      out.push(deviationOutput(next));
    }
    return out;
  }

  function evictAll(): void {
    const hs = horizon();
    for (const ent of enterprises.values()) evictBuffer(ent, hs, config);
    for (const [id, d] of records) if (evictable(d, hs)) records.delete(id);
    for (const key of emitted.keys())
      if (Number(key.slice(key.lastIndexOf('|') + 1)) < hs) emitted.delete(key);
  }

  /** Whether anything time-driven can change for this enterprise between two watermarks. */
  function timeMatters(enterpriseId: string, from: number | null, to: number): boolean {
    if (from === null || Math.floor(from / MINUTE_MS) !== Math.floor(to / MINUTE_MS)) return true;
    const ent = enterprises.get(enterpriseId)!;
    const devices = new Set([...Object.keys(ent.seenBefore), ...ent.readings.map((r) => r.deviceId)]);
    for (const deviceId of devices) {
      const device = idx.devices.get(deviceId);
      if (!device) continue;
      const thr = offlineThresholdMs(rulesFor(config, enterpriseId, device.siteId), device);
      const held = ent.held?.[deviceId];
      const dues = [lastAlive(lastSeen(ent, deviceId), held) + thr, ...(held ?? []).map((h) => h.end + thr)];
      if (dues.some((due) => due > from && due <= to)) return true;
    }
    return false;
  }

  return {
    ingest(reading) {
      const rejected = rejectReading(reading, horizon());
      if (rejected) return [rejected];
      let ent = enterprises.get(reading.enterpriseId);
      if (!ent) enterprises.set(reading.enterpriseId, (ent = { readings: [], seenBefore: {} }));
      if (ent.readings.some((r) => r.eventId === reading.eventId)) return [];
      const copy = structuredClone(reading);
      const device = idx.devices.get(copy.deviceId);
      if (device) {
        const rules = rulesFor(config, copy.enterpriseId, device.siteId);
        const held = (ent.held ??= {});
        const list = held[copy.deviceId] ?? [];
        const alive = lastAlive(lastSeen(ent, copy.deviceId), list);
        const thr = offlineThresholdMs(rules, device);
        noteArrival(list, alive, watermark, thr, seenAt(copy, config), rules.offline.enabled);
        if (list.length > 0) held[copy.deviceId] = list;
        if (Object.keys(held).length === 0) delete ent.held;
      }
      ent.readings.push(copy);
      ent.readings.sort(cmpReading);
      return evaluate(reading.enterpriseId);
    },
    advance(watermarkMs) {
      if (!Number.isFinite(watermarkMs))
        throw new DomainError('invalid-watermark', `watermark must be finite, got ${watermarkMs}`);
      const from = watermark;
      if (from !== null && watermarkMs <= from) return [];
      const due = [...enterprises.keys()].sort().filter((id) => timeMatters(id, from, watermarkMs));
      watermark = watermarkMs;
      evictAll();
      return due.flatMap((id) => evaluate(id));
    },
  };
}
