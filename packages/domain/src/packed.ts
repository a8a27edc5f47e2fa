// The engine's compact form of a buffered reading, and of the series the rules read from it. A reading becomes one
// small object: its event id and its row in a chunk of its device stream. A stream is interned per enterprise, site,
// device, kind, interval, period and the layout of its measurements (factors, statistics, units); its readings are
// stored in chunks of 64 rows in columns (Chunk): values as 32-bit integers scaled by a power of ten per column while
// exact, else doubles; data times as doubles; flags as the id of an interned flag vector. A 20-value reading costs
// its event id, one small object and about 90 bytes of columns. The series of a site and factor (series.ts) are lists
// of these rows; a value is read through the layout's column of the factor (`val`).
// `unpack` gives back a plain reading equal to the one packed (checkpoints and snapshots carry plain readings).
import type { DataFlag, Measurement, Reading, ReadingInterval, ReadingKind } from './model.js';

/** The measurements' shape of a reading, interned: equal shapes are one object. */
export class Layout {
  /** factor → stat → the last column with that factor and statistic (a later duplicate wins, as in the series). */
  private readonly cols = new Map<string, Map<string, number>>();
  /** Distinct factors in order of first appearance. */
  readonly distinct: readonly string[];

  constructor(
    readonly factors: readonly string[],
    readonly stats: readonly string[],
    readonly units: readonly (string | undefined)[],
  ) {
    const distinct: string[] = [];
    factors.forEach((f, i) => {
      let byStat = this.cols.get(f);
      if (!byStat) {
        this.cols.set(f, (byStat = new Map()));
        distinct.push(f);
      }
      byStat.set(stats[i]!, i);
    });
    this.distinct = distinct;
  }

  /** The column of `factor` with statistic `stat`, or -1. */
  col(factor: string, stat: string): number {
    return this.cols.get(factor)?.get(stat) ?? -1;
  }

  /** Whether the layout has `factor` with statistic `stat`. */
  has(factor: string, stat: string): boolean {
    return this.col(factor, stat) >= 0;
  }
}

/** What every reading of one device stream shares. */
export interface Stream {
  readonly enterpriseId: string;
  readonly siteId: string;
  readonly deviceId: string;
  readonly kind: ReadingKind;
  readonly interval: ReadingInterval;
  readonly periodSeconds: number | undefined;
  readonly lay: Layout;
  /** The chunk being filled (packed streams only). */
  chunk?: Chunk;
}

/** Rows of one chunk: a stream's readings are stored in chunks of this many, in arrival order. */
const CHUNK_ROWS = 64;
/** Powers of ten a column's values may be scaled by to be stored as 32-bit integers. */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9] as const;
const MAX_EXP = POW10.length - 1;
const INT32_MAX = 2147483647;
/** Flag vector id of a row whose vector is not interned (kept in the chunk's `fx`). */
const OWN_FLAGS = 0xffff;

/**
 * Up to CHUNK_ROWS readings of one stream in columns. Values are stored as 32-bit integers scaled by a power of ten
 * per column (`q / 10^k[c]`) while that gives back every value exactly (IEEE division is correctly rounded, and each
 * value is checked on the way in); the first value that does not turns the chunk to doubles (`d`). Data times are
 * doubles, flags one interned flag-vector id per row. A chunk lives as long as one of its readings does (they point to
 * it; the stream only to the chunk being filled), so evicted readings free their chunks without a compaction.
 */
export class Chunk {
  /** Rows filled. */
  n = 0;
  /** Scaled integer values (row-major, `cols` per row), or null once the chunk holds doubles. */
  q: Int32Array | null;
  /** Per column the power of ten its integers are scaled by (-1: no value yet). */
  k: Int8Array;
  /** Values as doubles (row-major), once a value is not exact as a scaled integer. */
  d: Float64Array | null = null;
  /** Data times by row (a chunk of its own holds the reading's as given). */
  t: Float64Array = new Float64Array(CHUNK_ROWS);
  /** Per row, its interned flag vector's id (Packer), or OWN_FLAGS. */
  readonly f = new Uint16Array(CHUNK_ROWS);
  /** Row → its flag vector when not interned. */
  fx: Map<number, readonly (DataFlag | undefined)[]> | undefined;

