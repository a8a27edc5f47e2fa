// Over 500 lines: one validator of the whole registry file, every field's check with its bilingual,
// path-named issue, then the cross-references between the sections.
import { parseDocument } from 'yaml';
import { checkCreditCode } from './credit-code.js';
import {
  CONTACT_ROLES,
  CREDIT_RATINGS,
  ENTERPRISE_STATUSES,
  LANGUAGES,
  LIMIT_BASES,
  LIMIT_UNITS,
  METER_ROLES,
  OUTLET_KINDS,
  PROTOCOL_VERSIONS,
  REGISTRY_FILE_VERSION,
  SUPERVISION_CLASSES,
  VIOLATION_KINDS,
  type LocalizedName,
  type ParseRegistryResult,
  type RegistryContact,
  type RegistryDevice,
  type RegistryDistrict,
  type RegistryEnterprise,
  type RegistryFacility,
  type RegistryFile,
  type RegistryFormat,
  type RegistryIssue,
  type RegistryIssueCode,
  type RegistryLimit,
  type RegistryMaintenanceWindow,
  type RegistryMeter,
  type RegistryOutlet,
  type RegistryViolation,
  type StatusTimelineEntry,
} from './registry-types.js';

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MN_RE = /^[0-9A-Za-z_-]{1,40}$/;
const FACTOR_RE = /^[a-z][0-9a-z]{5}$/;
const INDUSTRY_CODE_RE = /^[A-T]?[0-9]{2,4}$/;
const SM4_KEY_RE = /^[0-9a-fA-F]{32}$/;
// Facility code of an HJ 212 status item `SBn-RS`, as the logger sends it (`SB1`, `SB01`).
const FACILITY_CODE_RE = /^SB[0-9A-Za-z]{1,16}$/;
// Mainland mobile numbers, or landlines with area code (0xx-xxxxxxxx, extension allowed).
const PHONE_RE = /^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

type Obj = Record<string, unknown>;

/** Collects issues while walking the untrusted document. */
class Checker {
  readonly issues: RegistryIssue[] = [];

  add(path: string, code: RegistryIssueCode, message: string, messageZh: string): void {
    this.issues.push({ path, code, message, messageZh });
  }

