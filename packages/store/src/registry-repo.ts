import type {
  ContactRole,
  CreditRating,
  EnterpriseStatus,
  Language,
  LimitBasis,
  MeterRole,
  OutletKind,
  ProtocolVersion,
  RegistryContact,
  RegistryDevice,
  RegistryDistrict,
  RegistryEnterprise,
  RegistryFacility,
  RegistryLimit,
  RegistryMaintenanceWindow,
  RegistryMeter,
  RegistryOutlet,
  RegistryViolation,
  StatusTimelineEntry,
  SupervisionClass,
} from './registry-types.js';
import { isRetryablePgError, StoreError } from './errors.js';
import type { Queryable } from './logger.js';

// Every function here sends values as bind parameters; table and column names come only from the
// constants in this file.

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

async function run<R extends object>(
  db: Queryable,
  what: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  try {
    const res = await db.query<R & Record<string, unknown>>(text, values);
    return res.rows;
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `${what} failed: ${(err as Error).message}`, {
      retryable: isRetryablePgError(err),
      cause: err,
    });
  }
}

/**
 * Insert or update one row by its key. Rows whose values already match are left untouched (no
 * write, no updated_at bump, no NOTIFY), which is what makes a repeated import a no-op.
 */
async function upsertRow(
  db: Queryable,
  table: string,
  keyColumns: readonly string[],
  row: Record<string, unknown>,
): Promise<UpsertOutcome> {
  const columns = Object.keys(row);
  const rest = columns.filter((c) => !keyColumns.includes(c));
  const text = `insert into ${table} (${columns.join(', ')})
    values (${columns.map((_, i) => `$${i + 1}`).join(', ')})
    on conflict (${keyColumns.join(', ')}) do update set ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}
    where (${rest.map((c) => `${table}.${c}`).join(', ')}) is distinct from (${rest.map((c) => `excluded.${c}`).join(', ')})
    returning (xmax = 0) as inserted`;
  const rows = await run<{ inserted: boolean }>(db, `upsert into ${table}`, text, Object.values(row));
  const first = rows[0];
  if (!first) return 'unchanged';
  return first.inserted ? 'inserted' : 'updated';
}

/**
 * Insert a link row whose columns are all key columns; an existing row is left alone. Such rows
 * are never updated, only inserted or (by a prune) deleted.
 */
async function insertLink(db: Queryable, table: string, row: Record<string, string>): Promise<UpsertOutcome> {
  const columns = Object.keys(row);
  const text = `insert into ${table} (${columns.join(', ')})
    values (${columns.map((_, i) => `$${i + 1}`).join(', ')})
    on conflict do nothing
    returning true as inserted`;
  const rows = await run<{ inserted: boolean }>(db, `insert into ${table}`, text, Object.values(row));
  return rows.length > 0 ? 'inserted' : 'unchanged';
}

export function upsertDistrict(db: Queryable, d: RegistryDistrict): Promise<UpsertOutcome> {
  return upsertRow(db, 'districts', ['id'], { id: d.id, name_zh: d.name.zh, name_en: d.name.en });
}

export function upsertEnterprise(db: Queryable, e: RegistryEnterprise): Promise<UpsertOutcome> {
  return upsertRow(db, 'enterprises', ['id'], {
    id: e.id,
    name_zh: e.name.zh,
    name_en: e.name.en ?? null,
    credit_code: e.creditCode,
    district_id: e.district,
    industry: e.industry,
    industry_code: e.industryCode ?? null,
    supervision_class: e.supervisionClass,
    credit_rating: e.creditRating ?? null,
    status: e.status,
    address: e.address ?? null,
  });
}

export function upsertStatusEntry(
  db: Queryable,
  enterpriseId: string,
  s: StatusTimelineEntry,
): Promise<UpsertOutcome> {
  return upsertRow(db, 'enterprise_status_timeline', ['enterprise_id', 'effective_from'], {
    enterprise_id: enterpriseId,
    effective_from: s.from,
    status: s.status,
    resumption_date: s.resumptionDate ?? null,
    note: s.note ?? null,
  });
}

