// The meters' evidence of a treatment case (treatment idle, late start, early stop), in
// the form a supervisor reads: each meter's power (kW), its energy per rule window (kWh, from the cumulative
// counter the way the analyzer computes it) and its running periods as bands; the treatment facilities' own
// status (HJ 212 `SBn-RS`, reported by an outlet's data logger) as bands of one state each. Pure.
import { energyIn, type MeterPoint } from '@offsite/domain';

/** Energy of one meter in one window [start, start + step); null when unknown, with the reason. */
export interface IntervalEnergy {
  start: string;
  kwh: number | null;
  /** Why kwh is null: the counter went backwards (reset, rollover, meter replaced) or readings are missing. */
  unknown?: 'reset' | 'gap';
}

export interface MeterEvidence {
  meterId: string;
  role: string;
  /** Power readings (kW). */
  powerKw: [string, number][];
  /** Energy per window (kWh); never the counter's reading itself. */
  energy: IntervalEnergy[];
  /** Periods the meter reported `running`: [from, to] with to the first reading that was no longer running. */
  running: [string, string][];
}

/** One value of a meter's reading as the evidence query returns it (field per statistic). */
export interface MeterRow {
  time: number;
  site: string;
  factor: string;
  value: number;
}

/**
 * Energy per window of a cumulative counter over [from, to): windows aligned to the epoch (so to the
 * analyzer's rule windows), each the interpolated counter difference across the window as the rule judges it.
 * A counter that goes backwards within the window (reset, rollover at the register's end, meter replaced) or
 * readings too far apart to interpolate give no figure, with the reason.
 */
export function energyPerInterval(
  counter: readonly MeterPoint[],
  from: number,
  to: number,
  stepMs: number,
  maxGapMs: number,
): IntervalEnergy[] {
  const out: IntervalEnergy[] = [];
  if (counter.length === 0 || stepMs <= 0) return out;
  const first = counter[0]!.t;
  const last = counter[counter.length - 1]!.t;
  // Whole windows within the readings only: a window the readings do not span has no figure to show.
  for (
    let s = Math.ceil(Math.max(from, first) / stepMs) * stepMs;
    s < to && s + stepMs <= last;
    s += stepMs
  ) {
    const e = s + stepMs;
    const kwh = energyIn(counter, s, e, maxGapMs);
    if (kwh !== null) {
      out.push({ start: new Date(s).toISOString(), kwh });
      continue;
    }
    out.push({
      start: new Date(s).toISOString(),
      kwh: null,
      unknown: wentBack(counter, s, e) ? 'reset' : 'gap',
    });
  }
  return out;
}

/** Whether the counter decreased between consecutive readings around [s, e]. */
function wentBack(counter: readonly MeterPoint[], s: number, e: number): boolean {
  for (let i = 1; i < counter.length; i++) {
    const a = counter[i - 1]!;
    const b = counter[i]!;
    if (b.t < s) continue;
    if (a.t > e) break;
    if (b.v < a.v) return true;
  }
  return false;
}

/**
 * Running periods from 0/1 samples: a band starts at a running sample and ends at the next sample that is
 * not running, or at the last running sample when readings stop or are more than `maxGapMs` apart.
 */
export function runningBands(samples: readonly MeterPoint[], maxGapMs: number): [string, string][] {
  const out: [string, string][] = [];
  let from: number | null = null;
  let prev: number | null = null;
  const close = (end: number) => {
    if (from !== null && end > from) out.push([new Date(from).toISOString(), new Date(end).toISOString()]);
    from = null;
  };
  for (const p of samples) {
    if (from !== null && prev !== null && p.t - prev > maxGapMs) close(prev);
    if (p.v !== 0) from ??= p.t;
    else close(p.t);
    prev = p.t;
  }
  if (prev !== null) close(prev);
  return out;
}

