/**
 * 传输有效率: the monthly transmission statistics per device, enterprise and district (domain-rules §6a),
 * computed on read by the console — the one owner of the figure — from the registry in Postgres (devices'
 * minute cadence, registration time and enabled flag; declared maintenance windows) and the minute data the
 * influx-writer stored in InfluxDB (which minutes hold data, which values carry a flag other than `N`), per
 * enterprise, counted per device and day and stored for closed days (transmission-days.ts). The arithmetic is
 * @offsite/domain's `transmissionPlan` and `transmissionFromCounts`. Scope as everywhere else: an officer
 * sees their district, an enterprise user only their own enterprise.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ReportTransmission } from '@offsite/regulation';
import {
  transmissionCounts,
  transmissionFromCounts,
  transmissionPlan,
  type DeviceTransmission,
  type GroupTransmission,
  type TransmissionCounts,
  type TransmissionPlanInput,
} from '@offsite/domain';
import { monthRange } from '@offsite/domain/calendar';
import type { Queryable } from '@offsite/store';
import { ConsoleError } from './errors.js';
import { scopeSql, type Principal } from './principal.js';
import { monthCounts, type DayCountsUse, type TransmissionSource } from './transmission-days.js';

export type { TransmissionSource } from './transmission-days.js';

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface TransmissionDeviceRow extends TransmissionCounts {
  mn: string;
  outletId: string;
  outletName: string;
  intervalS: number;
  status: DeviceTransmission['status'];
  maintenanceSlots: number;
}

export interface TransmissionEnterpriseRow extends TransmissionCounts {
  id: string;
  name: string;
  districtId: string;
  devices: TransmissionDeviceRow[];
}

export interface TransmissionReport {
  month: string;
  /** [from, to) of the month in Asia/Shanghai, ISO 8601 UTC; slots are counted up to `until`. */
  from: string;
  to: string;
  until: string;
  threshold: number;
  total: TransmissionCounts & { devices: number };
  districts: (GroupTransmission & { name: string })[];
  enterprises: TransmissionEnterpriseRow[];
}

const invalidMonth = (zh: string, en: string) =>
  new ConsoleError('INVALID_INPUT', `字段 month：${zh} / invalid field month: ${en}`, {
    details: { in: 'querystring', field: 'month' },
  });

export interface TransmissionRegistryDevice {
  mn: string;
  outlet_id: string;
  outlet_name: string;
  enterprise_id: string;
  enterprise_name: string;
  district_id: string;
  district_name: string;
  minute_interval_s: number;
  enabled: boolean;
  created_at: Date;
}

/**
 * What the month's statistics read from the registry: the devices the principal may see (optionally of one
 * district), with their names, and the plan's input (their cadence, registration and the declared windows).
 */
export async function transmissionInput(
  db: Queryable,
  p: Principal,
  q: { month: string; district?: string },
  now: number,
  threshold: number,
): Promise<{ devices: TransmissionRegistryDevice[]; input: TransmissionPlanInput }> {
  const m = MONTH.exec(q.month);
  if (!m) throw invalidMonth('应为 YYYY-MM 格式的月份', 'expected a YYYY-MM month');
  const params: unknown[] = [];
  const scope = scopeSql(p, params, 'e');
  let district = '';
  if (q.district) {
    params.push(q.district);
    district = ` and e.district_id = $${params.length}`;
  }
  const devices = await db.query<TransmissionRegistryDevice>(
    `select d.mn, d.outlet_id, o.name_zh as outlet_name, o.enterprise_id, e.name_zh as enterprise_name,
            e.district_id, di.name_zh as district_name, d.minute_interval_s, d.enabled, d.created_at
       from devices d join outlets o on o.id = d.outlet_id join enterprises e on e.id = o.enterprise_id
       join districts di on di.id = e.district_id
      where ${scope}${district}
      order by e.id, d.outlet_id, d.mn`,
    params,
  );
  const month = q.month;
  const range = monthRange(month);
  const bounds = { from: range.from.getTime(), to: range.to.getTime() };
  if (bounds.from > now) throw invalidMonth('该月尚未开始', 'the month has not begun');
  const enterpriseIds = [...new Set(devices.rows.map((d) => d.enterprise_id))];
  const windows = enterpriseIds.length
    ? await db.query<{
        enterprise_id: string;
        device_mn: string | null;
        outlet_id: string | null;
        starts_at: Date;
        ends_at: Date;
      }>(
        `select enterprise_id, device_mn, outlet_id, starts_at, ends_at from maintenance_windows
          where enterprise_id = any($1::text[]) and starts_at < $3 and ends_at > $2`,
        [enterpriseIds, new Date(bounds.from), new Date(bounds.to)],
      )
    : { rows: [] };
  return {
    devices: devices.rows,
    input: {
      month,
      until: now,
      threshold,
      devices: devices.rows.map((d) => ({
        mn: d.mn,
        enterpriseId: d.enterprise_id,
        districtId: d.district_id,
        outletId: d.outlet_id,
        intervalS: d.minute_interval_s,
        registeredAt: d.created_at.getTime(),
        enabled: d.enabled,
      })),
      maintenance: windows.rows.map((w) => ({
        enterpriseId: w.enterprise_id,
        deviceMn: w.device_mn,
        outletId: w.outlet_id,
        from: w.starts_at.getTime(),
        to: w.ends_at.getTime(),
      })),
    },
  };
}

