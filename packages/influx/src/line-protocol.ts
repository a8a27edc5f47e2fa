/** A point as the writer sends it: measurement + sorted tags + fields + time identify it, so a replay overwrites. */
export interface InfluxPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Seconds since epoch (the writer uses precision=s: HJ 212 data times have second resolution). */
  timeSeconds: number;
}

const escMeasurement = (s: string) => s.replace(/[,\s\\]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
const escKey = (s: string) => s.replace(/[,=\s\\]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
const escString = (s: string) => s.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');

export class InvalidPointError extends Error {
  readonly code = 'INFLUX_INVALID_POINT';
  readonly retryable = false;
}

function fieldValue(v: number | string | boolean, key: string): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return `"${escString(v)}"`;
  if (!Number.isFinite(v)) throw new InvalidPointError(`field ${key} is not a finite number: ${v}`);
  // Always a float: a field's type must not flip between integer and float across points.
  return Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : String(v);
}

/** Encodes one point as a line of InfluxDB line protocol, tags sorted by key (InfluxDB's fastest path). */
export function toLine(p: InfluxPoint): string {
  if (!p.measurement) throw new InvalidPointError('empty measurement');
  const tagKeys = Object.keys(p.tags)
    .filter((k) => p.tags[k] !== '')
    .sort();
  let line = escMeasurement(p.measurement);
  for (const k of tagKeys) line += `,${escKey(k)}=${escKey(p.tags[k]!)}`;
  const fieldKeys = Object.keys(p.fields).sort();
  if (fieldKeys.length === 0) throw new InvalidPointError(`point ${p.measurement} has no fields`);
  line += ' ' + fieldKeys.map((k) => `${escKey(k)}=${fieldValue(p.fields[k]!, k)}`).join(',');
  if (!Number.isInteger(p.timeSeconds))
    throw new InvalidPointError(`time must be whole seconds: ${p.timeSeconds}`);
  return `${line} ${p.timeSeconds}`;
}
