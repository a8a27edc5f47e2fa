/**
 * The registry file (`registry/README.md` documents every field). These are the shapes after
 * `parseRegistryFile` validated the file and filled in defaults: instants are ISO 8601 UTC strings
 * (`2025-03-01T00:00:00.000Z`), calendar dates are `YYYY-MM-DD` (Asia/Shanghai calendar).
 */
import type { GeoPosition } from './registry-geo.js';
export const REGISTRY_FILE_VERSION = 1;

export type RegistryFormat = 'yaml' | 'json';
export type SupervisionClass = 'key' | 'special' | 'general';
export type CreditRating = 'A' | 'B' | 'C' | 'D';
export type EnterpriseStatus = 'shutdown' | 'resuming' | 'normal';
export type OutletKind = 'gas' | 'water';
export type ProtocolVersion = 2005 | 2017 | 2025;
export type MeterRole = 'production' | 'treatment' | 'total';
export type LimitBasis = 'hourly' | 'daily';
export type ContactRole = 'legal' | 'env-manager' | 'operator' | 'contact';
export type Language = 'zh' | 'en';
export type ViolationKind =
  | 'exceedance'
  | 'treatment-not-running'
  | 'falsification'
  | 'unpermitted-discharge'
  | 'monitoring-fault'
  | 'crime'
  | 'incident'
  | 'other';

export const SUPERVISION_CLASSES: readonly SupervisionClass[] = ['key', 'special', 'general'];
export const CREDIT_RATINGS: readonly CreditRating[] = ['A', 'B', 'C', 'D'];
export const ENTERPRISE_STATUSES: readonly EnterpriseStatus[] = ['shutdown', 'resuming', 'normal'];
export const OUTLET_KINDS: readonly OutletKind[] = ['gas', 'water'];
export const PROTOCOL_VERSIONS: readonly ProtocolVersion[] = [2005, 2017, 2025];
export const METER_ROLES: readonly MeterRole[] = ['production', 'treatment', 'total'];
export const LIMIT_BASES: readonly LimitBasis[] = ['hourly', 'daily'];
export const CONTACT_ROLES: readonly ContactRole[] = ['legal', 'env-manager', 'operator', 'contact'];
export const LANGUAGES: readonly Language[] = ['zh', 'en'];
export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'exceedance',
  'treatment-not-running',
  'falsification',
  'unpermitted-discharge',
  'monitoring-fault',
  'crime',
  'incident',
  'other',
];
/** Concentration units a permit limit may use, by outlet kind. */
export const LIMIT_UNITS: Readonly<Record<OutletKind, readonly string[]>> = {
  gas: ['mg/m3', 'ug/m3', 'ngTEQ/m3'],
  water: ['mg/L', 'ug/L', 'pH', 'times'],
};

export interface LocalizedName {
  zh: string;
  en?: string;
}

export interface RegistryFile {
  version: typeof REGISTRY_FILE_VERSION;
  /** Informational: the city this registry covers. Not stored. */
  city?: { name: LocalizedName };
  districts: RegistryDistrict[];
  enterprises: RegistryEnterprise[];
}

export interface RegistryDistrict {
  id: string;
  name: { zh: string; en: string };
}

export interface RegistryEnterprise {
  id: string;
  name: LocalizedName;
  creditCode: string;
  district: string;
  industry: string;
  industryCode?: string;
  supervisionClass: SupervisionClass;
  creditRating?: CreditRating;
  /** Current status: the latest timeline entry's status, or `normal` without a timeline. */
  status: EnterpriseStatus;
  address?: string;
  /** Where the enterprise's site is (WGS-84 degrees), inside the city's configured bounds. */
  location?: GeoPosition;
  statusTimeline: StatusTimelineEntry[];
  outlets: RegistryOutlet[];
  meters: RegistryMeter[];
  contacts: RegistryContact[];
  violations: RegistryViolation[];
  maintenanceWindows: RegistryMaintenanceWindow[];
}

