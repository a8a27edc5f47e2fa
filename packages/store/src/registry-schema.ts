// The registry file's shape as a TypeBox schema: every field's type, pattern, range and allowed values.
// Options `what`/`whatZh` name a pattern in the issue, `issue` replaces the issue of any failure of that
// value and `requiredIssue` the issue of its absence. Checks across fields and sections (references,
// uniqueness, calendar dates, consistency) are in registry-check.ts.
import { Type, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
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
} from './registry-types.js';

export const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
export const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Mainland mobile numbers, or landlines with area code (0xx-xxxxxxxx, extension allowed).
const PHONE_RE = /^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$/;
// Facility code of an HJ 212 status item `SBn-RS`, as the logger sends it (`SB1`, `SB01`).
const FACILITY_CODE_RE = /^SB[0-9A-Za-z]{1,16}$/;

/** English and Chinese text of an issue. */
export type Bilingual = readonly [en: string, zh: string];

/** The issue of an instant that is not ISO 8601 with an offset, or not a real time. */
export const instantIssue = (s: string): Bilingual => [
  `must be an ISO 8601 time with offset, e.g. 2025-03-01T08:00:00+08:00, got "${s}"`,
  `必须是带时区的 ISO 8601 时间，如 2025-03-01T08:00:00+08:00，实际为 "${s}"`,
];
export const dateIssue = (s: string): Bilingual => [
  `must be a date YYYY-MM-DD, got "${s}"`,
  `必须是日期 YYYY-MM-DD，实际为 "${s}"`,
];

const text = (max?: number) => Type.String(max === undefined ? {} : { maxLength: max });
const pattern = (re: RegExp, what: string, whatZh = what, max?: number) =>
  Type.String({ pattern: re.source, what, whatZh, ...(max === undefined ? {} : { maxLength: max }) });
const id = () =>
  pattern(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'an id of a-z, 0-9, ".", "_", "-"',
    '由 a-z、0-9、"."、"_"、"-" 组成的编号',
  );
const oneOf = <T extends string | number>(values: readonly T[]): TUnion<TLiteral<T>[]> =>
  Type.Union(values.map((v) => Type.Literal(v)));
const instant = () =>
  Type.String({ pattern: INSTANT_RE.source, issue: { code: 'format', text: instantIssue } });
const date = () => Type.String({ pattern: DATE_RE.source, issue: { code: 'format', text: dateIssue } });
const name = (requireEn: boolean) =>
  Type.Object(
    { zh: text(200), en: requireEn ? text(200) : Type.Optional(text(200)) },
    { additionalProperties: false, kind: 'name' },
  );
const list = <T extends TSchema>(item: T) => Type.Optional(Type.Array(item));
const strict = { additionalProperties: false } as const;
// WGS-84 degrees; the city's bounds are checked across fields (they are configuration, not part of the file).
const location = () =>
  Type.Optional(
    Type.Object(
      { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
      strict,
    ),
  );

const Device = Type.Object(
  {
    mn: pattern(
      /^[0-9A-Za-z_-]{1,40}$/,
      'an HJ 212 MN of letters and digits (up to 40)',
      'HJ 212 MN（字母和数字，最多 40 位）',
    ),
    password: text(64),
    sm4Key: Type.Optional(
      pattern(/^[0-9a-fA-F]{32}$/, '32 hex digits (128-bit SM4 key)', '32 位十六进制数（128 位 SM4 密钥）'),
    ),
    protocolVersion: oneOf(PROTOCOL_VERSIONS),
    realtimeIntervalS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    minuteIntervalS: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 3600,
        multipleOf: 60,
        multipleOfIssue: ['must be a whole number of minutes (multiple of 60)', '必须为整分钟（60 的倍数）'],
      }),
    ),
    model: Type.Optional(text(100)),
    enabled: Type.Optional(Type.Boolean()),
  },
  strict,
);

