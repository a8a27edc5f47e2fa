// Input and output model of the rule engine. Everything here is plain JSON-serialisable data.

/** HJ 212 data flag (`N F M S D C T B`) or an extension. */
export type DataFlag = string;

export type ReadingKind = 'emission' | 'energy' | 'status';
export type ReadingInterval = 'realtime' | 'minute' | 'hour' | 'day';

export interface Measurement {
  /** HJ 212-2017 factor code (`a21026`), an energy quantity (`energy_kwh`, `power_kw`, `running`) or a facility code (`SB1`). */
  factor: string;
  /** Statistic: `Rtd`, `Avg`, `Min`, `Max`, `Cou`, `ZsRtd`, `ZsAvg`, `RS`, … */
  stat: string;
  value: number;
  unit?: string;
  flag?: DataFlag;
}

/** Everything one device reported for one data time and interval (one `telemetry.v1` event). */
export interface Reading {
  eventId: string;
  enterpriseId: string;
  siteId: string;
  deviceId: string;
  kind: ReadingKind;
  interval: ReadingInterval;
  /** Length of the interval a minute/hour/day value covers, in seconds (HJ 212 minute data are often 600 s). */
  periodSeconds?: number;
  /** Epoch ms UTC: interval start for aggregates, acquisition instant for real-time and status data. */
  dataTime: number;
  measurements: Measurement[];
}

export type EnterpriseStatus = 'shutdown' | 'resuming' | 'normal';

export interface EnterpriseView {
  id: string;
  /** Calendar date `YYYY-MM-DD` (Asia/Shanghai) work resumed; starts the resumption window. */
  resumptionDate?: string;
  /** Status changes, `from` as `YYYY-MM-DD`. The latest `resuming` entry gives the resumption date when none is set. */
  statusTimeline?: { status: EnterpriseStatus; from: string }[];
}

export type OutletKind = 'gas' | 'water';

export interface OutletView {
  /** The outlet's site id (readings carry it as `siteId`). */
  id: string;
  enterpriseId: string;
  kind: OutletKind;
  /** Reference O2 (%) from the permit, for converted (折算) concentrations of flue gas. */
  referenceO2?: number;
  /** Factors that are legitimately flat at this outlet (exempt from the flatline rule). */
  flatlineExemptFactors?: string[];
  /**
   * Production meters whose running makes a zero value here suspicious (zero while production runs). Default: every
   * production meter of the enterprise.
   */
  productionMeterIds?: string[];
}

export interface LimitView {
  siteId: string;
  factor: string;
  value: number;
  unit?: string;
  /** hourly: judged on hourly means (flue gas); daily: on daily means (wastewater). */
  basis: 'hourly' | 'daily';
  /** The limit applies to the converted (折算) concentration. */
  converted: boolean;
}

export interface InstrumentRangeView {
  siteId: string;
  factor: string;
  min?: number;
  max: number;
}

export interface DeviceView {
  id: string;
  siteId: string;
  /** Expected upload cadence in seconds of the device's main stream. */
  cadenceSeconds: number;
  /** Which stream the cadence describes (default `realtime`). */
  cadenceInterval?: ReadingInterval;
}

export interface MeterView {
  /** The meter's site id (energy readings carry it as `siteId`). */
  id: string;
  enterpriseId: string;
  role: 'production' | 'treatment';
  /** For a treatment meter: the production meter it serves. */
  servesMeterId?: string;
  /** Rated energy (kWh) of one treatment-idle window; derive with `deriveRatedWindowEnergy` when not configured. */
  ratedWindowKwh?: number;
  /**
   * For a treatment meter: the facility status series of the same treatment facility, as reported by a data logger
   * (`SB1-RS` at the outlet `siteId`). `RS = 0` while production runs is treatment idle.
   */
  facilities?: { siteId: string; code: string }[];
}

export interface MaintenanceWindowView {
  siteId: string;
  start: number;
  end: number;
}

export interface RegistryView {
  enterprises: EnterpriseView[];
  outlets: OutletView[];
  limits: LimitView[];
  instrumentRanges: InstrumentRangeView[];
  devices: DeviceView[];
  meters: MeterView[];
  maintenanceWindows: MaintenanceWindowView[];
}

export type Severity = 'info' | 'minor' | 'major' | 'critical';

export type RuleName =
  | 'exceedance'
  | 'treatment-idle'
  | 'treatment-late-start'
  | 'treatment-early-stop'
  | 'flatline'
  | 'zero-while-running'
  | 'out-of-range'
  | 'offline'
  | 'low-capture'
  | 'fault-flag'
  | 'manual-flag'
  | 'maintenance-overrun'
  | 'o2-near-ambient'
  | 'clustered-below-limit'
  | 'inconsistent-aggregate'
  | 'annual-load'
  | 'production-emission'
  | 'peers'
  | 'cross-device'
  | 'remote-sensing'
  | 'discharge-outside-hours';

export interface AggregateOutput {
  type: 'aggregate';
  enterpriseId: string;
  siteId: string;
  factor: string;
  interval: 'hour' | 'day';
  start: number;
  value: number | null;
  convertedValue: number | null;
  valid: boolean;
  flag: DataFlag;
  /** hour: covered minutes ÷ 60 (gas) or valid values present (water); day: valid hours ÷ 24. */
  coverage: number;
  /** Why the converted value is missing or doubtful (`o2-ceiling`, `o2-invalid`, `no-reference-o2`). */
  anomaly?: string;
}

export type DeviationState = 'opened' | 'updated' | 'resolved';

export interface DeviationOutput {
  type: 'deviation';
  id: string;
  rule: RuleName;
  state: DeviationState;
  revision: number;
  severity: Severity;
  enterpriseId: string;
  siteId: string;
  factor?: string;
  /** What the deviation is about within the site: a factor, a device id or a meter pairing. */
  subject: string;
  windowStart: number;
  windowEnd?: number;
  suspectedFalsification: boolean;
  inResumptionWindow: boolean;
  evidence: Record<string, unknown>;
}

/** A reading the engine could not take (never silently dropped). */
export interface RejectedOutput {
  type: 'rejected';
  eventId: string;
  code: 'too-late' | 'invalid-reading';
  message: string;
}

export type Output = AggregateOutput | DeviationOutput | RejectedOutput;
