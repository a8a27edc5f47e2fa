// Every threshold of the engine, with the documented defaults (README.md lists them all).
import { SHANGHAI_OFFSET_MINUTES } from './calendar.js';
import type { Severity } from './model.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

export interface AggregationConfig {
  /** Gas hourly mean is valid when valid minute data cover at least this many minutes of the hour. */
  minCoverageMinutes: number;
  /** Daily mean is valid with at least this many valid hourly means. */
  minValidHoursPerDay: number;
  /** An aggregate's flag is `N` when at least this share of its inputs were `N`. */
  normalFlagShare: number;
  /** Default length (s) of one minute-data value when the reading has no `periodSeconds`. */
  defaultMinutePeriodSeconds: number;
  /** Water: flow factor used to weight the daily mean. */
  flowFactor: string;
}

export interface WindowRuleConfig {
  enabled: boolean;
  /** Consecutive condition windows needed to open. */
  confirmWindows: number;
  /** Consecutive clear windows needed to resolve. */
  clearWindows: number;
  severity: Severity;
}

export interface RulesConfig {
  exceedance: WindowRuleConfig & {
    /** Severity by ratio to the limit: the first entry whose minRatio the ratio reaches; below all → `severity`. */
    severityByRatio: { minRatio: number; severity: Severity }[];
  };
  treatmentIdle: WindowRuleConfig & {
    windowMinutes: number;
    /** Production runs when its window energy is ≥ this share of its rated window energy. */
    productionShare: number;
    /** Treatment is idle when its window energy is < this share of its rated window energy. */
    treatmentShare: number;
    confirmWindowsInResumption: number;
    /** Interpolate a cumulative meter between readings at most this far apart. */
    maxInterpolationGapMs: number;
  };
  flatline: {
    enabled: boolean;
    minRealtimeDurationMs: number;
    minConsecutiveMinuteMeans: number;
    exemptFactors: string[];
    severity: Severity;
  };
  /**
   * Late start / early stop of treatment against production, judged on short meter steps (shares and interpolation
   * from `treatmentIdle`, scaled to the step). Windows are the start/stop occurrences.
   */
  treatmentTiming: WindowRuleConfig & {
    stepMinutes: number;
    /** Treatment may start at most this long after / stop at most this long before production. */
    maxLagMinutes: number;
    confirmWindowsInResumption: number;
  };
  zeroWhileRunning: {
    enabled: boolean;
    minDurationMs: number;
    flowFactors: string[];
    /** Also while a production meter of the outlet runs (not only while flow > 0). */
    duringProduction: boolean;
    severity: Severity;
  };
  outOfRange: { enabled: boolean; mayBeNegative: string[]; severity: Severity };
  offline: { enabled: boolean; cadenceMultiplier: number; minMs: number; severity: Severity };
  lowCapture: WindowRuleConfig & { minRate: number };
  faultFlag: { enabled: boolean; flags: string[]; minDurationMs: number; severity: Severity };
  manualFlag: { enabled: boolean; flags: string[]; severity: Severity };
  maintenanceOverrun: { enabled: boolean; flags: string[]; severity: Severity };
  o2NearAmbient: { enabled: boolean; thresholdPercent: number; minDurationMs: number; severity: Severity };
  clusteredBelowLimit: WindowRuleConfig & {
    lowerShareOfLimit: number;
    minShareOfHours: number;
    minValidHours: number;
  };
  inconsistentAggregate: WindowRuleConfig & { maxRelativeDifference: number };
  /**
   * The year-to-date emission load against the permitted annual load (许可排放量, `annual-load.ts`): `ahead` of the
   * permit pro rata (by more than `aheadMargin`, judged from day `aheadFromDay` of the year) opens a deviation of
   * `aheadSeverity`; above the permit, `exceededSeverity`.
   */
  annualLoad: {
    enabled: boolean;
    aheadMargin: number;
    aheadFromDay: number;
    aheadSeverity: Severity;
    exceededSeverity: Severity;
  };
  /**
   * Emissions against production (`production-emission.ts`): an outlet's hourly flow and load against its production
   * meters' energy, judged per Shanghai day against the `baselineDays` before it by median and MAD.
   */
  productionEmission: {
    enabled: boolean;
    baselineDays: number;
    /** Fewer baseline hours (production, or a metric's ratio) than this: not judged. */
    minBaselineHours: number;
    /** Fewer judged running (or hard) hours than this: not judged (low while hard: not found). */
    minJudgedHours: number;
    /** Production runs in an hour whose energy is ≥ this share of the baseline's median energy; runs hard at `hardShare`. */
    runningShare: number;
    hardShare: number;
    /** Emission low: below this share of its baseline median; found when ≥ `lowHoursShare` of the hard hours are. */
    lowShare: number;
    lowHoursShare: number;
    /** |robust z| of the day's median ratio at or above this is a drift. */
    zThreshold: number;
    /** Floor of the MAD as a share of the median (a constant baseline has MAD 0). */
    minMadShare: number;
    severity: Severity;
  };
  /**
   * Peers (`peers.ts`): each outlet's figures over the trailing `windowDays` against the other outlets of the same
   * process (the registry's `process`) with the same factor, by median and MAD.
   */
  peers: {
    enabled: boolean;
    windowDays: number;
    /** Fewer valid hours of a factor than this: its concentration, 折算 ratio and below-limit share are unknown. */
    minValidHours: number;
    /** "Just below the limit": a valid hour's value in [nearShare × limit, limit). */
    nearShare: number;
    /** Other outlets with the figure a comparison needs. */
    minPeers: number;
    zThreshold: number;
    /** Floors of the MAD: a share of the median, and per figure an absolute one (peers all equal, even all 0). */
    minMadShare: number;
    minMad: {
      concentration: number;
      'conversion-ratio': number;
      'below-limit-share': number;
      'maintenance-hours': number;
    };
    severity: Severity;
  };
  /**
   * Cross-device consistency (`cross-device.ts`), per flue-gas outlet and Shanghai day: O2, flow and temperature of
   * one stack against each other (hourly aggregates), and devices of one stack against each other per factor.
   */
  crossDevice: {
    enabled: boolean;
    /** Hours with valid O2 and flow (and temperature, for the ambient hours) the flue-gas sub-check needs. */
    minHours: number;
    /** O2 (%) at or above which, with the temperature at or below `ambientTemperature` (°C), the stack holds ambient air. */
    ambientO2: number;
    ambientTemperature: number;
    /** The stack discharges in an hour whose flow is > 0 and ≥ this share of the day's median flow. */
    flowingShare: number;
    /** Ambient-while-flowing hours that flag the day. */
    minAmbientHours: number;
    /** O2 flat: its hourly means' MAD at or below this (percentage points) … */
    o2FlatMad: number;
    /** … while the flow's robust coefficient of variation (1.4826 × MAD / median) is at or above this. */
    flowVariesCv: number;
    /** Two devices' hourly means disagree when they differ by more than max(relTolerance × the larger, absTolerance). */
    relTolerance: number;
    /** In the factor's unit; set per factor through `overrides.factors`. */
    absTolerance: number;
    /** Hours both devices reported that a pair needs to be judged. */
    minComparedHours: number;
    /** A pair is flagged when more than this share of its compared hours disagree. */
    disagreeShare: number;
    severity: Severity;
  };
}

