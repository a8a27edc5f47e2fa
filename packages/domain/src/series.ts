// The series the rules read, built from readings: per site and factor the real-time `Rtd`, minute `Avg` and reported
// hour `Avg`/`ZsAvg` values, as lists of packed readings (packed.ts) read through a column; per meter the energy
// readings and per facility the status samples. The Evaluator builds them from a whole buffer, the workspace keeps
// them up to date row by row; both classify a reading's values with `slotsOf`/`SLOT_STAT`.
import type { SeriesPoint } from './aggregate.js';
import type { EngineConfig } from './config.js';
import type { Measurement, Reading } from './model.js';
import { DAY_MS, HOUR_MS } from './time.js';
import type { Layout, PackedReading } from './packed.js';
import { facilityCodeOf, facilityKey, type MeterPoint } from './treatment.js';

/** One value of a series as the rules read it: a point with the row it comes from. */
export interface Pt extends SeriesPoint {
  reading: PackedReading;
}

/**
 * The series of one site and factor: the rows (packed readings) that carry a value of the factor, one per data time
 * (of two readings with the same time the later by (dataTime, eventId) wins). A value is read from its row through
 * the layout's column of the factor and the slot's statistic (`SLOT_STAT`). The workspace shares one real-time list
 * among the factors every real-time reading of the site carries.
 */
export interface FactorSeries {
  realtime: PackedReading[];
  minute: PackedReading[];
  hourAvg: Map<number, PackedReading>;
  hourZs: Map<number, PackedReading>;
}

export type Slot = 'realtime' | 'minute' | 'hourAvg' | 'hourZs';

/** The statistic each series reads. */
export const SLOT_STAT = { realtime: 'Rtd', minute: 'Avg', hourAvg: 'Avg', hourZs: 'ZsAvg' } as const;

export function newFactorSeries(): FactorSeries {
  return { realtime: [], minute: [], hourAvg: new Map(), hourZs: new Map() };
}

/** The slots a reading of this interval feeds: real-time `Rtd`, minute `Avg`, hour `Avg` and `ZsAvg`. */
export function slotsOf(interval: Reading['interval']): readonly Slot[] {
  if (interval === 'realtime') return REALTIME_SLOTS;
  if (interval === 'minute') return MINUTE_SLOTS;
  if (interval === 'hour') return HOUR_SLOTS;
  return [];
}
const REALTIME_SLOTS: readonly Slot[] = ['realtime'];
const MINUTE_SLOTS: readonly Slot[] = ['minute'];
const HOUR_SLOTS: readonly Slot[] = ['hourAvg', 'hourZs'];

/**
 * The column of one factor and statistic in a row, remembered per layout (rows of one stream share the layout, so
 * a scan over a series looks the column up once per stream).
 */
export class Col {
  private lay: Layout | undefined;
  private c = -1;

  constructor(
    readonly factor: string,
    readonly stat: string,
  ) {}

  of(row: PackedReading): number {
    const lay = row.s.lay;
    if (lay !== this.lay) {
      this.lay = lay;
      this.c = lay.col(this.factor, this.stat);
    }
    return this.c;
  }
}

/** Seconds a value of the row covers (hour points 3600 s, minute points their period or the configured one). */
export function periodOf(r: PackedReading, cfg: EngineConfig): number {
  return r.interval === 'hour' ? 3600 : (r.periodSeconds ?? cfg.gas.defaultMinutePeriodSeconds);
}

/** The point of column `col` of a row. */
export function pointAt(r: PackedReading, col: number, cfg: EngineConfig): Pt {
  return {
    t: r.dataTime,
    value: r.val(col),
    flag: r.flag(col) ?? 'N',
    periodSeconds: periodOf(r, cfg),
    reading: r,
  };
}

/** Sets `p` to the point of column `col` of a row (a scan's one reusable point). */
export function setPoint(p: Pt, r: PackedReading, col: number, cfg: EngineConfig): Pt {
  p.t = r.dataTime;
  p.value = r.val(col);
  p.flag = r.flag(col) ?? 'N';
  p.periodSeconds = periodOf(r, cfg);
  p.reading = r;
  return p;
}

