// Evaluation of one enterprise's buffered readings into aggregates and deviation episodes (domain-rules §2–§3).
// Pure: the result depends only on the arguments.
import {
  convertConcentration,
  dailyMean,
  failsRecalculation,
  gasHourlyMean,
  isValidValue,
  relativeDifference,
  waterHourlyMean,
  type MeanResult,
  type RangeCheck,
  type SeriesPoint,
} from './aggregate.js';
import { rulesFor, type EngineConfig, type RulesConfig } from './config.js';
import {
  evaluateRuns,
  evaluateWindows,
  type RunEpisode,
  type RunPoint,
  type Tri,
  type WindowFact,
} from './episodes.js';
import type { AggregateOutput, DeviceView, MeterView, Reading, RuleName, Severity } from './model.js';
import { heldEvidence, offlineGaps, type HeldGaps, type OfflineGap } from './offline.js';
import { inResumptionWindow, offlineThresholdMs, type RegistryIndex } from './registry.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, ge, gt, hourStart, lt } from './time.js';
import {
  facilitiesOf,
  facilityCodeOf,
  facilityKey,
  meterStep,
  productionMetersOf,
  productionRunsAt,
  timingWindows,
  treatmentWindowFact,
  type MeterPoint,
  type MeterStep,
} from './treatment.js';

export interface EpisodeOut {
  /** `siteId|rule|subject`: the deviation series this episode belongs to. */
  key: string;
  rule: RuleName;
  siteId: string;
  subject: string;
  factor?: string;
  start: number;
  end?: number;
  severity: Severity;
  suspected: boolean;
  inResumptionWindow: boolean;
  evidence: Record<string, unknown>;
}

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

/** The offline episode of one gap (shared by the Evaluator and the workspace). */
export function offlineEpisode(
  idx: RegistryIndex,
  enterpriseId: string,
  device: DeviceView,
  rules: RulesConfig,
  thr: number,
  g: OfflineGap,
  watermark: number,
): EpisodeOut {
  return {
    key: `${device.siteId}|offline|${device.id}`,
    rule: 'offline',
    siteId: device.siteId,
    subject: device.id,
    start: g.start,
    ...(g.end !== undefined ? { end: g.end } : {}),
    severity: rules.offline.severity,
    suspected: false,
    inResumptionWindow: inResumptionWindow(idx, enterpriseId, g.start),
    evidence: {
      deviceId: device.id,
      lastSeenAt: g.start,
      ...(g.end !== undefined ? { resumedAt: g.end } : {}),
      thresholdMs: thr,
      cadenceSeconds: device.cadenceSeconds,
      ...(g.held ? heldEvidence(g.held, watermark, thr) : {}),
    },
  };
}

export interface EvalResult {
  aggregates: AggregateOutput[];
  episodes: EpisodeOut[];
}

const SUSPECTED: ReadonlySet<RuleName> = new Set([
  'flatline',
  'manual-flag',
  'clustered-below-limit',
  'o2-near-ambient',
]);

export interface Pt extends SeriesPoint {
  reading: Reading;
}

export interface FactorSeries {
  realtime: Pt[];
  minute: Pt[];
  hourAvg: Map<number, Pt>;
  hourZs: Map<number, Pt>;
}

export function mainStat(interval: Reading['interval']): string {
  return interval === 'realtime' ? 'Rtd' : 'Avg';
}

function periodMs(r: Reading, cfg: EngineConfig): number {
  switch (r.interval) {
    case 'minute':
      return (r.periodSeconds ?? cfg.gas.defaultMinutePeriodSeconds) * 1000;
    case 'hour':
      return HOUR_MS;
    case 'day':
      return DAY_MS;
    default:
      return 0;
  }
}

/** Last time a reading shows the device alive: acquisition instant, or end of the interval for aggregates. */
export function seenAt(r: Reading, cfg: EngineConfig): number {
  return r.dataTime + periodMs(r, cfg);
}

function pushDedup(list: Pt[], p: Pt): void {
  // Readings are ordered by (dataTime, eventId): a second value for the same time replaces the first.
  const last = list[list.length - 1];
  if (last && last.t === p.t) list[list.length - 1] = p;
  else list.push(p);
}

