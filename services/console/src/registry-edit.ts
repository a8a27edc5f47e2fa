// Over 500 lines: the six kinds of registry change (status, maintenance, device, meter, contact,
// limit) each have a prepare step here, and all of them share one request → approve → apply path.
/**
 * Registry upkeep from the console: status changes, maintenance windows, devices, meters, contacts and
 * permit limits. Officers of the enterprise's district and city staff make them (another district's
 * enterprise is 404). Each change is checked (bilingual, field-named errors; nothing saved on an
 * error), written in one transaction with its audit row and a console-edit mark (the next YAML import
 * reports a conflict instead of overwriting it); the registry's triggers NOTIFY `registry_changed`, so
 * the gateway, ingestors and analyzer reload within seconds. A change that relaxes supervision waits
 * in `registry_change_requests` until a second person at city level approves it.
 */
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { hasLoadUnit } from '@offsite/domain';
import {
  LIMIT_UNITS,
  markConsoleEdit,
  positionProblem,
  transaction,
  type GeoBounds,
  type RegistryTable,
} from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { canEditRegistry, scopeSql, type Principal } from './principal.js';

export type RegistryChange =
  | {
      kind: 'status';
      status: 'shutdown' | 'resuming' | 'normal';
      effectiveFrom: string;
      resumptionDate?: string;
      note?: string;
    }
  | {
      kind: 'maintenance';
      id?: string;
      deviceMn?: string;
      outletId?: string;
      startsAt: string;
      endsAt: string;
      reason: string;
    }
  | { kind: 'maintenance-end'; id: string; endsAt?: string }
  | {
      kind: 'device';
      mn: string;
      newMn?: string;
      rotatePassword?: boolean;
      realtimeIntervalS?: number;
      minuteIntervalS?: number;
      enabled?: boolean;
      protocolVersion?: 2005 | 2017 | 2025;
      sm4Key?: string | null;
    }
  | {
      kind: 'meter';
      id: string;
      nameZh?: string;
      ratedWindowKwh?: number | null;
      servesMeterId?: string | null;
      facilities?: { outletId: string; code: string }[];
    }
  | {
      kind: 'contact';
      id?: string;
      name: string;
      role: 'legal' | 'env-manager' | 'operator' | 'contact';
      phone?: string | null;
      email?: string | null;
      language?: 'zh' | 'en';
      /** null removes it, absent keeps it (a new contact: none). */
      wechatOpenid?: string | null;
    }
  | { kind: 'contact-delete'; id: string }
  | {
      kind: 'limit';
      outletId: string;
      factorCode: string;
      basis: 'hourly' | 'daily';
      value: number;
      lowerValue?: number | null;
      unit?: string;
      converted?: boolean;
      /** 许可排放量 (kg a year) of the outlet and factor: null removes it, undefined keeps it. */
      annualLoadKg?: number | null;
    }
  | {
      kind: 'location';
      /** The outlet whose position this is; absent: the enterprise's own. */
      outletId?: string;
      /** WGS-84 degrees; both null removes the position. */
      lat: number | null;
      lon: number | null;
    };

export interface RegistryEditOptions {
  /** A maintenance window longer than this many hours needs a city-level approval. */
  maintenanceApprovalHours: number;
  /**
   * What an enterprise user's declaration (status, maintenance window, its early end) does: takes
   * effect at once (`immediate`), or waits for an officer of its district or city staff (`confirm`,
   * the default). A declaration that relaxes supervision anyway waits for a city-level approval.
   */
  enterpriseDeclarations?: 'immediate' | 'confirm';
  /** The city's bounds (OFFSITE_CITY_BOUNDS): a position outside them is refused. Absent: the WGS-84 range only. */
  cityBounds?: GeoBounds;
}

/** The changes an enterprise user may declare for its own enterprise (the portal). */
const DECLARABLE: ReadonlySet<RegistryChange['kind']> = new Set(['status', 'maintenance', 'maintenance-end']);
/** Why an enterprise's declaration waits (`registry_change_requests.relaxes`). */
export const AWAITS_OFFICER = '企业申报，待执法人员确认 / declared by the enterprise, awaiting an officer';

export interface ChangeOutcome {
  state: 'applied' | 'pending';
  /** The approval request, when the change waits for one. */
  requestId?: string;
  /** A rotated HJ 212 PW, shown once to the person who rotated it (never stored in the audit). */
  password?: string;
}

