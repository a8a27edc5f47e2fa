// Bilingual (zh-CN / English), field-named answers to bad input: schema violations and strings
// Postgres cannot store (NUL).
import { ConsoleError } from './errors.js';

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const ZH: Record<string, string> = {
  maxLength: '过长',
  minLength: '过短或为空',
  maxItems: '项数过多',
  minItems: '项数过少',
  uniqueItems: '含重复项',
  pattern: '格式不正确',
  format: '格式不正确',
  type: '类型不正确',
  required: '缺失',
  additionalProperties: '不允许',
  maximum: '超出范围',
  minimum: '超出范围',
  exclusiveMinimum: '超出范围',
  exclusiveMaximum: '超出范围',
  enum: '取值不允许',
  const: '取值不允许',
  anyOf: '取值不允许',
};

export interface InvalidInput {
  code: 'INVALID_INPUT';
  /** Where the field is: body, querystring, params or headers. */
  in: string;
  field: string;
  message: string;
}

/** The answer to a failed schema validation, naming the (first) offending field. */
export function invalidInput(issues: readonly AjvIssue[], context: string | undefined): InvalidInput {
  const v = issues[0];
  const where = context ?? 'body';
  const path = (v?.instancePath ?? '').split('/').filter(Boolean);
  const extra = v?.params.missingProperty ?? v?.params.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  const field = path.length > 0 ? path.join('.') : where;
  const zh = ZH[v?.keyword ?? ''] ?? '无效';
  return {
    code: 'INVALID_INPUT',
    in: where,
    field,
    message: `字段 ${field} ${zh} / invalid field ${field}: ${v?.message ?? 'invalid'}`,
  };
}

/** The path of the first string (value or key) holding a NUL character, depth-first; undefined if none. */
export function nulField(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path || '(value)' : undefined;
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (k.includes('\0')) return p;
    const hit = nulField(v, p, depth + 1);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Refuses NUL characters anywhere in params, query or body (Postgres text cannot hold them). */
export function rejectNul(parts: Record<string, unknown>): void {
  for (const [where, value] of Object.entries(parts)) {
    const field = nulField(value);
    if (field !== undefined)
      throw new ConsoleError(
        'INVALID_INPUT',
        `字段 ${field} 含有不允许的空字符 / invalid field ${field}: NUL characters are not allowed`,
        { details: { in: where, field } },
      );
  }
}
