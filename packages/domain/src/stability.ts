// Stability metrics and the "stably compliant" verdict (domain-rules §4), from hourly aggregates and deviations.
import type { AggregateOutput, DeviationOutput, LimitView } from './model.js';
import { HOUR_MS, gt } from './time.js';

export interface StabilityInput {
  /** Trailing window [from, to). */
  from: number;
  to: number;
  /** Factors expected every hour (the monitored factors of the outlet or enterprise). */
  factors: readonly { siteId: string; factor: string }[];
  /** Latest hourly aggregates (one per site/factor/hour; later entries replace earlier ones). */
  hourly: readonly AggregateOutput[];
  /** Permit limits with an hourly basis, for the compliance rate. */
  limits: readonly LimitView[];
  /** Deviation outputs (any revisions; the highest revision per id counts). */
  deviations: readonly DeviationOutput[];
  /** Ids of suspected-falsification deviations a supervisor confirmed. */
  confirmedFalsificationIds: ReadonlySet<string>;
}

export interface StabilityMetrics {
  expected: number;
  received: number;
  valid: number;
  transmissionRate: number;
  validityRate: number;
  effectiveTransmissionRate: number;
  compliantValidHours: number;
  judgedValidHours: number;
  complianceRate: number;
  exceedanceWindows: number;
  openSuspectedFalsifications: number;
  confirmedFalsifications: number;
}

export interface StabilityPolicy {
  /** Default 0.9. */
  minEffectiveTransmissionRate: number;
}

export const defaultStabilityPolicy: StabilityPolicy = { minEffectiveTransmissionRate: 0.9 };

export function stabilityMetrics(input: StabilityInput): StabilityMetrics {
  const wanted = new Set(input.factors.map((f) => `${f.siteId}|${f.factor}`));
  const hoursInWindow = Math.max(0, Math.floor((input.to - input.from) / HOUR_MS));
  const latest = new Map<string, AggregateOutput>();
  for (const a of input.hourly) {
    if (a.interval !== 'hour' || a.start < input.from || a.start >= input.to) continue;
    if (!wanted.has(`${a.siteId}|${a.factor}`)) continue;
    latest.set(`${a.siteId}|${a.factor}|${a.start}`, a);
  }
  const expected = wanted.size * hoursInWindow;
  const received = latest.size;
  const validAggs = [...latest.values()].filter((a) => a.valid);
  const limits = new Map(
    input.limits.filter((l) => l.basis === 'hourly').map((l) => [`${l.siteId}|${l.factor}`, l]),
  );
  let judged = 0;
  let compliant = 0;
  for (const a of validAggs) {
    const l = limits.get(`${a.siteId}|${a.factor}`);
    if (!l) continue;
    const v = l.converted ? a.convertedValue : a.value;
    if (v === null) continue;
    judged += 1;
    if (!gt(v, l.value)) compliant += 1;
  }
  const lastRev = new Map<string, DeviationOutput>();
  for (const d of input.deviations) {
    const prev = lastRev.get(d.id);
    if (!prev || d.revision > prev.revision) lastRev.set(d.id, d);
  }
  const inWindow = [...lastRev.values()].filter(
    (d) => d.windowStart < input.to && (d.windowEnd ?? Infinity) > input.from,
  );
  const live = inWindow.filter((d) => d.evidence.retracted !== true);
  const transmissionRate = expected === 0 ? 0 : received / expected;
  const validityRate = received === 0 ? 0 : validAggs.length / received;
  return {
    expected,
    received,
    valid: validAggs.length,
    transmissionRate,
    validityRate,
    effectiveTransmissionRate: transmissionRate * validityRate,
    compliantValidHours: compliant,
    judgedValidHours: judged,
    complianceRate: judged === 0 ? 1 : compliant / judged,
    exceedanceWindows: live.filter((d) => d.rule === 'exceedance').length,
    openSuspectedFalsifications: live.filter((d) => d.suspectedFalsification && d.state !== 'resolved')
      .length,
    confirmedFalsifications: inWindow.filter((d) => input.confirmedFalsificationIds.has(d.id)).length,
  };
}

/** Stably compliant: effective transmission rate ≥ 90 %, no exceedance window, no confirmed falsification. */
export function isStablyCompliant(
  m: StabilityMetrics,
  policy: StabilityPolicy = defaultStabilityPolicy,
): boolean {
  return (
    m.effectiveTransmissionRate >= policy.minEffectiveTransmissionRate - 1e-12 &&
    m.exceedanceWindows === 0 &&
    m.confirmedFalsifications === 0
  );
}