/** A bad field: 400 with the field's name and a zh-CN / English message; nothing is saved. */
export function fieldError(field: string, zh: string, en: string): ConsoleError {
  return new ConsoleError('INVALID_INPUT', `${field}：${zh} / ${field}: ${en}`, {
    details: { in: 'body', field },
  });
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An instant with its offset (`Z` or `+08:00`); a local time without one is refused. */
export function instant(field: string, v: string): Date {
  const d = new Date(v);
  if (!INSTANT.test(v) || Number.isNaN(d.getTime()))
    throw fieldError(
      field,
      '时间须带时区偏移，如 2026-03-02T08:00:00+08:00',
      'an instant with its UTC offset is required, e.g. 2026-03-02T08:00:00+08:00',
    );
  return d;
}

interface Ent {
  id: string;
  district_id: string;
}

interface Prepared {
  target: string;
  before: unknown;
  after: unknown;
  /** Why it needs approval (bilingual), or null when it takes effect at once. */
  relaxes: string | null;
  /** Registry rows it writes, marked as console edits for the importer. */
  edits: [RegistryTable, string][];
  apply(c: pg.PoolClient): Promise<{ password?: string }>;
}

const PW_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const newPassword = () =>
  Array.from({ length: 12 }, () => PW_ALPHABET[randomInt(PW_ALPHABET.length)]).join('');

async function one<T>(c: pg.PoolClient, sql: string, params: unknown[]): Promise<T | undefined> {
  return (await c.query(sql, params)).rows[0] as T | undefined;
}

async function prepareStatus(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'status' }>,
): Promise<Prepared> {
  const from = instant('effectiveFrom', ch.effectiveFrom);
  if (ch.status === 'resuming' && !ch.resumptionDate)
    throw fieldError('resumptionDate', '复工复产须填写复产日期', 'a resumption needs its resumption date');
  if (ch.resumptionDate && (!DATE.test(ch.resumptionDate) || ch.status !== 'resuming'))
    throw fieldError(
      'resumptionDate',
      '复产日期格式为 YYYY-MM-DD，仅用于复工复产',
      'a YYYY-MM-DD date, only for a resumption',
    );
  const before = await one<{ status: string }>(c, 'select status from enterprises where id = $1', [ent.id]);
  const iso = from.toISOString();
  return {
    target: `${ent.id}/${iso}`,
    before: { status: before?.status },
    after: {
      status: ch.status,
      effectiveFrom: iso,
      ...(ch.resumptionDate ? { resumptionDate: ch.resumptionDate } : {}),
    },
    relaxes: null,
    edits: [
      ['enterprise_status_timeline', `${ent.id}/${iso}`],
      ['enterprises', ent.id],
    ],
    async apply(db) {
      await db.query(
        `insert into enterprise_status_timeline (enterprise_id, status, effective_from, resumption_date, note)
         values ($1, $2, $3, $4, $5)
         on conflict (enterprise_id, effective_from) do update
           set status = excluded.status, resumption_date = excluded.resumption_date, note = excluded.note`,
        [ent.id, ch.status, iso, ch.resumptionDate ?? null, ch.note ?? null],
      );
      // The enterprise's status is its latest timeline entry's, as the importer keeps it.
      await db.query(
        `update enterprises e set status = t.status
           from (select status from enterprise_status_timeline where enterprise_id = $1
                  order by effective_from desc limit 1) t
          where e.id = $1 and e.status is distinct from t.status`,
        [ent.id],
      );
      return {};
    },
  };
}

async function prepareMaintenance(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'maintenance' }>,
  o: RegistryEditOptions,
): Promise<Prepared> {
  const starts = instant('startsAt', ch.startsAt);
  const ends = instant('endsAt', ch.endsAt);
  if (ends <= starts) throw fieldError('endsAt', '结束时间须晚于开始时间', 'must be after startsAt');
  if (Boolean(ch.deviceMn) === Boolean(ch.outletId))
    throw fieldError(
      'deviceMn',
      '须指定一台设备或一个排放口（二选一）',
      'give either a device MN or an outlet',
    );
  if (ch.deviceMn) {
    const d = await one(
      c,
      'select 1 from devices d join outlets o on o.id = d.outlet_id where d.mn = $1 and o.enterprise_id = $2',
      [ch.deviceMn, ent.id],
    );
    if (!d) throw fieldError('deviceMn', '该企业没有此设备', 'no such device at this enterprise');
  } else {
    const x = await one(c, 'select 1 from outlets where id = $1 and enterprise_id = $2', [
      ch.outletId,
      ent.id,
    ]);
    if (!x) throw fieldError('outletId', '该企业没有此排放口', 'no such outlet at this enterprise');
  }
  if (!ch.reason.trim()) throw fieldError('reason', '须填写原因', 'a reason is required');
  const id = ch.id!;
  const hours = (ends.getTime() - starts.getTime()) / 3_600_000;
  const after = {
    id,
    ...(ch.deviceMn ? { deviceMn: ch.deviceMn } : { outletId: ch.outletId }),
    startsAt: starts.toISOString(),
    endsAt: ends.toISOString(),
    reason: ch.reason,
  };
  return {
    target: id,
    before: null,
    after,
    relaxes:
      hours > o.maintenanceApprovalHours
        ? `维护时段超过 ${o.maintenanceApprovalHours} 小时 / maintenance window longer than ${o.maintenanceApprovalHours} h`
        : null,
    edits: [],
    async apply(db) {
      await db.query(
        `insert into maintenance_windows (id, enterprise_id, device_mn, outlet_id, starts_at, ends_at, reason, source)
         values ($1, $2, $3, $4, $5, $6, $7, 'console')`,
        [id, ent.id, ch.deviceMn ?? null, ch.outletId ?? null, after.startsAt, after.endsAt, ch.reason],
      );
      return {};
    },
  };
}

