// The stored form of a checkpoint (format 3): the state row and the readings parts the analyzer writes, compact.
// - State row: the engine state (version 3) with its aggregate fingerprints as one index list and one string (the key
//   as a prefix index and its window start as a delta from the previous key's), its deviation records grouped by their
//   keys and held as a list per key, as is every list of like objects in their evidence (an inconsistent-aggregate's
//   windows, ...): a key's list once when its values are all the same, integers as deltas.
// - Readings part: per device stream (enterprise, site, device, kind, interval, period, measurements' layout) its event
//   ids, data times as deltas and each column's values, a column's flags once when all are the same; the readings'
//   order kept as a list of stream indexes. Readings the compact form cannot keep (packed.ts) go in as they are.
// Both decoders also read what the analyzer wrote before (the engine state as JSON, a part as a JSON list of readings),
// so a rolling upgrade restores the older checkpoints.
import type { DeviationRecord, EnterpriseState } from './deviation-records.js';
import type { EngineState } from './engine.js';
import { DomainError } from './errors.js';
import type { DataFlag, Measurement, Reading } from './model.js';
import { plainReading, streamHead } from './packed.js';

export const CHECKPOINT_FORMAT = 3;

/** The stored state row. */
export interface StateRow {
  format: 3;
  watermark: number | null;
  /** Enterprise → its state; the readings are in the parts (always empty here). */
  enterprises: Record<string, EnterpriseState>;
  deviations: StoredDeviations;
  /** Aggregate key prefixes (up to the last `|`). */
  prefixes: string[];
  /** Per aggregate, in the state's order: prefix index, window start less the previous aggregate's. */
  aggregates: number[];
  /** The aggregates' fingerprints, 16 hex digits each, in the same order. */
  fingerprints: string;
  /** Aggregates whose key does not end in an integer start (kept as they are). */
  otherAggregates?: Record<string, string>;
}

/** The deviation records: groups of records with the same keys in columns (`toColumns`), and the state's order. */
interface StoredDeviations {
  /** Per record in the state's order: its group, or -1 for the next of `raw`. */
  order: number[];
  groups: unknown[];
  /** Records holding a key that starts with `~` (as they are). */
  raw: DeviationRecord[];
}

const COLS = '~cols';
const COUNT = '~n';
const COLUMNS = '~c';
const DELTAS = '~d';
const SAME = '~s';

/** Keys JSON writes for a plain object (undefined values are left out, as JSON.stringify does). */
function jsonKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

/** Whether a value holds an object key the column form uses (such evidence is stored as it is). */
function usesMarker(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(usesMarker);
  if (!isPlainObject(v)) return false;
  for (const k of Object.keys(v)) if (k.startsWith('~') || usesMarker(v[k])) return true;
  return false;
}

/**
 * Lists of two or more plain objects with the same keys in the same order become `{ ~cols, ~n, ~c }`: the keys, the
 * count and a list per key. A key's list is `{ ~s }` when every value is the same number, string, boolean or null,
 * `{ ~d }` when they are safe integers (window starts and ends: the first, then each less the one before), else the
 * values, themselves in this form.
 */
function toColumns(v: unknown): unknown {
  if (Array.isArray(v)) {
    if (v.length >= 2 && v.every(isPlainObject)) {
      const cols = jsonKeys(v[0] as Record<string, unknown>);
      const same = v.every((o: Record<string, unknown>) => {
        const k = jsonKeys(o);
        return k.length === cols.length && k.every((x, i) => x === cols[i]);
      });
      if (same && cols.length > 0)
        return {
          [COLS]: cols,
          [COUNT]: v.length,
          [COLUMNS]: cols.map((c) => column(v.map((o: Record<string, unknown>) => o[c]))),
        };
    }
    return v.map(toColumns);
  }
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = toColumns(v[k]);
  return out;
}

function column(values: unknown[]): unknown {
  const first = values[0];
  if ((first === null || typeof first !== 'object') && values.every((x) => x === first))
    return { [SAME]: first };
  if (values.every((x) => Number.isSafeInteger(x))) {
    const n = values as number[];
    return { [DELTAS]: n.map((x, i) => (i === 0 ? x : x - n[i - 1]!)) };
  }
  return toColumns(values);
}