export interface EngineConfig {
  /** Offset of local (display and calendar) time from UTC; Asia/Shanghai is +480. Days start at local midnight. */
  timezoneOffsetMinutes: number;
  /** Windows older than this (aligned down to the local day) are frozen and evicted; older readings are rejected. */
  latenessHorizonMs: number;
  /** Flags that make a value valid. */
  validFlags: string[];
  gas: AggregationConfig;
  water: AggregationConfig;
  conversion: { o2Factor: string; ambientO2Percent: number; o2CeilingPercent: number };
  /** Aggregate values, converted values and coverage are emitted rounded to this many significant digits. */
  aggregateSignificantDigits: number;
  /** Pollutants (monitored factors) besides those with a limit. */
  pollutantFactors: string[];
  resumption: { windowDays: number };
  rules: RulesConfig;
  /** Partial rule settings by enterprise id, site id and factor (applied in that order, later wins). */
  overrides: {
    enterprises: Record<string, DeepPartial<RulesConfig>>;
    sites: Record<string, DeepPartial<RulesConfig>>;
    factors: Record<string, DeepPartial<RulesConfig>>;
  };
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export const defaultConfig: EngineConfig = {
  timezoneOffsetMinutes: SHANGHAI_OFFSET_MINUTES,
  latenessHorizonMs: 48 * HOUR,
  validFlags: ['N'],
  gas: {
    minCoverageMinutes: 45,
    minValidHoursPerDay: 20,
    normalFlagShare: 0.75,
    defaultMinutePeriodSeconds: 60,
    flowFactor: 'a00000',
  },
  water: {
    minCoverageMinutes: 0,
    minValidHoursPerDay: 20,
    normalFlagShare: 0.75,
    defaultMinutePeriodSeconds: 60,
    flowFactor: 'w00000',
  },
  conversion: { o2Factor: 'a19001', ambientO2Percent: 21, o2CeilingPercent: 19.5 },
  aggregateSignificantDigits: 6,
  pollutantFactors: [
    'a21026',
    'a21002',
    'a34013',
    'a21005',
    'a24088',
    'w01018',
    'w21003',
    'w21011',
    'w21001',
    'w01012',
  ],
  resumption: { windowDays: 30 },
  rules: {
    exceedance: {
      enabled: true,
      confirmWindows: 1,
      clearWindows: 1,
      severity: 'minor',
      severityByRatio: [
        { minRatio: 2, severity: 'critical' },
        { minRatio: 1.5, severity: 'major' },
      ],
    },
    treatmentIdle: {
      enabled: true,
      windowMinutes: 15,
      productionShare: 0.2,
      treatmentShare: 0.1,
      confirmWindows: 2,
      confirmWindowsInResumption: 1,
      clearWindows: 2,
      severity: 'major',
      maxInterpolationGapMs: 5 * MIN,
    },
    flatline: {
      enabled: true,
      minRealtimeDurationMs: 60 * MIN,
      minConsecutiveMinuteMeans: 6,
      exemptFactors: [],
      severity: 'major',
    },
    treatmentTiming: {
      enabled: true,
      stepMinutes: 5,
      maxLagMinutes: 15,
      confirmWindows: 2,
      confirmWindowsInResumption: 1,
      clearWindows: 1,
      severity: 'minor',
    },
    zeroWhileRunning: {
      enabled: true,
      minDurationMs: 30 * MIN,
      flowFactors: ['a00000', 'w00000'],
      duringProduction: true,
      severity: 'major',
    },
    outOfRange: { enabled: true, mayBeNegative: ['a01012', 'a01013'], severity: 'minor' },
    offline: { enabled: true, cadenceMultiplier: 3, minMs: 10 * MIN, severity: 'minor' },
    lowCapture: { enabled: true, minRate: 0.9, confirmWindows: 3, clearWindows: 1, severity: 'minor' },
    faultFlag: { enabled: true, flags: ['D', 'B'], minDurationMs: HOUR, severity: 'minor' },
    manualFlag: { enabled: true, flags: ['S'], severity: 'major' },
    maintenanceOverrun: { enabled: true, flags: ['M'], severity: 'minor' },
    o2NearAmbient: { enabled: true, thresholdPercent: 19.5, minDurationMs: 30 * MIN, severity: 'major' },
    clusteredBelowLimit: {
      enabled: true,
      confirmWindows: 1,
      clearWindows: 1,
      severity: 'major',
      lowerShareOfLimit: 0.9,
      minShareOfHours: 0.9,
      minValidHours: 20,
    },
    inconsistentAggregate: {
      enabled: true,
      confirmWindows: 1,
      clearWindows: 1,
      severity: 'minor',
      maxRelativeDifference: 0.02,
    },
    annualLoad: {
      enabled: true,
      aheadMargin: 0,
      aheadFromDay: 15,
      aheadSeverity: 'minor',
      exceededSeverity: 'major',
    },
    productionEmission: {
      enabled: true,
      baselineDays: 30,
      minBaselineHours: 72,
      minJudgedHours: 6,
      runningShare: 0.2,
      hardShare: 0.8,
      lowShare: 0.5,
      lowHoursShare: 0.5,
      zThreshold: 3.5,
      minMadShare: 0.05,
      severity: 'minor',
    },
    peers: {
      enabled: true,
      windowDays: 30,
      minValidHours: 240,
      nearShare: 0.9,
      minPeers: 5,
      zThreshold: 3.5,
      minMadShare: 0.05,
      minMad: {
        concentration: 0.02,
        'conversion-ratio': 0.02,
        'below-limit-share': 0.02,
        'maintenance-hours': 4,
      },
      severity: 'minor',
    },
    crossDevice: {
      enabled: true,
      minHours: 12,
      ambientO2: 20,
      ambientTemperature: 40,
      flowingShare: 0.5,
      minAmbientHours: 3,
      o2FlatMad: 0.05,
      flowVariesCv: 0.25,
      relTolerance: 0.1,
      absTolerance: 1,
      minComparedHours: 12,
      disagreeShare: 0.5,
      severity: 'minor',
    },
  },
  overrides: { enterprises: {}, sites: {}, factors: {} },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `patch` replace those of `base`. */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

/** Builds a full configuration from a partial one over the defaults. */
export function makeConfig(patch: DeepPartial<EngineConfig> = {}): EngineConfig {
  return deepMerge(defaultConfig, patch);
}

/** Rule settings for one enterprise / site / factor, with the overrides applied. */
export function rulesFor(
  config: EngineConfig,
  enterpriseId: string,
  siteId: string,
  factor?: string,
): RulesConfig {
  let r = config.rules;
  const e = config.overrides.enterprises[enterpriseId];
  if (e) r = deepMerge(r, e);
  const s = config.overrides.sites[siteId];
  if (s) r = deepMerge(r, s);
  const f = factor === undefined ? undefined : config.overrides.factors[factor];
  if (f) r = deepMerge(r, f);
  return r;
}