function buildSeries(
  readings: readonly Reading[],
  cfg: EngineConfig,
): Map<string, Map<string, FactorSeries>> {
  const bySite = new Map<string, Map<string, FactorSeries>>();
  for (const r of readings) {
    if (r.kind !== 'emission') continue;
    let site = bySite.get(r.siteId);
    if (!site) bySite.set(r.siteId, (site = new Map()));
    for (const m of r.measurements) {
      let s = site.get(m.factor);
      if (!s) site.set(m.factor, (s = { realtime: [], minute: [], hourAvg: new Map(), hourZs: new Map() }));
      const p: Pt = {
        t: r.dataTime,
        value: m.value,
        flag: m.flag ?? 'N',
        periodSeconds: r.periodSeconds ?? cfg.gas.defaultMinutePeriodSeconds,
        reading: r,
      };
      if (r.interval === 'realtime' && m.stat === 'Rtd') pushDedup(s.realtime, p);
      else if (r.interval === 'minute' && m.stat === 'Avg') pushDedup(s.minute, p);
      else if (r.interval === 'hour' && m.stat === 'Avg')
        s.hourAvg.set(r.dataTime, { ...p, periodSeconds: 3600 });
      else if (r.interval === 'hour' && m.stat === 'ZsAvg')
        s.hourZs.set(r.dataTime, { ...p, periodSeconds: 3600 });
    }
  }
  return bySite;
}

/** `v` rounded to `digits` significant digits (removes float noise such as 12.299999999999999 from means). */
export function roundSignificant(v: number, digits: number): number {
  if (!Number.isFinite(v) || v === 0) return v === 0 ? 0 : v;
  return Number(v.toPrecision(digits));
}

function roundOrNull(v: number | null, digits: number): number | null {
  return v === null ? null : roundSignificant(v, digits);
}

/** Energy readings per meter (site) and facility status samples per `site|code`, in buffer order. */
export function meterLists(
  readings: readonly Reading[],
  cfg: EngineConfig,
): { energy: Map<string, MeterPoint[]>; status: Map<string, MeterPoint[]> } {
  const energy = new Map<string, MeterPoint[]>();
  const status = new Map<string, MeterPoint[]>();
  const put = (m: Map<string, MeterPoint[]>, k: string, t: number, v: number) => {
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    const last = list[list.length - 1];
    if (last && last.t === t) last.v = v;
    else list.push({ t, v });
  };
  for (const r of readings) {
    if (r.kind === 'energy') {
      const m = r.measurements.find(
        (x) => x.factor === 'energy_kwh' && cfg.validFlags.includes(x.flag ?? 'N'),
      );
      if (m) put(energy, r.siteId, r.dataTime, m.value);
    } else {
      for (const m of r.measurements) {
        const code = facilityCodeOf(m);
        if (code === undefined || !cfg.validFlags.includes(m.flag ?? 'N')) continue;
        put(status, facilityKey(r.siteId, code), r.dataTime, m.value);
      }
    }
  }
  return { energy, status };
}

interface HourAgg extends MeanResult {
  convertedValue: number | null;
  anomaly?: string;
  source: 'minute' | 'hour';
}

export class Evaluator {
  constructor(
    private readonly cfg: EngineConfig,
    private readonly idx: RegistryIndex,
  ) {}

  rules(enterpriseId: string, siteId: string, factor?: string): RulesConfig {
    return rulesFor(this.cfg, enterpriseId, siteId, factor);
  }

  range(siteId: string, factor: string, rules: RulesConfig): RangeCheck {
    const r = this.idx.ranges.get(siteId)?.get(factor);
    return { min: r?.min, max: r?.max, nonNegative: !rules.outOfRange.mayBeNegative.includes(factor) };
  }

  isPollutant(siteId: string, factor: string): boolean {
    return this.cfg.pollutantFactors.includes(factor) || this.idx.limits.get(siteId)?.has(factor) === true;
  }

  evaluate(input: EvalInput): EvalResult {
    const { cfg } = this;
    const aggregates: AggregateOutput[] = [];
    const episodes: EpisodeOut[] = [];
    const series = buildSeries(input.readings, cfg);
    const hours: number[] = [];
    for (let h = input.horizonStart; h + HOUR_MS <= input.watermark; h += HOUR_MS) hours.push(h);
    const days: number[] = [];
    for (let d = input.horizonStart; d + DAY_MS <= input.watermark; d += DAY_MS) days.push(d);

    const offline = this.offline(input, episodes);
    const meters = meterLists(input.readings, cfg);

    for (const [siteId, factors] of series) {
      this.siteWindows(input, siteId, factors, hours, days, aggregates, episodes);
      this.runRules(input, siteId, factors, meters.energy, episodes);
      this.capture(input, siteId, hours, offline, episodes);
    }
    this.treatmentIdle(input, meters, episodes);
    return { aggregates, episodes };
  }

