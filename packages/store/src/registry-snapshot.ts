// The registry as the services keep it in memory: one consistent read of every enterprise with its
// outlets, limits, devices (no credentials), meters, status timeline and maintenance windows. One
// constant statement, no values.
import { StoreError } from './errors.js';
import type { Queryable } from './logger.js';
import { queryRows } from './query.js';
import type { GeoPosition } from './registry-geo.js';
import type {
  CreditRating,
  EnterpriseStatus,
  LimitBasis,
  MeterRole,
  OutletKind,
  ProtocolVersion,
  SupervisionClass,
} from './registry-types.js';

export interface SnapshotLimit {
  factor: string;
  basis: LimitBasis;
  value: number;
  lowerValue: number | null;
  unit: string;
  converted: boolean;
  range: { min: number | null; max: number | null };
  /** Permitted annual load (许可排放量, kg per Shanghai calendar year); null when the permit gives none. */
  annualLoadKg: number | null;
}

/** A device as the analyzer sees it: cadences, no credentials. */
export interface SnapshotDevice {
  mn: string;
  protocolVersion: ProtocolVersion;
  /** Real-time (2011) cadence in seconds; 0 = the logger sends no real-time data (judge its minute data). */
  realtimeIntervalS: number;
  minuteIntervalS: number;
  enabled: boolean;
}

export interface SnapshotOutlet {
  id: string;
  kind: OutletKind;
  name: { zh: string; en: string | null };
  refO2Pct: number | null;
  /** The production process key (工艺) the outlet serves: its peer group; null when the registry names none. */
  process: string | null;
  /** Where the outlet is (WGS-84 degrees); absent when the registry does not record it. */
  location?: GeoPosition;
  limits: SnapshotLimit[];
  devices: SnapshotDevice[];
  /** Production meters whose running makes a zero here suspicious; empty = every production meter of the enterprise. */
  productionMeterIds: string[];
}

export interface SnapshotMeter {
  id: string;
  role: MeterRole;
  name: { zh: string; en: string | null };
  ratedWindowKwh: number | null;
  servesMeterId: string | null;
  /** Treatment meters: the facility status series (`code`-RS of outlet `outletId`) of the facility it powers. */
  facilities: { outletId: string; code: string }[];
}

export interface SnapshotStatusEntry {
  status: EnterpriseStatus;
  /** ISO 8601 UTC. */
  from: string;
  resumptionDate: string | null;
  note: string | null;
}

export interface SnapshotMaintenanceWindow {
  id: string;
  deviceMn: string | null;
  outletId: string | null;
  from: string;
  to: string;
  reason: string;
  source: 'registry' | 'console';
}

export interface SnapshotEnterprise {
  id: string;
  name: { zh: string; en: string | null };
  creditCode: string;
  districtId: string;
  industry: string;
  industryCode: string | null;
  supervisionClass: SupervisionClass;
  creditRating: CreditRating | null;
  status: EnterpriseStatus;
  /** Where the enterprise's site is (WGS-84 degrees); absent when the registry does not record it. */
  location?: GeoPosition;
  statusTimeline: SnapshotStatusEntry[];
  outlets: SnapshotOutlet[];
  meters: SnapshotMeter[];
  maintenanceWindows: SnapshotMaintenanceWindow[];
}

export interface RegistrySnapshot {
  /** Database time the snapshot was read, ISO 8601 UTC. */
  readAt: string;
  districts: { id: string; name: { zh: string; en: string } }[];
  enterprises: SnapshotEnterprise[];
}

