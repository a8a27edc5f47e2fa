// The checks of a registry file that its schema cannot express: references between sections,
// identifiers unique across the file, real calendar dates, consistency between fields. It reads the
// data the schema checked, skipping every value the schema refused (an issue at its path), and builds
// the registry with its defaults filled in and its instants in UTC.
import { checkCreditCode } from './credit-code.js';
import type { GeoBounds } from './registry-geo.js';
import { join } from './registry-issues.js';
import { Check, MISSING, Unique, compact, type Obj, type Uniques } from './registry-check-core.js';
import { checkMeter, checkOutlet } from './registry-check-outlets.js';
import {
  REGISTRY_FILE_VERSION,
  type RegistryContact,
  type RegistryDistrict,
  type RegistryEnterprise,
  type RegistryFile,
  type RegistryIssue,
  type RegistryMaintenanceWindow,
  type RegistryMeter,
  type RegistryOutlet,
  type RegistryViolation,
  type StatusTimelineEntry,
} from './registry-types.js';

export interface RegistryCheckOptions {
  /** The city's bounds (configuration): a position outside them is an issue. Absent: the WGS-84 range only. */
  cityBounds?: GeoBounds;
}

const CREDIT_CODE_PROBLEMS = {
  length: ['must have 18 characters', '必须为 18 位'],
  characters: [
    'uses characters outside GB 32100 (no I, O, S, V, Z; digits in positions 3–8)',
    '含有 GB 32100 不允许的字符（不含 I、O、S、V、Z，第 3–8 位为数字）',
  ],
  'check-character': ['has a wrong check character (GB 32100)', '校验码错误（GB 32100）'],
} as const;

/**
 * Checks what the schema cannot and builds the registry. `refused` holds the paths of the schema's
 * issues, `emptied` those of fields given as empty text (reported as empty, not as missing).
 */
export function checkRegistry(
  root: Obj,
  refused: ReadonlySet<string>,
  emptied: ReadonlySet<string>,
  options: RegistryCheckOptions = {},
): { issues: RegistryIssue[]; registry: RegistryFile } {
  const c = new Check(refused, emptied, options.cityBounds);
  const cityObj = c.get<Obj>(root, '', 'city');
  const cityName = cityObj && c.get<{ zh: string; en?: string }>(cityObj, 'city', 'name');
  const city = cityName ? { name: cityName } : undefined;

  const districts: RegistryDistrict[] = [];
  const districtIds = new Set<string>();
  c.each(root, '', 'districts', (o, p) => {
    const id = c.get<string>(o, p, 'id');
    if (id !== undefined) {
      if (districtIds.has(id))
        c.add(join(p, 'id'), 'duplicate', `duplicate district id "${id}"`, `区县编号重复："${id}"`);
      districtIds.add(id);
    }
    const n = c.get<{ zh: string; en: string }>(o, p, 'name');
    districts.push({ id: id ?? MISSING, name: { zh: n?.zh ?? MISSING, en: n?.en ?? MISSING } });
  });

  const u: Uniques = {
    enterprise: new Unique(c, 'enterprise id', '企业编号'),
    creditCode: new Unique(c, 'unified social credit code', '统一社会信用代码'),
    outlet: new Unique(c, 'outlet id', '排口编号'),
    mn: new Unique(c, 'device MN', '设备 MN'),
    meter: new Unique(c, 'meter id', '电表编号'),
    violation: new Unique(c, 'violation id', '违法记录编号'),
    window: new Unique(c, 'maintenance window id', '运维时段编号'),
    camera: new Unique(c, 'camera (platform/id)', '摄像机（平台/编号）'),
  };
  const enterprises: RegistryEnterprise[] = [];
  c.each(root, '', 'enterprises', (o, p) => enterprises.push(checkEnterprise(c, u, districtIds, o, p)));
  return {
    issues: c.issues,
    registry: compact({ version: REGISTRY_FILE_VERSION, city, districts, enterprises }),
  };
}