  /** Hourly/daily aggregates and the window rules on them (exceedance, clustered, recalculation) of one site. */
  siteWindows(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    siteId: string,
    factors: Map<string, FactorSeries>,
    hours: readonly number[],
    days: readonly number[],
    aggregates: AggregateOutput[],
    episodes: EpisodeOut[],
  ): void {
    const { cfg } = this;
    const outlet = this.idx.outlets.get(siteId);
    if (!outlet) return;
    const hourAggs = new Map<string, Map<number, HourAgg>>();
    const agg = this.cfg[outlet.kind];
    const o2 = factors.get(cfg.conversion.o2Factor);
    const order = [...factors.keys()].sort((a, b) =>
      a === cfg.conversion.o2Factor ? -1 : b === cfg.conversion.o2Factor ? 1 : a < b ? -1 : a > b ? 1 : 0,
    );
    for (const factor of order) {
      const s = factors.get(factor)!;
      const rules = this.rules(input.enterpriseId, siteId, factor);
      const range = this.range(siteId, factor, rules);
      const valid = (p: SeriesPoint) => isValidValue(p.value, p.flag, cfg.validFlags, range);
      const perHour = new Map<number, HourAgg>();
      hourAggs.set(factor, perHour);
      const byHour = new Map<number, Pt[]>();
      for (const p of s.minute) {
        const h = hourStart(p.t);
        const list = byHour.get(h);
        if (list) list.push(p);
        else byHour.set(h, [p]);
      }
      for (const h of hours) {
        const pts = byHour.get(h) ?? [];
        let m: MeanResult | undefined;
        let source: HourAgg['source'] = 'minute';
        if (pts.length > 0)
          m = outlet.kind === 'gas' ? gasHourlyMean(pts, agg, valid) : waterHourlyMean(pts, valid);
        else {
          const rep = s.hourAvg.get(h);
          if (rep) {
            const ok = valid(rep);
            m = {
              value: ok ? rep.value : null,
              valid: ok,
              flag: rep.flag,
              coverage: ok ? 1 : 0,
              validCount: ok ? 1 : 0,
              count: 1,
            };
            source = 'hour';
          }
        }
        if (!m) continue;
        let convertedValue: number | null = null;
        let anomaly: string | undefined;
        const limit = this.idx.limits.get(siteId)?.get(factor);
        if (
          outlet.kind === 'gas' &&
          factor !== cfg.conversion.o2Factor &&
          (this.isPollutant(siteId, factor) || limit?.converted)
        ) {
          const o2h =
            factor === cfg.conversion.o2Factor ? undefined : hourAggs.get(cfg.conversion.o2Factor)?.get(h);
          if (outlet.referenceO2 === undefined) anomaly = 'no-reference-o2';
          else if (!o2 || !o2h || !o2h.valid || o2h.value === null) anomaly = 'o2-invalid';
          else if (m.value !== null) {
            const c = convertConcentration(m.value, o2h.value, outlet.referenceO2, cfg.conversion);
            convertedValue = c.value;
            anomaly = c.anomaly;
          }
        }
        const ha: HourAgg = { ...m, convertedValue, source, ...(anomaly ? { anomaly } : {}) };
        perHour.set(h, ha);
        const digits = cfg.aggregateSignificantDigits;
        aggregates.push({
          type: 'aggregate',
          enterpriseId: input.enterpriseId,
          siteId,
          factor,
          interval: 'hour',
          start: h,
          value: roundOrNull(ha.value, digits),
          convertedValue: roundOrNull(ha.convertedValue, digits),
          valid: ha.valid,
          flag: ha.flag,
          coverage: roundSignificant(ha.coverage, digits),
          ...(anomaly ? { anomaly } : {}),
        });
      }
      for (const d of days) {
        const inDay = hours.filter((h) => h >= d && h < d + DAY_MS);
        const hs = inDay.map((h) => perHour.get(h)).filter((x): x is HourAgg => x !== undefined);
        if (hs.length === 0) continue;
        const flowHours = hourAggs.get(agg.flowFactor);
        const weighted = outlet.kind === 'water' && flowHours !== undefined && factor !== agg.flowFactor;
        const inputs = inDay
          .filter((h) => perHour.has(h))
          .map((h) => {
            const x = perHour.get(h)!;
            const f = flowHours?.get(h);
            return {
              value: x.value,
              valid: x.valid,
              flag: x.flag,
              weight: f && f.valid ? f.value : null,
            };
          });
        const dm = dailyMean(inputs, agg, weighted);
        const conv = hs
          .filter((x) => x.valid && x.convertedValue !== null)
          .map((x) => x.convertedValue as number);
        aggregates.push({
          type: 'aggregate',
          enterpriseId: input.enterpriseId,
          siteId,
          factor,
          interval: 'day',
          start: d,
          value: roundOrNull(dm.value, cfg.aggregateSignificantDigits),
          convertedValue:
            conv.length === 0
              ? null
              : roundSignificant(
                  conv.reduce((a, b) => a + b, 0) / conv.length,
                  cfg.aggregateSignificantDigits,
                ),
          valid: dm.valid,
          flag: dm.flag,
          coverage: roundSignificant(dm.coverage, cfg.aggregateSignificantDigits),
        });
      }
    }
    this.limitRules(input, siteId, hourAggs, hours, days, aggregates, episodes);
    this.recalculation(input, siteId, factors, hourAggs, hours, episodes);
  }

