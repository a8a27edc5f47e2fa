// The engine's compact form of a buffered reading, and of the series the rules read from it. A reading becomes one
// small object: its event id, an interned stream (enterprise, site, device, kind, interval, period and the layout of
// its measurements: factors, statistics, units), its values with the data time last as one array of doubles, and its
// flags as an interned vector. Readings of one device share the stream and, while their flags are all the same
// (nearly always), the flag vector: a 20-value reading costs its event id, one object and 21 doubles. The series of a
// site and factor (series.ts) are lists of these rows; a value is read through the layout's column of the factor.
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
}

/** A buffered reading in compact form. Structurally a `Reading` (its measurements are built on each access). */
export class PackedReading implements Reading {
  constructor(
    readonly eventId: string,
    readonly s: Stream,
    /** The values by column, then the data time. */
    readonly v: readonly number[],
    /** The flags by column (undefined: no flag given, read as `N`). */
    readonly fl: readonly (DataFlag | undefined)[],
    /** The reading as given, when it carries more than the compact form keeps (extra fields, odd types). */
    readonly x?: Reading,
  ) {}

  get enterpriseId(): string {
    return this.s.enterpriseId;
  }
  get siteId(): string {
    return this.s.siteId;
  }
  get deviceId(): string {
    return this.s.deviceId;
  }
  get kind(): ReadingKind {
    return this.s.kind;
  }
  get interval(): ReadingInterval {
    return this.s.interval;
  }
  get periodSeconds(): number | undefined {
    return this.s.periodSeconds;
  }
  get dataTime(): number {
    return this.v[this.v.length - 1]!;
  }
  /** A fresh copy of the measurements (rare paths: energy and status readings, checkpoints). */
  get measurements(): Measurement[] {
    const { factors, stats, units } = this.s.lay;
    const out: Measurement[] = new Array<Measurement>(factors.length);
    for (let i = 0; i < factors.length; i++) {
      const m: Measurement = { factor: factors[i]!, stat: stats[i]!, value: this.v[i]! };
      if (units[i] !== undefined) m.unit = units[i];
      if (this.fl[i] !== undefined) m.flag = this.fl[i];
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

  pack(r: Reading): PackedReading {
    if (r instanceof PackedReading) return r;
    const plain = plainReading(r);
    const ms = r.measurements;
    const n = ms.length;
    const v = new Array<number>(n + 1);
    const fl = new Array<DataFlag | undefined>(n);
    let allSame = true;
    for (let i = 0; i < n; i++) {
      const m = ms[i]!;
      v[i] = m.value;
      fl[i] = m.flag;
      if (m.flag !== ms[0]!.flag) allSame = false;
    }
    v[n] = r.dataTime;
    const s = plain ? this.stream(r) : this.ownStream(r);
    return new PackedReading(
      r.eventId,
      s,
      v,
      plain ? this.flags(fl, allSame) : fl,
      plain ? undefined : cloneReading(r),
    );
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