const SNAPSHOT_SQL = `select
  now() as read_at,
  (select coalesce(json_agg(json_build_object('id', id, 'zh', name_zh, 'en', name_en) order by id), '[]')
     from districts) as districts,
  (select coalesce(json_agg(json_build_object(
      'id', id, 'zh', name_zh, 'en', name_en, 'creditCode', credit_code, 'districtId', district_id,
      'industry', industry, 'industryCode', industry_code, 'supervisionClass', supervision_class,
      'creditRating', credit_rating, 'status', status, 'lat', latitude, 'lon', longitude) order by id), '[]')
     from enterprises) as enterprises,
  (select coalesce(json_agg(json_build_object(
      'enterpriseId', enterprise_id, 'status', status, 'from', effective_from,
      'resumptionDate', resumption_date, 'note', note) order by enterprise_id, effective_from), '[]')
     from enterprise_status_timeline) as timeline,
  (select coalesce(json_agg(json_build_object(
      'id', id, 'enterpriseId', enterprise_id, 'kind', kind, 'zh', name_zh, 'en', name_en,
      'refO2Pct', ref_o2_pct, 'process', process, 'lat', latitude, 'lon', longitude) order by id), '[]')
     from outlets) as outlets,
  (select coalesce(json_agg(json_build_object(
      'mn', mn, 'outletId', outlet_id, 'protocolVersion', protocol_version,
      'realtimeIntervalS', realtime_interval_s, 'minuteIntervalS', minute_interval_s, 'enabled', enabled) order by mn), '[]')
     from devices) as devices,
  (select coalesce(json_agg(json_build_object(
      'outletId', outlet_id, 'factor', factor_code, 'basis', basis, 'value', value, 'lowerValue', lower_value,
      'unit', unit, 'converted', converted, 'rangeMin', range_min, 'rangeMax', range_max,
      'annualLoadKg', annual_load_kg)
      order by outlet_id, factor_code, basis), '[]')
     from permit_limits) as limits,
  (select coalesce(json_agg(json_build_object(
      'id', id, 'enterpriseId', enterprise_id, 'role', role, 'zh', name_zh, 'en', name_en,
      'ratedWindowKwh', rated_window_kwh, 'servesMeterId', serves_meter_id) order by id), '[]')
     from meters) as meters,
  (select coalesce(json_agg(json_build_object('meterId', meter_id, 'outletId', outlet_id, 'code', code)
      order by meter_id, outlet_id, code), '[]')
     from meter_facilities) as facilities,
  (select coalesce(json_agg(json_build_object('outletId', outlet_id, 'meterId', meter_id)
      order by outlet_id, meter_id), '[]')
     from outlet_production_meters) as production,
  (select coalesce(json_agg(json_build_object(
      'id', id, 'enterpriseId', enterprise_id, 'deviceMn', device_mn, 'outletId', outlet_id,
      'from', starts_at, 'to', ends_at, 'reason', reason, 'source', source) order by starts_at, id), '[]')
     from maintenance_windows) as windows`;

type J = Record<string, unknown>;

const iso = (v: unknown): string => new Date(String(v)).toISOString();
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
/** `{ location }` of a row with `lat`/`lon` columns, or nothing when it has none (both or neither, by the schema). */
const position = (r: Record<string, unknown>): { location?: GeoPosition } =>
  r.lat === null || r.lat === undefined ? {} : { location: { lat: Number(r.lat), lon: Number(r.lon) } };