  // ---- exceedance and clustered-below-limit -------------------------------------------------------------

  private limitRules(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    siteId: string,
    hourAggs: Map<string, Map<number, HourAgg>>,
    hours: readonly number[],
    days: readonly number[],
    aggregates: AggregateOutput[],
    episodes: EpisodeOut[],
  ): void {
    const limits = this.idx.limits.get(siteId);
    if (!limits) return;
    for (const limit of [...limits.values()].sort((a, b) => (a.factor < b.factor ? -1 : 1))) {
      const rules = this.rules(input.enterpriseId, siteId, limit.factor);
      const ex = rules.exceedance;
      const pick = (v: { value: number | null; convertedValue: number | null }) =>
        limit.converted ? v.convertedValue : v.value;
      if (ex.enabled) {
        let windows: WindowFact[];
        if (limit.basis === 'hourly') {
          windows = hours.map((h) => {
            const a = hourAggs.get(limit.factor)?.get(h);
            const v = a && a.valid ? pick(a) : null;
            return this.limitWindow(h, h + HOUR_MS, v, limit.value);
          });
        } else {
          windows = days.map((d) => {
            const a = aggregates.find(
              (x) =>
                x.siteId === siteId && x.factor === limit.factor && x.interval === 'day' && x.start === d,
            );
            const v = a && a.valid ? pick(a) : null;
            return this.limitWindow(d, d + DAY_MS, v, limit.value);
          });
        }
        this.windowEpisodes(
          input,
          'exceedance',
          siteId,
          limit.factor,
          limit.factor,
          windows,
          ex,
          episodes,
          (eps) => {
            const worst = Math.max(...eps.map((w) => Number(w.detail?.ratio ?? 0)));
            const bySev = ex.severityByRatio.find((s) => ge(worst, s.minRatio));
            return bySev ? bySev.severity : ex.severity;
          },
          { limit: limit.value, unit: limit.unit, basis: limit.basis, converted: limit.converted },
        );
      }
      const cl = rules.clusteredBelowLimit;
      if (cl.enabled && limit.basis === 'hourly') {
        const windows = days.map((d): WindowFact => {
          const vals: number[] = [];
          for (const h of hours) {
            if (h < d || h >= d + DAY_MS) continue;
            const a = hourAggs.get(limit.factor)?.get(h);
            const v = a && a.valid ? pick(a) : null;
            if (v !== null) vals.push(v);
          }
          if (vals.length < cl.minValidHours) return { start: d, end: d + DAY_MS, cond: null };
          const inBand = vals.filter(
            (v) => ge(v, cl.lowerShareOfLimit * limit.value) && !gt(v, limit.value),
          ).length;
          const share = inBand / vals.length;
          return {
            start: d,
            end: d + DAY_MS,
            cond: ge(share, cl.minShareOfHours),
            detail: { validHours: vals.length, inBand, share },
          };
        });
        this.windowEpisodes(
          input,
          'clustered-below-limit',
          siteId,
          limit.factor,
          limit.factor,
          windows,
          cl,
          episodes,
          () => cl.severity,
          {
            limit: limit.value,
            lowerShareOfLimit: cl.lowerShareOfLimit,
            minShareOfHours: cl.minShareOfHours,
            minValidHours: cl.minValidHours,
          },
        );
      }
    }
  }

  private limitWindow(start: number, end: number, v: number | null, limit: number): WindowFact {
    if (v === null) return { start, end, cond: null };
    return { start, end, cond: gt(v, limit), detail: { value: v, limit, ratio: v / limit } };
  }

  // ---- recalculation checks ------------------------------------------------------------------------------