export interface StatusTimelineEntry {
  status: EnterpriseStatus;
  /** ISO 8601 UTC instant. */
  from: string;
  /** `YYYY-MM-DD`; required for `resuming`. */
  resumptionDate?: string;
  note?: string;
}

export interface RegistryOutlet {
  id: string;
  kind: OutletKind;
  name: LocalizedName;
  refO2Pct?: number;
  /** The production process the outlet serves (工艺 key, e.g. `coal-boiler`): its peer group. */
  process?: string;
  /** Where the outlet (stack, discharge point) is (WGS-84 degrees), inside the city's configured bounds. */
  location?: GeoPosition;
  devices: RegistryDevice[];
  limits: RegistryLimit[];
  /**
   * Production meters (ids, same enterprise) whose running makes a zero at this outlet suspicious.
   * Absent: every production meter of the enterprise. Omitted when the file lists none.
   */
  productionMeters?: string[];
  /** Cameras of the bureau's video platforms that watch this outlet. Omitted when the file lists none. */
  cameras?: RegistryCamera[];
}

/** A camera of a video platform, by the platform's own id (unique per platform across the registry). */
export interface RegistryCamera {
  /** The video platform, as the video-gateway's configuration names it (OFFSITE_VIDEO_PLATFORMS). */
  platform: string;
  /** The camera's id on that platform (GB/T 28181: the 20-digit device id). */
  id: string;
}

export interface RegistryDevice {
  mn: string;
  /** SECRET: the HJ 212 PW the device sends in clear. */
  password: string;
  /** SECRET: 32 hex digits (SM4, HJ 212-2025). */
  sm4Key?: string;
  protocolVersion: ProtocolVersion;
  /** Real-time (2011) cadence in seconds; 0 = the logger sends no real-time data. */
  realtimeIntervalS: number;
  minuteIntervalS: number;
  model?: string;
  enabled: boolean;
}

export interface RegistryLimit {
  factor: string;
  basis: LimitBasis;
  value: number;
  lowerValue?: number;
  unit: string;
  converted: boolean;
  range?: { min: number; max: number };
  /** Permitted annual load (许可排放量) of the outlet and factor, kg per Shanghai calendar year. */
  annualLoadKg?: number;
}

export interface RegistryMeter {
  id: string;
  role: MeterRole;
  name: LocalizedName;
  ratedWindowKwh?: number;
  serves?: string;
  mqttCredentialsRef?: string;
  /** Treatment meters only: the facility status series of the facility it powers. Omitted when none. */
  facilities?: RegistryFacility[];
}

/** A treatment facility's status series: `SBn-RS` (code `SBn`) reported by the data logger of `outlet`. */
export interface RegistryFacility {
  /** An outlet id of the same enterprise. */
  outlet: string;
  /** Facility code as the logger sends it, e.g. `SB1`. */
  code: string;
}

export interface RegistryContact {
  name: string;
  role: ContactRole;
  phone?: string;
  email?: string;
  /** Openid for the bureau's WeChat official account (template messages). */
  wechatOpenid?: string;
  language: Language;
}

export interface RegistryViolation {
  id: string;
  date: string;
  kind: ViolationKind;
  serious: boolean;
  description: string;
}

export interface RegistryMaintenanceWindow {
  id: string;
  device?: string;
  outlet?: string;
  from: string;
  to: string;
  reason: string;
}

export type RegistryIssueCode =
  | 'syntax'
  | 'required'
  | 'type'
  | 'unknown-field'
  | 'format'
  | 'enum'
  | 'range'
  | 'duplicate'
  | 'reference'
  | 'credit-code'
  | 'consistency'
  | 'outside-city';

/** One problem in a registry file, with its path such as `enterprises[3].outlets[0].limits[1].unit`. */
export interface RegistryIssue {
  path: string;
  code: RegistryIssueCode;
  message: string;
  messageZh: string;
}

export type ParseRegistryResult =
  { ok: true; registry: RegistryFile } | { ok: false; issues: RegistryIssue[] };