function fromColumns(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromColumns);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o[COLS]) && Array.isArray(o[COLUMNS])) {
    const cols = o[COLS] as string[];
    const n = o[COUNT] as number;
    const lists = (o[COLUMNS] as Record<string, unknown>[]).map((col): unknown[] => {
      if (SAME in col) return new Array<unknown>(n).fill(col[SAME]);
      if (DELTAS in col) {
        let x = 0;
        return (col[DELTAS] as number[]).map((d) => (x += d));
      }
      return fromColumns(col) as unknown[];
    });
    const out: Record<string, unknown>[] = new Array<Record<string, unknown>>(n);
    for (let i = 0; i < n; i++) {
      const x: Record<string, unknown> = {};
      cols.forEach((c, j) => (x[c] = lists[j]![i]));
      out[i] = x;
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = fromColumns(o[k]);
  return out;
}

/** The state row of an engine state (`Engine.checkpoint().state`, version 3; its readings are not written). */
export function encodeStateRow(s: EngineState): StateRow {
  if (s.version !== 3)
    throw new DomainError('invalid-snapshot', 'only a version-3 engine state is stored compact');
  // Readings stay an empty list: an analyzer from before this format then refuses the row as `invalid-snapshot`.
  const enterprises: StateRow['enterprises'] = {};
  for (const [id, e] of Object.entries(s.enterprises)) enterprises[id] = { ...e, readings: [] };
  // Records with the same keys go in one group, in columns; `order` keeps the state's order of the records.
  const groups: DeviationRecord[][] = [];
  const groupOf = new Map<string, number>();
  const order: number[] = [];
  const raw: DeviationRecord[] = [];
  for (const d of Object.values(s.deviations)) {
    if (usesMarker(d)) {
      order.push(-1);
      raw.push(d);
      continue;
    }
    const sig = jsonKeys(d as unknown as Record<string, unknown>).join(',');
    let gi = groupOf.get(sig);
    if (gi === undefined) {
      groupOf.set(sig, (gi = groups.length));
      groups.push([]);
    }
    order.push(gi);
    groups[gi]!.push(d);
  }
  const deviations: StoredDeviations = { order, groups: groups.map(toColumns), raw };
  const prefixes: string[] = [];
  const prefixIndex = new Map<string, number>();
  const aggregates: number[] = [];
  let fingerprints = '';
  let other: Record<string, string> | undefined;
  let prev = 0;
  for (const [key, fp] of Object.entries(s.aggregates)) {
    const bar = key.lastIndexOf('|');
    const start = Number(key.slice(bar + 1));
    if (
      bar < 0 ||
      !Number.isSafeInteger(start) ||
      String(start) !== key.slice(bar + 1) ||
      !/^[0-9a-f]{16}$/.test(fp)
    ) {
      (other ??= {})[key] = fp;
      continue;
    }
    const prefix = key.slice(0, bar);
    let i = prefixIndex.get(prefix);
    if (i === undefined) {
      prefixIndex.set(prefix, (i = prefixes.length));
      prefixes.push(prefix);
    }
    aggregates.push(i, start - prev);
    prev = start;
    fingerprints += fp;
  }
  return {
    format: CHECKPOINT_FORMAT,
    watermark: s.watermark,
    enterprises,
    deviations,
    prefixes,
    aggregates,
    fingerprints,
    ...(other ? { otherAggregates: other } : {}),
  };
}

/** The engine state of a stored row: format 3, or an engine state as the analyzer wrote it before (versions 1–3). */
export function decodeStateRow(row: StateRow | EngineState): EngineState {
  if (row === null || typeof row !== 'object')
    throw new DomainError('invalid-snapshot', 'a checkpoint state row must be an object');
  if (!('format' in row)) return row;
  if (row.format !== CHECKPOINT_FORMAT)
    throw new DomainError(
      'invalid-snapshot',
      `checkpoint format ${String(row.format)} is not one this engine reads`,
    );
  const enterprises: Record<string, EnterpriseState> = {};
  for (const [id, e] of Object.entries(row.enterprises)) enterprises[id] = { ...e, readings: [] };
  const deviations: Record<string, DeviationRecord> = {};
  const groups = row.deviations.groups.map((g) => fromColumns(g) as DeviationRecord[]);
  const next = groups.map(() => 0);
  let raw = 0;
  for (const gi of row.deviations.order) {
    const d = gi < 0 ? row.deviations.raw[raw++]! : groups[gi]![next[gi]!++]!;
    deviations[d.id] = d;
  }
  const aggregates: Record<string, string> = {};
  let start = 0;
  for (let i = 0, j = 0; i < row.aggregates.length; i += 2, j += 16) {
    start += row.aggregates[i + 1]!;
    aggregates[`${row.prefixes[row.aggregates[i]!]}|${start}`] = row.fingerprints.slice(j, j + 16);
  }
  Object.assign(aggregates, row.otherAggregates ?? {});
  return { version: 3, watermark: row.watermark, enterprises, deviations, aggregates };
}

// ---- readings parts ----------------------------------------------------------------------------------------------

/** One device stream of a part. */
interface StoredStream {
  /** enterpriseId, siteId, deviceId, kind, interval, periodSeconds (null: none). */
  s: [string, string, string, string, string, number | null];
  /** Per column: factor, stat, unit (null: none). */
  m: [string, string, string | null][];
  ids: string[];
  /** Data times: the first, then each less the one before. */
  t: number[];
  /** Per column, the values in reading order. */
  v: number[][];
  /** Per column, its flag when every reading has the same one (null: none given), else the flags in order. */
  f: (string | null | (string | null)[])[];
}

/** A stored readings part. */
export interface StoredPart {
  format: 3;
  streams: StoredStream[];
  /** Per reading, in order: its stream's index, or -1 for the next of `raw`. */
  o: number[];
  /** Readings the compact form does not keep, as they are. */
  raw: Reading[];
}

/** A readings part in the compact form (JSON-serialisable). */
export function encodePart(readings: readonly Reading[]): StoredPart {
  const streams: StoredStream[] = [];
  const byKey = new Map<string, StoredStream>();
  const o: number[] = [];
  const raw: Reading[] = [];
  const index = new Map<StoredStream, number>();
  const flags: (string | null)[][][] = [];
  /** Per stream, the data time of its last reading so far. */
  const lastT: number[] = [];
  for (const r of readings) {
    if (!plainReading(r) || !Number.isSafeInteger(r.dataTime)) {
      o.push(-1);
      raw.push(r);
      continue;
    }
    const ms = r.measurements;
    const head = streamHead(r);
    const layout = ms.map((m): [string, string, string | null] => [m.factor, m.stat, m.unit ?? null]);
    const key = JSON.stringify([head, layout]);
    let st = byKey.get(key);
    if (!st) {
      st = { s: head, m: layout, ids: [], t: [], v: ms.map(() => []), f: [] };
      byKey.set(key, st);
      index.set(st, streams.length);
      streams.push(st);
      flags.push(ms.map(() => []));
      lastT.push(r.dataTime);
    }
    const si = index.get(st)!;
    const n = st.ids.length;
    st.ids.push(r.eventId);
    st.t.push(n === 0 ? r.dataTime : r.dataTime - lastT[si]!);
    lastT[si] = r.dataTime;
    ms.forEach((m, c) => {
      st.v[c]!.push(m.value);
      flags[si]![c]!.push(m.flag ?? null);
    });
    o.push(si);
  }
  streams.forEach((st, si) => {
    st.f = flags[si]!.map((col) => (col.every((x) => x === col[0]) ? (col[0] ?? null) : col));
  });
  return { format: CHECKPOINT_FORMAT, streams, o, raw };
}

/** The readings of a stored part: the compact form, or a JSON list of readings as the analyzer wrote before. */
export function decodePart(part: StoredPart | Reading[]): Reading[] {
  if (Array.isArray(part)) return part;
  if (part === null || typeof part !== 'object' || part.format !== CHECKPOINT_FORMAT)
    throw new DomainError('invalid-snapshot', 'a checkpoint readings part of an unknown format');
  const next = part.streams.map(() => 0);
  const times = part.streams.map(() => 0);
  const out: Reading[] = new Array<Reading>(part.o.length);
  let raw = 0;
  for (let k = 0; k < part.o.length; k++) {
    const si = part.o[k]!;
    if (si < 0) {
      out[k] = part.raw[raw++]!;
      continue;
    }
    const st = part.streams[si]!;
    const i = next[si]!++;
    const t = (times[si] = i === 0 ? st.t[0]! : times[si]! + st.t[i]!);
    const measurements: Measurement[] = new Array<Measurement>(st.m.length);
    for (let c = 0; c < st.m.length; c++) {
      const [factor, stat, unit] = st.m[c]!;
      const m: Measurement = { factor, stat, value: st.v[c]![i]! };
      if (unit !== null) m.unit = unit;
      const f = st.f[c];
      const flag = Array.isArray(f) ? f[i] : f;
      if (flag !== null && flag !== undefined) m.flag = flag as DataFlag;
      measurements[c] = m;
    }
    const [enterpriseId, siteId, deviceId, kind, interval, periodSeconds] = st.s;
    // The key order of `unpack` (packed.ts): the same readings as the JSON list gave.
    out[k] = {
      eventId: st.ids[i]!,
      enterpriseId,
      siteId,
      deviceId,
      kind: kind as Reading['kind'],
      interval: interval as Reading['interval'],
      ...(periodSeconds !== null ? { periodSeconds } : {}),
      dataTime: t,
      measurements,
    };
  }
  return out;
}