  /** A plain object with only the allowed keys; reports unknown keys (typos) at their path. */
  object(v: unknown, path: string, allowed: readonly string[]): Obj | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.add(path || '(root)', 'type', 'must be an object (mapping)', '必须是对象（映射）');
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (!allowed.includes(key)) {
        this.add(
          join(path, key),
          'unknown-field',
          `unknown field; allowed: ${allowed.join(', ')}`,
          `未知字段；允许的字段：${allowed.join('、')}`,
        );
      }
    }
    return v as Obj;
  }

  array(o: Obj, key: string, path: string, required: boolean): unknown[] {
    const v = o[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (required) this.add(p, 'required', 'is required (a list)', '必填（列表）');
      return [];
    }
    if (!Array.isArray(v)) {
      this.add(p, 'type', 'must be a list', '必须是列表');
      return [];
    }
    return v;
  }

  string(
    o: Obj,
    key: string,
    path: string,
    opts: { required: boolean; pattern?: RegExp; what?: string; max?: number },
  ): string | undefined {
    const v = o[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (opts.required) this.add(p, 'required', 'is required', '必填');
      return undefined;
    }
    if (typeof v !== 'string') {
      // YAML turns unquoted 012345 into the number 12345: losing a leading zero of a password or
      // code silently would lock a device out, so demand quotes instead of converting.
      this.add(
        p,
        'type',
        `must be a string${typeof v === 'number' ? ' (quote numbers-looking values, e.g. "012345")' : ''}`,
        `必须是字符串${typeof v === 'number' ? '（数字样式的值请加引号，如 "012345"）' : ''}`,
      );
      return undefined;
    }
    const s = v.trim();
    if (s === '') {
      if (opts.required) this.add(p, 'required', 'must not be empty', '不能为空');
      return undefined;
    }
    if (opts.max !== undefined && s.length > opts.max) {
      this.add(p, 'range', `is longer than ${opts.max} characters`, `长度超过 ${opts.max} 个字符`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(s)) {
      const what = opts.what ?? `a value matching ${opts.pattern.source}`;
      this.add(p, 'format', `must be ${what}, got "${s}"`, `格式不正确（应为 ${what}），实际为 "${s}"`);
      return undefined;
    }
    return s;
  }

  oneOf<T extends string | number>(
    o: Obj,
    key: string,
    path: string,
    allowed: readonly T[],
    opts: { required: boolean; fallback?: T },
  ): T | undefined {
    const v = o[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (opts.required)
        this.add(
          p,
          'required',
          `is required, one of: ${allowed.join(', ')}`,
          `必填，可选值：${allowed.join('、')}`,
        );
      return opts.fallback;
    }
    if (!(allowed as readonly unknown[]).includes(v)) {
      this.add(
        p,
        'enum',
        `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
        `取值必须为 ${allowed.join('、')} 之一，实际为 ${JSON.stringify(v)}`,
      );
      return undefined;
    }
    return v as T;
  }

  number(
    o: Obj,
    key: string,
    path: string,
    opts: {
      required: boolean;
      min?: number;
      max?: number;
      minExclusive?: boolean;
      maxExclusive?: boolean;
      integer?: boolean;
    },
  ): number | undefined {
    const v = o[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (opts.required) this.add(p, 'required', 'is required (a number)', '必填（数字）');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.add(p, 'type', 'must be a number', '必须是数字');
      return undefined;
    }
    if (opts.integer && !Number.isInteger(v)) {
      this.add(p, 'type', 'must be a whole number', '必须是整数');
      return undefined;
    }
    const low = opts.min !== undefined && (opts.minExclusive ? v <= opts.min : v < opts.min);
    const high = opts.max !== undefined && (opts.maxExclusive ? v >= opts.max : v > opts.max);
    if (low || high) {
      const lo = opts.min === undefined ? '' : `${opts.minExclusive ? '>' : '≥'} ${opts.min}`;
      const hi = opts.max === undefined ? '' : `${opts.maxExclusive ? '<' : '≤'} ${opts.max}`;
      const range = [lo, hi].filter(Boolean).join(' and ');
      this.add(
        p,
        'range',
        `must be ${range}, got ${v}`,
        `取值必须 ${range.replace(' and ', ' 且 ')}，实际为 ${v}`,
      );
      return undefined;
    }
    return v;
  }

  boolean(
    o: Obj,
    key: string,
    path: string,
    opts: { required: boolean; fallback?: boolean },
  ): boolean | undefined {
    const v = o[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (opts.required) this.add(p, 'required', 'is required (true or false)', '必填（true 或 false）');
      return opts.fallback;
    }
    if (typeof v !== 'boolean') {
      this.add(p, 'type', 'must be true or false', '必须是 true 或 false');
      return undefined;
    }
    return v;
  }

  /** An ISO 8601 instant with an explicit offset, returned in UTC (`...Z`). */
  instant(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const s = this.string(o, key, path, { required });
    if (s === undefined) return undefined;
    const m = INSTANT_RE.exec(s);
    const ok =
      m &&
      realDate(Number(m[1]), Number(m[2]), Number(m[3])) &&
      Number(m[4]) < 24 &&
      Number(m[5]) < 60 &&
      Number(m[6] ?? 0) < 60;
    const t = Date.parse(s);
    if (!ok || Number.isNaN(t)) {
      this.add(
        join(path, key),
        'format',
        `must be an ISO 8601 time with offset, e.g. 2025-03-01T08:00:00+08:00, got "${s}"`,
        `必须是带时区的 ISO 8601 时间，如 2025-03-01T08:00:00+08:00，实际为 "${s}"`,
      );
      return undefined;
    }
    return new Date(t).toISOString();
  }

  date(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const s = this.string(o, key, path, { required });
    if (s === undefined) return undefined;
    const m = DATE_RE.exec(s);
    if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
      this.add(
        join(path, key),
        'format',
        `must be a date YYYY-MM-DD, got "${s}"`,
        `必须是日期 YYYY-MM-DD，实际为 "${s}"`,
      );
      return undefined;
    }
    return s;
  }

  name(o: Obj, key: string, path: string, requireEn: boolean): LocalizedName | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined || v === null) {
      this.add(p, 'required', 'is required ({ zh, en })', '必填（{ zh, en }）');
      return undefined;
    }
    const n = this.object(v, p, ['zh', 'en']);
    if (!n) return undefined;
    const zh = this.string(n, 'zh', p, { required: true, max: 200 });
    const en = this.string(n, 'en', p, { required: requireEn, max: 200 });
    if (zh === undefined) return undefined;
    return en === undefined ? { zh } : { zh, en };
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function realDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Drops undefined properties so parsed objects compare and serialise cleanly. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Marks a value a required field failed to yield; `validateRegistry` only returns a registry when there are no issues. */
const MISSING = undefined as unknown as never;

/** Parse and validate a registry file (no database). Reports every problem at once. */
export function parseRegistryFile(text: string, format: RegistryFormat): ParseRegistryResult {
  let data: unknown;
  if (format === 'json') {
    try {
      data = JSON.parse(text);
    } catch (err) {
      return { ok: false, issues: [syntaxIssue((err as Error).message)] };
    }
  } else {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      return { ok: false, issues: doc.errors.map((e) => syntaxIssue(e.message)) };
    }
    data = doc.toJS({ maxAliasCount: 100 });
  }
  return validateRegistry(data);
}

function syntaxIssue(detail: string): RegistryIssue {
  return {
    path: '(root)',
    code: 'syntax',
    message: `not valid: ${detail}`,
    messageZh: `文件语法错误：${detail}`,
  };
}

/** Validate already-parsed data (e.g. from another loader) against the registry format. */
export function validateRegistry(data: unknown): ParseRegistryResult {
  const c = new Checker();
  const root = c.object(data, '', ['version', 'city', 'districts', 'enterprises']);
  if (!root) return { ok: false, issues: c.issues };

  if (root.version !== REGISTRY_FILE_VERSION) {
    c.add(
      'version',
      root.version === undefined ? 'required' : 'enum',
      `must be ${REGISTRY_FILE_VERSION}`,
      `必须为 ${REGISTRY_FILE_VERSION}`,
    );
  }
  let city: RegistryFile['city'];
  if (root.city !== undefined) {
    const co = c.object(root.city, 'city', ['name']);
    const name = co ? c.name(co, 'name', 'city', false) : undefined;
    if (name) city = { name };
  }

  const districts: RegistryDistrict[] = [];
  const districtIds = new Set<string>();
  c.array(root, 'districts', '', true).forEach((raw, i) => {
    const p = join('districts', i);
    const o = c.object(raw, p, ['id', 'name']);
    if (!o) return;
    const id = c.string(o, 'id', p, {
      required: true,
      pattern: ID_RE,
      what: 'an id of a-z, 0-9, ".", "_", "-"',
    });
    const name = c.name(o, 'name', p, true);
    if (id !== undefined) {
      if (districtIds.has(id))
        c.add(join(p, 'id'), 'duplicate', `duplicate district id "${id}"`, `区县编号重复："${id}"`);
      districtIds.add(id);
    }
    districts.push({ id: id ?? MISSING, name: { zh: name?.zh ?? MISSING, en: name?.en ?? MISSING } });
  });

  // Ids that must be unique across the whole file, with the path where each was first seen.
  const seen = {
    enterprise: new Map<string, string>(),
    creditCode: new Map<string, string>(),
    outlet: new Map<string, string>(),
    mn: new Map<string, string>(),
    meter: new Map<string, string>(),
    violation: new Map<string, string>(),
    window: new Map<string, string>(),
  };
  const unique = (
    kind: keyof typeof seen,
    value: string | undefined,
    path: string,
    label: string,
    labelZh: string,
  ) => {
    if (value === undefined) return;
    const first = seen[kind].get(value);
    if (first !== undefined) {
      c.add(
        path,
        'duplicate',
        `duplicate ${label} "${value}" (first at ${first})`,
        `${labelZh}重复："${value}"（首次出现于 ${first}）`,
      );
    } else {
      seen[kind].set(value, path);
    }
  };

  const enterprises: RegistryEnterprise[] = [];
  c.array(root, 'enterprises', '', true).forEach((raw, i) => {
    const p = join('enterprises', i);
    const o = c.object(raw, p, [
      'id',
      'name',
      'creditCode',
      'district',
      'industry',
      'industryCode',
      'supervisionClass',
      'creditRating',
      'status',
      'address',
      'statusTimeline',
      'outlets',
      'meters',
      'contacts',
      'violations',
      'maintenanceWindows',
    ]);
    if (!o) return;
    const id = c.string(o, 'id', p, {
      required: true,
      pattern: ID_RE,
      what: 'an id of a-z, 0-9, ".", "_", "-"',
    });
    unique('enterprise', id, join(p, 'id'), 'enterprise id', '企业编号');
    const name = c.name(o, 'name', p, false);
    const creditCode = c.string(o, 'creditCode', p, { required: true });
    if (creditCode !== undefined) {
      const problem = checkCreditCode(creditCode);
      if (problem) {
        const why = {
          length: ['must have 18 characters', '必须为 18 位'],
          characters: [
            'uses characters outside GB 32100 (no I, O, S, V, Z; digits in positions 3–8)',
            '含有 GB 32100 不允许的字符（不含 I、O、S、V、Z，第 3–8 位为数字）',
          ],
          'check-character': ['has a wrong check character (GB 32100)', '校验码错误（GB 32100）'],
        }[problem];
        c.add(
          join(p, 'creditCode'),
          'credit-code',
          `unified social credit code "${creditCode}" ${why[0]}`,
          `统一社会信用代码 "${creditCode}" ${why[1]}`,
        );
      } else {
        unique(
          'creditCode',
          creditCode,
          join(p, 'creditCode'),
          'unified social credit code',
          '统一社会信用代码',
        );
      }
    }
    const district = c.string(o, 'district', p, { required: true });
    if (district !== undefined && !districtIds.has(district)) {
      c.add(
        join(p, 'district'),
        'reference',
        `no district "${district}" in districts`,
        `districts 中没有区县 "${district}"`,
      );
    }
    const industry = c.string(o, 'industry', p, { required: true, max: 64 });
    const industryCode = c.string(o, 'industryCode', p, {
      required: false,
      pattern: INDUSTRY_CODE_RE,
      what: 'a GB/T 4754 code such as "4411"',
    });
    const supervisionClass = c.oneOf(o, 'supervisionClass', p, SUPERVISION_CLASSES, { required: true });
    const creditRating = c.oneOf(o, 'creditRating', p, CREDIT_RATINGS, { required: false });
    const declaredStatus = c.oneOf(o, 'status', p, ENTERPRISE_STATUSES, { required: false });
    const address = c.string(o, 'address', p, { required: false, max: 300 });

    const statusTimeline: StatusTimelineEntry[] = [];
    c.array(o, 'statusTimeline', p, false).forEach((rawEntry, j) => {
      const q = join(join(p, 'statusTimeline'), j);
      const e = c.object(rawEntry, q, ['status', 'from', 'resumptionDate', 'note']);
      if (!e) return;
      const status = c.oneOf(e, 'status', q, ENTERPRISE_STATUSES, { required: true });
      const from = c.instant(e, 'from', q, true);
      const resumptionDate = c.date(e, 'resumptionDate', q, status === 'resuming');
      const note = c.string(e, 'note', q, { required: false, max: 500 });
      const prev = statusTimeline[statusTimeline.length - 1];
      if (from !== undefined && prev?.from !== undefined && from <= prev.from) {
        c.add(
          join(q, 'from'),
          'consistency',
          'timeline entries must be in strictly increasing time order',
          '状态时间线必须按时间严格递增排列',
        );
      }
      statusTimeline.push(
        compact({ status: status ?? MISSING, from: from ?? MISSING, resumptionDate, note }),
      );
    });
    const latest = statusTimeline[statusTimeline.length - 1]?.status;
    if (declaredStatus !== undefined && latest !== undefined && declaredStatus !== latest) {
      c.add(
        join(p, 'status'),
        'consistency',
        `status "${declaredStatus}" differs from the latest statusTimeline entry "${latest}"`,
        `状态 "${declaredStatus}" 与状态时间线最后一条 "${latest}" 不一致`,
      );
    }

    // Meter roles by id, read ahead: outlets name production meters, treatment meters name outlets.
    const rawMeters = c.array(o, 'meters', p, false);
    const roleOf = new Map<string, unknown>();
    for (const m of rawMeters) {
      if (typeof m === 'object' && m !== null && typeof (m as Obj).id === 'string')
        roleOf.set((m as Obj).id as string, (m as Obj).role);
    }

    const outlets: RegistryOutlet[] = [];
    const ownMns = new Set<string>();
    const ownOutlets = new Set<string>();
    c.array(o, 'outlets', p, false).forEach((rawOutlet, j) => {
      const q = join(join(p, 'outlets'), j);
      const out = c.object(rawOutlet, q, [
        'id',
        'kind',
        'name',
        'refO2Pct',
        'devices',
        'limits',
        'productionMeters',
      ]);
      if (!out) return;
      const outletId = c.string(out, 'id', q, {
        required: true,
        pattern: ID_RE,
        what: 'an id of a-z, 0-9, ".", "_", "-"',
      });
      unique('outlet', outletId, join(q, 'id'), 'outlet id', '排口编号');
      if (outletId !== undefined) ownOutlets.add(outletId);
      const kind = c.oneOf(out, 'kind', q, OUTLET_KINDS, { required: true });
      const outletName = c.name(out, 'name', q, false);
      const refO2Pct = c.number(out, 'refO2Pct', q, { required: false, min: 0, max: 21, maxExclusive: true });
      if (kind === 'water' && out.refO2Pct !== undefined) {
        c.add(
          join(q, 'refO2Pct'),
          'consistency',
          'only gas outlets have a reference O2',
          '只有废气排口有基准氧含量',
        );
      }

      const devices: RegistryDevice[] = [];
      c.array(out, 'devices', q, false).forEach((rawDevice, k) => {
        const r = join(join(q, 'devices'), k);
        const d = c.object(rawDevice, r, [
          'mn',
          'password',
          'sm4Key',
          'protocolVersion',
          'realtimeIntervalS',
          'minuteIntervalS',
          'model',
          'enabled',
        ]);
        if (!d) return;
        const mn = c.string(d, 'mn', r, {
          required: true,
          pattern: MN_RE,
          what: 'an HJ 212 MN of letters and digits (up to 40)',
        });
        unique('mn', mn, join(r, 'mn'), 'device MN', '设备 MN');
        if (mn !== undefined) ownMns.add(mn);
        const password = c.string(d, 'password', r, { required: true, max: 64 });
        const sm4Key = c.string(d, 'sm4Key', r, {
          required: false,
          pattern: SM4_KEY_RE,
          what: '32 hex digits (128-bit SM4 key)',
        });
        const protocolVersion = c.oneOf(d, 'protocolVersion', r, PROTOCOL_VERSIONS, { required: true });
        const realtimeIntervalS =
          c.number(d, 'realtimeIntervalS', r, { required: false, integer: true, min: 0, max: 3600 }) ?? 30;
        const minuteIntervalS =
          c.number(d, 'minuteIntervalS', r, { required: false, integer: true, min: 60, max: 3600 }) ?? 600;
        if (minuteIntervalS % 60 !== 0) {
          c.add(
            join(r, 'minuteIntervalS'),
            'range',
            'must be a whole number of minutes (multiple of 60)',
            '必须为整分钟（60 的倍数）',
          );
        }
        const model = c.string(d, 'model', r, { required: false, max: 100 });
        const enabled = c.boolean(d, 'enabled', r, { required: false, fallback: true }) ?? true;
        devices.push(
          compact({
            mn: mn ?? MISSING,
            password: password ?? MISSING,
            sm4Key,
            protocolVersion: protocolVersion ?? MISSING,
            realtimeIntervalS,
            minuteIntervalS,
            model,
            enabled,
          }),
        );
      });

      const limits: RegistryLimit[] = [];
      const limitKeys = new Set<string>();
      c.array(out, 'limits', q, false).forEach((rawLimit, k) => {
        const r = join(join(q, 'limits'), k);
        const l = c.object(rawLimit, r, [
          'factor',
          'basis',
          'value',
          'lowerValue',
          'unit',
          'converted',
          'range',
        ]);
        if (!l) return;
        const factor = c.string(l, 'factor', r, {
          required: true,
          pattern: FACTOR_RE,
          what: 'an HJ 212-2017 factor code such as a21026 or w01018',
        });
        if (factor !== undefined && kind !== undefined && factor[0] !== (kind === 'gas' ? 'a' : 'w')) {
          c.add(
            join(r, 'factor'),
            'consistency',
            `factor ${factor} does not belong to a ${kind} outlet`,
            `因子 ${factor} 不属于${kind === 'gas' ? '废气' : '废水'}排口`,
          );
        }
        const basis = c.oneOf(l, 'basis', r, LIMIT_BASES, { required: true });
        if (factor !== undefined && basis !== undefined) {
          const key = `${factor}/${basis}`;
          if (limitKeys.has(key))
            c.add(
              r,
              'duplicate',
              `a second ${basis} limit for ${factor}`,
              `${factor} 的${basis === 'hourly' ? '小时' : '日'}限值重复`,
            );
          limitKeys.add(key);
        }
        const value = c.number(l, 'value', r, { required: true, min: 0, minExclusive: true });
        const lowerValue = c.number(l, 'lowerValue', r, { required: false, min: 0 });
        if (value !== undefined && lowerValue !== undefined && lowerValue >= value) {
          c.add(join(r, 'lowerValue'), 'consistency', 'must be below value', '必须小于限值 value');
        }
        const allowedUnits = kind ? LIMIT_UNITS[kind] : [...LIMIT_UNITS.gas, ...LIMIT_UNITS.water];
        const unit = c.oneOf(l, 'unit', r, allowedUnits, { required: true });
        const converted = c.boolean(l, 'converted', r, { required: false, fallback: false }) ?? false;
        if (converted && kind === 'gas' && refO2Pct === undefined) {
          c.add(
            join(r, 'converted'),
            'consistency',
            'a converted (折算) limit needs the outlet refO2Pct',
            '折算限值需要排口的基准氧含量 refO2Pct',
          );
        }
        if (converted && kind === 'water') {
          c.add(
            join(r, 'converted'),
            'consistency',
            'wastewater limits are not converted',
            '废水限值不做折算',
          );
        }
        let range: RegistryLimit['range'];
        if (l.range !== undefined) {
          const rp = join(r, 'range');
          const ro = c.object(l.range, rp, ['min', 'max']);
          if (ro) {
            const min = c.number(ro, 'min', rp, { required: true });
            const max = c.number(ro, 'max', rp, { required: true });
            if (min !== undefined && max !== undefined) {
              if (min >= max)
                c.add(
                  join(rp, 'max'),
                  'consistency',
                  'must be above range.min',
                  '必须大于量程下限 range.min',
                );
              else range = { min, max };
              if (value !== undefined && value > max) {
                c.add(
                  join(rp, 'max'),
                  'consistency',
                  `instrument range ${max} is below the limit ${value}`,
                  `仪器量程上限 ${max} 低于限值 ${value}`,
                );
              }
            }
          }
        }
        limits.push(
          compact({
            factor: factor ?? MISSING,
            basis: basis ?? MISSING,
            value: value ?? MISSING,
            lowerValue,
            unit: unit ?? MISSING,
            converted,
            range,
          }),
        );
      });

      const productionMeters: string[] = [];
      c.array(out, 'productionMeters', q, false).forEach((rawRef, k) => {
        const r = join(join(q, 'productionMeters'), k);
        if (typeof rawRef !== 'string' || rawRef.trim() === '') {
          c.add(r, 'type', 'must be a meter id (text)', '必须是电表编号（文本）');
          return;
        }
        const ref = rawRef.trim();
        if (!roleOf.has(ref)) {
          c.add(r, 'reference', `no meter "${ref}" in this enterprise`, `本企业没有电表 "${ref}"`);
        } else if (roleOf.get(ref) !== 'production') {
          c.add(r, 'reference', `meter "${ref}" is not a production meter`, `电表 "${ref}" 不是生产设施电表`);
        } else if (productionMeters.includes(ref)) {
          c.add(r, 'duplicate', `meter "${ref}" is listed twice`, `电表 "${ref}" 重复列出`);
        } else {
          productionMeters.push(ref);
        }
      });

      outlets.push(
        compact({
          id: outletId ?? MISSING,
          kind: kind ?? MISSING,
          name: outletName ?? MISSING,
          refO2Pct,
          devices,
          limits,
          productionMeters: productionMeters.length > 0 ? productionMeters : undefined,
        }),
      );
    });

    const meters: RegistryMeter[] = [];
    rawMeters.forEach((rawMeter, j) => {
      const q = join(join(p, 'meters'), j);
      const m = c.object(rawMeter, q, [
        'id',
        'role',
        'name',
        'ratedWindowKwh',
        'serves',
        'mqttCredentialsRef',
        'facilities',
      ]);
      if (!m) return;
      const meterId = c.string(m, 'id', q, {
        required: true,
        pattern: ID_RE,
        what: 'an id of a-z, 0-9, ".", "_", "-"',
      });
      unique('meter', meterId, join(q, 'id'), 'meter id', '电表编号');
      const role = c.oneOf(m, 'role', q, METER_ROLES, { required: true });
      const meterName = c.name(m, 'name', q, false);
      const ratedWindowKwh = c.number(m, 'ratedWindowKwh', q, {
        required: false,
        min: 0,
        minExclusive: true,
      });
      const serves = c.string(m, 'serves', q, { required: false });
      if (serves !== undefined) {
        if (role !== 'treatment') {
          c.add(
            join(q, 'serves'),
            'consistency',
            'only a treatment meter serves a production meter',
            '只有治污设施电表可以关联生产设施电表',
          );
        } else if (!roleOf.has(serves)) {
          c.add(
            join(q, 'serves'),
            'reference',
            `no meter "${serves}" in this enterprise`,
            `本企业没有电表 "${serves}"`,
          );
        } else if (roleOf.get(serves) !== 'production') {
          c.add(
            join(q, 'serves'),
            'reference',
            `meter "${serves}" is not a production meter`,
            `电表 "${serves}" 不是生产设施电表`,
          );
        }
      }
      const mqttCredentialsRef = c.string(m, 'mqttCredentialsRef', q, { required: false, max: 200 });
      const facilities: RegistryFacility[] = [];
      const rawFacilities = c.array(m, 'facilities', q, false);
      if (rawFacilities.length > 0 && role !== undefined && role !== 'treatment') {
        c.add(
          join(q, 'facilities'),
          'consistency',
          'only a treatment meter powers a treatment facility',
          '只有治污设施电表可以关联治污设施状态',
        );
      }
      rawFacilities.forEach((rawFacility, k) => {
        const r = join(join(q, 'facilities'), k);
        const f = c.object(rawFacility, r, ['outlet', 'code']);
        if (!f) return;
        const outlet = c.string(f, 'outlet', r, { required: true });
        if (outlet !== undefined && !ownOutlets.has(outlet)) {
          c.add(
            join(r, 'outlet'),
            'reference',
            `no outlet "${outlet}" in this enterprise`,
            `本企业没有排口 "${outlet}"`,
          );
        }
        const code = c.string(f, 'code', r, {
          required: true,
          pattern: FACILITY_CODE_RE,
          what: 'an HJ 212 facility code such as SB1 (from SB1-RS)',
        });
        if (outlet === undefined || code === undefined) return;
        if (facilities.some((x) => x.outlet === outlet && x.code === code)) {
          c.add(
            r,
            'duplicate',
            `facility ${code} of outlet ${outlet} is listed twice`,
            `排口 ${outlet} 的设施 ${code} 重复列出`,
          );
          return;
        }
        facilities.push({ outlet, code });
      });
      meters.push(
        compact({
          id: meterId ?? MISSING,
          role: role ?? MISSING,
          name: meterName ?? MISSING,
          ratedWindowKwh,
          serves,
          mqttCredentialsRef,
          facilities: facilities.length > 0 ? facilities : undefined,
        }),
      );
    });

    const contacts: RegistryContact[] = [];
    const contactKeys = new Set<string>();
    c.array(o, 'contacts', p, false).forEach((rawContact, j) => {
      const q = join(join(p, 'contacts'), j);
      const ct = c.object(rawContact, q, ['name', 'role', 'phone', 'email', 'language']);
      if (!ct) return;
      const contactName = c.string(ct, 'name', q, { required: true, max: 100 });
      const role = c.oneOf(ct, 'role', q, CONTACT_ROLES, { required: true });
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
      const phone = c.string(ct, 'phone', q, {
        required: false,
        pattern: PHONE_RE,
        what: 'a mainland mobile (11 digits) or landline with area code',
      });
      const email = c.string(ct, 'email', q, {
        required: false,
        pattern: EMAIL_RE,
        what: 'an email address',
        max: 254,
      });
      if (ct.phone == null && ct.email == null) {
        c.add(q, 'required', 'needs a phone or an email', '至少需要电话或邮箱之一');
      }
      const language = c.oneOf(ct, 'language', q, LANGUAGES, { required: false, fallback: 'zh' }) ?? 'zh';
      contacts.push(compact({ name: contactName ?? MISSING, role: role ?? MISSING, phone, email, language }));
    });

    const violations: RegistryViolation[] = [];
    c.array(o, 'violations', p, false).forEach((rawViolation, j) => {
      const q = join(join(p, 'violations'), j);
      const v = c.object(rawViolation, q, ['id', 'date', 'kind', 'serious', 'description']);
      if (!v) return;
      const vid = c.string(v, 'id', q, { required: true, max: 100 });
      unique('violation', vid, join(q, 'id'), 'violation id', '违法记录编号');
      const date = c.date(v, 'date', q, true);
      const kind = c.oneOf(v, 'kind', q, VIOLATION_KINDS, { required: true });
      const serious = c.boolean(v, 'serious', q, { required: true });
      const description = c.string(v, 'description', q, { required: true, max: 2000 });
      violations.push({
        id: vid ?? MISSING,
        date: date ?? MISSING,
        kind: kind ?? MISSING,
        serious: serious ?? MISSING,
        description: description ?? MISSING,
      });
    });

    const maintenanceWindows: RegistryMaintenanceWindow[] = [];
    c.array(o, 'maintenanceWindows', p, false).forEach((rawWindow, j) => {
      const q = join(join(p, 'maintenanceWindows'), j);
      const w = c.object(rawWindow, q, ['id', 'device', 'outlet', 'from', 'to', 'reason']);
      if (!w) return;
      const wid = c.string(w, 'id', q, { required: true, max: 100 });
      unique('window', wid, join(q, 'id'), 'maintenance window id', '运维时段编号');
      const device = c.string(w, 'device', q, { required: false });
      const outlet = c.string(w, 'outlet', q, { required: false });
      if ((device === undefined) === (outlet === undefined)) {
        c.add(
          q,
          'consistency',
          'name exactly one of device (MN) or outlet',
          'device（MN）与 outlet 必须且只能填写一个',
        );
      }
      if (device !== undefined && !ownMns.has(device)) {
        c.add(
          join(q, 'device'),
          'reference',
          `no device with MN "${device}" in this enterprise`,
          `本企业没有 MN 为 "${device}" 的设备`,
        );
      }
      if (outlet !== undefined && !ownOutlets.has(outlet)) {
        c.add(
          join(q, 'outlet'),
          'reference',
          `no outlet "${outlet}" in this enterprise`,
          `本企业没有排口 "${outlet}"`,
        );
      }
      const from = c.instant(w, 'from', q, true);
      const to = c.instant(w, 'to', q, true);
      if (from !== undefined && to !== undefined && to <= from) {
        c.add(join(q, 'to'), 'consistency', 'must be after from', '结束时间必须晚于开始时间');
      }
      const reason = c.string(w, 'reason', q, { required: true, max: 500 });
      maintenanceWindows.push(
        compact({
          id: wid ?? MISSING,
          device,
          outlet,
          from: from ?? MISSING,
          to: to ?? MISSING,
          reason: reason ?? MISSING,
        }),
      );
    });

    enterprises.push(
      compact({
        id: id ?? MISSING,
        name: name ?? MISSING,
        creditCode: creditCode ?? MISSING,
        district: district ?? MISSING,
        industry: industry ?? MISSING,
        industryCode,
        supervisionClass: supervisionClass ?? MISSING,
        creditRating,
        status: latest ?? declaredStatus ?? 'normal',
        address,
        statusTimeline,
        outlets,
        meters,
        contacts,
        violations,
        maintenanceWindows,
      }),
    );
  });

  if (c.issues.length > 0) return { ok: false, issues: c.issues };
  return { ok: true, registry: compact({ version: REGISTRY_FILE_VERSION, city, districts, enterprises }) };
}

/** One line per issue, for logs and CLIs: `path: message / 中文`. */
export function formatRegistryIssues(issues: readonly RegistryIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message} / ${i.messageZh}`).join('\n');
}
