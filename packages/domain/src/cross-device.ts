// The cross-device consistency check (大数据分析: 多设备/多参数一致性), pure, per flue-gas outlet and Shanghai day.
// Two sub-checks, each its own deviation (suspected falsification, for supervisors first):
// - flue-gas: O2, flow and temperature of one stack must fit together. From the day's valid hourly aggregates:
//   · ambient-while-flowing: hours in which the flow says the stack discharges (flow ≥ `flowingShare` × the day's
//     median flow, and > 0) while the stack temperature is at ambient (≤ `ambientTemperature` °C) and O2 is air's
//     (≥ `ambientO2` %): nothing burns there, so the flow (or the stack the data claim to come from) is not real.
//     Flagged at `minAmbientHours` such hours.
//   · o2-flat-while-flow-varies: the O2's MAD over the day at or below `o2FlatMad` percentage points while the flow's
//     robust coefficient of variation (1.4826 × MAD / median) is at or above `flowVariesCv`: real combustion's excess
//     air moves with the load, a constant O2 under a widely varying flow is a fixed or simulated analyser.
//   Judged with at least `minHours` hours holding valid O2 and flow (ambient hours also need the temperature).
// - devices: two devices (data loggers, analysers) of the same stack report the same factor. Per hour each device's
//   mean of its valid (flag N) minute values; an hour disagrees when |a − b| > max(`relTolerance` × max(|a|, |b|),
//   `absTolerance`) (the factor's unit; per factor through the engine's factor overrides). Flagged when more than
//   `disagreeShare` of at least `minComparedHours` compared hours disagree: most of a day.
// Every figure is one row of evidence: the figure, this outlet's (or device's) value, what it was compared with, the
// threshold, the verdict, in words in both languages.
import { formatShanghai } from './calendar.js';
import type { RulesConfig } from './config.js';
import { deviationId } from './deviation-records.js';
import type { DeviationOutput } from './model.js';
import { MAD_TO_SIGMA, mad, median } from './robust.js';

export const CROSS_DEVICE_RULE = 'cross-device';

/** The flue-gas factors the first sub-check reads (HJ 212-2017 codes). */
export const FLUE_GAS_FACTORS = { o2: 'a19001', flow: 'a00000', temperature: 'a01012' } as const;

export type CrossDeviceRules = RulesConfig['crossDevice'];
export type CrossDeviceCheck = 'flue-gas' | 'devices';
export const CROSS_DEVICE_CHECKS: readonly CrossDeviceCheck[] = ['flue-gas', 'devices'];

/** One hour of a stack: the valid hourly means (null: missing or invalid). */
export interface FlueGasHour {
  start: number;
  o2: number | null;
  flow: number | null;
  temperature: number | null;
}

/** One figure of a judgement, as the evidence shows it. */
export interface CrossDeviceFigure {
  figure: 'ambient-while-flowing-hours' | 'o2-mad' | 'flow-cv' | 'device-disagreement';
  factor: string | null;
  /** devices: the device whose value is `value`, and the one compared with (`other`). */
  device: string | null;
  otherDevice: string | null;
  /** This outlet's (this device's) figure; devices: its median hourly value. */
  value: number | null;
  /** What it was compared with: the other device's median hourly value; null for the flue-gas figures. */
  other: number | null;
  /** The threshold and which side of it is suspicious. */
  threshold: { value: number; side: 'at-least' | 'at-most' | 'tolerance' };
  /** devices: hours compared and hours disagreeing; flue gas: hours judged. */
  hours: { judged: number; off: number | null };
  flagged: boolean;
  zh: string;
  en: string;
}

export type CrossDeviceNotJudged =
  'disabled' | 'not-gas' | 'single-device' | 'no-data' | 'too-few-hours' | 'data-unavailable';