async function prepareMaintenanceEnd(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'maintenance-end' }>,
): Promise<Prepared> {
  const w = await one<{ starts_at: Date; ends_at: Date }>(
    c,
    'select starts_at, ends_at from maintenance_windows where id = $1 and enterprise_id = $2 for update',
    [ch.id, ent.id],
  );
  if (!w) throw new ConsoleError('NOT_FOUND', 'maintenance window not found');
  const at = ch.endsAt ? instant('endsAt', ch.endsAt) : new Date();
  if (at >= w.ends_at)
    throw fieldError('endsAt', '只能提前结束维护时段', 'a window can only be ended earlier than declared');
  // Ended before it began: the window is withdrawn.
  const cancel = at <= w.starts_at;
  return {
    target: ch.id,
    before: { startsAt: w.starts_at.toISOString(), endsAt: w.ends_at.toISOString() },
    after: cancel ? { cancelled: true } : { endsAt: at.toISOString() },
    relaxes: null,
    edits: [['maintenance_windows', ch.id]],
    async apply(db) {
      if (cancel) await db.query('delete from maintenance_windows where id = $1', [ch.id]);
      else await db.query('update maintenance_windows set ends_at = $2 where id = $1', [ch.id, at]);
      return {};
    },
  };
}

/** Before/after of the fields a change really changes, and the column assignments for them. */
function fieldDiff() {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  const sets: [string, unknown][] = [];
  return {
    before,
    after,
    sets,
    field(key: string, col: string, now: unknown, next: unknown) {
      if (next === undefined || next === now) return;
      before[key] = now;
      after[key] = next;
      sets.push([col, next]);
    },
    /** `update <table> set … where <keyCol> = key`; table and columns come from this file only. */
    async write(db: pg.PoolClient, table: 'devices' | 'meters', keyCol: 'mn' | 'id', key: string) {
      if (sets.length === 0) return;
      await db.query(
        `update ${table} set ${sets.map(([col], i) => `${col} = $${i + 2}`).join(', ')} where ${keyCol} = $1`,
        [key, ...sets.map(([, v]) => v)],
      );
    },
  };
}

async function prepareDevice(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'device' }>,
): Promise<Prepared> {
  const d = await one<{
    realtime_interval_s: number;
    minute_interval_s: number;
    enabled: boolean;
    protocol_version: number;
    has_sm4: boolean;
  }>(
    c,
    `select d.realtime_interval_s, d.minute_interval_s, d.enabled, d.protocol_version, d.sm4_key is not null as has_sm4
       from devices d join outlets o on o.id = d.outlet_id where d.mn = $1 and o.enterprise_id = $2 for update of d`,
    [ch.mn, ent.id],
  );
  if (!d) throw new ConsoleError('NOT_FOUND', 'device not found');
  const mn = ch.newMn ?? ch.mn;
  if (ch.newMn && ch.newMn !== ch.mn && (await one(c, 'select 1 from devices where mn = $1', [ch.newMn])))
    throw fieldError('newMn', '该 MN 已被另一台设备使用', 'this MN is already used by another device');
  if (ch.minuteIntervalS !== undefined && ch.minuteIntervalS % 60 !== 0)
    throw fieldError('minuteIntervalS', '须为 60 秒的整数倍', 'must be a whole number of minutes (60 s)');
  const disabling = d.enabled && ch.enabled === false;
  if (disabling && ch.rotatePassword)
    throw fieldError(
      'rotatePassword',
      '停用设备需审批，请单独更换密码',
      'rotate the PW separately from disabling',
    );
  const diff = fieldDiff();
  const { before, after, sets, field } = diff;
  before.mn = ch.mn;
  after.mn = mn;
  field('realtimeIntervalS', 'realtime_interval_s', d.realtime_interval_s, ch.realtimeIntervalS);
  field('minuteIntervalS', 'minute_interval_s', d.minute_interval_s, ch.minuteIntervalS);
  field('enabled', 'enabled', d.enabled, ch.enabled);
  field('protocolVersion', 'protocol_version', d.protocol_version, ch.protocolVersion);
  // Secrets never reach the audit: only that they changed.
  if (ch.sm4Key !== undefined) {
    before.sm4Key = d.has_sm4 ? 'set' : 'none';
    after.sm4Key = ch.sm4Key === null ? 'none' : 'set (new)';
    sets.push(['sm4_key', ch.sm4Key]);
  }
  if (ch.rotatePassword) {
    before.password = '******';
    after.password = 'rotated';
  }
  if (sets.length === 0 && !ch.rotatePassword && mn === ch.mn)
    throw fieldError('device', '没有要修改的内容', 'nothing to change');
  return {
    target: ch.mn,
    before,
    after,
    relaxes: disabling ? '停用设备 / device disabled' : null,
    edits: [
      ['devices', ch.mn],
      ['devices', mn],
    ],
    async apply(db) {
      if (mn !== ch.mn) {
        // The MN is the key: a new row, its maintenance windows moved over, the old row removed.
        await db.query(
          `insert into devices (mn, outlet_id, password, sm4_key, protocol_version, realtime_interval_s,
                                minute_interval_s, model, enabled)
           select $2, outlet_id, password, sm4_key, protocol_version, realtime_interval_s, minute_interval_s, model, enabled
             from devices where mn = $1`,
          [ch.mn, mn],
        );
        await db.query('update maintenance_windows set device_mn = $2 where device_mn = $1', [ch.mn, mn]);
        await db.query('delete from devices where mn = $1', [ch.mn]);
      }
      const password = ch.rotatePassword ? newPassword() : undefined;
      if (password) sets.push(['password', password]);
      await diff.write(db, 'devices', 'mn', mn);
      return password ? { password } : {};
    },
  };
}