function checkEnterprise(
  c: Check,
  u: Uniques,
  districtIds: ReadonlySet<string>,
  o: Obj,
  p: string,
): RegistryEnterprise {
  const id = c.get<string>(o, p, 'id');
  u.enterprise.check(id, join(p, 'id'));
  const creditCode = c.get<string>(o, p, 'creditCode');
  if (creditCode !== undefined) {
    const problem = checkCreditCode(creditCode);
    if (problem) {
      const why = CREDIT_CODE_PROBLEMS[problem];
      c.add(
        join(p, 'creditCode'),
        'credit-code',
        `unified social credit code "${creditCode}" ${why[0]}`,
        `统一社会信用代码 "${creditCode}" ${why[1]}`,
      );
    } else u.creditCode.check(creditCode, join(p, 'creditCode'));
  }
  const district = c.get<string>(o, p, 'district');
  if (district !== undefined && !districtIds.has(district))
    c.add(
      join(p, 'district'),
      'reference',
      `no district "${district}" in districts`,
      `districts 中没有区县 "${district}"`,
    );

  const statusTimeline: StatusTimelineEntry[] = [];
  let latest: StatusTimelineEntry['status'] | undefined;
  c.each(o, p, 'statusTimeline', (e, q) => {
    const status = c.get<StatusTimelineEntry['status']>(e, q, 'status');
    const from = c.instant(e, q, 'from');
    c.requireIf(status === 'resuming', e, q, 'resumptionDate');
    const resumptionDate = c.date(e, q, 'resumptionDate');
    const prev = statusTimeline[statusTimeline.length - 1];
    if (from !== undefined && prev?.from !== undefined && from <= prev.from)
      c.add(
        join(q, 'from'),
        'consistency',
        'timeline entries must be in strictly increasing time order',
        '状态时间线必须按时间严格递增排列',
      );
    latest = status;
    statusTimeline.push(
      compact({
        status: status ?? MISSING,
        from: from ?? MISSING,
        resumptionDate,
        note: c.get<string>(e, q, 'note'),
      }),
    );
  });
  const declared = c.get<StatusTimelineEntry['status']>(o, p, 'status');
  if (declared !== undefined && latest !== undefined && declared !== latest)
    c.add(
      join(p, 'status'),
      'consistency',
      `status "${declared}" differs from the latest statusTimeline entry "${latest}"`,
      `状态 "${declared}" 与状态时间线最后一条 "${latest}" 不一致`,
    );

  // Meter roles by id, read ahead: outlets name production meters, treatment meters name outlets.
  const roleOf = new Map<string, unknown>();
  for (const m of Array.isArray(o.meters) ? (o.meters as unknown[]) : [])
    if (typeof m === 'object' && m !== null && typeof (m as Obj).id === 'string')
      roleOf.set((m as Obj).id as string, (m as Obj).role);
  const own = { mns: new Set<string>(), outlets: new Set<string>() };
  const outlets: RegistryOutlet[] = [];
  c.each(o, p, 'outlets', (out, q) => outlets.push(checkOutlet(c, u, roleOf, own, out, q)));
  const meters: RegistryMeter[] = [];
  c.each(o, p, 'meters', (m, q) => meters.push(checkMeter(c, u, roleOf, own.outlets, m, q)));
  const contacts: RegistryContact[] = [];
  const contactKeys = new Set<string>();
  c.each(o, p, 'contacts', (ct, q) => {
    const contactName = c.get<string>(ct, q, 'name');
    const role = c.get<RegistryContact['role']>(ct, q, 'role');
    if (contactName !== undefined && role !== undefined) {
      const key = `${role}/${contactName}`;
      if (contactKeys.has(key))
        c.add(
          q,
          'duplicate',
          `contact ${contactName} appears twice as ${role}`,
          `联系人 ${contactName}（${role}）重复`,
        );
      contactKeys.add(key);
    }
    if (ct.phone === undefined && ct.email === undefined)
      c.add(q, 'required', 'needs a phone or an email', '至少需要电话或邮箱之一');
    contacts.push(
      compact({
        name: contactName ?? MISSING,
        role: role ?? MISSING,
        phone: c.get<string>(ct, q, 'phone'),
        email: c.get<string>(ct, q, 'email'),
        wechatOpenid: c.get<string>(ct, q, 'wechatOpenid'),
        language: c.get<RegistryContact['language']>(ct, q, 'language') ?? 'zh',
      }),
    );
  });
  const violations: RegistryViolation[] = [];
  c.each(o, p, 'violations', (v, q) => {
    const vid = c.get<string>(v, q, 'id');
    u.violation.check(vid, join(q, 'id'));
    const date = c.date(v, q, 'date');
    violations.push({
      id: vid ?? MISSING,
      date: date ?? MISSING,
      kind: c.get<RegistryViolation['kind']>(v, q, 'kind') ?? MISSING,
      serious: c.get<boolean>(v, q, 'serious') ?? MISSING,
      description: c.get<string>(v, q, 'description') ?? MISSING,
    });
  });
  const maintenanceWindows: RegistryMaintenanceWindow[] = [];
  c.each(o, p, 'maintenanceWindows', (w, q) => maintenanceWindows.push(checkWindow(c, u, own, w, q)));

  return compact({
    id: id ?? MISSING,
    name: c.get<RegistryEnterprise['name']>(o, p, 'name') ?? MISSING,
    creditCode: creditCode ?? MISSING,
    district: district ?? MISSING,
    industry: c.get<string>(o, p, 'industry') ?? MISSING,
    industryCode: c.get<string>(o, p, 'industryCode'),
    supervisionClass: c.get<RegistryEnterprise['supervisionClass']>(o, p, 'supervisionClass') ?? MISSING,
    creditRating: c.get<RegistryEnterprise['creditRating']>(o, p, 'creditRating'),
    status: latest ?? declared ?? 'normal',
    address: c.get<string>(o, p, 'address'),
    location: c.location(o, p, 'location'),
    statusTimeline,
    outlets,
    meters,
    contacts,
    violations,
    maintenanceWindows,
  });
}