  constructor(
    readonly s: Stream,
    readonly cols: number,
    /** The packer's interned flag vectors, by id. */
    readonly vectors: readonly (readonly (DataFlag | undefined)[])[],
    /** The reading as given, when it carries more than the compact form keeps (a chunk of its own). */
    readonly x?: Reading,
  ) {
    this.q = new Int32Array(CHUNK_ROWS * cols);
    this.k = new Int8Array(cols).fill(-1);
  }

  /** The value of row `i`, column `c` (undefined for a column the layout does not have, as a list would give). */
  value(i: number, c: number): number {
    if (c < 0 || c >= this.cols) return undefined as unknown as number;
    const q = this.q;
    return q !== null ? q[i * this.cols + c]! / POW10[this.k[c]!]! : this.d![i * this.cols + c]!;
  }

  flags(i: number): readonly (DataFlag | undefined)[] {
    const id = this.f[i]!;
    return id === OWN_FLAGS ? this.fx!.get(i)! : this.vectors[id]!;
  }

  /** Stores value `v` at row `i`, column `c`. */
  put(i: number, c: number, v: number): void {
    const at = i * this.cols + c;
    if (this.q === null) {
      this.d![at] = v;
      return;
    }
    let k = this.k[c]!;
    if (k < 0) k = 0;
    for (; k <= MAX_EXP; k++) {
      const q = Math.round(v * POW10[k]!);
      if (q / POW10[k]! !== v || q > INT32_MAX || q < -INT32_MAX) continue;
      if (q === 0 && 1 / v < 0) break; // -0 is not an integer's
      if (k !== this.k[c] && !this.rescale(c, k)) break;
      this.q[at] = q;
      return;
    }
    this.toDoubles(i + 1);
    this.d![at] = v;
  }

  /** Scales column `c`'s integers so far to 10^k; false when one no longer fits. */
  private rescale(c: number, k: number): boolean {
    const q = this.q!;
    const from = this.k[c]!;
    if (from >= 0) {
      const f = POW10[k - from]!;
      for (let i = 0; i < this.n; i++) if (Math.abs(q[i * this.cols + c]! * f) > INT32_MAX) return false;
      for (let i = 0; i < this.n; i++) q[i * this.cols + c]! *= f;
    }
    this.k[c] = k;
    return true;
  }

  /** Turns the chunk to doubles, its first `rows` rows (the row being written included) copied. */
  private toDoubles(rows: number): void {
    const d = new Float64Array(CHUNK_ROWS * this.cols);
    for (let i = 0; i < rows; i++)
      for (let c = 0; c < this.cols; c++) d[i * this.cols + c] = this.value(i, c);
    this.d = d;
    this.q = null;
  }
}

/** A buffered reading in compact form: its event id and its row in a chunk. Structurally a `Reading`. */
export class PackedReading implements Reading {
  constructor(
    readonly eventId: string,
    readonly c: Chunk,
    /** The row in the chunk. */
    readonly i: number,
  ) {}

  get s(): Stream {
    return this.c.s;
  }
  /** The reading as given, when it carries more than the compact form keeps (extra fields, odd types). */
  get x(): Reading | undefined {
    return this.c.x;
  }
  /** The value of column `col`. */
  val(col: number): number {
    return this.c.value(this.i, col);
  }
  /** The flag of column `col` (undefined: no flag given, read as `N`). */
  flag(col: number): DataFlag | undefined {
    return this.c.flags(this.i)[col];
  }
  /** The values by column, then the data time (a fresh list: rare paths). */
  get v(): number[] {
    const n = this.c.cols;
    const out = new Array<number>(n + 1);
    for (let c = 0; c < n; c++) out[c] = this.c.value(this.i, c);
    out[n] = this.dataTime;
    return out;
  }
  /** The flags by column (undefined: no flag given, read as `N`). */
  get fl(): readonly (DataFlag | undefined)[] {
    return this.c.flags(this.i);
  }