/**
 * Each meter's evidence from its readings (factors `power_kw`, `energy_kwh`, `running`), in the order of
 * `roles` (meter id → role).
 */
export function meterEvidence(
  rows: readonly MeterRow[],
  roles: ReadonlyMap<string, string>,
  range: { from: number; to: number },
  rule: { windowMinutes: number; maxGapMs: number },
): MeterEvidence[] {
  const by = new Map<string, { power: MeterPoint[]; counter: MeterPoint[]; running: MeterPoint[] }>();
  for (const id of roles.keys()) by.set(id, { power: [], counter: [], running: [] });
  for (const r of rows) {
    const m = by.get(r.site);
    if (!m) continue;
    if (r.factor === 'power_kw') m.power.push({ t: r.time, v: r.value });
    else if (r.factor === 'energy_kwh') m.counter.push({ t: r.time, v: r.value });
    else if (r.factor === 'running') m.running.push({ t: r.time, v: r.value });
  }
  const byTime = (a: MeterPoint, b: MeterPoint) => a.t - b.t;
  return [...by].map(([meterId, m]) => ({
    meterId,
    role: roles.get(meterId) ?? '',
    powerKw: m.power.sort(byTime).map((p): [string, number] => [new Date(p.t).toISOString(), p.v]),
    energy: energyPerInterval(
      m.counter.sort(byTime),
      range.from,
      range.to,
      rule.windowMinutes * 60_000,
      rule.maxGapMs,
    ),
    running: runningBands(m.running.sort(byTime), rule.maxGapMs),
  }));
}

/** A treatment facility's reported status (`SBn-RS` of an outlet's logger), linked to the treatment meter that powers it. */
export interface FacilityStatus {
  meterId: string;
  outletId: string;
  /** The facility code as the logger reports it (`SB1`). */
  code: string;
  /** Periods of one state: [from, to, RS] with to the first sample of another state (HJ 212: 0 off, 1 running, 2 calibrating, 3 maintenance, 4 alarm, 5 back-blowing). */
  bands: [string, string, number][];
}

/**
 * Periods of one state from status samples: a band starts at a sample and lasts while the samples repeat its
 * state, ending at the first sample of another state, or at its last sample when samples stop or are further
 * apart than the larger of `maxGapMs` and 2.5 times the samples' median spacing (a logger reporting status only with
 * its minute data reports every few minutes).
 */
export function stateBands(samples: readonly MeterPoint[], maxGapMs: number): [string, string, number][] {
  const out: [string, string, number][] = [];
  const steps = samples
    .slice(1)
    .map((p, i) => p.t - samples[i]!.t)
    .sort((a, b) => a - b);
  const gap = Math.max(maxGapMs, 2.5 * (steps[steps.length >> 1] ?? 0));
  let open: MeterPoint | null = null;
  let prev: MeterPoint | null = null;
  const close = (end: number) => {
    if (open && end > open.t) out.push([new Date(open.t).toISOString(), new Date(end).toISOString(), open.v]);
    open = null;
  };
  for (const p of samples) {
    if (open && prev && p.t - prev.t > gap) close(prev.t);
    if (open && p.v !== open.v) close(p.t);
    open ??= p;
    prev = p;
  }
  if (prev) close(prev.t);
  return out;
}

/** One facility status sample as the evidence query returns it. */
export interface StatusRow {
  time: number;
  site: string;
  code: string;
  value: number;
}

/** Each linked facility's state bands, in the order of `links`. */
export function facilityStatus(
  rows: readonly StatusRow[],
  links: readonly { meterId: string; outletId: string; code: string }[],
  maxGapMs: number,
): FacilityStatus[] {
  return links.map((l) => ({
    ...l,
    bands: stateBands(
      rows
        .filter((r) => r.site === l.outletId && r.code === l.code)
        .map((r) => ({ t: r.time, v: r.value }))
        .sort((a, b) => a.t - b.t),
      maxGapMs,
    ),
  }));
}
