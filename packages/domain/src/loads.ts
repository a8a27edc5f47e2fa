// Emission loads (排放量, domain-rules §6a): per outlet and factor, per hour, day and month (Asia/Shanghai), the
// mass emitted, from the hourly mean concentration × the hour's flow volume, beside the logger's own `-Cou` values
// as a recalculation check, and the year-to-date load against the permitted annual load (许可排放量).
//
// Units: concentration × volume → kg. Gas: mg/m³ × m³ = mg → × 1e-6 kg (standard dry flow, the measured — not
// the converted 折算 — concentration). Water: mg/L × m³ = g → × 1e-3 kg. µg units scale by a further 1e-3.
// The hour's volume (m³) is the flow factor's hourly `Cou` when the logger sends it (HJ 212 fixes m³ for
// cumulative flow), else the hourly mean flow rate × 1 h in its unit (m³/s, m³/min, m³/h, L/s, L/min, L/h).
//
// Invalid hours (the bureau's default rule, domain-rules §6a "excluded and counted"): an hour adds to the load
// only when both its concentration mean and its flow are valid (the analyzer's hourly validity: flag `N`, enough
// coverage). An hour with either invalid is *invalid*; an hour without a concentration or a flow at all is
// *missing*. Invalid and missing hours add nothing and are counted beside every total, so a low total with many
// excluded hours is visible as such; nothing is substituted.
//
// Recalculation check: over the hours that have both a valid computed load and a valid (`N`) reported `Cou`, the
// two sums are compared; |reported − computed| ÷ computed above the tolerance (default 10 %) is flagged.
import { monthRange, shanghaiDate, shanghaiMidnight, startOfShanghaiDay } from './calendar.js';
import { failsRecalculation, relativeDifference } from './aggregate.js';
import { HOUR_MS } from './time.js';

/** Hours of flow per unit of a flow rate: the m³ one hour of the rate carries. */
const M3_PER_HOUR_OF_RATE: Readonly<Record<string, number>> = Object.freeze({
  'm3/s': 3600,
  'm3/min': 60,
  'm3/h': 1,
  'L/s': 3.6,
  'L/min': 0.06,
  'L/h': 0.001,
});

/** kg per (concentration unit × m³). */
const KG_PER_UNIT_M3: Readonly<Record<string, number>> = Object.freeze({
  'mg/m3': 1e-6,
  'ug/m3': 1e-9,
  'mg/L': 1e-3,
  'ug/L': 1e-6,
});

