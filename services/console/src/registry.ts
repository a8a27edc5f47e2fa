import type pg from 'pg';
import { markConsoleEdit, transaction, type Queryable } from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { listedSql } from './listed.js';
import { canEditRegistry, scopeSql, type Principal } from './principal.js';

export async function listEnterprises(db: Queryable, p: Principal, q?: string) {
  const params: unknown[] = [];
  const where = [scopeSql(p, params, 'e')];
  if (q) {
    params.push(`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`(e.name_zh ilike $${params.length} or e.credit_code ilike $${params.length})`);
  }
  const r = await db.query(
    `select e.id, e.name_zh as "nameZh", e.name_en as "nameEn", e.credit_code as "creditCode", e.district_id as "districtId",
            d.name_zh as "districtNameZh", d.name_en as "districtNameEn",
            e.industry, e.supervision_class as "supervisionClass", e.status, ${listedSql('e')} as listed
       from enterprises e join districts d on d.id = e.district_id where ${where.join(' and ')} order by e.district_id, e.id`,
    params,
  );
  return r.rows;
}

/**
 * The districts the principal may filter by: every district for city-wide roles, the officer's own
 * district, and an enterprise user's district. Scope is a SQL predicate like every other query.
 */
export async function listDistricts(db: Queryable, p: Principal) {
  const params: unknown[] = [];
  // An officer's own district; an enterprise user's enterprise's district (through the usual scope).
  const scope =
    p.role === 'district-officer' || p.role === 'enterprise'
      ? `d.id in (select e.district_id from enterprises e where ${scopeSql(p, params, 'e')})`
      : 'true';
  const r = await db.query(
    `select d.id, d.name_zh as "nameZh", d.name_en as "nameEn" from districts d where ${scope} order by d.id`,
    params,
  );
  return r.rows as { id: string; nameZh: string; nameEn: string | null }[];
}

/** One enterprise with its outlets, devices (credentials masked), meters, limits, contacts and timeline. */
export async function getEnterprise(db: Queryable, p: Principal, id: string) {
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'e');
  const e = await db.query(
    `select e.id, e.name_zh as "nameZh", e.name_en as "nameEn", e.credit_code as "creditCode", e.district_id as "districtId",
            d.name_zh as "districtNameZh", d.name_en as "districtNameEn",
            e.industry, e.supervision_class as "supervisionClass", e.credit_rating as "creditRating", e.status, e.address,
            e.latitude, e.longitude, ${listedSql('e')} as listed
       from enterprises e join districts d on d.id = e.district_id where e.id = $1 and ${scope}`,
    params,
  );
  const ent = e.rows[0] as Record<string, unknown> | undefined;
  if (!ent) throw new ConsoleError('NOT_FOUND', 'enterprise not found');
  const [outlets, devices, meters, limits, contacts, timeline, maintenance, facilities] = await Promise.all([
    db.query(
      `select id, kind, name_zh as "nameZh", ref_o2_pct::float8 as "refO2Pct", process, latitude, longitude
         from outlets where enterprise_id = $1 order by id`,
      [id],
    ),
    // HJ 212 credentials never leave the server: only whether they are set.
    db.query(
      `select d.mn, d.outlet_id as "outletId", d.protocol_version as "protocolVersion", d.enabled, d.model,
              '******' as password, d.sm4_key is not null as "hasSm4Key",
              d.realtime_interval_s as "realtimeIntervalS", d.minute_interval_s as "minuteIntervalS"
         from devices d join outlets o on o.id = d.outlet_id where o.enterprise_id = $1 order by d.mn`,
      [id],
    ),
    db.query(
      `select id, role, name_zh as "nameZh", serves_meter_id as "servesMeterId", rated_window_kwh::float8 as "ratedWindowKwh"
         from meters where enterprise_id = $1 order by id`,
      [id],
    ),
    db.query(
      `select l.outlet_id as "outletId", l.factor_code as "factorCode", l.basis, l.value::float8 as value,
              l.lower_value::float8 as "lowerValue", l.unit, l.converted,
              l.annual_load_kg::float8 as "annualLoadKg"
         from permit_limits l join outlets o on o.id = l.outlet_id where o.enterprise_id = $1 order by 1, 2, 3`,
      [id],
    ),
    db.query(
      `select id::text, name, role, phone, email, language, wechat_openid as "wechatOpenid"
         from contacts where enterprise_id = $1 order by id`,
      [id],
    ),
    db.query(
      `select status, effective_from as "effectiveFrom", to_char(resumption_date, 'YYYY-MM-DD') as "resumptionDate", note
         from enterprise_status_timeline where enterprise_id = $1 order by effective_from`,
      [id],
    ),
    db.query(
      `select id, device_mn as "deviceMn", outlet_id as "outletId", starts_at as "startsAt", ends_at as "endsAt",
              reason, source
         from maintenance_windows where enterprise_id = $1 order by starts_at desc limit 50`,
      [id],
    ),
    db.query(
      `select f.meter_id as "meterId", f.outlet_id as "outletId", f.code
         from meter_facilities f join meters m on m.id = f.meter_id where m.enterprise_id = $1 order by 1, 2, 3`,
      [id],
    ),
  ]);
  return {
    ...ent,
    outlets: outlets.rows,
    devices: devices.rows,
    meters: meters.rows.map((m: { id: string }) => ({
      ...m,
      facilities: facilities.rows.filter((f: { meterId: string }) => f.meterId === m.id),
    })),
    maintenance: maintenance.rows,
    limits: limits.rows,
    contacts: contacts.rows,
    timeline: timeline.rows,
  };
}

export interface EnterprisePatch {
  nameZh?: string;
  nameEn?: string | null;
  supervisionClass?: 'key' | 'special' | 'general';
  creditRating?: 'A' | 'B' | 'C' | 'D' | null;
  address?: string | null;
}

const PATCH_COLUMNS: Record<keyof EnterprisePatch, string> = {
  nameZh: 'name_zh',
  nameEn: 'name_en',
  supervisionClass: 'supervision_class',
  creditRating: 'credit_rating',
  address: 'address',
};

/** Edits an enterprise; the registry triggers notify the running services. Audited. */
export async function patchEnterprise(
  pool: pg.Pool,
  p: Principal,
  id: string,
  patch: EnterprisePatch,
): Promise<void> {
  if (!canEditRegistry(p)) throw new ConsoleError('FORBIDDEN', 'this role cannot edit the registry');
  const keys = (Object.keys(patch) as (keyof EnterprisePatch)[]).filter((k) => k in PATCH_COLUMNS);
  if (keys.length === 0) throw new ConsoleError('INVALID_INPUT', 'nothing to change');
  await transaction(pool, async (c) => {
    const cols = keys.map((k) => PATCH_COLUMNS[k]);
    const params: unknown[] = [id];
    // Another district's enterprise is not found, as everywhere else.
    const before = await c.query(
      `select e.district_id, ${cols.map((col) => `e.${col}`).join(', ')} from enterprises e
        where e.id = $1 and ${scopeSql(p, params, 'e')} for update`,
      params,
    );
    const row = before.rows[0] as Record<string, unknown> | undefined;
    if (!row) throw new ConsoleError('NOT_FOUND', 'enterprise not found');
    const sets = cols.map((col, i) => `${col} = $${i + 2}`);
    await c.query(`update enterprises set ${sets.join(', ')} where id = $1`, [
      id,
      ...keys.map((k) => patch[k] ?? null),
    ]);
    await markConsoleEdit(c, 'enterprises', id, p.username);
    const { district_id, ...b } = row;
    await appendAudit(c, p, {
      action: 'registry.enterprise.update',
      entityType: 'enterprise',
      entityId: id,
      districtId: district_id as string,
      before: b,
      after: Object.fromEntries(keys.map((k) => [PATCH_COLUMNS[k], patch[k] ?? null])),
    });
  });
}