  private recalculation(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    siteId: string,
    factors: Map<string, FactorSeries>,
    hourAggs: Map<string, Map<number, HourAgg>>,
    hours: readonly number[],
    episodes: EpisodeOut[],
  ): void {
    for (const factor of [...factors.keys()].sort()) {
      const s = factors.get(factor)!;
      if (s.hourAvg.size === 0 && s.hourZs.size === 0) continue;
      const rc = this.rules(input.enterpriseId, siteId, factor).inconsistentAggregate;
      if (!rc.enabled) continue;
      const windows = hours.map((h): WindowFact => {
        const a = hourAggs.get(factor)?.get(h);
        if (!a || a.source !== 'minute' || !a.valid || a.value === null)
          return { start: h, end: h + HOUR_MS, cond: null };
        const detail: Record<string, unknown> = {};
        let cond: Tri = null;
        const rep = s.hourAvg.get(h);
        if (rep) {
          const bad = failsRecalculation(rep.value, a.value, rc.maxRelativeDifference);
          Object.assign(detail, {
            reportedAvg: rep.value,
            recomputedAvg: a.value,
            relDiffAvg: relativeDifference(rep.value, a.value),
          });
          cond = bad;
        }
        const zs = s.hourZs.get(h);
        if (zs && a.convertedValue !== null) {
          const bad = failsRecalculation(zs.value, a.convertedValue, rc.maxRelativeDifference);
          Object.assign(detail, {
            reportedZsAvg: zs.value,
            recomputedZsAvg: a.convertedValue,
            relDiffZsAvg: relativeDifference(zs.value, a.convertedValue),
          });
          cond = cond === true || bad;
        }
        return { start: h, end: h + HOUR_MS, cond, detail };
      });
      this.windowEpisodes(
        input,
        'inconsistent-aggregate',
        siteId,
        factor,
        factor,
        windows,
        rc,
        episodes,
        () => rc.severity,
        {
          maxRelativeDifference: rc.maxRelativeDifference,
        },
      );
    }
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

  // ---- low capture ----------------------------------------------------------------------------------------

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
      const rules = this.rules(input.enterpriseId, siteId);
      const lc = rules.lowCapture;
      if (!lc.enabled) continue;
      const expected = Math.floor(3600 / d.cadenceSeconds);
      const times = [...(devices.get(deviceId) ?? [])];
      const gaps = offline.get(deviceId) ?? [];
      const f = first.get(deviceId)!;
      const windows = hours.map((h): WindowFact => {
        const end = h + HOUR_MS;
        if (h < f || expected <= 0) return { start: h, end, cond: null };
        // Inhibition: while the device is offline its capture is judged by the offline rule.
        if (gaps.some((g) => g.start < end && g.end > h)) return { start: h, end, cond: null };
        const received = times.filter((t) => t >= h && t < end).length;
        const rate = received / expected;
        return { start: h, end, cond: lt(rate, lc.minRate), detail: { received, expected, rate } };
      });
      this.windowEpisodes(
        input,
        'low-capture',
        siteId,
        deviceId,
        undefined,
        windows,
        lc,
        episodes,
        () => lc.severity,
        {
          minRate: lc.minRate,
          deviceId,
          cadenceSeconds: d.cadenceSeconds,
        },
      );
    }
  }

  // ---- treatment idle while producing ---------------------------------------------------------------------

  private treatmentIdle(
    input: EvalInput,
    meters: { energy: Map<string, MeterPoint[]>; status: Map<string, MeterPoint[]> },
    episodes: EpisodeOut[],
  ): void {
    const treatmentMeters = [...this.idx.meters.values()]
      .filter(
        (m) =>
          m.enterpriseId === input.enterpriseId && m.role === 'treatment' && m.servesMeterId !== undefined,
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const tm of treatmentMeters) {
      const pm = this.idx.meters.get(tm.servesMeterId!);
      if (!pm) continue;
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
        this.treatmentIdleEpisodes(input, pm, tm, ti, windows, episodes);
      }
      const tt = rules.treatmentTiming;
      if (tt.enabled) {
        const step = tt.stepMinutes * MINUTE_MS;
        const steps: MeterStep[] = [];
        for (let s = input.horizonStart; s + step <= input.watermark; s += step)
          steps.push(meterStep(s, s + step, pm, tm, ti, prodList, treatList));
        this.treatmentTimingEpisodes(input, pm, tm, rules, steps, episodes);
      }
    }
  }

  treatmentIdleEpisodes(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    pm: MeterView,
    tm: MeterView,
    ti: RulesConfig['treatmentIdle'],
    windows: WindowFact[],
    episodes: EpisodeOut[],
  ): void {
    const confirm = (w: WindowFact) =>
      inResumptionWindow(this.idx, input.enterpriseId, w.start)
        ? ti.confirmWindowsInResumption
        : ti.confirmWindows;
    const facilities = (tm.facilities ?? []).map((f) => `${f.siteId}/${f.code}`);
    this.windowEpisodes(
      input,
      'treatment-idle',
      tm.id,
      pm.id,
      undefined,
      windows,
      { ...ti, confirm },
      episodes,
      () => ti.severity,
      {
        productionMeterId: pm.id,
        treatmentMeterId: tm.id,
        productionRatedKwh: pm.ratedWindowKwh ?? null,
        treatmentRatedKwh: tm.ratedWindowKwh ?? null,
        productionShare: ti.productionShare,
        treatmentShare: ti.treatmentShare,
        windowMinutes: ti.windowMinutes,
        ...(facilities.length > 0 ? { facilities } : {}),
      },
    );
  }

  /** Late start / early stop episodes of one meter pair from its closed steps (from the horizon start). */
  treatmentTimingEpisodes(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    pm: MeterView,
    tm: MeterView,
    rules: RulesConfig,
    steps: readonly MeterStep[],
    episodes: EpisodeOut[],
  ): void {
    const tt = rules.treatmentTiming;
    const ti = rules.treatmentIdle;
    const { late, early } = timingWindows(steps, tt.stepMinutes * MINUTE_MS, tt.maxLagMinutes * MINUTE_MS);
    const confirm = (w: WindowFact) =>
      inResumptionWindow(this.idx, input.enterpriseId, w.start)
        ? tt.confirmWindowsInResumption
        : tt.confirmWindows;
    const params = {
      productionMeterId: pm.id,
      treatmentMeterId: tm.id,
      productionRatedKwh: pm.ratedWindowKwh ?? null,
      treatmentRatedKwh: tm.ratedWindowKwh ?? null,
      productionShare: ti.productionShare,
      treatmentShare: ti.treatmentShare,
      stepMinutes: tt.stepMinutes,
      maxLagMinutes: tt.maxLagMinutes,
    };
    for (const [rule, windows] of [
      ['treatment-late-start', late],
      ['treatment-early-stop', early],
    ] as const) {
      if (windows.length === 0 && !input.carried.has(`${tm.id}|${rule}|${pm.id}`)) continue;
      this.windowEpisodes(
        input,
        rule,
        tm.id,
        pm.id,
        undefined,
        windows,
        { ...tt, confirm },
        episodes,
        () => tt.severity,
        params,
      );
    }
  }

  // ---- point-run rules ------------------------------------------------------------------------------------

  private runRules(
    input: EvalInput,
    siteId: string,
    factors: Map<string, FactorSeries>,
    energy: Map<string, MeterPoint[]>,
    episodes: EpisodeOut[],
  ): void {
    const outlet = this.idx.outlets.get(siteId);
    const producers = outlet ? productionMetersOf(outlet, this.idx.meters.values()) : [];
    const maint = this.idx.maintenance.get(siteId) ?? [];
    for (const factor of [...factors.keys()].sort()) {
      const s = factors.get(factor)!;
      const interval: 'realtime' | 'minute' = s.realtime.length > 0 ? 'realtime' : 'minute';
      const pts = interval === 'realtime' ? s.realtime : s.minute;
      if (pts.length === 0) continue;
      const rules = this.rules(input.enterpriseId, siteId, factor);
      const range = this.range(siteId, factor, rules);
      const valid = (p: SeriesPoint) => isValidValue(p.value, p.flag, this.cfg.validFlags, range);
      // A gap longer than the device's offline threshold breaks every run (inhibition while offline).
      const thresholds = new Map<string, number>();
      const thresholdOf = (deviceId: string) => {
        let thr = thresholds.get(deviceId);
        if (thr === undefined)
          thresholds.set(deviceId, (thr = offlineThresholdMs(rules, this.idx.devices.get(deviceId))));
        return thr;
      };
      const breaks = pts.map((p, i) => i > 0 && p.t - pts[i - 1]!.t >= thresholdOf(p.reading.deviceId));
      const base = { interval };
      const run = (
        rule: RuleName,
        cond: (p: Pt) => boolean,
        opt: { minDurationMs?: number; minCount?: number },
        severity: Severity,
        params: Record<string, unknown>,
      ) => {
        const key = `${siteId}|${rule}|${factor}`;
        const rp: RunPoint[] = pts.map((p, i) => ({ t: p.t, cond: cond(p), breakBefore: breaks[i] }));
        const eps = evaluateRuns(rp, { ...opt, carryOpen: input.carried.has(key) });
        for (const ep of eps)
          this.pushRun(input, episodes, rule, siteId, factor, ep, severity, { ...base, ...params });
      };

      if (
        rules.flatline.enabled &&
        outlet &&
        !rules.flatline.exemptFactors.includes(factor) &&
        !(outlet.flatlineExemptFactors ?? []).includes(factor)
      ) {
        const fl = rules.flatline;
        const opt =
          interval === 'realtime'
            ? { minDurationMs: fl.minRealtimeDurationMs }
            : { minCount: fl.minConsecutiveMinuteMeans };
        const key = `${siteId}|flatline|${factor}`;
        for (const ep of flatRuns(pts, valid, breaks, opt, input.carried.has(key))) {
          this.pushRun(input, episodes, 'flatline', siteId, factor, ep, fl.severity, {
            ...base,
            value: ep.value,
            ...(interval === 'realtime'
              ? { minDurationMs: fl.minRealtimeDurationMs }
              : { minCount: fl.minConsecutiveMinuteMeans }),
          });
        }
      }
      const zr = rules.zeroWhileRunning;
      if (zr.enabled && this.isPollutant(siteId, factor) && !zr.flowFactors.includes(factor)) {
        const running = zeroWhileRunningCondition(
          this.cfg,
          zr,
          valid,
          zr.duringProduction ? producers : [],
          (id) => energy.get(id),
          (id) => this.rules(input.enterpriseId, id).treatmentIdle,
        );
        run(
          'zero-while-running',
          running.cond,
          { minDurationMs: zr.minDurationMs },
          zr.severity,
          running.params,
        );
      }
      const orr = rules.outOfRange;
      if (orr.enabled) {
        run(
          'out-of-range',
          (p) =>
            p.flag === 'T' ||
            (range.nonNegative && p.value < 0) ||
            (range.max !== undefined && p.value > range.max) ||
            (range.min !== undefined && p.value < range.min),
          { minCount: 1 },
          orr.severity,
          { min: range.min ?? null, max: range.max ?? null, nonNegative: range.nonNegative },
        );
      }
      const ff = rules.faultFlag;
      if (ff.enabled) {
        run(
          'fault-flag',
          (p) => ff.flags.includes(p.flag),
          { minDurationMs: ff.minDurationMs },
          ff.severity,
          {
            flags: ff.flags,
            minDurationMs: ff.minDurationMs,
          },
        );
      }
      const mf = rules.manualFlag;
      if (mf.enabled && this.isPollutant(siteId, factor)) {
        run('manual-flag', (p) => mf.flags.includes(p.flag), { minCount: 1 }, mf.severity, {
          flags: mf.flags,
        });
      }
      const mo = rules.maintenanceOverrun;
      if (mo.enabled) {
        run(
          'maintenance-overrun',
          (p) => mo.flags.includes(p.flag) && !maint.some((w) => p.t >= w.start && p.t < w.end),
          { minCount: 1 },
          mo.severity,
          { flags: mo.flags, declaredWindows: maint.map((w) => ({ start: w.start, end: w.end })) },
        );
      }
      const oa = rules.o2NearAmbient;
      if (oa.enabled && outlet?.kind === 'gas' && factor === this.cfg.conversion.o2Factor) {
        const reportsPollutant = (r: Reading) =>
          r.measurements.some((m) => m.factor !== factor && this.isPollutant(siteId, m.factor));
        run(
          'o2-near-ambient',
          (p) => valid(p) && ge(p.value, oa.thresholdPercent) && reportsPollutant(p.reading),
          { minDurationMs: oa.minDurationMs },
          oa.severity,
          { thresholdPercent: oa.thresholdPercent, minDurationMs: oa.minDurationMs },
        );
      }
    }
  }

  pushRun(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    episodes: EpisodeOut[],
    rule: RuleName,
    siteId: string,
    factor: string,
    ep: RunEpisode,
    severity: Severity,
    params: Record<string, unknown>,
  ): void {
    episodes.push({
      key: `${siteId}|${rule}|${factor}`,
      rule,
      siteId,
      subject: factor,
      factor,
      start: ep.start,
      ...(ep.end !== undefined ? { end: ep.end } : {}),
      severity,
      suspected: SUSPECTED.has(rule),
      inResumptionWindow: inResumptionWindow(this.idx, input.enterpriseId, ep.start),
      evidence: {
        ...params,
        ...(ep.confirmedAt !== undefined ? { confirmedAt: ep.confirmedAt } : {}),
        // Last point and count only once the run ended, so a growing run does not update on every point.
        ...(ep.end !== undefined ? { lastAt: ep.lastT, count: ep.count } : {}),
      },
    });
  }

  /** Shared by every window rule: runs the anti-flapping machine and converts its episodes. */
  windowEpisodes(
    input: Pick<EvalInput, 'enterpriseId' | 'carried'>,
    rule: RuleName,
    siteId: string,
    subject: string,
    factor: string | undefined,
    windows: WindowFact[],
    rc: { confirmWindows: number; clearWindows: number; confirm?: (w: WindowFact) => number },
    episodes: EpisodeOut[],
    severity: (windows: WindowFact[]) => Severity,
    params: Record<string, unknown>,
  ): void {
    const key = `${siteId}|${rule}|${subject}`;
    const eps = evaluateWindows(windows, {
      confirm: rc.confirm ?? (() => rc.confirmWindows),
      clear: rc.clearWindows,
      carryOpen: input.carried.has(key),
    });
    for (const ep of eps) {
      episodes.push({
        key,
        rule,
        siteId,
        subject,
        ...(factor !== undefined ? { factor } : {}),
        start: ep.start,
        ...(ep.end !== undefined ? { end: ep.end } : {}),
        severity: ep.windows.length > 0 ? severity(ep.windows) : 'minor',
        suspected: SUSPECTED.has(rule),
        inResumptionWindow: inResumptionWindow(this.idx, input.enterpriseId, ep.start),
        evidence: {
          ...params,
          confirmWindows: rc.confirm ? rc.confirm(ep.windows[0] ?? windows[0]!) : rc.confirmWindows,
          clearWindows: rc.clearWindows,
          ...(ep.confirmedAt !== undefined ? { confirmedAt: ep.confirmedAt } : {}),
          windows: ep.windows.map((w) => ({ start: w.start, end: w.end, ...w.detail })),
        },
      });
    }
  }
}