/**
 * Why a meter change relaxes supervision, or null: the treatment meter no longer serves (or serves another)
 * production meter, a facility status link (`SBn-RS`) removed, a production meter's configured rated window energy
 * raised or a treatment meter's lowered (the treatment-idle rule's thresholds are shares of them).
 */
function meterRelaxes(
  m: { role: string; rated: number | null; serves: string | null },
  oldLinks: readonly { outletId: string; code: string }[],
  ch: Extract<RegistryChange, { kind: 'meter' }>,
): string | null {
  if (m.serves !== null && ch.servesMeterId !== undefined && ch.servesMeterId !== m.serves)
    return '治理设施电表不再关联原生产电表 / the treatment meter no longer serves its production meter';
  const kept = (o: { outletId: string; code: string }) =>
    ch.facilities!.some((f) => f.outletId === o.outletId && f.code === o.code);
  if (ch.facilities && !oldLinks.every(kept)) return '移除设施运行状态关联 / facility status link removed';
  // A configured rated energy cleared (null) returns to the rule's derived one: not a relaxation as such.
  const rated = ch.ratedWindowKwh;
  if (typeof rated === 'number' && m.rated !== null) {
    if (m.role === 'production' && rated > m.rated)
      return '生产电表额定时段电量调高 / production meter’s rated window energy raised';
    if (m.role === 'treatment' && rated < m.rated)
      return '治理设施电表额定时段电量调低 / treatment meter’s rated window energy lowered';
  }
  return null;
}

async function prepareMeter(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'meter' }>,
): Promise<Prepared> {
  const m = await one<{ role: string; name_zh: string; rated: number | null; serves: string | null }>(
    c,
    `select role, name_zh, rated_window_kwh::float8 as rated, serves_meter_id as serves
       from meters where id = $1 and enterprise_id = $2 for update`,
    [ch.id, ent.id],
  );
  if (!m) throw new ConsoleError('NOT_FOUND', 'meter not found');
  if (ch.servesMeterId) {
    if (m.role !== 'treatment')
      throw fieldError(
        'servesMeterId',
        '只有治理设施电表可关联生产电表',
        'only a treatment meter serves a production meter',
      );
    const p = await one<{ role: string }>(c, 'select role from meters where id = $1 and enterprise_id = $2', [
      ch.servesMeterId,
      ent.id,
    ]);
    if (p?.role !== 'production')
      throw fieldError(
        'servesMeterId',
        '须为本企业的生产电表',
        'must be a production meter of this enterprise',
      );
  }
  const oldLinks = (
    await c.query<{ outlet_id: string; code: string }>(
      'select outlet_id, code from meter_facilities where meter_id = $1 order by 1, 2',
      [ch.id],
    )
  ).rows.map((r) => ({ outletId: r.outlet_id, code: r.code }));
  for (const [i, f] of (ch.facilities ?? []).entries()) {
    if (!/^SB[0-9A-Za-z]{1,16}$/.test(f.code))
      throw fieldError(`facilities.${i}.code`, '设施编码格式为 SB1、SB2…', 'a facility code such as SB1');
    if (!(await one(c, 'select 1 from outlets where id = $1 and enterprise_id = $2', [f.outletId, ent.id])))
      throw fieldError(`facilities.${i}.outletId`, '该企业没有此排放口', 'no such outlet at this enterprise');
  }
  const diff = fieldDiff();
  const { before, after, field } = diff;
  field('nameZh', 'name_zh', m.name_zh, ch.nameZh);
  field('ratedWindowKwh', 'rated_window_kwh', m.rated, ch.ratedWindowKwh);
  field('servesMeterId', 'serves_meter_id', m.serves, ch.servesMeterId);
  const key = (f: { outletId: string; code: string }) => `${ch.id}/${f.outletId}/${f.code}`;
  if (ch.facilities) {
    before.facilities = oldLinks;
    after.facilities = ch.facilities;
  }
  return {
    target: ch.id,
    before,
    after,
    relaxes: meterRelaxes(m, oldLinks, ch),
    edits: [
      ['meters', ch.id],
      ...[...oldLinks, ...(ch.facilities ?? [])].map(
        (f) => ['meter_facilities', key(f)] as [RegistryTable, string],
      ),
    ],
    async apply(db) {
      await diff.write(db, 'meters', 'id', ch.id);
      if (ch.facilities) {
        await db.query('delete from meter_facilities where meter_id = $1', [ch.id]);
        for (const f of ch.facilities)
          await db.query(
            'insert into meter_facilities (meter_id, outlet_id, code) values ($1, $2, $3) on conflict do nothing',
            [ch.id, f.outletId, f.code],
          );
      }
      return {};
    },
  };
}

