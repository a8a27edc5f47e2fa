// The batch evaluation of one enterprise: its whole buffer of readings into aggregates and deviation episodes
// (domain-rules §2–§3). Pure: the result depends only on the arguments. The engine evaluates incrementally
// (workspace.ts) with the same rules; this evaluation is the reference the test oracle re-runs on every change.
import type { AggregateOutput, Reading } from './model.js';
import {
  captureEpisodes,
  treatmentIdleEpisodes,
  treatmentPairs,
  treatmentTimingEpisodes,
} from './device-rules.js';
import { offlineGaps, type HeldGaps } from './offline.js';
import { offlineThresholdMs } from './registry.js';
import { runRules } from './run-rules.js';
import { newFold, RunSection } from './run-section.js';
import { offlineEpisode, RuleScope, type EpisodeOut } from './scope.js';
import { buildSeries, meterLists, seenAt, type FactorSeries } from './series.js';
import { Packer, PackedReading } from './packed.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './time.js';
import {
  facilitiesOf,
  meterStep,
  treatmentWindowFact,
  type MeterPoint,
  type MeterStep,
} from './treatment.js';
import type { WindowFact } from './episodes.js';
import { siteWindows } from './window-rules.js';

export interface EvalInput {
  enterpriseId: string;
  /** Buffered readings, ordered by (dataTime, eventId). */
  readings: readonly Reading[];
  watermark: number;
  /** Start of the evaluated range (local-day aligned); older windows are frozen. */
  horizonStart: number;
  /** Keys of deviations open since before `horizonStart`. */
  carried: ReadonlySet<string>;
  /** Device id → last time seen before `horizonStart` (readings evicted since). */
  seenBefore: Readonly<Record<string, number>>;
  /** Device id → outages closed by an arrival (offline judged by arrival, offline.ts). */
  held?: HeldGaps;
}

export interface EvalResult {
  aggregates: AggregateOutput[];
  episodes: EpisodeOut[];
}

export class Evaluator extends RuleScope {
  private readonly packer = new Packer();
  /** The row of each reading evaluated so far (a buffer is evaluated again after every change). */
  private rows = new WeakMap<Reading, PackedReading>();

  private packed(r: Reading): PackedReading {
    if (r instanceof PackedReading) return r;
    let row = this.rows.get(r);
    if (!row) this.rows.set(r, (row = this.packer.pack(r)));
    return row;
  }

  evaluate(input: EvalInput): EvalResult {
    const { cfg } = this;
    const aggregates: AggregateOutput[] = [];
    const episodes: EpisodeOut[] = [];
    const series = buildSeries(input.readings, (r) => this.packed(r));
    const hours: number[] = [];
    for (let h = input.horizonStart; h + HOUR_MS <= input.watermark; h += HOUR_MS) hours.push(h);
    const days: number[] = [];
    for (let d = input.horizonStart; d + DAY_MS <= input.watermark; d += DAY_MS) days.push(d);

    const offline = this.offline(input, episodes);
    const meters = meterLists(input.readings, cfg);

    for (const [siteId, factors] of series) {
      siteWindows(this, input, siteId, factors, hours, days, aggregates, episodes);
      this.runRules(input, siteId, factors, meters.energy, episodes);
      this.capture(input, siteId, hours, offline, episodes);
    }
    this.treatment(input, meters, episodes);
    return { aggregates, episodes };
  }

  // ---- offline --------------------------------------------------------------------------------------------

  /** Offline gaps per device (also used to inhibit other rules); pushes offline episodes. */
  private offline(input: EvalInput, episodes: EpisodeOut[]): Map<string, { start: number; end: number }[]> {
    const seen = new Map<string, { siteId: string; times: number[] }>();
    for (const [deviceId, t] of Object.entries(input.seenBefore)) {
      const d = this.idx.devices.get(deviceId);
      if (d) seen.set(deviceId, { siteId: d.siteId, times: [t] });
    }
    for (const r of input.readings) {
      let s = seen.get(r.deviceId);
      if (!s) seen.set(r.deviceId, (s = { siteId: r.siteId, times: [] }));
      s.times.push(seenAt(r, this.cfg));
    }
    const gaps = new Map<string, { start: number; end: number }[]>();
    for (const deviceId of [...seen.keys()].sort()) {
      const device = this.idx.devices.get(deviceId);
      if (!device) continue;
      const { times } = seen.get(deviceId)!;
      times.sort((a, b) => a - b);
      const rules = this.rules(input.enterpriseId, device.siteId);
      const thr = offlineThresholdMs(rules, device);
      const list = offlineGaps(times, input.held?.[deviceId], input.watermark, thr);
      gaps.set(
        deviceId,
        list.map((g) => ({ start: g.start, end: g.end ?? input.watermark })),
      );
      if (!rules.offline.enabled) continue;
      for (const g of list)
        episodes.push(offlineEpisode(this.idx, input.enterpriseId, device, rules, thr, g, input.watermark));
    }
    return gaps;
  }

