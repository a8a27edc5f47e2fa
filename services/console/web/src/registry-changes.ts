// A registry change request (GET /api/registry-changes) as people read it: what it changes (the
// device, outlet and factor, the contact), then each field by its name with its value before → after.
// `change` is the request as the API received it; `before` the fields' values when it was made.
import { fmtTime, lang } from './i18n';
import { enumName, factorName } from './labels';

type Names = Readonly<Record<string, readonly [zh: string, en: string]>>;

/** The fields of the registry-change requests (services/console/src/registry-routes.ts). */
const FIELDS: Names = {
  status: ['生产状态', 'Production status'],
  effectiveFrom: ['生效时间', 'Effective from'],
  resumptionDate: ['复产日期', 'Resumption date'],
  note: ['说明', 'Note'],
  deviceMn: ['设备 MN', 'Device MN'],
  outletId: ['排放口', 'Outlet'],
  startsAt: ['开始时间', 'Starts'],
  endsAt: ['结束时间', 'Ends'],
  cancelled: ['撤销', 'Withdrawn'],
  reason: ['原因', 'Reason'],
  mn: ['设备 MN', 'Device MN'],
  newMn: ['新 MN', 'New MN'],
  rotatePassword: ['更换密码', 'Rotate password'],
  password: ['密码', 'Password'],
  realtimeIntervalS: ['实时数据间隔（秒）', 'Real-time interval (s)'],
  minuteIntervalS: ['分钟数据间隔（秒）', 'Minute-data interval (s)'],
  enabled: ['启用', 'Enabled'],
  protocolVersion: ['协议版本', 'Protocol version'],
  sm4Key: ['SM4 密钥', 'SM4 key'],
  nameZh: ['名称', 'Name'],
  ratedWindowKwh: ['额定时段电量（kWh）', 'Rated energy per window (kWh)'],
  servesMeterId: ['对应生产电表', 'Serves meter'],
  facilities: ['治污设施状态关联', 'Facility links'],
  name: ['姓名', 'Name'],
  role: ['角色', 'Role'],
  phone: ['手机', 'Phone'],
  email: ['邮箱', 'Email'],
  language: ['语言', 'Language'],
  wechatOpenid: ['微信 openid', 'WeChat openid'],
  factorCode: ['因子', 'Factor'],
  basis: ['基准', 'Basis'],
  value: ['限值', 'Limit'],
  lowerValue: ['下限', 'Lower bound'],
  unit: ['单位', 'Unit'],
  converted: ['折算', 'Converted (折算)'],
};

const WORDS: Names = {
  legal: ['法定代表人', 'Legal representative'],
  'env-manager': ['环保负责人', 'Environmental manager'],
  operator: ['运维人员', 'Operator'],
  contact: ['联系人', 'Contact'],
  zh: ['中文', 'Chinese'],
  en: ['英文', 'English'],
  yes: ['是', 'yes'],
  no: ['否', 'no'],
  on: ['启用', 'enabled'],
  off: ['停用', 'disabled'],
  none: ['无', 'none'],
  set: ['已设置', 'set'],
  newKey: ['已设置（新密钥）', 'set (new key)'],
  rotated: ['已更换', 'rotated'],
};
const word = (k: string): string => WORDS[k]![lang.value === 'zh' ? 0 : 1];

/** Fields that name what is changed rather than change it: shown in the subject line. */
const SUBJECT = new Set(['kind', 'id', 'mn', 'outletId', 'factorCode', 'basis', 'deviceMn']);

export function fieldName(field: string): string {
  const n = FIELDS[field];
  return n ? n[lang.value === 'zh' ? 0 : 1] : field;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** One field's value in words: enums by name, instants in Beijing time, secrets never shown. */
export function fieldValue(field: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return field === 'sm4Key' ? word('none') : '—';
  if (field === 'sm4Key') return v === 'none' ? word('none') : v === 'set' ? word('set') : word('newKey');
  if (field === 'password') return v === 'rotated' ? word('rotated') : '******';
  if (field === 'enabled' && typeof v === 'boolean') return word(v ? 'on' : 'off');
  if (typeof v === 'boolean') return word(v ? 'yes' : 'no');
  if (field === 'factorCode' && typeof v === 'string') return factorName(v);
  if (field === 'facilities' && Array.isArray(v))
    return v.length
      ? v.map((f: { outletId?: string; code?: string }) => `${f.outletId ?? ''}:${f.code ?? ''}`).join('、')
      : word('none');
  if ((field === 'role' || field === 'language') && typeof v === 'string' && WORDS[v]) return word(v);
  if (typeof v === 'string' && INSTANT.test(v)) return fmtTime(v);
  if (typeof v === 'string') return enumName(v);
  if (Array.isArray(v)) return v.map((x) => fieldValue(field, x)).join('、');
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${fieldName(k)} ${fieldValue(k, x)}`)
      .join('；');
  return String(v);
}

export interface ChangeRequestView {
  kind: string;
  change: Record<string, unknown>;
  before: unknown;
}

/** What the request changes: the device, the outlet's factor and basis, the window, the contact. */
export function changeSubject(r: ChangeRequestView): string {
  const c = r.change;
  const parts: string[] = [];
  if (typeof c.mn === 'string') parts.push(`${fieldName('mn')} ${c.mn}`);
  if (typeof c.deviceMn === 'string') parts.push(`${fieldName('deviceMn')} ${c.deviceMn}`);
  if (typeof c.outletId === 'string') parts.push(`${fieldName('outletId')} ${c.outletId}`);
  if (typeof c.factorCode === 'string') parts.push(factorName(c.factorCode));
  if (typeof c.basis === 'string') parts.push(enumName(c.basis));
  if (r.kind !== 'maintenance' && typeof c.id === 'string') parts.push(`#${c.id}`);
  return parts.join(' · ');
}

export interface FieldRow {
  field: string;
  label: string;
  before: string;
  after: string;
  changed: boolean;
}

/** Each field the request sets, with its value before and after. */
export function changeRows(r: ChangeRequestView): FieldRow[] {
  const before = (r.before && typeof r.before === 'object' ? r.before : {}) as Record<string, unknown>;
  return Object.entries(r.change)
    .filter(([k]) => !SUBJECT.has(k))
    .map(([field, next]) => {
      // A new MN's "before" is the device's MN the request names.
      const b = fieldValue(field, field === 'newMn' ? r.change.mn : before[field]);
      const a = fieldValue(field, next);
      return { field, label: fieldName(field), before: b, after: a, changed: b !== a };
    });
}
