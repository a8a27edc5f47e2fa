// Reading and validating a registry file: the schema (registry-schema.ts) checks every field, then
// registry-check.ts checks references, uniqueness and consistency and fills in the defaults. Every
// problem is reported at once, each with its field's path, in English and Chinese.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { parseDocument } from 'yaml';
import { checkRegistry, type RegistryCheckOptions } from './registry-check.js';
import { join, schemaIssues, sortIssues } from './registry-issues.js';
import { RegistrySchema } from './registry-schema.js';
import type { ParseRegistryResult, RegistryFormat, RegistryIssue } from './registry-types.js';

/** Parse and validate a registry file (no database). Reports every problem at once. */
export function parseRegistryFile(
  text: string,
  format: RegistryFormat,
  options: RegistryCheckOptions = {},
): ParseRegistryResult {
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
  return validateRegistry(data, options);
}

function syntaxIssue(detail: string): RegistryIssue {
  return {
    path: '(root)',
    code: 'syntax',
    message: `not valid: ${detail}`,
    messageZh: `文件语法错误：${detail}`,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy with text trimmed and absent values dropped: a field that is null, or empty text, counts as
 * not given (`emptied` keeps the paths of empty texts, reported as empty when required).
 */
function tidy(v: unknown, path: string, emptied: Set<string>): unknown {
  if (typeof v === 'string') return v.trim();
  if (Array.isArray(v)) return v.map((x, i) => tidy(x, join(path, i), emptied));
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    const t = tidy(x, join(path, k), emptied);
    if (t === '') emptied.add(join(path, k));
    else out[k] = t;
  }
  return out;
}

let compiled: TypeCheck<typeof RegistrySchema> | undefined;

/** Validate already-parsed data (e.g. from another loader) against the registry format. */
export function validateRegistry(data: unknown, options: RegistryCheckOptions = {}): ParseRegistryResult {
  const emptied = new Set<string>();
  const tidied = tidy(data, '', emptied);
  compiled ??= TypeCompiler.Compile(RegistrySchema);
  const refused = compiled.Check(tidied) ? [] : schemaIssues(compiled.Errors(tidied), emptied);
  if (!isObject(tidied)) return { ok: false, issues: refused };
  const checked = checkRegistry(tidied, new Set(refused.map((i) => i.path)), emptied, options);
  const issues = sortIssues([...refused, ...checked.issues], RegistrySchema);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, registry: checked.registry };
}

/** One line per issue, for logs and CLIs: `path: message / 中文`. */
export function formatRegistryIssues(issues: readonly RegistryIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message} / ${i.messageZh}`).join('\n');
}
