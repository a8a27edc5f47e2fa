// The emissions-against-production cross-check (大数据分析): per outlet and judged day, its hourly
// flow (m³) and pollutant load (kg) against the energy (kWh) its production meters drew in the same hours.
// - low while hard: of the day's hours in which production ran hard (energy ≥ `hardShare` × the baseline's median
//   energy), at least `lowHoursShare` had the emission below `lowShare` × its baseline median;
// - ratio drift: the day's median emission per kWh lies `zThreshold` or more robust z-scores from the outlet's own
//   baseline (the running hours of the `baselineDays` before the day: median and MAD, robust.ts).
// Sparse data never flags: too few baseline or judged hours is a recorded reason, not a finding. One deviation per
// outlet and day (its id hashes the outlet and the day's start), opened once: judging the same hours again emits
// nothing.
import { formatShanghai } from './calendar.js';
import type { RulesConfig } from './config.js';
import { deviationId } from './deviation-records.js';
import type { DeviationOutput } from './model.js';
import { median, robustBaseline, robustZ, type RobustGap } from './robust.js';

export const PRODUCTION_EMISSION_RULE = 'production-emission';

/** One hour of an outlet: its production meters' energy and its emission (null: missing or invalid). */
export interface EmissionEnergyHour {
  start: number;
  energyKwh: number | null;
  flowM3: number | null;
  loadKg: number | null;
}

export type EmissionMetric = 'flow' | 'load';
export const EMISSION_METRICS: readonly EmissionMetric[] = ['flow', 'load'];
const UNIT: Record<EmissionMetric, string> = { flow: 'm³', load: 'kg' };
const valueOf = (h: EmissionEnergyHour, m: EmissionMetric) => (m === 'flow' ? h.flowM3 : h.loadKg);

export type ProductionEmissionRules = RulesConfig['productionEmission'];

/** Why a metric (or the whole outlet) was not judged. */
export type NotJudgedReason =
  | 'disabled'
  | 'no-production-baseline'
  | 'production-not-running'
  | 'no-emission-data'
  | 'too-few-judged-hours'
  | RobustGap;

export interface MetricJudgement {
  metric: EmissionMetric;
  unit: string;
  /** Judged hours in which production ran / ran hard, with this emission known. */
  runningHours: number;
  hardHours: number;
  /** Hard hours whose emission was below `lowShare` × `baselineMedian`. */
  lowHours: number;
  /** Median emission of the baseline's running hours. */
  baselineMedian: number | null;
  /** The ratio emission / kWh: baseline (median, MAD, scale, n), the day's median and its robust z-score. */
  ratio: { n: number; median: number; mad: number; scale: number; dayMedian: number; z: number } | null;
  findings: ('low-while-hard' | 'ratio-drift-low' | 'ratio-drift-high')[];
  notJudged: NotJudgedReason | null;
}

export interface ProductionEmissionJudgement {
  status: 'flagged' | 'clear' | 'not-judged';
  /** The first reason nothing could be judged (status `not-judged`). */
  reason: NotJudgedReason | null;
  day: { start: number; end: number };
  baseline: { start: number; end: number };
  /** Median energy (kWh) of the baseline's hours with production; the running and hard thresholds. */
  energy: { baselineMedianKwh: number | null; runningKwh: number | null; hardKwh: number | null };
  metrics: MetricJudgement[];
}

export interface ProductionEmissionInput {
  enterpriseId: string;
  siteId: string;
  /** The judged hours [start, end) (a Shanghai day). */
  day: { start: number; end: number };
  /** Hours of the baseline and of the day, any order; hours outside both are ignored. */
  hours: readonly EmissionEnergyHour[];
  /** The deviation of this outlet and day as the log holds it (null: none yet). */
  previous: { revision: number } | null;
  rules: ProductionEmissionRules;
}

const DAY_MS = 86_400_000;
const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

export function productionEmissionDeviationId(
  enterpriseId: string,
  siteId: string,
  dayStart: number,
): string {
  return deviationId(enterpriseId, siteId, PRODUCTION_EMISSION_RULE, 'outlet', dayStart);
}