/**
 * Condition of zero-while-running for one factor: a valid 0 while a flow factor of the same reading is > 0 or one
 * of the outlet's production meters runs at that instant.
 */
export function zeroWhileRunningCondition(
  cfg: EngineConfig,
  zr: RulesConfig['zeroWhileRunning'],
  valid: (p: SeriesPoint) => boolean,
  producers: readonly MeterView[],
  energyOf: (meterId: string) => readonly MeterPoint[] | undefined,
  idleRulesOf: (meterId: string) => RulesConfig['treatmentIdle'],
): { cond: (p: Pt) => boolean; params: Record<string, unknown> } {
  const flowing = (r: Reading) =>
    r.measurements.some(
      (m) =>
        zr.flowFactors.includes(m.factor) &&
        m.stat === mainStat(r.interval) &&
        cfg.validFlags.includes(m.flag ?? 'N') &&
        m.value > 0,
    );
  const idle = producers.map((pm) => idleRulesOf(pm.id));
  const producing = (t: number) =>
    producers.some((pm, i) => productionRunsAt(energyOf(pm.id), t, pm, idle[i]!));
  return {
    cond: (p) => valid(p) && p.value === 0 && (flowing(p.reading) || producing(p.t)),
    params: {
      minDurationMs: zr.minDurationMs,
      ...(producers.length > 0 ? { productionMeterIds: producers.map((m) => m.id) } : {}),
    },
  };
}