async function prepareContact(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'contact' }> | Extract<RegistryChange, { kind: 'contact-delete' }>,
): Promise<Prepared> {
  type Row = {
    id: string;
    name: string;
    role: string;
    phone: string | null;
    email: string | null;
    language: string;
    wechatOpenid: string | null;
  };
  const old = ch.id
    ? await one<Row>(
        c,
        `select id::text, name, role, phone, email, language, wechat_openid as "wechatOpenid"
           from contacts where id = $1 and enterprise_id = $2 for update`,
        [ch.id, ent.id],
      )
    : undefined;
  if (ch.id && !old) throw new ConsoleError('NOT_FOUND', 'contact not found');
  const edits: [RegistryTable, string][] = old ? [['contacts', `${ent.id}/${old.role}/${old.name}`]] : [];
  if (ch.kind === 'contact-delete')
    return {
      target: ch.id,
      before: old,
      after: null,
      relaxes: null,
      edits,
      async apply(db) {
        await db.query('delete from contacts where id = $1', [ch.id]);
        return {};
      },
    };
  const phone = ch.phone?.trim() || null;
  const email = ch.email?.trim() || null;
  if (!phone && !email)
    throw fieldError('phone', '手机号与邮箱至少填一项', 'give a phone number or an email address');
  if (phone && !/^\+?[0-9]{5,20}$/.test(phone))
    throw fieldError('phone', '手机号格式不正确', 'not a phone number');
  if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
    throw fieldError('email', '邮箱格式不正确', 'not an email address');
  const openid =
    ch.wechatOpenid === undefined ? (old?.wechatOpenid ?? null) : ch.wechatOpenid?.trim() || null;
  // The registry's rule (migration 190): WeChat openids are 6–64 letters, digits, `_` and `-`.
  if (openid && !/^[A-Za-z0-9_-]{6,64}$/.test(openid))
    throw fieldError(
      'wechatOpenid',
      '微信 openid 格式不正确（6–64 位字母、数字、下划线或连字符）',
      'not a WeChat openid (6–64 letters, digits, _ or -)',
    );
  const clash = await one<{ id: string }>(
    c,
    'select id::text from contacts where enterprise_id = $1 and role = $2 and name = $3',
    [ent.id, ch.role, ch.name],
  );
  if (clash && clash.id !== ch.id)
    throw fieldError(
      'name',
      '该企业已有同名同角色的联系人',
      'this enterprise already has a contact of this name and role',
    );
  const after = {
    name: ch.name,
    role: ch.role,
    phone,
    email,
    language: ch.language ?? 'zh',
    wechatOpenid: openid,
  };
  edits.push(['contacts', `${ent.id}/${ch.role}/${ch.name}`]);
  return {
    target: ch.id ?? `${ent.id}/${ch.role}/${ch.name}`,
    before: old ?? null,
    after,
    relaxes: null,
    edits,
    async apply(db) {
      if (ch.id)
        await db.query(
          `update contacts set name = $2, role = $3, phone = $4, email = $5, language = $6, wechat_openid = $7
            where id = $1`,
          [ch.id, after.name, after.role, phone, email, after.language, openid],
        );
      else
        await db.query(
          `insert into contacts (enterprise_id, name, role, phone, email, language, wechat_openid)
           values ($1, $2, $3, $4, $5, $6, $7)`,
          [ent.id, after.name, after.role, phone, email, after.language, openid],
        );
      return {};
    },
  };
}

const KIND_ZH = { gas: '废气', water: '废水' } as const;