function judgeMetric(
  metric: EmissionMetric,
  baseline: readonly EmissionEnergyHour[],
  day: readonly EmissionEnergyHour[],
  energy: { runningKwh: number; hardKwh: number },
  r: ProductionEmissionRules,
): MetricJudgement {
  const running = (h: EmissionEnergyHour) => h.energyKwh !== null && h.energyKwh >= energy.runningKwh;
  const known = (h: EmissionEnergyHour) => valueOf(h, metric) !== null;
  const base = baseline.filter((h) => running(h) && known(h));
  const judged = day.filter((h) => running(h) && known(h));
  const hard = judged.filter((h) => h.energyKwh! >= energy.hardKwh);
  const baselineMedian = median(base.map((h) => valueOf(h, metric)!));
  const low =
    baselineMedian === null ? [] : hard.filter((h) => valueOf(h, metric)! < r.lowShare * baselineMedian);
  const out: MetricJudgement = {
    metric,
    unit: UNIT[metric],
    runningHours: judged.length,
    hardHours: hard.length,
    lowHours: low.length,
    baselineMedian: baselineMedian === null ? null : round(baselineMedian),
    ratio: null,
    findings: [],
    notJudged: null,
  };
  if (base.length === 0 && judged.length === 0) return { ...out, notJudged: 'no-emission-data' };
  if (judged.length < r.minJudgedHours) return { ...out, notJudged: 'too-few-judged-hours' };
  const ratios = (hs: readonly EmissionEnergyHour[]) => hs.map((h) => valueOf(h, metric)! / h.energyKwh!);
  const b = robustBaseline(ratios(base), { minPoints: r.minBaselineHours, minMadShare: r.minMadShare });
  if ('gap' in b) return { ...out, notJudged: b.gap };
  if (hard.length >= r.minJudgedHours && low.length >= r.lowHoursShare * hard.length)
    out.findings.push('low-while-hard');
  const dayMedian = median(ratios(judged))!;
  const z = robustZ(dayMedian, b);
  out.ratio = {
    n: b.n,
    median: round(b.median),
    mad: round(b.mad),
    scale: round(b.scale),
    dayMedian: round(dayMedian),
    z: round(z, 2),
  };
  if (Math.abs(z) >= r.zThreshold) out.findings.push(z < 0 ? 'ratio-drift-low' : 'ratio-drift-high');
  return out;
}

/** The cross-check of one outlet's day: what it found, or why it could not judge. Pure. */
export function judgeProductionEmission(i: ProductionEmissionInput): ProductionEmissionJudgement {
  const r = i.rules;
  const baselineSpan = { start: i.day.start - r.baselineDays * DAY_MS, end: i.day.start };
  const head = {
    day: i.day,
    baseline: baselineSpan,
    energy: { baselineMedianKwh: null, runningKwh: null, hardKwh: null },
    metrics: [],
  };
  if (!r.enabled) return { status: 'not-judged', reason: 'disabled', ...head };
  const inSpan = (s: { start: number; end: number }) => (h: EmissionEnergyHour) =>
    h.start >= s.start && h.start < s.end;
  const baseline = i.hours.filter(inSpan(baselineSpan));
  const day = i.hours.filter(inSpan(i.day));
  // The usual production: the median energy of the baseline's hours in which production drew any.
  const producing = baseline.flatMap((h) => (h.energyKwh !== null && h.energyKwh > 0 ? [h.energyKwh] : []));
  const energyMedian = producing.length >= r.minBaselineHours ? median(producing) : null;
  if (energyMedian === null) return { status: 'not-judged', reason: 'no-production-baseline', ...head };
  const energy = { runningKwh: r.runningShare * energyMedian, hardKwh: r.hardShare * energyMedian };
  const energyHead = {
    baselineMedianKwh: round(energyMedian),
    runningKwh: round(energy.runningKwh),
    hardKwh: round(energy.hardKwh),
  };
  if (!day.some((h) => h.energyKwh !== null && h.energyKwh >= energy.runningKwh))
    return { status: 'not-judged', reason: 'production-not-running', ...head, energy: energyHead };
  const metrics = EMISSION_METRICS.map((m) => judgeMetric(m, baseline, day, energy, r));
  const flagged = metrics.some((m) => m.findings.length > 0);
  const judged = metrics.some((m) => m.notJudged === null);
  return {
    status: flagged ? 'flagged' : judged ? 'clear' : 'not-judged',
    reason: judged ? null : (metrics.find((m) => m.notJudged)?.notJudged ?? null),
    ...head,
    energy: energyHead,
    metrics,
  };
}