function groupBy<T extends J>(rows: T[], key: string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = String(r[key]);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/**
 * The whole registry in one consistent read (a single statement): enterprises with their outlets,
 * permit limits, devices (without credentials), meters, status timeline and maintenance windows.
 */
export async function loadRegistrySnapshot(db: Queryable): Promise<RegistrySnapshot> {
  const rows = await queryRows<{
    read_at: Date;
    districts: J[];
    enterprises: J[];
    timeline: J[];
    outlets: J[];
    devices: J[];
    limits: J[];
    meters: J[];
    facilities: J[];
    production: J[];
    windows: J[];
  }>(db, 'registry snapshot', SNAPSHOT_SQL, []);
  const r = rows[0];
  if (!r) throw new StoreError('QUERY_FAILED', 'registry snapshot returned no row', { retryable: false });

  const devicesByOutlet = groupBy(r.devices, 'outletId');
  const limitsByOutlet = groupBy(r.limits, 'outletId');
  const outletsByEnterprise = groupBy(r.outlets, 'enterpriseId');
  const metersByEnterprise = groupBy(r.meters, 'enterpriseId');
  const timelineByEnterprise = groupBy(r.timeline, 'enterpriseId');
  const windowsByEnterprise = groupBy(r.windows, 'enterpriseId');
  const facilitiesByMeter = groupBy(r.facilities, 'meterId');
  const productionByOutlet = groupBy(r.production, 'outletId');

  return {
    readAt: r.read_at.toISOString(),
    districts: r.districts.map((d) => ({ id: String(d.id), name: { zh: String(d.zh), en: String(d.en) } })),
    enterprises: r.enterprises.map((e) => {
      const id = String(e.id);
      return {
        id,
        name: { zh: String(e.zh), en: (e.en as string | null) ?? null },
        creditCode: String(e.creditCode),
        districtId: String(e.districtId),
        industry: String(e.industry),
        industryCode: (e.industryCode as string | null) ?? null,
        supervisionClass: e.supervisionClass as SupervisionClass,
        creditRating: (e.creditRating as CreditRating | null) ?? null,
        status: e.status as EnterpriseStatus,
        ...position(e),
        statusTimeline: (timelineByEnterprise.get(id) ?? []).map((t) => ({
          status: t.status as EnterpriseStatus,
          from: iso(t.from),
          resumptionDate: (t.resumptionDate as string | null) ?? null,
          note: (t.note as string | null) ?? null,
        })),
        outlets: (outletsByEnterprise.get(id) ?? []).map((o) => {
          const outletId = String(o.id);
          return {
            id: outletId,
            kind: o.kind as OutletKind,
            name: { zh: String(o.zh), en: (o.en as string | null) ?? null },
            refO2Pct: num(o.refO2Pct),
            process: (o.process as string | null) ?? null,
            ...position(o),
            limits: (limitsByOutlet.get(outletId) ?? []).map((l) => ({
              factor: String(l.factor),
              basis: l.basis as LimitBasis,
              value: Number(l.value),
              lowerValue: num(l.lowerValue),
              unit: String(l.unit),
              converted: l.converted === true,
              range: { min: num(l.rangeMin), max: num(l.rangeMax) },
              annualLoadKg: num(l.annualLoadKg),
            })),
            devices: (devicesByOutlet.get(outletId) ?? []).map((d) => ({
              mn: String(d.mn),
              protocolVersion: Number(d.protocolVersion) as ProtocolVersion,
              realtimeIntervalS: Number(d.realtimeIntervalS),
              minuteIntervalS: Number(d.minuteIntervalS),
              enabled: d.enabled === true,
            })),
            productionMeterIds: (productionByOutlet.get(outletId) ?? []).map((x) => String(x.meterId)),
          };
        }),
        meters: (metersByEnterprise.get(id) ?? []).map((m) => ({
          id: String(m.id),
          role: m.role as MeterRole,
          name: { zh: String(m.zh), en: (m.en as string | null) ?? null },
          ratedWindowKwh: num(m.ratedWindowKwh),
          servesMeterId: (m.servesMeterId as string | null) ?? null,
          facilities: (facilitiesByMeter.get(String(m.id)) ?? []).map((f) => ({
            outletId: String(f.outletId),
            code: String(f.code),
          })),
        })),
        maintenanceWindows: (windowsByEnterprise.get(id) ?? []).map((w) => ({
          id: String(w.id),
          deviceMn: (w.deviceMn as string | null) ?? null,
          outletId: (w.outletId as string | null) ?? null,
          from: iso(w.from),
          to: iso(w.to),
          reason: String(w.reason),
          source: w.source as 'registry' | 'console',
        })),
      };
    }),
  };
}