/** Index of the first row with dataTime > x. */
export function upperRow(rows: readonly PackedReading[], x: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.dataTime <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Inserts row `r` keeping `list` ordered by data time with one row per time; of two rows at the same time the one of
 * the later reading (dataTime, eventId) wins. Returns the index touched, or -1 when nothing changed.
 */
export function insertRow(list: PackedReading[], r: PackedReading): number {
  const t = r.dataTime;
  const lo = upperRow(list, t);
  const prev = list[lo - 1];
  if (prev && prev.dataTime === t) {
    if (prev !== r && prev.eventId > r.eventId) return -1;
    list[lo - 1] = r;
    return lo - 1;
  }
  list.splice(lo, 0, r);
  return lo;
}

export function mainStat(interval: Reading['interval']): string {
  return interval === 'realtime' ? 'Rtd' : 'Avg';
}

function periodMs(r: Reading, cfg: EngineConfig): number {
  switch (r.interval) {
    case 'minute':
      return (r.periodSeconds ?? cfg.gas.defaultMinutePeriodSeconds) * 1000;
    case 'hour':
      return HOUR_MS;
    case 'day':
      return DAY_MS;
    default:
      return 0;
  }
}

/** Last time a reading shows the device alive: acquisition instant, or end of the interval for aggregates. */
export function seenAt(r: Reading, cfg: EngineConfig): number {
  return r.dataTime + periodMs(r, cfg);
}

/** `v` rounded to `digits` significant digits (removes float noise such as 12.299999999999999 from means). */
export function roundSignificant(v: number, digits: number): number {
  if (!Number.isFinite(v) || v === 0) return v === 0 ? 0 : v;
  return Number(v.toPrecision(digits));
}

export function roundOrNull(v: number | null, digits: number): number | null {
  return v === null ? null : roundSignificant(v, digits);
}

/** Site → factor → series of a buffer ordered by (dataTime, eventId); `pack` gives each reading's row. */
export function buildSeries(
  readings: readonly Reading[],
  pack: (r: Reading) => PackedReading,
): Map<string, Map<string, FactorSeries>> {
  const bySite = new Map<string, Map<string, FactorSeries>>();
  for (const r of readings) {
    if (r.kind !== 'emission') continue;
    const row = pack(r);
    let site = bySite.get(r.siteId);
    if (!site) bySite.set(r.siteId, (site = new Map()));
    const lay = row.s.lay;
    const slots = slotsOf(r.interval);
    for (const factor of lay.distinct) {
      let s = site.get(factor);
      if (!s) site.set(factor, (s = newFactorSeries()));
      for (const slot of slots) {
        if (!lay.has(factor, SLOT_STAT[slot])) continue;
        if (slot === 'realtime' || slot === 'minute') {
          // Readings are ordered by (dataTime, eventId): a second value for the same time replaces the first.
          const list = s[slot];
          const last = list[list.length - 1];
          if (last && last.dataTime === row.dataTime) list[list.length - 1] = row;
          else list.push(row);
        } else s[slot].set(row.dataTime, row);
      }
    }
  }
  return bySite;
}

/** The valid `energy_kwh` measurement of an energy reading, if any. */
export function energyMeasurement(r: Reading, cfg: EngineConfig): Measurement | undefined {
  return r.measurements.find((x) => x.factor === 'energy_kwh' && cfg.validFlags.includes(x.flag ?? 'N'));
}

/** `facilityKey` of each valid facility status measurement of a reading, with the measurement. */
export function statusSamples(r: Reading, cfg: EngineConfig): { key: string; m: Measurement }[] {
  const out: { key: string; m: Measurement }[] = [];
  for (const m of r.measurements) {
    const code = facilityCodeOf(m);
    if (code === undefined || !cfg.validFlags.includes(m.flag ?? 'N')) continue;
    out.push({ key: facilityKey(r.siteId, code), m });
  }
  return out;
}

/** Energy readings per meter (site) and facility status samples per `site|code`, in buffer order. */
export function meterLists(
  readings: readonly Reading[],
  cfg: EngineConfig,
): { energy: Map<string, MeterPoint[]>; status: Map<string, MeterPoint[]> } {
  const energy = new Map<string, MeterPoint[]>();
  const status = new Map<string, MeterPoint[]>();
  const put = (m: Map<string, MeterPoint[]>, k: string, t: number, v: number) => {
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    const last = list[list.length - 1];
    if (last && last.t === t) last.v = v;
    else list.push({ t, v });
  };
  for (const r of readings) {
    if (r.kind === 'energy') {
      const m = energyMeasurement(r, cfg);
      if (m) put(energy, r.siteId, r.dataTime, m.value);
    } else {
      for (const { key, m } of statusSamples(r, cfg)) put(status, key, r.dataTime, m.value);
    }
  }
  return { energy, status };
}