async function prepareLimit(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'limit' }>,
): Promise<Prepared> {
  const outlet = await one<{ kind: 'gas' | 'water' }>(
    c,
    'select kind from outlets where id = $1 and enterprise_id = $2',
    [ch.outletId, ent.id],
  );
  if (!outlet) throw fieldError('outletId', '该企业没有此排放口', 'no such outlet at this enterprise');
  const old = await one<{ value: number; lower: number | null; unit: string; converted: boolean }>(
    c,
    `select value::float8 as value, lower_value::float8 as lower, unit, converted from permit_limits
      where outlet_id = $1 and factor_code = $2 and basis = $3 for update`,
    [ch.outletId, ch.factorCode, ch.basis],
  );
  const unit = ch.unit ?? old?.unit;
  if (!unit) throw fieldError('unit', '新限值须填写单位', 'a new limit needs its unit');
  if (!LIMIT_UNITS[outlet.kind].includes(unit))
    throw fieldError(
      'unit',
      `单位 ${unit} 不适用于${KIND_ZH[outlet.kind]}排放口（可用：${LIMIT_UNITS[outlet.kind].join('、')}）`,
      `unit ${unit} does not fit a ${outlet.kind} outlet (use ${LIMIT_UNITS[outlet.kind].join(', ')})`,
    );
  const lower = ch.lowerValue === undefined ? (old?.lower ?? null) : ch.lowerValue;
  if (lower !== null && lower >= ch.value)
    throw fieldError('lowerValue', '下限须小于限值', 'the lower bound must be below the limit');
  const converted = ch.converted ?? old?.converted ?? false;
  // The factor's annual load is held by one of its limit rows (any basis): this one from now on.
  const annual = await one<{ kg: number | null }>(
    c,
    `select max(annual_load_kg)::float8 as kg from permit_limits where outlet_id = $1 and factor_code = $2`,
    [ch.outletId, ch.factorCode],
  );
  const oldAnnual = annual?.kg ?? null;
  const annualLoadKg = ch.annualLoadKg === undefined ? oldAnnual : ch.annualLoadKg;
  if (annualLoadKg !== null && ch.annualLoadKg !== undefined && !hasLoadUnit(unit))
    throw fieldError(
      'annualLoadKg',
      `单位为 ${unit} 的因子没有排放量，不能设定许可排放量`,
      `a factor in ${unit} has no mass load: no permitted annual load`,
    );
  const raised =
    old !== undefined &&
    (ch.value > old.value ||
      (old.lower !== null && (lower === null || lower < old.lower)) ||
      converted !== old.converted);
  // Raising the permitted annual load, or removing it, relaxes supervision as a raised limit does.
  const annualRelaxed = oldAnnual !== null && (annualLoadKg === null || annualLoadKg > oldAnnual);
  const key = `${ch.outletId}/${ch.factorCode}/${ch.basis}`;
  return {
    target: key,
    before: old
      ? {
          value: old.value,
          lowerValue: old.lower,
          unit: old.unit,
          converted: old.converted,
          annualLoadKg: oldAnnual,
        }
      : null,
    after: { value: ch.value, lowerValue: lower, unit, converted, annualLoadKg },
    relaxes: raised
      ? '限值放宽 / limit relaxed'
      : annualRelaxed
        ? '许可排放量调高或删除 / permitted annual load raised or removed'
        : null,
    edits: [['permit_limits', key]],
    async apply(db) {
      if (ch.annualLoadKg === undefined) {
        await db.query(
          `insert into permit_limits (outlet_id, factor_code, basis, value, lower_value, unit, converted)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (outlet_id, factor_code, basis) do update
             set value = excluded.value, lower_value = excluded.lower_value, unit = excluded.unit, converted = excluded.converted`,
          [ch.outletId, ch.factorCode, ch.basis, ch.value, lower, unit, converted],
        );
        return {};
      }
      await db.query(
        `update permit_limits set annual_load_kg = null
          where outlet_id = $1 and factor_code = $2 and basis <> $3 and annual_load_kg is not null`,
        [ch.outletId, ch.factorCode, ch.basis],
      );
      await db.query(
        `insert into permit_limits (outlet_id, factor_code, basis, value, lower_value, unit, converted, annual_load_kg)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (outlet_id, factor_code, basis) do update
           set value = excluded.value, lower_value = excluded.lower_value, unit = excluded.unit,
               converted = excluded.converted, annual_load_kg = excluded.annual_load_kg`,
        [ch.outletId, ch.factorCode, ch.basis, ch.value, lower, unit, converted, annualLoadKg],
      );
      return {};
    },
  };
}

function prepare(c: pg.PoolClient, ent: Ent, ch: RegistryChange, o: RegistryEditOptions): Promise<Prepared> {
  switch (ch.kind) {
    case 'status':
      return prepareStatus(c, ent, ch);
    case 'maintenance':
      return prepareMaintenance(c, ent, ch, o);
    case 'maintenance-end':
      return prepareMaintenanceEnd(c, ent, ch);
    case 'device':
      return prepareDevice(c, ent, ch);
    case 'meter':
      return prepareMeter(c, ent, ch);
    case 'contact':
    case 'contact-delete':
      return prepareContact(c, ent, ch);
    case 'limit':
      return prepareLimit(c, ent, ch);
    case 'location':
      return prepareLocation(c, ent, ch, o);
  }
}