/** The deviation a flagged judgement opens (once: null when the log already holds it, or nothing was found). */
export function productionEmissionDeviation(
  i: ProductionEmissionInput,
  j: ProductionEmissionJudgement,
): DeviationOutput | null {
  if (j.status !== 'flagged' || i.previous !== null) return null;
  const dayHours = i.hours
    .filter((h) => h.start >= i.day.start && h.start < i.day.end)
    .sort((a, b) => a.start - b.start);
  const hardKwh = j.energy.hardKwh ?? Infinity;
  const findings = j.metrics.flatMap((m) => m.findings);
  return {
    type: 'deviation',
    id: productionEmissionDeviationId(i.enterpriseId, i.siteId, i.day.start),
    rule: PRODUCTION_EMISSION_RULE,
    state: 'opened',
    revision: 1,
    severity: i.rules.severity,
    enterpriseId: i.enterpriseId,
    siteId: i.siteId,
    subject: 'outlet',
    windowStart: i.day.start,
    windowEnd: i.day.end,
    // Low emissions while production runs are what falsification looks like: for supervisors first.
    suspectedFalsification: findings.some((f) => f !== 'ratio-drift-high'),
    inResumptionWindow: false,
    evidence: {
      confirmedAt: i.day.end,
      dayText: formatShanghai(i.day.start),
      baselineFrom: j.baseline.start,
      baselineTo: j.baseline.end,
      baselineDays: i.rules.baselineDays,
      energy: j.energy,
      metrics: j.metrics,
      findings: [...new Set(findings)],
      thresholds: {
        zThreshold: i.rules.zThreshold,
        hardShare: i.rules.hardShare,
        lowShare: i.rules.lowShare,
        lowHoursShare: i.rules.lowHoursShare,
        minBaselineHours: i.rules.minBaselineHours,
        minJudgedHours: i.rules.minJudgedHours,
      },
      hours: dayHours.map((h) => ({
        start: h.start,
        energyKwh: h.energyKwh === null ? null : round(h.energyKwh, 3),
        flowM3: h.flowM3 === null ? null : round(h.flowM3, 3),
        loadKg: h.loadKg === null ? null : round(h.loadKg, 6),
        hard: h.energyKwh !== null && h.energyKwh >= hardKwh,
      })),
    },
  };
}

/** The English words of a finding's numbers (the deviation's summary; the console words it in both languages). */
export function productionEmissionText(evidence: Record<string, unknown>): string {
  const metrics = Array.isArray(evidence.metrics) ? (evidence.metrics as MetricJudgement[]) : [];
  const parts = metrics.flatMap((m) => {
    const out: string[] = [];
    if (m.findings.includes('low-while-hard'))
      out.push(
        `${m.metric} below ${Math.round(Number((evidence.thresholds as { lowShare?: number })?.lowShare ?? 0) * 100)} % of its usual ${m.baselineMedian} ${m.unit} in ${m.lowHours} of ${m.hardHours} hours of hard production`,
      );
    if (m.ratio && m.findings.some((f) => f.startsWith('ratio-drift')))
      out.push(
        `${m.metric} per kWh ${m.ratio.dayMedian} against a ${String(evidence.baselineDays)}-day median of ${m.ratio.median} (MAD ${m.ratio.mad}): robust z ${m.ratio.z}`,
      );
    return out;
  });
  return `${String(evidence.dayText).slice(0, 10)}: ${parts.join('; ')}`;
}
