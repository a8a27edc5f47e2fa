// The point-run rules (domain-rules §3: flatline, zero while running, out of range, abnormal flags, O2 near
// ambient), written once: `RUN_RULES` gives each rule's condition on a point, its threshold, severity and evidence
// for one site/factor, and the fold turns the factor's points into runs one point at a time. The Evaluator folds a
// whole series at once, the workspace folds appended points and refolds late ones from a checkpoint.
import { isValidValue, type RangeCheck, type SeriesPoint } from './aggregate.js';
import type { EngineConfig, RulesConfig } from './config.js';
import type { RunEpisode } from './episodes.js';
import type { MeterView, Reading, RuleName, Severity } from './model.js';
import type { RegistryIndex } from './registry.js';
import type { EpisodeOut } from './scope.js';
import { mainStat, type Pt } from './series.js';
import { ge } from './time.js';
import { productionMetersOf, productionRunsAt, type MeterPoint } from './treatment.js';

/** Everything a run rule of one site/factor reads. */
export interface RunRuleContext {
  cfg: EngineConfig;
  idx: RegistryIndex;
  siteId: string;
  factor: string;
  /** The series judged: real-time points when the factor has any, else minute means. */
  interval: 'realtime' | 'minute';
  rules: RulesConfig;
  range: RangeCheck;
  isPollutant: (siteId: string, factor: string) => boolean;
  /** Energy readings of a meter. */
  energyOf: (meterId: string) => readonly MeterPoint[] | undefined;
  /** Treatment-idle settings of a meter (when a production meter runs). */
  idleRulesOf: (meterId: string) => RulesConfig['treatmentIdle'];
}

export interface RunThreshold {
  /** Confirmed when last.t − first.t ≥ minDurationMs … */
  minDurationMs?: number;
  /** … or when the run has at least minCount points. */
  minCount?: number;
}

/** One run rule as it applies to one site/factor. */
export interface RunRule {
  rule: RuleName;
  /** A flat run: consecutive points meeting `cond` with the same value (a new value starts a new run). */
  flat: boolean;
  cond: (p: Pt) => boolean;
  opt: RunThreshold;
  severity: Severity;
  params: (ep: RunEpisode & { value?: number }) => Record<string, unknown>;
}

type RuleDef = (c: RunRuleContext, valid: (p: SeriesPoint) => boolean) => Omit<RunRule, 'rule'> | undefined;