export function upsertOutlet(db: Queryable, enterpriseId: string, o: RegistryOutlet): Promise<UpsertOutcome> {
  return upsertRow(db, 'outlets', ['id'], {
    id: o.id,
    enterprise_id: enterpriseId,
    kind: o.kind,
    name_zh: o.name.zh,
    name_en: o.name.en ?? null,
    ref_o2_pct: o.refO2Pct ?? null,
  });
}

export function upsertDevice(db: Queryable, outletId: string, d: RegistryDevice): Promise<UpsertOutcome> {
  return upsertRow(db, 'devices', ['mn'], {
    mn: d.mn,
    outlet_id: outletId,
    password: d.password,
    sm4_key: d.sm4Key ?? null,
    protocol_version: d.protocolVersion,
    realtime_interval_s: d.realtimeIntervalS,
    minute_interval_s: d.minuteIntervalS,
    model: d.model ?? null,
    enabled: d.enabled,
  });
}

export function upsertLimit(db: Queryable, outletId: string, l: RegistryLimit): Promise<UpsertOutcome> {
  return upsertRow(db, 'permit_limits', ['outlet_id', 'factor_code', 'basis'], {
    outlet_id: outletId,
    factor_code: l.factor,
    basis: l.basis,
    value: l.value,
    lower_value: l.lowerValue ?? null,
    unit: l.unit,
    converted: l.converted,
    range_min: l.range?.min ?? null,
    range_max: l.range?.max ?? null,
  });
}

export function upsertMeter(db: Queryable, enterpriseId: string, m: RegistryMeter): Promise<UpsertOutcome> {
  return upsertRow(db, 'meters', ['id'], {
    id: m.id,
    enterprise_id: enterpriseId,
    role: m.role,
    name_zh: m.name.zh,
    name_en: m.name.en ?? null,
    rated_window_kwh: m.ratedWindowKwh ?? null,
    serves_meter_id: m.serves ?? null,
    mqtt_credentials_ref: m.mqttCredentialsRef ?? null,
  });
}

/** Link a treatment meter to a facility status series (`code` of outlet `outletId`). */
export function upsertMeterFacility(
  db: Queryable,
  meterId: string,
  f: RegistryFacility,
): Promise<UpsertOutcome> {
  return insertLink(db, 'meter_facilities', { meter_id: meterId, outlet_id: f.outlet, code: f.code });
}

/** Link an outlet to a production meter whose running makes a zero there suspicious. */
export function upsertOutletProductionMeter(
  db: Queryable,
  outletId: string,
  meterId: string,
): Promise<UpsertOutcome> {
  return insertLink(db, 'outlet_production_meters', { outlet_id: outletId, meter_id: meterId });
}

export function upsertContact(
  db: Queryable,
  enterpriseId: string,
  c: RegistryContact,
): Promise<UpsertOutcome> {
  return upsertRow(db, 'contacts', ['enterprise_id', 'role', 'name'], {
    enterprise_id: enterpriseId,
    role: c.role,
    name: c.name,
    phone: c.phone ?? null,
    email: c.email ?? null,
    language: c.language,
  });
}

export function upsertViolation(
  db: Queryable,
  enterpriseId: string,
  v: RegistryViolation,
): Promise<UpsertOutcome> {
  return upsertRow(db, 'violations', ['id'], {
    id: v.id,
    enterprise_id: enterpriseId,
    occurred_on: v.date,
    kind: v.kind,
    serious: v.serious,
    description: v.description,
  });
}

export function upsertMaintenanceWindow(
  db: Queryable,
  enterpriseId: string,
  w: RegistryMaintenanceWindow,
  source: 'registry' | 'console' = 'registry',
): Promise<UpsertOutcome> {
  return upsertRow(db, 'maintenance_windows', ['id'], {
    id: w.id,
    enterprise_id: enterpriseId,
    device_mn: w.device ?? null,
    outlet_id: w.outlet ?? null,
    starts_at: w.from,
    ends_at: w.to,
    reason: w.reason,
    source,
  });
}

/** What the HJ 212 gateway needs to authenticate a packet and route its data. */
export interface DeviceAuth {
  mn: string;
  enterpriseId: string;
  outletId: string;
  outletKind: OutletKind;
  /** SECRET: compare with the packet's PW; never log. */
  password: string;
  /** SECRET: SM4 key (hex) for HJ 212-2025, or null. */
  sm4Key: string | null;
  protocolVersion: ProtocolVersion;
  realtimeIntervalS: number;
  minuteIntervalS: number;
  enabled: boolean;
}