  get enterpriseId(): string {
    return this.c.s.enterpriseId;
  }
  get siteId(): string {
    return this.c.s.siteId;
  }
  get deviceId(): string {
    return this.c.s.deviceId;
  }
  get kind(): ReadingKind {
    return this.c.s.kind;
  }
  get interval(): ReadingInterval {
    return this.c.s.interval;
  }
  get periodSeconds(): number | undefined {
    return this.c.s.periodSeconds;
  }
  get dataTime(): number {
    return this.c.t[this.i]!;
  }
  /** A fresh copy of the measurements (rare paths: energy and status readings, checkpoints). */
  get measurements(): Measurement[] {
    const { factors, stats, units } = this.c.s.lay;
    const fl = this.fl;
    const out: Measurement[] = new Array<Measurement>(factors.length);
    for (let i = 0; i < factors.length; i++) {
      const m: Measurement = { factor: factors[i]!, stat: stats[i]!, value: this.val(i) };
      if (units[i] !== undefined) m.unit = units[i];
      if (fl[i] !== undefined) m.flag = fl[i];
      out[i] = m;
    }
    return out;
  }
}

const READING_KEYS = new Set([
  'eventId',
  'enterpriseId',
  'siteId',
  'deviceId',
  'kind',
  'interval',
  'periodSeconds',
  'dataTime',
  'measurements',
]);
const MEASUREMENT_KEYS = new Set(['factor', 'stat', 'value', 'unit', 'flag']);

function plainMeasurement(m: Measurement): boolean {
  for (const k in m) if (!MEASUREMENT_KEYS.has(k)) return false;
  return (
    typeof m.factor === 'string' &&
    typeof m.stat === 'string' &&
    typeof m.value === 'number' &&
    (m.unit === undefined || typeof m.unit === 'string') &&
    (m.flag === undefined || typeof m.flag === 'string')
  );
}

/** Whether the compact form keeps everything of `r` (else the reading itself is kept beside it). */
export function plainReading(r: Reading): boolean {
  for (const k in r) if (!READING_KEYS.has(k)) return false;
  if (!Array.isArray(r.measurements)) return false;
  for (const m of r.measurements)
    if (m === null || typeof m !== 'object' || !plainMeasurement(m)) return false;
  return (
    typeof r.eventId === 'string' &&
    typeof r.enterpriseId === 'string' &&
    typeof r.siteId === 'string' &&
    typeof r.deviceId === 'string' &&
    typeof r.dataTime === 'number' &&
    (r.periodSeconds === undefined || typeof r.periodSeconds === 'number')
  );
}

function cloneReading(r: Reading): Reading {
  return { ...r, measurements: r.measurements.map((m) => ({ ...m })) };
}

/** Interned flag vectors above this many are no longer shared (bounds the table). */
const MAX_FLAG_VECTORS = 4096;

/** Packs readings, interning streams, layouts and flag vectors. One per engine (and per Evaluator). */
export class Packer {
  private readonly layouts = new Map<string, Layout>();
  private readonly streams = new Map<string, Stream>();
  private readonly flagVectors = new Map<string, readonly (DataFlag | undefined)[]>();
  /** Device id → the stream of its last packed reading (the usual hit: no key to build). */
  private readonly last = new Map<string, Stream>();

  /** Interned flag vectors by id (a chunk's row holds the id). */
  private readonly vectors: (readonly (DataFlag | undefined)[])[] = [];
  private readonly vectorIds = new Map<readonly (DataFlag | undefined)[], number>();

  pack(r: Reading): PackedReading {
    if (r instanceof PackedReading) return r;
    const plain = plainReading(r);
    const ms: readonly Measurement[] = Array.isArray(r.measurements) ? r.measurements : [];
    const n = ms.length;
    const fl = new Array<DataFlag | undefined>(n);
    let allSame = true;
    for (let i = 0; i < n; i++) {
      const m = ms[i]!;
      fl[i] = m.flag;
      if (m.flag !== ms[0]!.flag) allSame = false;
    }
    if (!plain) {
      // A chunk of its own holding the values and time as given (they may not be numbers).
      const c = new Chunk(this.ownStream(r), n, this.vectors, cloneReading(r));
      c.q = null;
      c.d = ms.map((m) => m.value) as unknown as Float64Array;
      c.t = [r.dataTime] as unknown as Float64Array;
      c.f[0] = OWN_FLAGS;
      (c.fx = new Map()).set(0, fl);
      c.n = 1;
      return new PackedReading(r.eventId, c, 0);
    }
    const s = this.stream(r);
    let c = s.chunk;
    if (c === undefined || c.n === CHUNK_ROWS) s.chunk = c = new Chunk(s, n, this.vectors);
    const i = c.n;
    for (let k = 0; k < n; k++) c.put(i, k, ms[k]!.value);
    c.t[i] = r.dataTime;
    const vec = this.flags(fl, allSame);
    const id = this.vectorIds.get(vec);
    if (id === undefined) {
      c.f[i] = OWN_FLAGS;
      (c.fx ??= new Map()).set(i, vec);
    } else c.f[i] = id;
    c.n = i + 1;
    return new PackedReading(r.eventId, c, i);
  }

