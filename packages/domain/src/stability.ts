// Stability metrics and the "stably compliant" verdict (domain-rules §4), from hourly and daily aggregates and
// deviations.
import { monthRange, shanghaiDate } from './calendar.js';
import type { AggregateOutput, DeviationOutput, LimitView } from './model.js';
import { DAY_MS, HOUR_MS, gt } from './time.js';

export interface StabilityInput {
  /** Trailing window [from, to). */
  from: number;
  to: number;
  /** Factors expected every hour (the monitored factors of the outlet or enterprise). */
  factors: readonly { siteId: string; factor: string }[];
  /** Latest hourly aggregates (one per site/factor/hour; later entries replace earlier ones). */
  hourly: readonly AggregateOutput[];
  /**
   * Daily aggregates (one per site/factor/day, `start` the day's start), for the limits with a daily basis; they
   * may start up to a day before `from` (the day of the window's first hours).
   */
  daily?: readonly AggregateOutput[];
  /**
   * The permit limit per site and factor that the exceedance rule applies (one per factor: `limitPerFactor`), for
   * the compliance rate. An hourly-basis limit judges each valid hour by its own mean; a daily-basis limit
   * (wastewater) judges each valid hour by the valid daily mean of its day, the figure the standard judges, so a
   * day above the limit makes all its valid hours non-compliant. A valid hour whose day has no valid daily mean
   * is not judged.
   */
  limits: readonly LimitView[];
  /** Deviation outputs (any revisions; the highest revision per id counts). */
  deviations: readonly DeviationOutput[];
  /**
   * Ids of deviations whose case a supervisor ever confirmed, whatever the case's later state. A confirmed
   * suspected falsification counts as a confirmed falsification; a confirmed exceedance counts as an exceedance
   * window even when the engine later retracted it.
   */
  confirmedIds: ReadonlySet<string>;
  /**
   * Declared maintenance windows per site ([from, to), epoch ms): a valid hour of the site that overlaps one is
   * not judged for compliance (domain-rules §6a counts declared maintenance out, not against the enterprise).
   */
  maintenance?: readonly MaintenanceSpan[];
}

export interface MaintenanceSpan {
  siteId: string;
  from: number;
  to: number;
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
  const limits = new Map(input.limits.map((l) => [`${l.siteId}|${l.factor}`, l]));
  const days = new Map<string, AggregateOutput[]>();
  for (const d of input.daily ?? []) {
    if (d.interval !== 'day' || !d.valid) continue;
    const k = `${d.siteId}|${d.factor}`;
    days.set(k, [...(days.get(k) ?? []).filter((x) => x.start !== d.start), d]);
  }
  const maintenance = input.maintenance ?? [];
  let judged = 0;
  let compliant = 0;
  for (const a of validAggs) {
    const k = `${a.siteId}|${a.factor}`;
    const l = limits.get(k);
    if (!l) continue;
    if (maintenance.some((m) => m.siteId === a.siteId && m.from < a.start + HOUR_MS && m.to > a.start))
      continue;
    const judgedBy =
      l.basis === 'daily' ? days.get(k)?.find((d) => d.start <= a.start && a.start < d.start + DAY_MS) : a;
    if (!judgedBy) continue;
    const v = l.converted ? judgedBy.convertedValue : judgedBy.value;
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
    exceedanceWindows: inWindow.filter(
      (d) => d.rule === 'exceedance' && (d.evidence.retracted !== true || input.confirmedIds.has(d.id)),
    ).length,
    openSuspectedFalsifications: live.filter((d) => d.suspectedFalsification && d.state !== 'resolved')
      .length,
    confirmedFalsifications: inWindow.filter((d) => d.suspectedFalsification && input.confirmedIds.has(d.id))
      .length,
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

/** One Asia/Shanghai month's compliance counts over the hours [from, to) of the month the input covers. */
export interface MonthCompliance {
  /** `YYYY-MM` in Asia/Shanghai. */
  month: string;
  /** The hours judged: the part of the month inside the input's window, epoch ms. */
  from: number;
  to: number;
  compliantValidHours: number;
  judgedValidHours: number;
}

/**
 * The compliance counts per Asia/Shanghai month overlapping the input's window [from, to), each judged as
 * `stabilityMetrics` judges (valid hours with a limit; invalid hours and hours in declared maintenance not
 * judged), over the month's part inside the window.
 */
export function complianceByMonth(input: StabilityInput): MonthCompliance[] {
  const out: MonthCompliance[] = [];
  if (input.to <= input.from) return out;
  let month = shanghaiDate(input.from).slice(0, 7);
  for (;;) {
    const r = monthRange(month);
    const from = Math.max(input.from, r.from.getTime());
    const to = Math.min(input.to, r.to.getTime());
    if (from >= input.to) break;
    const m = stabilityMetrics({ ...input, from, to, deviations: [] });
    out.push({
      month,
      from,
      to,
      compliantValidHours: m.compliantValidHours,
      judgedValidHours: m.judgedValidHours,
    });
    month = r.nextFirstDay.slice(0, 7);
  }
  return out;
}