const Limit = Type.Object(
  {
    factor: pattern(
      /^[a-z][0-9a-z]{5}$/,
      'an HJ 212-2017 factor code such as a21026 or w01018',
      'HJ 212-2017 因子编码，如 a21026 或 w01018',
    ),
    basis: oneOf(LIMIT_BASES),
    value: Type.Number({ exclusiveMinimum: 0 }),
    lowerValue: Type.Optional(Type.Number({ minimum: 0 })),
    // The units of the outlet's kind are checked across fields.
    unit: oneOf([...new Set([...LIMIT_UNITS.gas, ...LIMIT_UNITS.water])]),
    converted: Type.Optional(Type.Boolean()),
    range: Type.Optional(Type.Object({ min: Type.Number(), max: Type.Number() }, strict)),
    annualLoadKg: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  strict,
);

const Outlet = Type.Object(
  {
    id: id(),
    kind: oneOf(OUTLET_KINDS),
    name: name(false),
    refO2Pct: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 21 })),
    process: Type.Optional(
      pattern(/^[a-z][a-z0-9-]{0,63}$/, 'a process key such as "coal-boiler"', '工艺标识，如 "coal-boiler"'),
    ),
    location: location(),
    devices: list(Device),
    limits: list(Limit),
    productionMeters: list(
      Type.String({
        minLength: 1,
        issue: { code: 'type', text: () => ['must be a meter id (text)', '必须是电表编号（文本）'] },
      }),
    ),
    cameras: list(
      Type.Object(
        {
          platform: id(),
          id: pattern(
            /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
            'a camera id of letters, digits, ".", "_", "-" (up to 64)',
            '摄像机编号（字母、数字、"."、"_"、"-"，最多 64 位）',
          ),
        },
        strict,
      ),
    ),
  },
  strict,
);

const Meter = Type.Object(
  {
    id: id(),
    role: oneOf(METER_ROLES),
    name: name(false),
    ratedWindowKwh: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    serves: Type.Optional(text()),
    mqttCredentialsRef: Type.Optional(text(200)),
    facilities: list(
      Type.Object(
        {
          outlet: text(),
          code: pattern(
            FACILITY_CODE_RE,
            'an HJ 212 facility code such as SB1 (from SB1-RS)',
            'HJ 212 设施编码，如 SB1（来自 SB1-RS）',
          ),
        },
        strict,
      ),
    ),
  },
  strict,
);

const Contact = Type.Object(
  {
    name: text(100),
    role: oneOf(CONTACT_ROLES),
    phone: Type.Optional(
      pattern(
        PHONE_RE,
        'a mainland mobile (11 digits) or landline with area code',
        '大陆手机号（11 位）或带区号的固定电话',
      ),
    ),
    email: Type.Optional(pattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address', '电子邮箱地址', 254)),
    wechatOpenid: Type.Optional(
      pattern(
        /^[A-Za-z0-9_-]{6,64}$/,
        "an openid of the bureau's WeChat official account",
        '本局公众号下的 openid',
        64,
      ),
    ),
    language: Type.Optional(oneOf(LANGUAGES)),
  },
  strict,
);

const Enterprise = Type.Object(
  {
    id: id(),
    name: name(false),
    creditCode: text(),
    district: text(),
    industry: text(64),
    industryCode: Type.Optional(
      pattern(/^[A-T]?[0-9]{2,4}$/, 'a GB/T 4754 code such as "4411"', 'GB/T 4754 行业代码，如 "4411"'),
    ),
    supervisionClass: oneOf(SUPERVISION_CLASSES),
    creditRating: Type.Optional(oneOf(CREDIT_RATINGS)),
    address: Type.Optional(text(300)),
    location: location(),
    // Before `status`: the declared status is compared with the timeline's latest entry.
    statusTimeline: list(
      Type.Object(
        {
          status: oneOf(ENTERPRISE_STATUSES),
          from: instant(),
          resumptionDate: Type.Optional(date()),
          note: Type.Optional(text(500)),
        },
        strict,
      ),
    ),
    status: Type.Optional(oneOf(ENTERPRISE_STATUSES)),
    outlets: list(Outlet),
    meters: list(Meter),
    contacts: list(Contact),
    violations: list(
      Type.Object(
        {
          id: text(100),
          date: date(),
          kind: oneOf(VIOLATION_KINDS),
          serious: Type.Boolean(),
          description: text(2000),
        },
        strict,
      ),
    ),
    maintenanceWindows: list(
      Type.Object(
        {
          id: text(100),
          device: Type.Optional(text()),
          outlet: Type.Optional(text()),
          from: instant(),
          to: instant(),
          reason: text(500),
        },
        strict,
      ),
    ),
  },
  strict,
);

const versionIssue: Bilingual = [`must be ${REGISTRY_FILE_VERSION}`, `必须为 ${REGISTRY_FILE_VERSION}`];

export const RegistrySchema = Type.Object(
  {
    version: Type.Literal(REGISTRY_FILE_VERSION, {
      issue: { code: 'enum', text: () => versionIssue },
      requiredIssue: versionIssue,
    }),
    city: Type.Optional(Type.Object({ name: name(false) }, strict)),
    districts: Type.Array(Type.Object({ id: id(), name: name(true) }, strict)),
    enterprises: Type.Array(Enterprise),
  },
  strict,
);