/** Sets or removes the position of the enterprise or one of its outlets; it never relaxes supervision. */
async function prepareLocation(
  c: pg.PoolClient,
  ent: Ent,
  ch: Extract<RegistryChange, { kind: 'location' }>,
  o: RegistryEditOptions,
): Promise<Prepared> {
  const problem = positionProblem(ch.lat ?? undefined, ch.lon ?? undefined, o.cityBounds);
  if (problem)
    throw fieldError(problem.field === 'position' ? 'location' : problem.field, problem.zh, problem.en);
  const table = ch.outletId ? 'outlets' : 'enterprises';
  const key = ch.outletId ?? ent.id;
  // Table names from this function only; the outlet must be the enterprise's.
  const row = await one<{ latitude: number | null; longitude: number | null }>(
    c,
    ch.outletId
      ? 'select latitude, longitude from outlets where id = $1 and enterprise_id = $2 for update'
      : 'select latitude, longitude from enterprises where id = $1 and id = $2',
    [key, ent.id],
  );
  if (!row) throw fieldError('outletId', '该企业没有此排放口', 'no such outlet at this enterprise');
  const before = row.latitude === null ? null : { lat: row.latitude, lon: row.longitude };
  const after = ch.lat === null ? null : { lat: ch.lat, lon: ch.lon };
  if (JSON.stringify(before) === JSON.stringify(after))
    throw fieldError('location', '没有要修改的内容', 'nothing to change');
  return {
    target: key,
    before: { [table === 'outlets' ? 'outlet' : 'enterprise']: key, location: before },
    after: { [table === 'outlets' ? 'outlet' : 'enterprise']: key, location: after },
    relaxes: null,
    edits: [[table, key]],
    async apply(db) {
      await db.query(`update ${table} set latitude = $2, longitude = $3 where id = $1`, [
        key,
        ch.lat,
        ch.lon,
      ]);
      return {};
    },
  };
}

/** The enterprise, locked, if the principal may edit it; 404 outside the principal's scope. */
async function editableEnterprise(
  c: pg.PoolClient,
  p: Principal,
  id: string,
  kind: RegistryChange['kind'],
): Promise<Ent> {
  if (!canEditRegistry(p) && !(p.role === 'enterprise' && DECLARABLE.has(kind)))
    throw new ConsoleError('FORBIDDEN', 'this role cannot edit the registry');
  const params: unknown[] = [id];
  const ent = await one<Ent>(
    c,
    `select e.id, e.district_id from enterprises e where e.id = $1 and ${scopeSql(p, params, 'e')} for update`,
    params,
  );
  if (!ent) throw new ConsoleError('NOT_FOUND', 'enterprise not found');
  return ent;
}

async function applyPrepared(c: pg.PoolClient, p: Principal, prep: Prepared): Promise<{ password?: string }> {
  const out = await prep.apply(c);
  for (const [table, key] of prep.edits) await markConsoleEdit(c, table, key, p.username);
  return out;
}

/**
 * Makes a registry change as `p`: applied at once (audited), or, when it relaxes supervision, queued
 * for a city-level approval (the queueing audited).
 */
export async function requestChange(
  pool: pg.Pool,
  p: Principal,
  enterpriseId: string,
  change: RegistryChange,
  o: RegistryEditOptions,
  requestId?: string,
): Promise<ChangeOutcome> {
  const ch: RegistryChange =
    change.kind === 'maintenance' && !change.id
      ? { ...change, id: `mw-${Date.now().toString(36)}-${randomInt(36 ** 4).toString(36)}` }
      : change;
  return transaction(pool, async (c) => {
    const ent = await editableEnterprise(c, p, enterpriseId, ch.kind);
    const prepared = await prepare(c, ent, ch, o);
    const declared = p.role === 'enterprise' && o.enterpriseDeclarations !== 'immediate';
    const prep = prepared.relaxes || !declared ? prepared : { ...prepared, relaxes: AWAITS_OFFICER };
    const audit = {
      entityType: 'enterprise',
      entityId: ent.id,
      districtId: ent.district_id,
      before: { [ch.kind]: prep.before },
      ...(requestId ? { requestId } : {}),
    };
    if (prep.relaxes) {
      const r = await c.query<{ id: string }>(
        `insert into registry_change_requests (enterprise_id, district_id, kind, target, change, relaxes, before, requested_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id::text`,
        [
          ent.id,
          ent.district_id,
          ch.kind,
          prep.target,
          JSON.stringify(ch),
          prep.relaxes,
          JSON.stringify(prep.before),
          p.userId,
        ],
      );
      const id = r.rows[0]!.id;
      await appendAudit(c, p, {
        ...audit,
        action: `registry.${ch.kind}.requested`,
        after: { [ch.kind]: prep.after, approvalRequest: id, relaxes: prep.relaxes },
      });
      return { state: 'pending', requestId: id };
    }
    const out = await applyPrepared(c, p, prep);
    await appendAudit(c, p, { ...audit, action: `registry.${ch.kind}`, after: { [ch.kind]: prep.after } });
    return { state: 'applied', ...out };
  });
}