/** The month's statistics of the enterprises the principal may see (optionally one district). */
export async function transmissionReport(
  db: Queryable,
  src: TransmissionSource,
  p: Principal,
  q: { month: string; district?: string },
  now: number,
  use?: DayCountsUse,
): Promise<TransmissionReport> {
  const { devices, input } = await transmissionInput(db, p, q, now, src.threshold);
  const plan = transmissionPlan(input);
  const stats = transmissionFromCounts(plan, await monthCounts(db, src, plan, now, use));
  const meta = new Map(devices.map((d) => [d.mn, d]));
  const byEnterprise = new Map<string, TransmissionDeviceRow[]>();
  for (const d of stats.devices) {
    const { enterpriseId, districtId: _d, outletId, ...rest } = d;
    const list = byEnterprise.get(enterpriseId) ?? [];
    list.push({ ...rest, outletId, outletName: meta.get(d.mn)?.outlet_name ?? outletId });
    byEnterprise.set(enterpriseId, list);
  }
  const first = new Map<string, TransmissionRegistryDevice>();
  for (const d of devices) if (!first.has(d.enterprise_id)) first.set(d.enterprise_id, d);
  const districtNames = new Map(devices.map((d) => [d.district_id, d.district_name]));
  const iso = (t: number) => new Date(t).toISOString();
  return {
    month: stats.month,
    from: iso(stats.from),
    to: iso(stats.to),
    until: iso(stats.until),
    threshold: stats.threshold,
    total: stats.total,
    districts: stats.districts.map((g) => ({ ...g, name: districtNames.get(g.id) ?? g.id })),
    enterprises: stats.enterprises.map((g) => ({
      ...g,
      name: first.get(g.id)?.enterprise_name ?? g.id,
      districtId: first.get(g.id)?.district_id ?? '',
      devices: byEnterprise.get(g.id) ?? [],
    })),
  };
}

export function registerTransmissionRoutes(
  app: FastifyInstance,
  deps: { pool: Queryable; who: (req: FastifyRequest) => Principal; source?: TransmissionSource },
): void {
  const Query = Type.Object(
    {
      month: Type.String({ minLength: 7, maxLength: 7 }),
      district: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  );
  app.get('/api/transmission', { schema: { querystring: Query, tags: ['statistics'] } }, async (req) => {
    const p = deps.who(req);
    if (!deps.source) throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'InfluxDB is not configured');
    return transmissionReport(
      deps.pool,
      deps.source,
      p,
      req.query as { month: string; district?: string },
      Date.now(),
    );
  });
}

/**
 * The district's figure for its monthly report (the caller's scope applies; a month that has not begun has
 * none): the district's counts and the enterprises below the threshold.
 */
export async function reportTransmission(
  db: Queryable,
  src: TransmissionSource,
  p: Principal,
  districtId: string,
  month: string,
  now: number,
): Promise<ReportTransmission | null> {
  if (monthRange(month).from.getTime() > now) return null;
  const r = await transmissionReport(db, src, p, { month, district: districtId }, now);
  const d = r.districts.find((x) => x.id === districtId);
  return {
    threshold: r.threshold,
    ...(d ?? transmissionCounts(0, 0, 0, r.threshold)),
    enterprisesBelow: r.enterprises
      .filter((e) => e.belowThreshold)
      .map((e) => ({ id: e.id, name: e.name, effectiveRate: e.effectiveRate })),
    devicesBelow: r.enterprises.flatMap((e) =>
      e.devices
        .filter((d) => d.belowThreshold)
        .map((d) => ({
          mn: d.mn,
          enterpriseName: e.name,
          outletName: d.outletName,
          effectiveRate: d.effectiveRate,
        })),
    ),
  };
}