/** `m³/h` and `m3/h` are the same unit; `l/s` is `L/s`. */
function unitKey(unit: string): string {
  return unit.trim().replace(/³/g, '3').replace(/^l\//, 'L/').replace(/μ|µ/g, 'u');
}

/** Whether a concentration unit has a mass load (pH, dilution multiples and ngTEQ have none here). */
export function hasLoadUnit(concentrationUnit: string): boolean {
  return unitKey(concentrationUnit) in KG_PER_UNIT_M3;
}

/** The m³ that one hour at a mean flow rate carries; null when the rate's unit is missing or not a flow rate. */
export function hourlyVolumeM3(meanRate: number, unit: string | null | undefined): number | null {
  if (unit === null || unit === undefined) return null;
  const f = M3_PER_HOUR_OF_RATE[unitKey(unit)];
  return f === undefined ? null : meanRate * f;
}

/** Load in kg of a concentration over a volume (m³); throws RangeError for a unit without a mass load. */
export function loadKg(concentration: number, concentrationUnit: string, volumeM3: number): number {
  const f = KG_PER_UNIT_M3[unitKey(concentrationUnit)];
  if (f === undefined) throw new RangeError(`no mass load for concentration unit ${concentrationUnit}`);
  return concentration * volumeM3 * f;
}

/** One hourly value and whether it is valid. */
export interface HourValue {
  value: number | null;
  valid: boolean;
}

/** The flow of one hour, as the logger and the analyzer give it. */
export interface HourFlow {
  /** The flow factor's hourly `Cou` (m³). */
  cou?: HourValue;
  /** The analyzer's hourly mean flow rate and the rate's unit as sent. */
  mean?: HourValue & { unit: string | null };
}

/** The hour's flow volume (m³): the `Cou` when sent, else the mean rate × 1 h; undefined when there is none. */
export function hourFlowVolume(flow: HourFlow): HourValue | undefined {
  if (flow.cou) return flow.cou.value === null ? { value: null, valid: false } : flow.cou;
  if (!flow.mean) return undefined;
  const v = flow.mean.value === null ? null : hourlyVolumeM3(flow.mean.value, flow.mean.unit);
  return { value: v, valid: flow.mean.valid && v !== null };
}

export interface LoadHourInput {
  /** Start of the hour (epoch ms). */
  start: number;
  /** Hourly mean concentration (measured, not converted). */
  concentration?: HourValue;
  /** The hour's flow volume in m³ (`hourFlowVolume`). */
  flowM3?: HourValue;
  /** The logger's `Cou` of the factor for the hour (kg); valid when flagged `N`. */
  reported?: HourValue;
}

export type LoadHourStatus = 'valid' | 'invalid' | 'missing';

export interface HourLoad {
  start: number;
  status: LoadHourStatus;
  /** Concentration × flow (kg); null unless the hour is valid. */
  computedKg: number | null;
  /** The logger's valid `Cou` (kg); null when not sent or not valid. */
  reportedKg: number | null;
}

export function hourLoad(h: LoadHourInput, concentrationUnit: string): HourLoad {
  const reportedKg = h.reported?.valid && h.reported.value !== null ? h.reported.value : null;
  const base = { start: h.start, reportedKg };
  if (!h.concentration || !h.flowM3) return { ...base, status: 'missing', computedKg: null };
  const c = h.concentration;
  const q = h.flowM3;
  if (!c.valid || c.value === null || !q.valid || q.value === null)
    return { ...base, status: 'invalid', computedKg: null };
  return { ...base, status: 'valid', computedKg: loadKg(c.value, concentrationUnit, q.value) };
}

export interface LoadCheck {
  /** Hours with both a valid computed load and a valid reported `Cou`. */
  hours: number;
  computedKg: number;
  reportedKg: number;
  /** |reported − computed| ÷ |computed| over those hours. */
  relativeDifference: number;
  /** Above the tolerance. */
  flagged: boolean;
}

export interface LoadTotal {
  /** [start, end) epoch ms. */
  start: number;
  end: number;
  /** Sum of the valid hours' computed loads (kg). */
  computedKg: number;
  /** Sum of the valid reported `Cou` (kg); null when the logger sent none in the period. */
  reportedKg: number | null;
  /** Whole hours in the period. */
  hours: number;
  validHours: number;
  invalidHours: number;
  /** Hours of the period without a concentration or a flow (including hours with no input at all). */
  missingHours: number;
  /** The recalculation check; null when no hour has both figures. */
  check: LoadCheck | null;
}

export const DEFAULT_LOAD_TOLERANCE = 0.1;

/**
 * The running sums of a period's hours, hour by hour: what `sumLoads` adds up, kept so that a total can be carried
 * forward (the annual-load round adds only the hours since its last round to the year's sums). Adding the same
 * hours in the same order gives the same sums, to the last bit, however the hours are split into runs.
 */
export interface LoadSums {
  computedKg: number;
  /** null until an hour has a valid reported `Cou`. */
  reportedKg: number | null;
  validHours: number;
  invalidHours: number;
  /** The recalculation check's hours and sums (hours with both figures). */
  checkHours: number;
  checkComputedKg: number;
  checkReportedKg: number;
}

export const NO_LOAD_SUMS: Readonly<LoadSums> = Object.freeze({
  computedKg: 0,
  reportedKg: null,
  validHours: 0,
  invalidHours: 0,
  checkHours: 0,
  checkComputedKg: 0,
  checkReportedKg: 0,
});

/**
 * `sums` plus the hours starting in [start, end), in the order given (hours outside are ignored; of an hour given
 * twice the later replaces the earlier, in the earlier's place).
 */
export function addHourLoads(
  sums: Readonly<LoadSums>,
  hours: readonly HourLoad[],
  start: number,
  end: number,
): LoadSums {
  const byHour = new Map<number, HourLoad>();
  for (const h of hours) if (h.start >= start && h.start < end) byHour.set(h.start, h);
  const s: LoadSums = { ...sums };
  for (const h of byHour.values()) {
    if (h.status === 'valid') s.validHours += 1;
    else if (h.status === 'invalid') s.invalidHours += 1;
    if (h.computedKg !== null) s.computedKg += h.computedKg;
    if (h.reportedKg !== null) s.reportedKg = (s.reportedKg ?? 0) + h.reportedKg;
    if (h.computedKg !== null && h.reportedKg !== null) {
      s.checkHours += 1;
      s.checkComputedKg += h.computedKg;
      s.checkReportedKg += h.reportedKg;
    }
  }
  return s;
}

/** The total of [start, end) whose hours add up to `sums` (the hours without a valid or invalid status are missing). */
export function loadTotalOf(
  sums: Readonly<LoadSums>,
  start: number,
  end: number,
  tolerance = DEFAULT_LOAD_TOLERANCE,
): LoadTotal {
  const span = Math.max(0, Math.floor((end - start) / HOUR_MS));
  return {
    start,
    end,
    computedKg: sums.computedKg,
    reportedKg: sums.reportedKg,
    hours: span,
    validHours: sums.validHours,
    invalidHours: sums.invalidHours,
    missingHours: Math.max(0, span - sums.validHours - sums.invalidHours),
    check:
      sums.checkHours === 0
        ? null
        : {
            hours: sums.checkHours,
            computedKg: sums.checkComputedKg,
            reportedKg: sums.checkReportedKg,
            relativeDifference: relativeDifference(sums.checkReportedKg, sums.checkComputedKg),
            flagged: failsRecalculation(sums.checkReportedKg, sums.checkComputedKg, tolerance),
          },
  };
}

/** The total of the hours starting in [start, end) (hours outside are ignored; later duplicates replace). */
export function sumLoads(
  hours: readonly HourLoad[],
  start: number,
  end: number,
  tolerance = DEFAULT_LOAD_TOLERANCE,
): LoadTotal {
  return loadTotalOf(addHourLoads(NO_LOAD_SUMS, hours, start, end), start, end, tolerance);
}

export type LoadGranularity = 'hour' | 'day' | 'month';

/** Start of the Shanghai period (hour, day, month) holding `t`, and the next one's start. */
export function loadPeriod(t: number, g: LoadGranularity): { start: number; end: number } {
  if (g === 'hour') {
    const start = Math.floor(t / HOUR_MS) * HOUR_MS;
    return { start, end: start + HOUR_MS };
  }
  if (g === 'day') {
    const start = startOfShanghaiDay(t);
    return { start, end: start + 24 * HOUR_MS };
  }
  const r = monthRange(shanghaiDate(t).slice(0, 7));
  return { start: r.from.getTime(), end: r.to.getTime() };
}

/**
 * The totals of every hour, day or month that overlaps [from, to), each clipped to [from, to) (a range starting
 * mid-month gives that month's part). Periods without any hour are listed too (all hours missing).
 */
export function loadTotals(
  hours: readonly HourLoad[],
  g: LoadGranularity,
  from: number,
  to: number,
  tolerance = DEFAULT_LOAD_TOLERANCE,
): LoadTotal[] {
  const out: LoadTotal[] = [];
  let t = from;
  while (t < to) {
    const p = loadPeriod(t, g);
    const start = Math.max(p.start, from);
    const end = Math.min(p.end, to);
    out.push(sumLoads(hours, start, end, tolerance));
    t = p.end;
  }
  return out;
}

export type PermitState = 'ok' | 'ahead' | 'exceeded';

export interface PermitProgress {
  permitKg: number;
  ytdKg: number;
  /** Share of the Shanghai calendar year elapsed at `asOf` (0–1). */
  elapsedShare: number;
  /** permit × elapsed share. */
  proRataKg: number;
  /** `exceeded` above the permit; `ahead` above the pro-rata share (× (1 + margin)); else `ok`. */
  state: PermitState;
}

/** The Shanghai calendar year holding `t`: [1 January 00:00, next 1 January 00:00). */
export function shanghaiYear(t: number): { year: number; start: number; end: number } {
  const year = Number(shanghaiDate(t).slice(0, 4));
  return {
    year,
    start: shanghaiMidnight(`${year}-01-01`).getTime(),
    end: shanghaiMidnight(`${year + 1}-01-01`).getTime(),
  };
}

/**
 * The year-to-date load against the permitted annual load (许可排放量), pro rata of the year elapsed at `asOf`.
 * `margin` (default 0) lets the pro-rata share run that much ahead before it is `ahead`.
 */
export function permitProgress(ytdKg: number, permitKg: number, asOf: number, margin = 0): PermitProgress {
  const y = shanghaiYear(asOf);
  const elapsedShare = Math.min(1, Math.max(0, (asOf - y.start) / (y.end - y.start)));
  const proRataKg = permitKg * elapsedShare;
  const state: PermitState =
    ytdKg > permitKg ? 'exceeded' : ytdKg > proRataKg * (1 + margin) ? 'ahead' : 'ok';
  return { permitKg, ytdKg, elapsedShare, proRataKg, state };
}