  /** Low capture of the devices of one site (seen before the horizon or in the buffer). */
  private capture(
    input: EvalInput,
    siteId: string,
    hours: number[],
    offline: Map<string, { start: number; end: number }[]>,
    episodes: EpisodeOut[],
  ): void {
    const devices = new Map<string, Set<number>>();
    const first = new Map<string, number>();
    for (const [id, t] of Object.entries(input.seenBefore)) first.set(id, t);
    for (const r of input.readings) {
      if (r.siteId !== siteId) continue;
      const d = this.idx.devices.get(r.deviceId);
      if (!d) continue;
      if (!first.has(r.deviceId)) first.set(r.deviceId, r.dataTime);
      if (r.interval !== (d.cadenceInterval ?? 'realtime')) continue;
      let set = devices.get(r.deviceId);
      if (!set) devices.set(r.deviceId, (set = new Set()));
      set.add(r.dataTime);
    }
    for (const deviceId of [...first.keys()].sort()) {
      const d = this.idx.devices.get(deviceId);
      if (!d || d.siteId !== siteId) continue;
      const times = [...(devices.get(deviceId) ?? [])];
      const received = (h: number) => times.filter((t) => t >= h && t < h + HOUR_MS).length;
      captureEpisodes(
        this,
        input,
        d,
        first.get(deviceId)!,
        hours,
        offline.get(deviceId) ?? [],
        received,
        episodes,
      );
    }
  }

  /** Treatment idle and treatment timing of the enterprise's meter pairs over the closed windows. */
  private treatment(
    input: EvalInput,
    meters: { energy: Map<string, MeterPoint[]>; status: Map<string, MeterPoint[]> },
    episodes: EpisodeOut[],
  ): void {
    for (const { pm, tm } of treatmentPairs(this.idx, input.enterpriseId)) {
      const rules = this.rules(input.enterpriseId, tm.id);
      const ti = rules.treatmentIdle;
      const prodList = meters.energy.get(pm.id);
      const treatList = meters.energy.get(tm.id);
      if (ti.enabled) {
        const size = ti.windowMinutes * MINUTE_MS;
        const facilities = facilitiesOf(tm).map((f) => meters.status.get(f.key));
        const windows: WindowFact[] = [];
        for (let s = input.horizonStart; s + size <= input.watermark; s += size)
          windows.push(treatmentWindowFact(s, s + size, pm, tm, ti, prodList, treatList, facilities));
        treatmentIdleEpisodes(this, input, pm, tm, ti, windows, episodes);
      }
      const tt = rules.treatmentTiming;
      if (tt.enabled) {
        const step = tt.stepMinutes * MINUTE_MS;
        const steps: MeterStep[] = [];
        for (let s = input.horizonStart; s + step <= input.watermark; s += step)
          steps.push(meterStep(s, s + step, pm, tm, ti, prodList, treatList));
        treatmentTimingEpisodes(this, input, pm, tm, rules, steps, episodes);
      }
    }
  }

  /** The run rules of each factor of one site, folded over the factor's whole series. */
  private runRules(
    input: EvalInput,
    siteId: string,
    factors: Map<string, FactorSeries>,
    energy: Map<string, MeterPoint[]>,
    episodes: EpisodeOut[],
  ): void {
    for (const factor of [...factors.keys()].sort()) {
      const s = factors.get(factor)!;
      const interval: 'realtime' | 'minute' = s.realtime.length > 0 ? 'realtime' : 'minute';
      const pts = interval === 'realtime' ? s.realtime : s.minute;
      if (pts.length === 0) continue;
      const rules = this.rules(input.enterpriseId, siteId, factor);
      const sec = new RunSection(siteId, factor);
      sec.interval = interval;
      sec.folds = runRules({
        cfg: this.cfg,
        idx: this.idx,
        siteId,
        factor,
        interval,
        rules,
        range: this.range(siteId, factor, rules),
        isPollutant: (site, f) => this.isPollutant(site, f),
        energyOf: (id) => energy.get(id),
        idleRulesOf: (id) => this.rules(input.enterpriseId, id).treatmentIdle,
      }).map((r) => newFold(r, input.carried.has(`${siteId}|${r.rule}|${factor}`)));
      sec.fold(pts, rules, this.idx, this.cfg);
      sec.episodes(this, input.enterpriseId, episodes);
    }
  }
}