/** Runs of the same valid value (at reported precision) that reached the threshold. */
export function flatRuns(
  pts: readonly SeriesPoint[],
  valid: (p: SeriesPoint) => boolean,
  breaks: readonly boolean[],
  opt: { minDurationMs?: number; minCount?: number },
  carryOpen: boolean,
): (RunEpisode & { value: number })[] {
  const out: (RunEpisode & { value: number })[] = [];
  let cur: (RunEpisode & { value: number; ok: boolean }) | undefined;
  const close = (end: number) => {
    if (cur && cur.ok) {
      const { ok: _ok, ...ep } = cur;
      out.push({ ...ep, end });
    }
    cur = undefined;
  };
  pts.forEach((p, i) => {
    if (cur && breaks[i]) close(cur.lastT);
    const v = valid(p);
    if (cur && (!v || p.value !== cur.value)) close(p.t);
    if (!v) return;
    if (!cur) cur = { start: p.t, lastT: p.t, count: 1, value: p.value, ok: i === 0 && carryOpen };
    else {
      cur.lastT = p.t;
      cur.count += 1;
    }
    const reached =
      (opt.minDurationMs !== undefined && cur.lastT - cur.start >= opt.minDurationMs) ||
      (opt.minCount !== undefined && cur.count >= opt.minCount);
    if (!cur.ok && reached) {
      cur.ok = true;
      cur.confirmedAt = p.t;
    }
  });
  if (cur && (cur as { ok: boolean }).ok) {
    const { ok: _ok, ...ep } = cur as RunEpisode & { value: number; ok: boolean };
    out.push(ep);
  }
  return out;
}