/** The run rules in evaluation order; a rule that does not apply to the site/factor gives undefined. */
const RUN_RULES: readonly (readonly [RuleName, RuleDef])[] = [
  [
    'flatline',
    ({ rules, idx, siteId, factor, interval }, valid) => {
      const fl = rules.flatline;
      const outlet = idx.outlets.get(siteId);
      if (!fl.enabled || !outlet || fl.exemptFactors.includes(factor)) return undefined;
      if ((outlet.flatlineExemptFactors ?? []).includes(factor)) return undefined;
      const opt =
        interval === 'realtime'
          ? { minDurationMs: fl.minRealtimeDurationMs }
          : { minCount: fl.minConsecutiveMinuteMeans };
      return {
        flat: true,
        cond: valid,
        opt,
        severity: fl.severity,
        params: (ep) => ({ interval, value: ep.value, ...opt }),
      };
    },
  ],
  [
    'zero-while-running',
    (c, valid) => {
      const zr = c.rules.zeroWhileRunning;
      if (!zr.enabled || !c.isPollutant(c.siteId, c.factor) || zr.flowFactors.includes(c.factor))
        return undefined;
      const outlet = c.idx.outlets.get(c.siteId);
      const producers =
        zr.duringProduction && outlet ? productionMetersOf(outlet, c.idx.meters.values()) : [];
      const running = zeroWhileRunningCondition(c.cfg, zr, valid, producers, c.energyOf, c.idleRulesOf);
      return {
        flat: false,
        cond: running.cond,
        opt: { minDurationMs: zr.minDurationMs },
        severity: zr.severity,
        params: () => ({ interval: c.interval, ...running.params }),
      };
    },
  ],
  [
    'out-of-range',
    ({ rules, range, interval }) => {
      const orr = rules.outOfRange;
      if (!orr.enabled) return undefined;
      return {
        flat: false,
        cond: (p) =>
          p.flag === 'T' ||
          (range.nonNegative && p.value < 0) ||
          (range.max !== undefined && p.value > range.max) ||
          (range.min !== undefined && p.value < range.min),
        opt: { minCount: 1 },
        severity: orr.severity,
        params: () => ({
          interval,
          min: range.min ?? null,
          max: range.max ?? null,
          nonNegative: range.nonNegative,
        }),
      };
    },
  ],
  [
    'fault-flag',
    ({ rules, interval }) => {
      const ff = rules.faultFlag;
      if (!ff.enabled) return undefined;
      return {
        flat: false,
        cond: (p) => ff.flags.includes(p.flag),
        opt: { minDurationMs: ff.minDurationMs },
        severity: ff.severity,
        params: () => ({ interval, flags: ff.flags, minDurationMs: ff.minDurationMs }),
      };
    },
  ],
  [
    'manual-flag',
    ({ rules, interval, isPollutant, siteId, factor }) => {
      const mf = rules.manualFlag;
      if (!mf.enabled || !isPollutant(siteId, factor)) return undefined;
      return {
        flat: false,
        cond: (p) => mf.flags.includes(p.flag),
        opt: { minCount: 1 },
        severity: mf.severity,
        params: () => ({ interval, flags: mf.flags }),
      };
    },
  ],
  [
    'maintenance-overrun',
    ({ rules, interval, idx, siteId }) => {
      const mo = rules.maintenanceOverrun;
      if (!mo.enabled) return undefined;
      const maint = idx.maintenance.get(siteId) ?? [];
      return {
        flat: false,
        cond: (p) => mo.flags.includes(p.flag) && !maint.some((w) => p.t >= w.start && p.t < w.end),
        opt: { minCount: 1 },
        severity: mo.severity,
        params: () => ({
          interval,
          flags: mo.flags,
          declaredWindows: maint.map((w) => ({ start: w.start, end: w.end })),
        }),
      };
    },
  ],
  [
    'o2-near-ambient',
    ({ rules, interval, idx, cfg, siteId, factor, isPollutant }, valid) => {
      const oa = rules.o2NearAmbient;
      if (!oa.enabled || idx.outlets.get(siteId)?.kind !== 'gas' || factor !== cfg.conversion.o2Factor)
        return undefined;
      const reportsPollutant = (r: Reading) =>
        r.measurements.some((m) => m.factor !== factor && isPollutant(siteId, m.factor));
      return {
        flat: false,
        cond: (p) => valid(p) && ge(p.value, oa.thresholdPercent) && reportsPollutant(p.reading),
        opt: { minDurationMs: oa.minDurationMs },
        severity: oa.severity,
        params: () => ({ interval, thresholdPercent: oa.thresholdPercent, minDurationMs: oa.minDurationMs }),
      };
    },
  ],
];

