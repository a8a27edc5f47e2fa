// Issues of a registry file: each names its field by path (`enterprises[0].outlets[1].id`), in English
// and Chinese. Schema failures (TypeBox's errors) become the same issues the cross-field checks raise.
import { Kind, type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { Bilingual } from './registry-schema.js';
import type { RegistryIssue, RegistryIssueCode } from './registry-types.js';

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** A JSON pointer (`/enterprises/0/id`) as an issue path (`enterprises[0].id`). */
function fromPointer(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = join(path, /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : key);
  }
  return path;
}

type IssueOverride = { code: RegistryIssueCode; text(value: string): Bilingual };

const allowedOf = (s: TSchema): (string | number)[] =>
  (s.anyOf as TSchema[]).map((v) => v.const as string | number);

function requiredText(s: TSchema, emptied: boolean): Bilingual {
  if (s.requiredIssue) return s.requiredIssue as Bilingual;
  if (emptied) return ['must not be empty', '不能为空'];
  switch (s[Kind]) {
    case 'Array':
      return ['is required (a list)', '必填（列表）'];
    case 'Number':
    case 'Integer':
      return ['is required (a number)', '必填（数字）'];
    case 'Boolean':
      return ['is required (true or false)', '必填（true 或 false）'];
    case 'Union':
      return [`is required, one of: ${allowedOf(s).join(', ')}`, `必填，可选值：${allowedOf(s).join('、')}`];
    case 'Object':
      return s.kind === 'name' ? ['is required ({ zh, en })', '必填（{ zh, en }）'] : ['is required', '必填'];
    default:
      return ['is required', '必填'];
  }
}

function rangeText(s: TSchema, v: unknown): Bilingual {
  const lo =
    s.exclusiveMinimum !== undefined
      ? `> ${s.exclusiveMinimum}`
      : s.minimum !== undefined
        ? `≥ ${s.minimum}`
        : '';
  const hi =
    s.exclusiveMaximum !== undefined
      ? `< ${s.exclusiveMaximum}`
      : s.maximum !== undefined
        ? `≤ ${s.maximum}`
        : '';
  const range = [lo, hi].filter(Boolean).join(' and ');
  return [
    `must be ${range}, got ${String(v)}`,
    `取值必须 ${range.replace(' and ', ' 且 ')}，实际为 ${String(v)}`,
  ];
}

/** The code and text of one schema failure. */
function describe(e: ValueError, emptied: boolean): [RegistryIssueCode, ...Bilingual] {
  const s = e.schema;
  const v = e.value;
  if (e.type === ValueErrorType.ObjectRequiredProperty) return ['required', ...requiredText(s, emptied)];
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    const allowed = Object.keys(s.properties as object);
    return [
      'unknown-field',
      `unknown field; allowed: ${allowed.join(', ')}`,
      `未知字段；允许的字段：${allowed.join('、')}`,
    ];
  }
  if (s.issue) {
    const o = s.issue as IssueOverride;
    return [o.code, ...o.text(String(v))];
  }
  switch (e.type) {
    case ValueErrorType.Object:
      return ['type', 'must be an object (mapping)', '必须是对象（映射）'];
    case ValueErrorType.Array:
      return ['type', 'must be a list', '必须是列表'];
    case ValueErrorType.Boolean:
      return ['type', 'must be true or false', '必须是 true 或 false'];
    case ValueErrorType.String: {
      // YAML turns unquoted 012345 into the number 12345: losing a leading zero of a password or
      // code silently would lock a device out, so demand quotes instead of converting.
      const n = typeof v === 'number';
      return [
        'type',
        `must be a string${n ? ' (quote numbers-looking values, e.g. "012345")' : ''}`,
        `必须是字符串${n ? '（数字样式的值请加引号，如 "012345"）' : ''}`,
      ];
    }
    case ValueErrorType.StringMaxLength:
      return ['range', `is longer than ${s.maxLength} characters`, `长度超过 ${s.maxLength} 个字符`];
    case ValueErrorType.StringPattern: {
      const what = (s.what as string | undefined) ?? `a value matching ${s.pattern}`;
      const whatZh = (s.whatZh as string | undefined) ?? what;
      return [
        'format',
        `must be ${what}, got "${String(v)}"`,
        `格式不正确（应为 ${whatZh}），实际为 "${String(v)}"`,
      ];
    }
    case ValueErrorType.Number:
      return ['type', 'must be a number', '必须是数字'];
    case ValueErrorType.Integer:
      return typeof v === 'number' && Number.isFinite(v)
        ? ['type', 'must be a whole number', '必须是整数']
        : ['type', 'must be a number', '必须是数字'];
    case ValueErrorType.IntegerMultipleOf:
    case ValueErrorType.NumberMultipleOf:
      return ['range', ...(s.multipleOfIssue as Bilingual)];
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return ['range', ...rangeText(s, v)];
    case ValueErrorType.Union: {
      const allowed = allowedOf(s);
      return [
        'enum',
        `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
        `取值必须为 ${allowed.join('、')} 之一，实际为 ${JSON.stringify(v)}`,
      ];
    }
    default:
      return ['type', `is not valid: ${e.message}`, `取值无效：${e.message}`];
  }
}

/** The issues of the schema's errors: the first of each path (a missing value is only "required"). */
export function schemaIssues(errors: Iterable<ValueError>, emptied: ReadonlySet<string>): RegistryIssue[] {
  const byPath = new Map<string, RegistryIssue>();
  for (const e of errors) {
    const path = fromPointer(e.path);
    if (byPath.has(path)) continue;
    const [code, message, messageZh] = describe(e, emptied.has(path));
    byPath.set(path, { path: path || '(root)', code, message, messageZh });
  }
  return [...byPath.values()];
}

/**
 * Sorts issues into the order of the file as the schema declares it: by index in lists, by the order
 * of the schema's properties in objects (unknown fields first), a value before what is inside it.
 * The sort is stable: issues of one path keep their order.
 */
export function sortIssues(issues: RegistryIssue[], root: TSchema): RegistryIssue[] {
  const rank = (path: string): number[] => {
    const out: number[] = [];
    let s: TSchema | undefined = root;
    for (const m of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
      if (m[1] !== undefined) {
        out.push(Number(m[1]));
        s = s?.[Kind] === 'Array' ? (s.items as TSchema) : undefined;
      } else {
        const props = s?.properties as Record<string, TSchema> | undefined;
        out.push(props ? Object.keys(props).indexOf(m[2]!) : -1);
        s = props?.[m[2]!];
      }
    }
    return out;
  };
  const keyed = issues.map((i) => ({ i, r: i.path === '(root)' ? [] : rank(i.path) }));
  keyed.sort((a, b) => {
    for (let k = 0; k < Math.min(a.r.length, b.r.length); k++)
      if (a.r[k] !== b.r[k]) return a.r[k]! - b.r[k]!;
    return a.r.length - b.r.length;
  });
  return keyed.map((k) => k.i);
}
