// The point-run rules (domain-rules §3: flatline, zero while running, out of range, abnormal flags, O2 near
// ambient), written once: `RUN_RULES` gives each rule's condition on a point, its threshold, severity and evidence
// for one site/factor, and the fold turns the factor's points into runs one point at a time. The Evaluator folds a
// whole series at once, the workspace folds appended points and refolds late ones from a checkpoint.
import { isValidValue, type RangeCheck, type SeriesPoint } from './aggregate.js';
import type { EngineConfig, RulesConfig } from './config.js';
import type { RunEpisode } from './episodes.js';
import type { MeterView, RuleName, Severity } from './model.js';
import type { PackedReading } from './packed.js';
import type { RegistryIndex } from './registry.js';
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
      const reportsPollutant = (r: PackedReading) =>
        r.s.lay.factors.some((f) => f !== factor && isPollutant(siteId, f));
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
  const { validFlags } = c.cfg;
  const { range } = c;
  const valid = (p: SeriesPoint) => isValidValue(p.value, p.flag, validFlags, range);
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
  const flowing = (r: PackedReading) => {
    const { factors, stats } = r.s.lay;
    const stat = mainStat(r.interval);
    for (let i = 0; i < factors.length; i++) {
      if (
        zr.flowFactors.includes(factors[i]!) &&
        stats[i] === stat &&
        cfg.validFlags.includes(r.flag(i) ?? 'N') &&
        r.val(i) > 0
      )
        return true;
    }
    return false;
  };
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