/** Look up a device by its HJ 212 MN (exact, case-sensitive). Returns null for an unknown MN. */
export async function findDeviceByMn(db: Queryable, mn: string): Promise<DeviceAuth | null> {
  const rows = await run<{
    mn: string;
    enterprise_id: string;
    outlet_id: string;
    outlet_kind: OutletKind;
    password: string;
    sm4_key: string | null;
    protocol_version: number;
    realtime_interval_s: number;
    minute_interval_s: number;
    enabled: boolean;
  }>(
    db,
    'device lookup',
    `select d.mn, o.enterprise_id, d.outlet_id, o.kind as outlet_kind, d.password, d.sm4_key, d.protocol_version,
            d.realtime_interval_s, d.minute_interval_s, d.enabled
       from devices d join outlets o on o.id = d.outlet_id
      where d.mn = $1`,
    [mn],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    mn: r.mn,
    enterpriseId: r.enterprise_id,
    outletId: r.outlet_id,
    outletKind: r.outlet_kind,
    password: r.password,
    sm4Key: r.sm4_key,
    protocolVersion: r.protocol_version as ProtocolVersion,
    realtimeIntervalS: r.realtime_interval_s,
    minuteIntervalS: r.minute_interval_s,
    enabled: r.enabled,
  };
}

export interface Contact {
  id: string;
  enterpriseId: string;
  name: string;
  role: ContactRole;
  phone: string | null;
  email: string | null;
  language: Language;
}

/** An enterprise's contacts, legal representative first. */
export async function listContacts(db: Queryable, enterpriseId: string): Promise<Contact[]> {
  const rows = await run<{
    id: string;
    enterprise_id: string;
    name: string;
    role: ContactRole;
    phone: string | null;
    email: string | null;
    language: Language;
  }>(
    db,
    'contact listing',
    `select id::text as id, enterprise_id, name, role, phone, email, language
       from contacts where enterprise_id = $1
      order by array_position(array['legal', 'env-manager', 'operator', 'contact'], role), name`,
    [enterpriseId],
  );
  return rows.map((r) => ({
    id: r.id,
    enterpriseId: r.enterprise_id,
    name: r.name,
    role: r.role,
    phone: r.phone,
    email: r.email,
    language: r.language,
  }));
}

// ---- Snapshot for the analyzer -------------------------------------------------------------

export interface SnapshotLimit {
  factor: string;
  basis: LimitBasis;
  value: number;
  lowerValue: number | null;
  unit: string;
  converted: boolean;
  range: { min: number | null; max: number | null };
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
      'creditRating', credit_rating, 'status', status) order by id), '[]')
     from enterprises) as enterprises,
  (select coalesce(json_agg(json_build_object(
      'enterpriseId', enterprise_id, 'status', status, 'from', effective_from,
      'resumptionDate', resumption_date, 'note', note) order by enterprise_id, effective_from), '[]')
     from enterprise_status_timeline) as timeline,
  (select coalesce(json_agg(json_build_object(
      'id', id, 'enterpriseId', enterprise_id, 'kind', kind, 'zh', name_zh, 'en', name_en,
      'refO2Pct', ref_o2_pct) order by id), '[]')
     from outlets) as outlets,
  (select coalesce(json_agg(json_build_object(
      'mn', mn, 'outletId', outlet_id, 'protocolVersion', protocol_version,
      'realtimeIntervalS', realtime_interval_s, 'minuteIntervalS', minute_interval_s, 'enabled', enabled) order by mn), '[]')
     from devices) as devices,
  (select coalesce(json_agg(json_build_object(
      'outletId', outlet_id, 'factor', factor_code, 'basis', basis, 'value', value, 'lowerValue', lower_value,
      'unit', unit, 'converted', converted, 'rangeMin', range_min, 'rangeMax', range_max)
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
  const rows = await run<{
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
            limits: (limitsByOutlet.get(outletId) ?? []).map((l) => ({
              factor: String(l.factor),
              basis: l.basis as LimitBasis,
              value: Number(l.value),
              lowerValue: num(l.lowerValue),
              unit: String(l.unit),
              converted: l.converted === true,
              range: { min: num(l.rangeMin), max: num(l.rangeMax) },
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
