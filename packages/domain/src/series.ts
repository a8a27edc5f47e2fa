// The series the rules read, built from readings: per site and factor the real-time `Rtd`, minute `Avg` and reported
// hour `Avg`/`ZsAvg` points; per meter the energy readings and per facility the status samples. The Evaluator builds
// them from a whole buffer, the workspace keeps them up to date point by point; both classify a measurement with
// `seriesSlot` and build its point with `emissionPoint`.
import type { SeriesPoint } from './aggregate.js';
import type { EngineConfig } from './config.js';
import type { Measurement, Reading } from './model.js';
import { DAY_MS, HOUR_MS } from './time.js';
import { facilityCodeOf, facilityKey, type MeterPoint } from './treatment.js';

export interface Pt extends SeriesPoint {
  reading: Reading;
}

export interface FactorSeries {
  realtime: Pt[];
  minute: Pt[];
  hourAvg: Map<number, Pt>;
  hourZs: Map<number, Pt>;
}

export function newFactorSeries(): FactorSeries {
  return { realtime: [], minute: [], hourAvg: new Map(), hourZs: new Map() };
}

/** Which series of its factor a measurement of `r` feeds, if any. */
export function seriesSlot(
  r: Reading,
  m: Measurement,
): 'realtime' | 'minute' | 'hourAvg' | 'hourZs' | undefined {
  if (r.interval === 'realtime') return m.stat === 'Rtd' ? 'realtime' : undefined;
  if (r.interval === 'minute') return m.stat === 'Avg' ? 'minute' : undefined;
  if (r.interval === 'hour') return m.stat === 'Avg' ? 'hourAvg' : m.stat === 'ZsAvg' ? 'hourZs' : undefined;
  return undefined;
}

/** The point of one measurement (hour points cover 3600 s). */
export function emissionPoint(r: Reading, m: Measurement, cfg: EngineConfig): Pt {
  return {
    t: r.dataTime,
    value: m.value,
    flag: m.flag ?? 'N',
    periodSeconds: r.interval === 'hour' ? 3600 : (r.periodSeconds ?? cfg.gas.defaultMinutePeriodSeconds),
    reading: r,
  };
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

function pushDedup(list: Pt[], p: Pt): void {
  // Readings are ordered by (dataTime, eventId): a second value for the same time replaces the first.
  const last = list[list.length - 1];
  if (last && last.t === p.t) list[list.length - 1] = p;
  else list.push(p);
}

/** Site → factor → series of a buffer ordered by (dataTime, eventId). */
export function buildSeries(
  readings: readonly Reading[],
  cfg: EngineConfig,
): Map<string, Map<string, FactorSeries>> {
  const bySite = new Map<string, Map<string, FactorSeries>>();
  for (const r of readings) {
    if (r.kind !== 'emission') continue;
    let site = bySite.get(r.siteId);
    if (!site) bySite.set(r.siteId, (site = new Map()));
    for (const m of r.measurements) {
      let s = site.get(m.factor);
      if (!s) site.set(m.factor, (s = newFactorSeries()));
      const slot = seriesSlot(r, m);
      if (slot === undefined) continue;
      const p = emissionPoint(r, m, cfg);
      if (slot === 'realtime' || slot === 'minute') pushDedup(s[slot], p);
      else s[slot].set(r.dataTime, p);
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
