/** A point as the writer sends it: measurement + sorted tags + fields + time identify it, so a replay overwrites. */
export interface InfluxPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Seconds since epoch (the writer uses precision=s: HJ 212 data times have second resolution). */
  timeSeconds: number;
}

const MEASUREMENT_SPECIAL = /[,\s\\]/;
const KEY_SPECIAL = /[,=\s\\]/;
const STRING_SPECIAL = /["\\\n]/;

/** Escapes a measurement name (commas, whitespace, backslashes); returns the input when nothing needs it. */
export const escapeMeasurement = (s: string): string =>
  MEASUREMENT_SPECIAL.test(s) ? s.replace(/[,\s\\]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : s;
/** Escapes a tag key, tag value or field key; returns the input when nothing needs it. */
export const escapeKey = (s: string): string =>
  KEY_SPECIAL.test(s) ? s.replace(/[,=\s\\]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : s;
/** A string field value, quoted and escaped. */
export const stringField = (s: string): string =>
  STRING_SPECIAL.test(s) ? `"${s.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"` : `"${s}"`;

export class InvalidPointError extends Error {
  readonly code = 'INFLUX_INVALID_POINT';
  readonly retryable = false;
}

/**
 * A numeric field value, always a float (`12.0`): a field's type must not flip between integer and
 * float across points. Throws InvalidPointError for NaN and infinities.
 */
export function floatField(v: number, key: string): string {
  if (!Number.isFinite(v)) throw new InvalidPointError(`field ${key} is not a finite number: ${v}`);
  return Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : String(v);
}

function fieldValue(v: number | string | boolean, key: string): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return stringField(v);
  return floatField(v, key);
}

/** Encodes one point as a line of InfluxDB line protocol, tags sorted by key (InfluxDB's fastest path). */
export function toLine(p: InfluxPoint): string {
  if (!p.measurement) throw new InvalidPointError('empty measurement');
  const tagKeys = Object.keys(p.tags)
    .filter((k) => p.tags[k] !== '')
    .sort();
  let line = escapeMeasurement(p.measurement);
  for (const k of tagKeys) line += `,${escapeKey(k)}=${escapeKey(p.tags[k]!)}`;
  const fieldKeys = Object.keys(p.fields).sort();
  if (fieldKeys.length === 0) throw new InvalidPointError(`point ${p.measurement} has no fields`);
  line += ' ' + fieldKeys.map((k) => `${escapeKey(k)}=${fieldValue(p.fields[k]!, k)}`).join(',');
  if (!Number.isInteger(p.timeSeconds))
    throw new InvalidPointError(`time must be whole seconds: ${p.timeSeconds}`);
  return `${line} ${p.timeSeconds}`;
}
