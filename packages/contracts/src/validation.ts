import type { AjvErrorObject, StandaloneValidator } from './generated/validators.js';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Wraps a generated standalone validator into a typed function returning readable messages. */
export function makeValidator<T>(validator: StandaloneValidator): (input: unknown) => ValidationResult<T> {
  return (input) => {
    if (validator(input)) return { ok: true, value: input as T };
    return { ok: false, errors: formatErrors(validator.errors ?? [], input) };
  };
}

/**
 * Turns Ajv errors into one line per problem: `<JSON pointer>: <what is wrong> (got <value>)`.
 * anyOf/oneOf failures are reduced to the branch the value was meant for (picked by a `const`
 * discriminator such as `transport`), or to one line listing the alternatives.
 */
export function formatErrors(errors: readonly AjvErrorObject[], input: unknown): string[] {
  const consumed = new Set<AjvErrorObject>();
  const lines: string[] = [];
  const composites = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  // Innermost composites first, so an outer one does not swallow the inner one's summary.
  composites.sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const c of composites) {
    if (consumed.has(c)) continue;
    consumed.add(c);
    const subs = errors.filter(
      (e) =>
        e !== c &&
        !consumed.has(e) &&
        e.schemaPath.startsWith(`${c.schemaPath}/`) &&
        isWithin(e.instancePath, c.instancePath),
    );
    subs.forEach((e) => consumed.add(e));
    lines.push(...describeComposite(c, subs, input));
  }
  for (const e of errors) {
    if (consumed.has(e) || e.keyword === 'if') continue;
    lines.push(describe(e, input));
  }
  return [...new Set(lines)];
}

function describeComposite(c: AjvErrorObject, subs: AjvErrorObject[], input: unknown): string[] {
  const branches = new Map<string, AjvErrorObject[]>();
  for (const e of subs) {
    const branch = e.schemaPath.slice(c.schemaPath.length + 1).split('/')[0] ?? '';
    branches.set(branch, [...(branches.get(branch) ?? []), e]);
  }
  // A branch whose discriminator (a const on a direct property) failed was not meant for this value.
  const isDiscriminatorMiss = (e: AjvErrorObject) =>
    e.keyword === 'const' &&
    e.instancePath.startsWith(`${c.instancePath}/`) &&
    depth(e.instancePath) === depth(c.instancePath) + 1;
  const meant = [...branches.values()].filter((errs) => !errs.some(isDiscriminatorMiss));
  if (meant.length === 1) return (meant[0] ?? []).map((e) => describe(e, input));
  if (meant.length === 0 && subs.length > 0) {
    const misses = subs.filter(isDiscriminatorMiss);
    const at = misses[0]?.instancePath ?? c.instancePath;
    if (misses.every((e) => e.instancePath === at)) {
      const allowed = misses.map((e) => JSON.stringify(e.params.allowedValue));
      return [`${where(at)}: must be one of ${allowed.join(', ')}${got(input, at)}`];
    }
  }
  const alternatives = [...branches.values()].map((errs) =>
    errs
      .map((e) => (e.instancePath === c.instancePath ? phrase(e) : `${e.instancePath} ${phrase(e)}`))
      .join(' and '),
  );
  return [
    `${where(c.instancePath)}: ${alternatives.length > 0 ? alternatives.join(', or ') : phrase(c)}${got(input, c.instancePath)}`,
  ];
}

function describe(e: AjvErrorObject, input: unknown): string {
  if (e.keyword === 'required') {
    return `${e.instancePath}/${String(e.params.missingProperty)}: is required`;
  }
  if (e.keyword === 'additionalProperties') {
    return `${where(e.instancePath)}: has unknown property "${String(e.params.additionalProperty)}"`;
  }
  return `${where(e.instancePath)}: ${phrase(e)}${got(input, e.instancePath)}`;
}

function phrase(e: AjvErrorObject): string {
  const p = e.params;
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'type':
      return `must be ${String(p.type)}`;
    case 'pattern':
      return KNOWN_PATTERNS[String(p.pattern)] ?? `must match ${String(p.pattern)}`;
    case 'format':
      return `must be a valid ${String(p.format)}`;
    case 'required':
      return `must have property "${String(p.missingProperty)}"`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/** Readable wording for the patterns the schemas share (keep in step with schemas/*.schema.json). */
const KNOWN_PATTERNS: Record<string, string> = {
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?Z$':
    'must be an ISO 8601 UTC time ending in Z, e.g. 2024-03-01T02:10:00Z',
  '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$': 'must be padded standard base64',
  '^[A-Za-z0-9][A-Za-z0-9._:-]*$': "must be an id of letters, digits, '.', '_', ':' or '-'",
  '\\*': 'must be masked (e.g. 138****5678), never a full address',
};

function where(pointer: string): string {
  return pointer === '' ? '(root)' : pointer;
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

function isWithin(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(`${parent}/`);
}

/** ` (got <value>)` for scalars found at the pointer, truncated; empty for objects and missing values. */
function got(input: unknown, pointer: string): string {
  let value: unknown = input;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object') return '';
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || (value !== null && typeof value === 'object')) return '';
  const text = JSON.stringify(value);
  return ` (got ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}