/** The run rules that apply to one site/factor, in evaluation order. */
export function runRules(c: RunRuleContext): RunRule[] {
  const valid = (p: SeriesPoint) => isValidValue(p.value, p.flag, c.cfg.validFlags, c.range);
  const out: RunRule[] = [];
  for (const [rule, def] of RUN_RULES) {
    const r = def(c, valid);
    if (r) out.push({ rule, ...r });
  }
  return out;
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

// ---- the fold: runs of one rule over a series, one point at a time ---------------------------------------------

type OpenRun = RunEpisode & { value?: number; ok?: boolean };

/** The fold's state that a checkpoint saves. */
export interface FoldState {
  run: OpenRun | undefined;
  confirmed: boolean;
  outLen: number;
}

export interface Fold extends RunRule {
  /** The series starts inside a run confirmed before the horizon (its deviation is carried open). */
  carry: boolean;
  run: OpenRun | undefined;
  confirmed: boolean;
  /** Runs that ended confirmed. */
  out: (RunEpisode & { value?: number })[];
  /** Episodes built for `out[i]` (same objects while unchanged, so unchanged series are not reconciled again). */
  eps: EpisodeOut[];
  /** The episode built for the current (open) run, with what it depends on. */
  open:
    { start: number; confirmedAt: number | undefined; value: number | undefined; ep: EpisodeOut } | undefined;
}

export function newFold(r: RunRule, carry: boolean): Fold {
  // One literal with every field in one order: folds of every rule share one object shape (pushFold is hot).
  return {
    rule: r.rule,
    flat: r.flat,
    cond: r.cond,
    opt: r.opt,
    severity: r.severity,
    params: r.params,
    carry,
    run: undefined,
    confirmed: false,
    out: [],
    eps: [],
    open: undefined,
  };
}

function reached(run: RunEpisode, opt: RunThreshold): boolean {
  if (opt.minDurationMs !== undefined && run.lastT - run.start >= opt.minDurationMs) return true;
  if (opt.minCount !== undefined && run.count >= opt.minCount) return true;
  return opt.minDurationMs === undefined && opt.minCount === undefined;
}

/** Ends the fold's current run at `end` (kept when confirmed). No closures: this runs per point and factor. */
function closeFold(f: Fold, end: number): void {
  const run = f.run;
  if (run && (f.flat ? run.ok : f.confirmed)) {
    const ep: RunEpisode & { value?: number } = { start: run.start, lastT: run.lastT, count: run.count, end };
    if (run.confirmedAt !== undefined) ep.confirmedAt = run.confirmedAt;
    if (f.flat) ep.value = run.value;
    f.out.push(ep);
  }
  f.run = undefined;
  if (!f.flat) f.confirmed = false;
}

/**
 * Folds point `p`, the `i`-th of the series; `brk`: the series is broken before it (a gap longer than the device's
 * offline threshold breaks every run: inhibition while offline).
 */
export function pushFold(f: Fold, p: Pt, i: number, brk: boolean): void {
  if (f.run && brk) closeFold(f, f.run.lastT);
  const v = f.cond(p);
  if (f.flat) {
    if (f.run && (!v || p.value !== f.run.value)) closeFold(f, p.t);
    if (!v) return;
    if (!f.run) f.run = { start: p.t, lastT: p.t, count: 1, value: p.value, ok: i === 0 && f.carry };
    else {
      f.run.lastT = p.t;
      f.run.count += 1;
    }
    const r =
      (f.opt.minDurationMs !== undefined && f.run.lastT - f.run.start >= f.opt.minDurationMs) ||
      (f.opt.minCount !== undefined && f.run.count >= f.opt.minCount);
    if (!f.run.ok && r) {
      f.run.ok = true;
      f.run.confirmedAt = p.t;
    }
    return;
  }
  if (!v) {
    if (f.run) closeFold(f, p.t);
    return;
  }
  if (!f.run) {
    f.run = { start: p.t, lastT: p.t, count: 1 };
    f.confirmed = i === 0 && f.carry;
  } else {
    f.run.lastT = p.t;
    f.run.count += 1;
  }
  if (!f.confirmed && reached(f.run, f.opt)) {
    f.confirmed = true;
    f.run.confirmedAt = p.t;
  }
}

/** The fold's current run when it is confirmed (an open episode), else undefined. */
export function openRun(f: Fold): (RunEpisode & { value?: number }) | undefined {
  const run = f.run;
  if (!run || !(f.flat ? run.ok : f.confirmed)) return undefined;
  const ep: RunEpisode & { value?: number } = { start: run.start, lastT: run.lastT, count: run.count };
  if (run.confirmedAt !== undefined) ep.confirmedAt = run.confirmedAt;
  if (f.flat) ep.value = run.value;
  return ep;
}

/** For each point of a series, whether a gap at least the offline threshold of its device precedes it. */
export function seriesBreak(
  pts: readonly Pt[],
  i: number,
  thresholdOf: (deviceId: string) => number,
): boolean {
  return i > 0 && pts[i]!.t - pts[i - 1]!.t >= thresholdOf(pts[i]!.reading.deviceId);
}