export interface CrossDeviceJudgement {
  check: CrossDeviceCheck;
  status: 'flagged' | 'clear' | 'not-judged';
  reason: CrossDeviceNotJudged | null;
  findings: string[];
  figures: CrossDeviceFigure[];
  /** flue gas: the starts of the ambient-while-flowing hours; devices: of the disagreeing hours (any pair). */
  offHours: number[];
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;
const fmt = (v: number | null, digits = 2) => (v === null ? '—' : String(round(v, digits)));

function notJudged(check: CrossDeviceCheck, reason: CrossDeviceNotJudged): CrossDeviceJudgement {
  return { check, status: 'not-judged', reason, findings: [], figures: [], offHours: [] };
}

/** The flue-gas sub-check of one day's hours. */
export function judgeFlueGas(
  hours: readonly FlueGasHour[],
  r: Pick<
    CrossDeviceRules,
    | 'minHours'
    | 'ambientO2'
    | 'ambientTemperature'
    | 'flowingShare'
    | 'minAmbientHours'
    | 'o2FlatMad'
    | 'flowVariesCv'
  >,
): CrossDeviceJudgement {
  if (hours.length === 0) return notJudged('flue-gas', 'no-data');
  const both = hours.filter((h) => h.o2 !== null && h.flow !== null);
  if (both.length < r.minHours) return notJudged('flue-gas', 'too-few-hours');
  const flows = both.map((h) => h.flow!);
  const o2s = both.map((h) => h.o2!);
  const flowMedian = median(flows)!;
  const flowMad = mad(flows)!;
  const o2Mad = mad(o2s)!;
  const flowCv = flowMedian > 0 ? (MAD_TO_SIGMA * flowMad) / flowMedian : null;
  const figures: CrossDeviceFigure[] = [];
  const findings: string[] = [];

  // Ambient while flowing: needs the temperature too.
  const withT = both.filter((h) => h.temperature !== null);
  let offHours: number[] = [];
  if (withT.length >= r.minHours) {
    const flowing = (h: FlueGasHour) => h.flow! > 0 && h.flow! >= r.flowingShare * flowMedian;
    offHours = withT
      .filter((h) => flowing(h) && h.temperature! <= r.ambientTemperature && h.o2! >= r.ambientO2)
      .map((h) => h.start);
    const flagged = offHours.length >= r.minAmbientHours;
    if (flagged) findings.push('ambient-while-flowing');
    const n = offHours.length;
    figures.push({
      figure: 'ambient-while-flowing-hours',
      factor: null,
      device: null,
      otherDevice: null,
      value: n,
      other: null,
      threshold: { value: r.minAmbientHours, side: 'at-least' },
      hours: { judged: withT.length, off: n },
      flagged,
      zh:
        `${withT.length} 个小时中有 ${n} 个小时烟气流量显示在排放（≥ 当日流量中位数 ${fmt(flowMedian)} 的 ` +
        `${Math.round(r.flowingShare * 100)}%），而烟温 ≤ ${r.ambientTemperature} °C、氧含量 ≥ ${r.ambientO2}%（接近环境空气）` +
        (flagged ? `，达到 ${r.minAmbientHours} 小时，工况不可能` : '，未达到判定小时数'),
      en:
        `${n} of ${withT.length} hours with the flow saying the stack discharges (≥ ${Math.round(r.flowingShare * 100)} % ` +
        `of the day's median flow ${fmt(flowMedian)}) while the stack temperature was ≤ ${r.ambientTemperature} °C and ` +
        `O2 ≥ ${r.ambientO2} % (ambient air)` +
        (flagged
          ? `: at least ${r.minAmbientHours} hours, physically implausible`
          : ': fewer than the hours that flag'),
    });
  }

  // O2 flat while the flow varies widely.
  const o2Flat = o2Mad <= r.o2FlatMad;
  const flowVaries = flowCv !== null && flowCv >= r.flowVariesCv;
  const flat = o2Flat && flowVaries;
  if (flat) findings.push('o2-flat-while-flow-varies');
  figures.push({
    figure: 'o2-mad',
    factor: FLUE_GAS_FACTORS.o2,
    device: null,
    otherDevice: null,
    value: round(o2Mad),
    other: null,
    threshold: { value: r.o2FlatMad, side: 'at-most' },
    hours: { judged: both.length, off: null },
    flagged: flat,
    zh:
      `氧含量小时均值的中位数绝对偏差 ${fmt(o2Mad, 3)} 个百分点（中位数 ${fmt(median(o2s))}%）` +
      (o2Flat ? `，不超过 ${r.o2FlatMad}，几乎恒定` : `，高于 ${r.o2FlatMad}，随工况变化`),
    en:
      `O2 hourly means' median absolute deviation ${fmt(o2Mad, 3)} percentage points (median ${fmt(median(o2s))} %)` +
      (o2Flat
        ? `: at most ${r.o2FlatMad}, practically constant`
        : `: above ${r.o2FlatMad}, moving with the load`),
  });
  figures.push({
    figure: 'flow-cv',
    factor: FLUE_GAS_FACTORS.flow,
    device: null,
    otherDevice: null,
    value: flowCv === null ? null : round(flowCv),
    other: null,
    threshold: { value: r.flowVariesCv, side: 'at-least' },
    hours: { judged: both.length, off: null },
    flagged: flat,
    zh:
      `烟气流量的稳健变异系数（1.4826 × MAD ÷ 中位数）${fmt(flowCv, 3)}（中位数 ${fmt(flowMedian)}）` +
      (flowVaries ? `，不低于 ${r.flowVariesCv}，变化很大` : `，低于 ${r.flowVariesCv}`) +
      (flat ? '：流量大幅变化而氧含量恒定，氧含量数据可疑' : ''),
    en:
      `flow's robust coefficient of variation (1.4826 × MAD / median) ${fmt(flowCv, 3)} (median ${fmt(flowMedian)})` +
      (flowVaries ? `: at least ${r.flowVariesCv}, varying widely` : `: below ${r.flowVariesCv}`) +
      (flat ? '; a constant O2 under a widely varying flow is not a real analyser reading' : ''),
  });
  return {
    check: 'flue-gas',
    status: findings.length > 0 ? 'flagged' : 'clear',
    reason: null,
    findings,
    figures,
    offHours: findings.includes('ambient-while-flowing') ? offHours : [],
  };
}

/** One minute value of a device (the `emission` measurement's minute data). */
export interface DeviceMinute {
  device: string;
  factor: string;
  time: number;
  value: number;
  /** The data flag; only `N` (or none) is valid. */
  flag: string | null;
}

/** Each device's hourly mean per factor of its valid minute values: factor → device → hour start → mean. */
export function deviceHourMeans(
  minutes: readonly DeviceMinute[],
): Map<string, Map<string, Map<number, number>>> {
  const sums = new Map<string, Map<string, Map<number, { s: number; n: number }>>>();
  for (const m of minutes) {
    if ((m.flag !== null && m.flag !== 'N') || !Number.isFinite(m.value)) continue;
    const hour = m.time - (((m.time % 3_600_000) + 3_600_000) % 3_600_000);
    let byDevice = sums.get(m.factor);
    if (!byDevice) sums.set(m.factor, (byDevice = new Map()));
    let byHour = byDevice.get(m.device);
    if (!byHour) byDevice.set(m.device, (byHour = new Map()));
    const acc = byHour.get(hour) ?? { s: 0, n: 0 };
    acc.s += m.value;
    acc.n++;
    byHour.set(hour, acc);
  }
  const out = new Map<string, Map<string, Map<number, number>>>();
  for (const [factor, byDevice] of sums) {
    const d = new Map<string, Map<number, number>>();
    for (const [device, byHour] of byDevice)
      d.set(device, new Map([...byHour].map(([h, a]) => [h, a.s / a.n])));
    out.set(factor, d);
  }
  return out;
}

/** Whether two values of one hour disagree beyond the tolerance. */
export function devicesDisagree(
  a: number,
  b: number,
  r: Pick<CrossDeviceRules, 'relTolerance' | 'absTolerance'>,
): boolean {
  return Math.abs(a - b) > Math.max(r.relTolerance * Math.max(Math.abs(a), Math.abs(b)), r.absTolerance);
}

/**
 * The devices sub-check of one day: every pair of devices reporting the same factor, hour by hour. `rulesOf` gives
 * the factor's rules (the engine's factor overrides set a tolerance per factor).
 */
export function judgeDevices(
  minutes: readonly DeviceMinute[],
  devices: readonly string[],
  rulesOf: (
    factor: string,
  ) => Pick<CrossDeviceRules, 'relTolerance' | 'absTolerance' | 'minComparedHours' | 'disagreeShare'>,
): CrossDeviceJudgement {
  if (devices.length < 2) return notJudged('devices', 'single-device');
  const means = deviceHourMeans(minutes);
  const figures: CrossDeviceFigure[] = [];
  const off = new Set<number>();
  let compared = false;
  for (const [factor, byDevice] of [...means].sort(([a], [b]) => a.localeCompare(b))) {
    const ds = devices.filter((d) => byDevice.has(d));
    const r = rulesOf(factor);
    for (let i = 0; i < ds.length; i++)
      for (let j = i + 1; j < ds.length; j++) {
        const a = byDevice.get(ds[i]!)!;
        const b = byDevice.get(ds[j]!)!;
        const hours = [...a.keys()].filter((h) => b.has(h)).sort((x, y) => x - y);
        if (hours.length < r.minComparedHours) continue;
        compared = true;
        const offHours = hours.filter((h) => devicesDisagree(a.get(h)!, b.get(h)!, r));
        const flagged = offHours.length > r.disagreeShare * hours.length;
        if (flagged) for (const h of offHours) off.add(h);
        const va = median(hours.map((h) => a.get(h)!))!;
        const vb = median(hours.map((h) => b.get(h)!))!;
        const tol = `max(${Math.round(r.relTolerance * 100)}%, ${r.absTolerance})`;
        figures.push({
          figure: 'device-disagreement',
          factor,
          device: ds[i]!,
          otherDevice: ds[j]!,
          value: round(va),
          other: round(vb),
          threshold: { value: r.relTolerance, side: 'tolerance' },
          hours: { judged: hours.length, off: offHours.length },
          flagged,
          zh:
            `${factor}：设备 ${ds[i]} 与 ${ds[j]} 同时有数据的 ${hours.length} 个小时中，${offHours.length} 个小时相差超过容差 ${tol}` +
            `（小时均值中位数 ${fmt(va)} 对 ${fmt(vb)}）` +
            (flagged ? `，超过 ${Math.round(r.disagreeShare * 100)}% 的小时不一致` : '，基本一致'),
          en:
            `${factor}: devices ${ds[i]} and ${ds[j]} differ beyond the tolerance ${tol} in ${offHours.length} of the ` +
            `${hours.length} hours both reported (median hourly values ${fmt(va)} against ${fmt(vb)})` +
            (flagged
              ? `: more than ${Math.round(r.disagreeShare * 100)} % of the hours disagree`
              : ': in agreement'),
        });
      }
  }
  if (!compared) return notJudged('devices', means.size === 0 ? 'no-data' : 'too-few-hours');
  const flagged = figures.some((f) => f.flagged);
  return {
    check: 'devices',
    status: flagged ? 'flagged' : 'clear',
    reason: null,
    findings: flagged ? ['devices-disagree'] : [],
    figures,
    offHours: [...off].sort((a, b) => a - b),
  };
}

// ---- the deviation of an outlet, sub-check and day ----

/** One deviation per outlet, sub-check and Shanghai day. */
export function crossDeviceDeviationId(
  enterpriseId: string,
  siteId: string,
  check: CrossDeviceCheck,
  dayStart: number,
): string {
  return deviationId(enterpriseId, siteId, CROSS_DEVICE_RULE, check, dayStart);
}

export interface CrossDeviceDeviationInput {
  enterpriseId: string;
  siteId: string;
  day: { start: number; end: number };
  judgement: CrossDeviceJudgement;
  /** The deviation of this outlet, sub-check and day as the log holds it (null: none yet). */
  previous: { revision: number } | null;
  rules: CrossDeviceRules;
}

/** The deviation a flagged sub-check opens (once: null when the log holds it, or nothing was flagged). */
export function crossDeviceDeviation(i: CrossDeviceDeviationInput): DeviationOutput | null {
  const j = i.judgement;
  if (j.status !== 'flagged' || i.previous !== null) return null;
  const r = i.rules;
  return {
    type: 'deviation',
    id: crossDeviceDeviationId(i.enterpriseId, i.siteId, j.check, i.day.start),
    rule: CROSS_DEVICE_RULE,
    state: 'opened',
    revision: 1,
    severity: r.severity,
    enterpriseId: i.enterpriseId,
    siteId: i.siteId,
    subject: j.check,
    windowStart: i.day.start,
    windowEnd: i.day.end,
    // Readings of one stack that cannot all be true: what falsification looks like, for supervisors first.
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      confirmedAt: i.day.end,
      check: j.check,
      dayText: formatShanghai(i.day.start),
      findings: j.findings,
      figures: j.figures,
      offHours: j.offHours,
      thresholds:
        j.check === 'flue-gas'
          ? {
              minHours: r.minHours,
              ambientO2: r.ambientO2,
              ambientTemperature: r.ambientTemperature,
              flowingShare: r.flowingShare,
              minAmbientHours: r.minAmbientHours,
              o2FlatMad: r.o2FlatMad,
              flowVariesCv: r.flowVariesCv,
            }
          : {
              relTolerance: r.relTolerance,
              absTolerance: r.absTolerance,
              minComparedHours: r.minComparedHours,
              disagreeShare: r.disagreeShare,
            },
    },
  };
}

/** The English words of a finding (the deviation's summary; the console words it in both languages). */
export function crossDeviceText(evidence: Record<string, unknown>): string {
  const figures = Array.isArray(evidence.figures)
    ? (evidence.figures as { flagged?: boolean; en?: string }[])
    : [];
  const flagged = figures.filter((f) => f.flagged).map((f) => f.en);
  return `${String(evidence.dayText).slice(0, 10)} ${String(evidence.check)}: ${flagged.join('; ')}`;
}