/** City-level roles may approve; never the person who asked. */
function canApprove(p: Principal): boolean {
  return p.role === 'admin' || p.role === 'city-supervisor';
}

/** Approves (applies) or rejects a pending relaxing change. Audited. */
export async function decideChange(
  pool: pg.Pool,
  p: Principal,
  id: string,
  decision: { approve: boolean; note: string },
  o: RegistryEditOptions,
): Promise<{ state: 'approved' | 'rejected' }> {
  if (!canApprove(p) && p.role !== 'district-officer')
    throw new ConsoleError('FORBIDDEN', '须由市局人员审批 / only city staff approve');
  return transaction(pool, async (c) => {
    const r = await one<{
      enterprise_id: string;
      district_id: string;
      change: RegistryChange;
      state: string;
      requested_by: string;
      relaxes: string;
    }>(
      c,
      `select enterprise_id, district_id, change, state, requested_by::text, relaxes from registry_change_requests where id = $1 for update`,
      [id],
    );
    if (!r) throw new ConsoleError('NOT_FOUND', 'change request not found');
    // An officer confirms only an enterprise's declaration of its own district.
    if (!canApprove(p)) {
      if (r.district_id !== p.districtId) throw new ConsoleError('NOT_FOUND', 'change request not found');
      if (r.relaxes !== AWAITS_OFFICER)
        throw new ConsoleError('FORBIDDEN', '须由市局人员审批 / only city staff approve');
    }
    if (r.state !== 'pending')
      throw new ConsoleError(
        'INVALID_TRANSITION',
        `此申请已${r.state === 'approved' ? '批准' : '驳回'} / already ${r.state}`,
      );
    if (r.requested_by === p.userId)
      throw new ConsoleError(
        'FORBIDDEN',
        '须由另一人审批 / a second person must approve a change they did not ask for',
      );
    const ent = { id: r.enterprise_id, district_id: r.district_id };
    let after: unknown = null;
    if (decision.approve) {
      // Checked again against the registry as it is now.
      const prep = await prepare(c, ent, r.change, o);
      await applyPrepared(c, p, prep);
      after = prep.after;
    }
    const state = decision.approve ? 'approved' : 'rejected';
    await c.query(
      `update registry_change_requests set state = $2, decided_by = $3, decided_at = now(), decision_note = $4 where id = $1`,
      [id, state, p.userId, decision.note],
    );
    await appendAudit(c, p, {
      action: `registry.${r.change.kind}.${decision.approve ? 'approved' : 'rejected'}`,
      entityType: 'enterprise',
      entityId: ent.id,
      districtId: ent.district_id,
      before: { approvalRequest: id, state: 'pending' },
      after: {
        approvalRequest: id,
        state,
        note: decision.note,
        ...(after ? { [r.change.kind]: after } : {}),
      },
    });
    return { state };
  });
}

/** Change requests in the principal's scope (officers: their district's), newest first. */
export async function listChangeRequests(
  pool: pg.Pool,
  p: Principal,
  state: 'pending' | 'approved' | 'rejected' | undefined,
) {
  if (!canEditRegistry(p) && p.role !== 'viewer') return [];
  const params: unknown[] = [];
  const where = [scopeSql(p, params, 'e')];
  if (state) {
    params.push(state);
    where.push(`r.state = $${params.length}`);
  }
  const rows = await pool.query(
    `select r.id::text as id, r.enterprise_id as "enterpriseId", e.name_zh as "enterpriseNameZh", e.name_en as "enterpriseNameEn",
            r.district_id as "districtId", r.kind, r.target, r.change, r.relaxes, r.before, r.state,
            rq.username as "requestedBy", r.requested_at as "requestedAt", dc.username as "decidedBy",
            r.decided_at as "decidedAt", r.decision_note as "decisionNote"
       from registry_change_requests r join enterprises e on e.id = r.enterprise_id
       join console_users rq on rq.id = r.requested_by left join console_users dc on dc.id = r.decided_by
      where ${where.join(' and ')} order by r.requested_at desc, r.id desc limit 200`,
    params,
  );
  // The request keeps a new SM4 key to apply it on approval; readers learn only that one is set.
  return rows.rows.map((r: { change: Record<string, unknown> }) =>
    'sm4Key' in r.change
      ? { ...r, change: { ...r.change, sm4Key: r.change.sm4Key === null ? 'none' : 'set (new)' } }
      : r,
  );
}
