// Over 500 lines: the Workspace class keeps one enterprise's derived state, and each change's
// invalidation crosses its sections (sites, devices, meter pairs), so they stay in one class.
// Incremental evaluation of one enterprise. The result is exactly what `Evaluator.evaluate` gives for the same
// buffer (the test-only oracle checks this on random streams), but each change recomputes only the sections it
// touches: a site's hourly/daily windows when its minute/hour data change or a window closes; one factor's runs by
// appending the point (late points refold from the nearest checkpoint); one device's offline gaps; one meter pair's
// 15-minute windows whose boundaries moved. Derived state is rebuilt from the buffer on restore and eviction.
// The rules are not here: they are judged by run-rules.ts / run-section.ts, window-rules.ts and device-rules.ts, the
// same code the Evaluator runs. This file stays over 500 lines because it is one class whose sections share the
// dirty-section bookkeeping and the indexes kept from the buffer (series, seen times, meter lists, capture hours).
import type { EngineConfig, RulesConfig } from './config.js';
import {
  captureEpisodes,
  treatmentIdleEpisodes,
  treatmentPairs,
  treatmentTimingEpisodes,
} from './device-rules.js';
import type { WindowFact } from './episodes.js';
import type { AggregateOutput, RuleName } from './model.js';
import {
  lastAlive,
  noteArrival,
  offlineGaps,
  settled,
  type HeldGap,
  type HeldGaps,
  type OfflineGap,
} from './offline.js';
import { offlineThresholdMs, type RegistryIndex } from './registry.js';
import { runRules } from './run-rules.js';
import { newFold, RunSection, type Fold } from './run-section.js';
import { offlineEpisode, type EpisodeOut, type RuleScope } from './scope.js';
import type { PackedReading } from './packed.js';
import {
  energyMeasurement,
  insertRow,
  upperRow,
  newFactorSeries,
  seenAt,
  SLOT_STAT,
  slotsOf,
  statusSamples,
  type FactorSeries,
} from './series.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, hourStart } from './time.js';
import { newWindowMemo, siteWindows, type WindowMemo } from './window-rules.js';
import {
  facilitiesOf,
  meterStep,
  productionMetersOf,
  treatmentWindowFact,
  type MeterStep,
} from './treatment.js';

/** What the offline section's output depends on besides the data: open or not, which held gaps settled. */
function offlineState(
  open: boolean,
  held: readonly HeldGap[] | undefined,
  watermark: number,
  thr: number,
): string {
  return `${open}|${(held ?? []).map((h) => (settled(h, watermark, thr) ? 1 : 0)).join('')}`;
}

