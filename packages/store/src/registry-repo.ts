// Registry rows written one at a time (the import's upserts) and the lookups that need credentials or
// contacts; the in-memory snapshot is registry-snapshot.ts.
import type {
  ContactRole,
  Language,
  OutletKind,
  ProtocolVersion,
  RegistryCamera,
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
} from './registry-types.js';
import type { Queryable } from './logger.js';
import { queryRows } from './query.js';

// Every function here sends values as bind parameters; table and column names come only from the
// constants in this file.

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

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
  const rows = await queryRows<{ inserted: boolean }>(db, `upsert into ${table}`, text, Object.values(row));
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
  const rows = await queryRows<{ inserted: boolean }>(db, `insert into ${table}`, text, Object.values(row));
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
    latitude: e.location?.lat ?? null,
    longitude: e.location?.lon ?? null,
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
    process: o.process ?? null,
    latitude: o.location?.lat ?? null,
    longitude: o.location?.lon ?? null,
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
    annual_load_kg: l.annualLoadKg ?? null,
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

/** A video platform's camera watching an outlet; a camera moved to another outlet is updated. */
export function upsertOutletCamera(
  db: Queryable,
  outletId: string,
  c: RegistryCamera,
): Promise<UpsertOutcome> {
  return upsertRow(db, 'outlet_cameras', ['platform', 'camera_id'], {
    platform: c.platform,
    camera_id: c.id,
    outlet_id: outletId,
  });
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
    wechat_openid: c.wechatOpenid ?? null,
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
  const rows = await queryRows<{
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
  const rows = await queryRows<{
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