  private stream(r: Reading): Stream {
    const prev = this.last.get(r.deviceId);
    if (prev && sameStream(prev, r)) return prev;
    const lay = this.layout(r.measurements);
    const key = JSON.stringify([...streamHead(r), r.periodSeconds === undefined]);
    const k = `${key}\n${this.layoutKey(r.measurements)}`;
    let s = this.streams.get(k);
    if (!s) this.streams.set(k, (s = streamOf(r, lay)));
    this.last.set(r.deviceId, s);
    return s;
  }

  /** A stream of its own for a reading kept as given (its fields may not be strings: nothing is interned). */
  private ownStream(r: Reading): Stream {
    return streamOf(r, layoutOf(Array.isArray(r.measurements) ? r.measurements : []));
  }

  private layoutKey(ms: readonly Measurement[]): string {
    let k = '';
    for (const m of ms)
      k += `${m.factor}\u0000${m.stat}\u0000${m.unit === undefined ? '\u0001' : m.unit}\u0000`;
    return k;
  }

  private layout(ms: readonly Measurement[]): Layout {
    const k = this.layoutKey(ms);
    let lay = this.layouts.get(k);
    if (!lay) this.layouts.set(k, (lay = layoutOf(ms)));
    return lay;
  }

  private flags(fl: (DataFlag | undefined)[], allSame: boolean): readonly (DataFlag | undefined)[] {
    // The common case: every flag the same (all N, or none given).
    const k = allSame
      ? `\u0002${fl.length}\u0000${fl[0] === undefined ? '\u0001' : fl[0]}`
      : fl.map((f) => (f === undefined ? '\u0001' : f)).join('\u0000');
    const hit = this.flagVectors.get(k);
    if (hit) return hit;
    if (this.flagVectors.size >= MAX_FLAG_VECTORS) return fl;
    this.flagVectors.set(k, fl);
    this.vectorIds.set(fl, this.vectors.length);
    this.vectors.push(fl);
    return fl;
  }
}

/** What a reading's stream is besides its layout: enterprise, site, device, kind, interval, period (null: none). */
export function streamHead(r: Reading): [string, string, string, string, string, number | null] {
  return [r.enterpriseId, r.siteId, r.deviceId, r.kind, r.interval, r.periodSeconds ?? null];
}

function streamOf(r: Reading, lay: Layout): Stream {
  return {
    enterpriseId: r.enterpriseId,
    siteId: r.siteId,
    deviceId: r.deviceId,
    kind: r.kind,
    interval: r.interval,
    periodSeconds: r.periodSeconds,
    lay,
  };
}

function layoutOf(ms: readonly Measurement[]): Layout {
  return new Layout(
    ms.map((m) => m.factor),
    ms.map((m) => m.stat),
    ms.map((m) => m.unit),
  );
}

function sameStream(s: Stream, r: Reading): boolean {
  if (
    s.enterpriseId !== r.enterpriseId ||
    s.siteId !== r.siteId ||
    s.kind !== r.kind ||
    s.interval !== r.interval ||
    s.periodSeconds !== r.periodSeconds
  )
    return false;
  const { factors, stats, units } = s.lay;
  const ms = r.measurements;
  if (ms.length !== factors.length) return false;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    if (m.factor !== factors[i] || m.stat !== stats[i] || m.unit !== units[i]) return false;
  }
  return true;
}

/** The plain reading a packed one stands for (equal to the reading packed). */
export function unpack(r: Reading): Reading {
  if (!(r instanceof PackedReading)) return r;
  if (r.x) return cloneReading(r.x);
  // The key order of readingFromTelemetry (telemetry.ts): a checkpoint's JSON is the same as before packing.
  return {
    eventId: r.eventId,
    enterpriseId: r.enterpriseId,
    siteId: r.siteId,
    deviceId: r.deviceId,
    kind: r.kind,
    interval: r.interval,
    ...(r.periodSeconds !== undefined ? { periodSeconds: r.periodSeconds } : {}),
    dataTime: r.dataTime,
    measurements: r.measurements,
  };
}