function checkWindow(
  c: Check,
  u: Uniques,
  own: { mns: ReadonlySet<string>; outlets: ReadonlySet<string> },
  w: Obj,
  q: string,
): RegistryMaintenanceWindow {
  const wid = c.get<string>(w, q, 'id');
  u.window.check(wid, join(q, 'id'));
  const device = c.get<string>(w, q, 'device');
  const outlet = c.get<string>(w, q, 'outlet');
  if ((device === undefined) === (outlet === undefined))
    c.add(
      q,
      'consistency',
      'name exactly one of device (MN) or outlet',
      'device（MN）与 outlet 必须且只能填写一个',
    );
  if (device !== undefined && !own.mns.has(device))
    c.add(
      join(q, 'device'),
      'reference',
      `no device with MN "${device}" in this enterprise`,
      `本企业没有 MN 为 "${device}" 的设备`,
    );
  if (outlet !== undefined && !own.outlets.has(outlet))
    c.add(
      join(q, 'outlet'),
      'reference',
      `no outlet "${outlet}" in this enterprise`,
      `本企业没有排口 "${outlet}"`,
    );
  const from = c.instant(w, q, 'from');
  const to = c.instant(w, q, 'to');
  if (from !== undefined && to !== undefined && to <= from)
    c.add(join(q, 'to'), 'consistency', 'must be after from', '结束时间必须晚于开始时间');
  return compact({
    id: wid ?? MISSING,
    device,
    outlet,
    from: from ?? MISSING,
    to: to ?? MISSING,
    reason: c.get<string>(w, q, 'reason') ?? MISSING,
  });
}