function sameGaps(
  a: readonly { start: number; end: number }[],
  b: readonly { start: number; end: number }[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.start !== b[i]!.start || a[i]!.end !== b[i]!.end) return false;
  return true;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function cmpKey(t1: number, id1: string, t2: number, id2: string): number {
  if (t1 !== t2) return t1 - t2;
  return id1 < id2 ? -1 : id1 > id2 ? 1 : 0;
}

/** Adds `t` to an ascending list of distinct times (readings arrive mostly in order: usually an append). */
function addTime(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i -= 1;
  if (i > 0 && times[i - 1] === t) return;
  if (i === times.length) times.push(t);
  else times.splice(i, 0, t);
}

/** Index of the first element with t > x. */
function upper<T extends { t: number }>(list: readonly T[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.t <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- the workspace ---------------------------------------------------------------------------------------

interface SiteState {
  factors: Map<string, FactorSeries>;
  /**
   * The site's real-time rows, one per data time: the real-time series of every factor in `shared` (each real-time
   * reading of the site so far carried it as `Rtd`). A factor missing from a reading gets a list of its own.
   */
  realtime: PackedReading[];
  shared: Set<string> | undefined;
  /** Smallest (dataTime, eventId) of the site's emission readings: the site's place in buildSeries' order. */
  firstT: number;
  firstId: string;
  runs: Map<string, RunSection>;
  /** The site's window rules as last computed: hours, days, windows, episodes (window-rules.ts). */
  windows: WindowMemo;
}

interface CaptureDevice {
  first: number | undefined;
  /** Hour start → distinct dataTimes of the device's cadence-stream readings at this site, ascending (a list of
   * doubles: 8 bytes a reading, where a set of them took about 40). */
  hours: Map<number, number[]>;
}

interface TreatmentSection {
  tmId: string;
  pmId: string;
  /** Keys of the facility status series mapped to the treatment meter. */
  facilityKeys: string[];
  /** Treatment-idle window facts by index from `base` (undefined: to compute). */
  facts: (WindowFact | undefined)[];
  /** Late start / early stop steps by index from `base`. */
  steps: (MeterStep | undefined)[];
  /** Horizon start the indexes count from. */
  base: number;
  /** Time ranges in which meter boundaries may have moved since the facts were computed. */
  dirty: [number, number][];
  /** Closed windows and steps at the last evaluation. */
  closed: string;
}

export interface WorkspaceParams {
  watermark: number;
  horizonStart: number;
  carried: ReadonlySet<string>;
  seenBefore: Readonly<Record<string, number>>;
  /** Outages closed by an arrival, per device (offline.ts). */
  held: HeldGaps;
}

export interface WorkspaceResult {
  /**
   * Aggregates of the recomputed sites, in the order the Evaluator produces them, less the hourly and daily ones not
   * recomputed (given before, unchanged since: window-rules.ts `WindowMemo`).
   */
  aggregates: AggregateOutput[];
  /** Episodes of every series key that may have changed (possibly none). */
  changed: Map<string, EpisodeOut[]>;
}

export class Workspace {
  private sites = new Map<string, SiteState>();
  /** Device id → ordered times it was seen alive (readings of any site). */
  private seen = new Map<string, number[]>();
  private capture = new Map<string, Map<string, CaptureDevice>>();
  private energy = new Map<string, { t: number; v: number; id: string }[]>();
  private status = new Map<string, { t: number; v: number; id: string }[]>();
  /** Production meter id → outlets whose zero-while-running depends on it. */
  private producerOutlets = new Map<string, string[]>();
  private treatments: TreatmentSection[] = [];
  private episodes = new Map<string, EpisodeOut[]>();
  private sectionKeys = new Map<string, Set<string>>();
  private dirty = new Set<string>();
  private gaps = new Map<string, { start: number; end: number }[]>();
  /** Per device: whether its gap is open and which held gaps settled, as of the last offline evaluation. */
  private offlineOpen = new Map<string, string>();
  private lastCarried = new Set<string>();
  private lastHours = -1;
  /** End of the last closed hour at the last evaluation (+∞ before the first: everything counts as closed). */
  private closedUntil = Infinity;
  /** Per device without held gaps, the data gaps found so far over its appended times (offline fast path). */
  private offCache = new Map<
    string,
    { before: number | undefined; thr: number; n: number; last: number | undefined; closed: OfflineGap[] }
  >();
  private pendingKeys = new Set<string>();
  private rulesCache = new Map<string, RulesConfig>();

  constructor(
    private readonly cfg: EngineConfig,
    private readonly idx: RegistryIndex,
    private readonly ev: RuleScope,
    private readonly enterpriseId: string,
  ) {
    for (const { pm, tm } of treatmentPairs(idx, enterpriseId)) {
      this.treatments.push({
        tmId: tm.id,
        pmId: pm.id,
        facilityKeys: facilitiesOf(tm).map((f) => f.key),
        facts: [],
        steps: [],
        base: Number.NaN,
        dirty: [],
        closed: '',
      });
    }
    for (const o of idx.outlets.values()) {
      if (o.enterpriseId !== enterpriseId) continue;
      for (const pm of productionMetersOf(o, idx.meters.values()))
        this.producerOutlets.set(pm.id, [...(this.producerOutlets.get(pm.id) ?? []), o.id]);
    }
  }

  private rules(siteId: string, factor?: string): RulesConfig {
    const k = `${siteId}\n${factor ?? ''}`;
    let r = this.rulesCache.get(k);
    if (!r) this.rulesCache.set(k, (r = this.ev.rules(this.enterpriseId, siteId, factor)));
    return r;
  }

  /** The series of a site's factors (read-only: for the representation tests). */
  seriesOf(siteId: string): ReadonlyMap<string, FactorSeries> | undefined {
    return this.sites.get(siteId)?.factors;
  }

  /** Marks every key the engine holds records for as changed (after restore or eviction). */
  touchKeys(keys: Iterable<string>): void {
    for (const k of keys) this.pendingKeys.add(k);
  }

  add(r: PackedReading): void {
    const t = seenAt(r, this.cfg);
    let times = this.seen.get(r.deviceId);
    if (!times) this.seen.set(r.deviceId, (times = []));
    let i = times.length;
    while (i > 0 && times[i - 1]! > t) i -= 1;
    if (i === times.length) times.push(t);
    else {
      times.splice(i, 0, t);
      this.offCache.delete(r.deviceId); // not an append: the device's gaps are recomputed from the start
    }
    this.dirty.add(`off|${r.deviceId}`);
    if (r.kind === 'emission') this.addEmission(r);
    if (r.kind === 'energy') this.addEnergy(r);
    else this.addStatus(r);
    // Capture counts readings of any kind at the site.
    const device = this.idx.devices.get(r.deviceId);
    if (device) {
      let site = this.capture.get(r.siteId);
      if (!site) this.capture.set(r.siteId, (site = new Map()));
      let c = site.get(r.deviceId);
      let touched = false;
      if (!c) {
        site.set(r.deviceId, (c = { first: undefined, hours: new Map() }));
        touched = true;
      }
      if (c.first === undefined || r.dataTime < c.first) c.first = r.dataTime;
      if (r.interval === (device.cadenceInterval ?? 'realtime')) {
        const h = hourStart(r.dataTime);
        let times = c.hours.get(h);
        if (!times) c.hours.set(h, (times = []));
        addTime(times, r.dataTime);
      }
      // Capture judges closed hours only: a reading in the open hour changes nothing until that hour closes (which
      // marks every site), and an earlier first reading in the open hour leaves every closed hour before it.
      if (touched || hourStart(r.dataTime) + HOUR_MS <= this.closedUntil) this.dirty.add(`cap|${r.siteId}`);
    }
  }

  private addEmission(r: PackedReading): void {
    let site = this.sites.get(r.siteId);
    if (!site) {
      site = {
        factors: new Map(),
        realtime: [],
        shared: undefined,
        firstT: r.dataTime,
        firstId: r.eventId,
        runs: new Map(),
        windows: newWindowMemo(),
      };
      this.sites.set(r.siteId, site);
      this.dirty.add(`cap|${r.siteId}`);
    } else if (cmpKey(r.dataTime, r.eventId, site.firstT, site.firstId) < 0) {
      site.firstT = r.dataTime;
      site.firstId = r.eventId;
    }
    const lay = r.s.lay;
    for (const factor of lay.distinct) {
      if (site.factors.has(factor)) continue;
      site.factors.set(factor, newFactorSeries());
      site.windows.all = true;
      this.dirty.add(`agg|${r.siteId}`);
    }
    if (r.interval === 'realtime') {
      this.addRealtime(site, r);
      return;
    }
    for (const slot of slotsOf(r.interval)) {
      const stat = SLOT_STAT[slot];
      for (const factor of lay.distinct) {
        if (!lay.has(factor, stat)) continue;
        const s = site.factors.get(factor)!;
        if (slot === 'minute') {
          const at = insertRow(s.minute, r);
          if (at >= 0) {
            site.windows.dirty.add(hourStart(r.dataTime));
            this.dirty.add(`agg|${r.siteId}`);
            if (s.realtime.length === 0) this.runChanged(site, r.siteId, factor, at, false);
          }
        } else if (slot !== 'realtime') {
          const map = s[slot];
          const prev = map.get(r.dataTime);
          if (!prev || prev === r || prev.eventId < r.eventId) {
            map.set(r.dataTime, r);
            site.windows.dirty.add(hourStart(r.dataTime));
            this.dirty.add(`agg|${r.siteId}`);
          }
        }
      }
    }
  }

  /** A real-time row: into the site's shared list once, and into the own list of each factor not shared. */
  private addRealtime(site: SiteState, r: PackedReading): void {
    const lay = r.s.lay;
    const stat = SLOT_STAT.realtime;
    if (site.shared === undefined) {
      site.shared = new Set();
      for (const factor of lay.distinct) {
        if (!lay.has(factor, stat)) continue;
        site.shared.add(factor);
        site.factors.get(factor)!.realtime = site.realtime;
      }
    } else {
      // A shared factor this reading lacks leaves the shared list with the rows so far (all carry it).
      for (const factor of site.shared) {
        if (lay.has(factor, stat)) continue;
        site.shared.delete(factor);
        site.factors.get(factor)!.realtime = site.realtime.slice();
      }
    }
    const wasEmpty = site.realtime.length === 0;
    const at = insertRow(site.realtime, r);
    for (const factor of lay.distinct) {
      if (!lay.has(factor, stat)) continue;
      if (site.shared.has(factor)) {
        if (at >= 0) this.runChanged(site, r.siteId, factor, wasEmpty ? 0 : at, wasEmpty);
        continue;
      }
      const own = site.factors.get(factor)!.realtime;
      const ownEmpty = own.length === 0;
      const i = insertRow(own, r);
      if (i >= 0) this.runChanged(site, r.siteId, factor, ownEmpty ? 0 : i, ownEmpty);
    }
  }

  /** A point of the run series changed at index `at`: append, refold from a checkpoint, or rebuild. */
  private runChanged(site: SiteState, siteId: string, factor: string, at: number, rebuild: boolean): void {
    let sec = site.runs.get(factor);
    if (!sec) site.runs.set(factor, (sec = new RunSection(siteId, factor)));
    this.dirty.add(`run|${siteId}|${factor}`);
    sec.changedAt(at, rebuild);
  }

  private addEnergy(r: PackedReading): void {
    const m = energyMeasurement(r, this.cfg);
    if (!m) return;
    let list = this.energy.get(r.siteId);
    if (!list) this.energy.set(r.siteId, (list = []));
    const i = upper(list, r.dataTime);
    const prev = list[i - 1];
    let lo: number;
    let hi: number;
    if (prev && prev.t === r.dataTime) {
      if (prev.id > r.eventId) return;
      prev.v = m.value;
      prev.id = r.eventId;
      lo = list[i - 2]?.t ?? -Infinity;
      hi = list[i]?.t ?? Infinity;
    } else {
      list.splice(i, 0, { t: r.dataTime, v: m.value, id: r.eventId });
      lo = list[i - 1]?.t ?? -Infinity;
      hi = list[i + 1]?.t ?? Infinity;
    }
    for (const ts of this.treatments) {
      if (ts.tmId !== r.siteId && ts.pmId !== r.siteId) continue;
      ts.dirty.push([lo, hi]);
      this.dirty.add(`ti|${ts.tmId}`);
    }
    // Zero while production runs: the condition of points in [lo, hi) may have changed.
    for (const outletId of this.producerOutlets.get(r.siteId) ?? []) {
      const site = this.sites.get(outletId);
      if (!site) continue;
      for (const [factor, sec] of site.runs) {
        const s = site.factors.get(factor);
        if (!s || sec.n <= 0) continue;
        const rows = sec.pts(s);
        const col = sec.col();
        let i = upperRow(rows, lo - 1);
        const from = i;
        let zero = false;
        for (; i < rows.length && rows[i]!.dataTime < hi; i++) {
          const row = rows[i]!;
          if (row.val(col.of(row)) === 0) zero = true;
        }
        if (zero) this.runChanged(site, outletId, factor, from, false);
      }
    }
  }

  private addStatus(r: PackedReading): void {
    for (const { key, m } of statusSamples(r, this.cfg)) {
      const mine = this.treatments.filter((ts) => ts.facilityKeys.includes(key));
      if (mine.length === 0) continue;
      let list = this.status.get(key);
      if (!list) this.status.set(key, (list = []));
      const i = upper(list, r.dataTime);
      const prev = list[i - 1];
      if (prev && prev.t === r.dataTime) {
        if (prev.id > r.eventId) continue;
        prev.v = m.value;
        prev.id = r.eventId;
      } else list.splice(i, 0, { t: r.dataTime, v: m.value, id: r.eventId });
      for (const ts of mine) {
        const size = this.rules(ts.tmId).treatmentIdle.windowMinutes * MINUTE_MS;
        ts.dirty.push([r.dataTime - size, r.dataTime]);
        this.dirty.add(`ti|${ts.tmId}`);
      }
    }
  }

  // ---- evaluation ------------------------------------------------------------------------------------------

  evaluate(p: WorkspaceParams): WorkspaceResult {
    const hoursN = Math.max(0, Math.floor((p.watermark - p.horizonStart) / HOUR_MS));
    if (hoursN !== this.lastHours) {
      for (const id of this.sites.keys()) this.dirty.add(`agg|${id}`).add(`cap|${id}`);
      this.lastHours = hoursN;
    }
    this.closedUntil = p.horizonStart + hoursN * HOUR_MS;
    for (const ts of this.treatments) {
      const rules = this.rules(ts.tmId);
      const size = rules.treatmentIdle.windowMinutes * MINUTE_MS;
      const step = rules.treatmentTiming.stepMinutes * MINUTE_MS;
      const span = p.watermark - p.horizonStart;
      const closed = `${Math.max(0, Math.floor(span / size))}|${Math.max(0, Math.floor(span / step))}`;
      if (closed !== ts.closed) this.dirty.add(`ti|${ts.tmId}`);
      ts.closed = closed;
    }
    // Keys whose carried-over state changed are re-evaluated from scratch.
    for (const k of p.carried) if (!this.lastCarried.has(k)) this.carryChanged(k);
    for (const k of this.lastCarried) if (!p.carried.has(k)) this.carryChanged(k);
    this.lastCarried = new Set(p.carried);
    // Offline: a device whose open gap started or ended with the watermark.
    for (const deviceId of new Set([
      ...this.seen.keys(),
      ...Object.keys(p.seenBefore),
      ...Object.keys(p.held),
    ])) {
      const device = this.idx.devices.get(deviceId);
      if (!device) continue;
      const thr = offlineThresholdMs(this.rules(device.siteId), device);
      const open = p.watermark - this.lastSeen(deviceId, p.seenBefore, p.held) >= thr;
      if (offlineState(open, p.held[deviceId], p.watermark, thr) !== this.offlineOpen.get(deviceId))
        this.dirty.add(`off|${deviceId}`);
    }

    const hours: number[] = [];
    for (let h = p.horizonStart; h + HOUR_MS <= p.watermark; h += HOUR_MS) hours.push(h);
    const days: number[] = [];
    for (let d = p.horizonStart; d + DAY_MS <= p.watermark; d += DAY_MS) days.push(d);

    const dirty = [...this.dirty].sort();
    this.dirty.clear();
    const changed = new Map<string, EpisodeOut[]>();
    const input = { enterpriseId: this.enterpriseId, carried: p.carried };
    const setSection = (id: string, eps: EpisodeOut[]) => {
      const byKey = new Map<string, EpisodeOut[]>();
      for (const e of eps) {
        const l = byKey.get(e.key);
        if (l) l.push(e);
        else byKey.set(e.key, [e]);
      }
      for (const k of this.sectionKeys.get(id) ?? []) {
        if (!byKey.has(k)) {
          this.episodes.delete(k);
          changed.set(k, []);
        }
      }
      for (const [k, l] of byKey) {
        // The same episode objects as last time (run sections reuse them): nothing to reconcile for this key.
        const prev = this.episodes.get(k);
        if (prev !== undefined && sameList(prev, l)) continue;
        this.episodes.set(k, l);
        changed.set(k, l);
      }
      this.sectionKeys.set(id, new Set(byKey.keys()));
    };
    // Offline first: capture needs the gaps.
    for (const id of dirty) {
      if (!id.startsWith('off|')) continue;
      const deviceId = id.slice(4);
      const eps: EpisodeOut[] = [];
      const before = this.gaps.get(deviceId) ?? [];
      this.offline(deviceId, p, eps);
      if (!sameGaps(this.gaps.get(deviceId) ?? [], before)) {
        const d = this.idx.devices.get(deviceId);
        if (d) dirty.push(`cap|${d.siteId}`);
      }
      setSection(id, eps);
    }
    const aggregates: { rank: [number, string]; list: AggregateOutput[] }[] = [];
    const done = new Set<string>();
    for (const id of dirty) {
      if (done.has(id) || id.startsWith('off|')) continue;
      done.add(id);
      const eps: EpisodeOut[] = [];
      if (id.startsWith('agg|')) {
        const siteId = id.slice(4);
        const site = this.sites.get(siteId);
        if (!site) continue;
        const list: AggregateOutput[] = [];
        siteWindows(this.ev, input, siteId, site.factors, hours, days, list, eps, site.windows);
        aggregates.push({ rank: [site.firstT, site.firstId], list });
      } else if (id.startsWith('run|')) {
        const rest = id.slice(4);
        const bar = rest.indexOf('|');
        const siteId = rest.slice(0, bar);
        const factor = rest.slice(bar + 1);
        const site = this.sites.get(siteId);
        const sec = site?.runs.get(factor);
        const s = site?.factors.get(factor);
        if (!site || !sec || !s) continue;
        this.runSection(sec, s, p, eps);
      } else if (id.startsWith('cap|')) {
        const siteId = id.slice(4);
        if (!this.sites.has(siteId)) continue; // the Evaluator judges capture only at sites with emission data
        this.captureSection(siteId, hours, p, eps);
      } else if (id.startsWith('ti|')) {
        const ts = this.treatments.find((x) => x.tmId === id.slice(3));
        if (!ts) continue;
        this.treatmentSection(ts, p, eps);
      }
      setSection(id, eps);
    }
    for (const k of this.pendingKeys) if (!changed.has(k)) changed.set(k, this.episodes.get(k) ?? []);
    this.pendingKeys.clear();
    aggregates.sort((a, b) => cmpKey(a.rank[0], a.rank[1], b.rank[0], b.rank[1]));
    return { aggregates: aggregates.flatMap((a) => a.list), changed };
  }

  /** Latest instant the device is known alive (data time, evicted data, end of an outage closed by arrival). */
  lastSeen(deviceId: string, seenBefore: Readonly<Record<string, number>>, held: HeldGaps): number {
    const times = this.seen.get(deviceId);
    return lastAlive(
      Math.max(times?.[times.length - 1] ?? -Infinity, seenBefore[deviceId] ?? -Infinity),
      held[deviceId],
    );
  }

  /** Whether a device goes offline, or a held gap settles, in (from, to] (the engine's time-driven re-evaluation). */
  offlineDue(
    from: number,
    to: number,
    seenBefore: Readonly<Record<string, number>>,
    held: HeldGaps,
  ): boolean {
    for (const deviceId of new Set([...this.seen.keys(), ...Object.keys(seenBefore), ...Object.keys(held)])) {
      const device = this.idx.devices.get(deviceId);
      if (!device) continue;
      const thr = offlineThresholdMs(this.rules(device.siteId), device);
      const due = this.lastSeen(deviceId, seenBefore, held) + thr;
      if (due > from && due <= to) return true;
      for (const h of held[deviceId] ?? []) if (h.end + thr > from && h.end + thr <= to) return true;
    }
    return false;
  }

  /** Records the arrival of `r` before it is added (offline.ts); the caller owns `held` (engine state). */
  noteArrival(
    r: PackedReading,
    watermark: number | null,
    seenBefore: Readonly<Record<string, number>>,
    held: Record<string, HeldGap[]>,
  ): void {
    const device = this.idx.devices.get(r.deviceId);
    if (!device) return;
    const rules = this.rules(device.siteId);
    const list = held[r.deviceId] ?? [];
    const changed = noteArrival(
      list,
      this.lastSeen(r.deviceId, seenBefore, held),
      watermark,
      offlineThresholdMs(rules, device),
      seenAt(r, this.cfg),
      rules.offline.enabled,
    );
    if (list.length > 0) held[r.deviceId] = list;
    if (changed) this.dirty.add(`off|${r.deviceId}`);
  }

  private carryChanged(key: string): void {
    const [siteId, rule, subject] = key.split('|') as [string, RuleName, string];
    this.pendingKeys.add(key);
    switch (rule) {
      case 'exceedance':
      case 'clustered-below-limit':
      case 'inconsistent-aggregate':
        this.dirty.add(`agg|${siteId}`);
        return;
      case 'offline':
        this.dirty.add(`off|${subject}`);
        return;
      case 'low-capture':
        this.dirty.add(`cap|${siteId}`);
        return;
      case 'treatment-idle':
        this.dirty.add(`ti|${siteId}`);
        for (const ts of this.treatments) if (ts.tmId === siteId) ts.facts = [];
        return;
      case 'treatment-late-start':
      case 'treatment-early-stop':
        this.dirty.add(`ti|${siteId}`);
        return;
      default: {
        const sec = this.sites.get(siteId)?.runs.get(subject);
        if (sec) sec.n = -1;
        this.dirty.add(`run|${siteId}|${subject}`);
      }
    }
  }

  // ---- offline ---------------------------------------------------------------------------------------------

  private offline(deviceId: string, p: WorkspaceParams, episodes: EpisodeOut[]): void {
    const device = this.idx.devices.get(deviceId);
    if (!device) return;
    const own = this.seen.get(deviceId) ?? [];
    const before = p.seenBefore[deviceId];
    const rules = this.rules(device.siteId);
    const thr = offlineThresholdMs(rules, device);
    const held = p.held[deviceId];
    let list: OfflineGap[];
    if (
      (held === undefined || held.length === 0) &&
      (before === undefined || own.length === 0 || before <= own[0]!)
    )
      list = this.appendedGaps(deviceId, own, before, p.watermark, thr);
    else {
      this.offCache.delete(deviceId);
      // The Evaluator sorts seenBefore together with the buffered times.
      const times = before === undefined ? own : [...own, before].sort((a, b) => a - b);
      list = offlineGaps(times, held, p.watermark, thr);
    }
    const open = list.length > 0 && list[list.length - 1]!.end === undefined;
    this.offlineOpen.set(deviceId, offlineState(open, p.held[deviceId], p.watermark, thr));
    this.gaps.set(
      deviceId,
      list.map((g) => ({ start: g.start, end: g.end ?? Infinity })),
    );
    if (!rules.offline.enabled) return;
    for (const g of list)
      episodes.push(offlineEpisode(this.idx, this.enterpriseId, device, rules, thr, g, p.watermark));
  }

  /**
   * offlineGaps for a device without held gaps whose times (seenBefore first) only grew at the end since the last
   * call: the closed gaps found so far are kept and only the new times are scanned (was: every time per reading).
   */
  private appendedGaps(
    deviceId: string,
    own: readonly number[],
    before: number | undefined,
    watermark: number,
    thr: number,
  ): OfflineGap[] {
    let c = this.offCache.get(deviceId);
    if (!c || c.before !== before || c.thr !== thr || c.n > own.length) {
      c = { before, thr, n: 0, last: before, closed: [] };
      this.offCache.set(deviceId, c);
    }
    let last = c.last;
    for (let i = c.n; i < own.length; i++) {
      const t = own[i]!;
      if (last !== undefined && t - last >= thr) c.closed.push({ start: last, end: t });
      last = t;
    }
    c.n = own.length;
    c.last = last;
    const out = c.closed.slice();
    if (last !== undefined && watermark - last >= thr) out.push({ start: last });
    return out;
  }

  // ---- low capture -----------------------------------------------------------------------------------------

  private captureSection(
    siteId: string,
    hours: readonly number[],
    p: WorkspaceParams,
    episodes: EpisodeOut[],
  ): void {
    const here = this.capture.get(siteId) ?? new Map<string, CaptureDevice>();
    const ids = new Set<string>([...Object.keys(p.seenBefore), ...here.keys()]);
    for (const deviceId of [...ids].sort()) {
      const d = this.idx.devices.get(deviceId);
      if (!d || d.siteId !== siteId) continue;
      const c = here.get(deviceId);
      const first = p.seenBefore[deviceId] ?? c?.first;
      if (first === undefined) continue;
      const input = { enterpriseId: this.enterpriseId, carried: p.carried };
      const received = (h: number) => c?.hours.get(h)?.length ?? 0;
      captureEpisodes(this.ev, input, d, first, hours, this.gaps.get(deviceId) ?? [], received, episodes);
    }
  }

  // ---- treatment idle --------------------------------------------------------------------------------------

  private treatmentSection(ts: TreatmentSection, p: WorkspaceParams, episodes: EpisodeOut[]): void {
    const pm = this.idx.meters.get(ts.pmId)!;
    const tm = this.idx.meters.get(ts.tmId)!;
    const rules = this.rules(tm.id);
    const ti = rules.treatmentIdle;
    const tt = rules.treatmentTiming;
    const prodList = this.energy.get(pm.id);
    const treatList = this.energy.get(tm.id);
    const input = { enterpriseId: this.enterpriseId, carried: p.carried };
    if (ts.base !== p.horizonStart) {
      ts.facts = [];
      ts.steps = [];
      ts.base = p.horizonStart;
    }
    // Windows of `size` from the horizon start: n closed; forget those with a boundary in a dirty range.
    const refresh = <T>(list: (T | undefined)[], size: number, compute: (s: number, e: number) => T): T[] => {
      const n = Math.max(0, Math.floor((p.watermark - p.horizonStart) / size));
      list.length = Math.min(list.length, n);
      for (const [lo, hi] of ts.dirty) {
        const from = Math.max(0, Math.ceil((lo - p.horizonStart) / size) - 1);
        const to = Math.min(list.length - 1, Math.floor((hi - p.horizonStart) / size));
        for (let i = from; i <= to; i++) list[i] = undefined;
      }
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) {
        let w = list[i];
        if (w === undefined) {
          const s = p.horizonStart + i * size;
          list[i] = w = compute(s, s + size);
        }
        out[i] = w;
      }
      return out;
    };
    if (ti.enabled) {
      const facilities = ts.facilityKeys.map((k) => this.status.get(k));
      const windows = refresh(ts.facts, ti.windowMinutes * MINUTE_MS, (s, e) =>
        treatmentWindowFact(s, e, pm, tm, ti, prodList, treatList, facilities),
      );
      treatmentIdleEpisodes(this.ev, input, pm, tm, ti, windows, episodes);
    }
    if (tt.enabled) {
      const steps = refresh(ts.steps, tt.stepMinutes * MINUTE_MS, (s, e) =>
        meterStep(s, e, pm, tm, ti, prodList, treatList),
      );
      treatmentTimingEpisodes(this.ev, input, pm, tm, rules, steps, episodes);
    }
    ts.dirty = [];
  }

  // ---- run rules -------------------------------------------------------------------------------------------

  private buildFolds(sec: RunSection, carried: ReadonlySet<string>): Fold[] {
    const { siteId, factor } = sec;
    const rules = this.rules(siteId, factor);
    return runRules({
      cfg: this.cfg,
      idx: this.idx,
      siteId,
      factor,
      interval: sec.interval,
      rules,
      range: this.ev.range(siteId, factor, rules),
      isPollutant: (site, f) => this.ev.isPollutant(site, f),
      energyOf: (id) => this.energy.get(id),
      idleRulesOf: (id) => this.rules(id).treatmentIdle,
    }).map((r) => newFold(r, carried.has(`${siteId}|${r.rule}|${factor}`)));
  }

  private runSection(sec: RunSection, s: FactorSeries, p: WorkspaceParams, episodes: EpisodeOut[]): void {
    const interval = s.realtime.length > 0 ? 'realtime' : 'minute';
    if (sec.n < 0 || interval !== sec.interval) {
      sec.interval = interval;
      sec.folds = this.buildFolds(sec, p.carried);
      sec.n = 0;
      sec.checkpoints = [];
    }
    const pts = sec.pts(s);
    if (pts.length === 0) return;
    const rules = this.rules(sec.siteId, sec.factor);
    sec.fold(pts, rules, this.idx, this.cfg);
    sec.episodes(this.ev, this.enterpriseId, episodes);
  }
}
