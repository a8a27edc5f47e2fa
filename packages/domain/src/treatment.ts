// Pure building blocks of the treatment rules (domain-rules §3): meter energy in a window, facility status, the
// 15-minute treatment-idle window fact, the 5-minute meter steps and the start/stop occurrences judged for
// `treatment-late-start` / `treatment-early-stop`, and whether production runs at an instant (zero while
// production runs). Shared by the Evaluator (oracle) and the incremental workspace so both judge identically.
import type { RulesConfig } from './config.js';
import type { Tri, WindowFact } from './episodes.js';
import type { Measurement, MeterView } from './model.js';
import { MINUTE_MS, ge, lt } from './time.js';

export interface MeterPoint {
  t: number;
  v: number;
}

/** Value of a cumulative meter at `b`, linearly interpolated between readings at most `maxGap` apart. */
export function interpolate(
  list: readonly MeterPoint[] | undefined,
  b: number,
  maxGap: number,
): number | null {
  if (!list || list.length === 0) return null;
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (list[mid]!.t <= b) lo = mid;
    else hi = mid - 1;
  }
  const before = list[lo]!;
  if (before.t > b) return null;
  if (before.t === b) return before.v;
  const after = list[lo + 1];
  if (!after || after.t - before.t > maxGap) return null;
  return before.v + ((after.v - before.v) * (b - before.t)) / (after.t - before.t);
}

/** Energy (kWh) of a cumulative meter in [s, e]; null when unknown or negative (meter reset or replaced). */
export function energyIn(
  list: readonly MeterPoint[] | undefined,
  s: number,
  e: number,
  maxGap: number,
): number | null {
  const a = interpolate(list, s, maxGap);
  const b = interpolate(list, e, maxGap);
  if (a === null || b === null) return null;
  const d = b - a;
  return d < 0 ? null : d;
}

/** Facility code of a status measurement: `SB1` stat `RS`, or factor `SB1-RS`; undefined for anything else. */
export function facilityCodeOf(m: Pick<Measurement, 'factor' | 'stat'>): string | undefined {
  if (m.stat === 'RS') return m.factor;
  if (m.factor.endsWith('-RS') && m.factor.length > 3) return m.factor.slice(0, -3);
  return undefined;
}

/** Key of one facility status series: the reporting site and the facility code. */
export function facilityKey(siteId: string, code: string): string {
  return `${siteId}|${code}`;
}

/** Whether a facility reported off (`RS = 0`) in [s, e): every status sample in the window is 0; null without samples. */
export function facilityOffIn(points: readonly MeterPoint[] | undefined, s: number, e: number): Tri {
  if (!points || points.length === 0) return null;
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t < s) lo = mid + 1;
    else hi = mid;
  }
  let any = false;
  for (let i = lo; i < points.length && points[i]!.t < e; i++) {
    any = true;
    if (points[i]!.v !== 0) return false;
  }
  return any ? true : null;
}

/** The facilities (status series) of a treatment meter, in registry order. */
export function facilitiesOf(tm: MeterView): { siteId: string; code: string; key: string }[] {
  return (tm.facilities ?? []).map((f) => ({ ...f, key: facilityKey(f.siteId, f.code) }));
}

/**
 * One treatment-idle window: production runs (≥ share of its rated energy) while the treatment meter is idle
 * (< share of its rated energy) or a mapped facility reports `RS = 0` throughout the window. Production stopped
 * → clear (suppressed). Unknown production, or neither meter nor status known → unknown.
 */
export function treatmentWindowFact(
  s: number,
  e: number,
  pm: MeterView,
  tm: MeterView,
  ti: RulesConfig['treatmentIdle'],
  prodList: readonly MeterPoint[] | undefined,
  treatList: readonly MeterPoint[] | undefined,
  facilities: readonly (readonly MeterPoint[] | undefined)[],
): WindowFact {
  const gap = ti.maxInterpolationGapMs;
  const prod = pm.ratedWindowKwh === undefined ? null : energyIn(prodList, s, e, gap);
  const treat = energyIn(treatList, s, e, gap);
  const treatKnown = treat !== null && tm.ratedWindowKwh !== undefined;
  let facilityOff: Tri = null;
  for (const pts of facilities) {
    const off = facilityOffIn(pts, s, e);
    if (off === true) facilityOff = true;
    else if (off === false && facilityOff === null) facilityOff = false;
  }
  if (prod === null || (!treatKnown && facilityOff === null)) return { start: s, end: e, cond: null };
  const producing = ge(prod, ti.productionShare * pm.ratedWindowKwh!);
  const idle = treatKnown ? lt(treat, ti.treatmentShare * tm.ratedWindowKwh!) : null;
  return {
    start: s,
    end: e,
    cond: producing && (idle === true || facilityOff === true),
    detail: {
      productionKwh: prod,
      treatmentKwh: treat,
      producing,
      treatmentIdle: idle,
      ...(facilities.length > 0 ? { facilityOff } : {}),
    },
  };
}

/** Whether production and treatment run in one short step (shares of the rated window energy scaled to the step). */
export interface MeterStep {
  start: number;
  end: number;
  prod: Tri;
  treat: Tri;
}

export function meterStep(
  s: number,
  e: number,
  pm: MeterView,
  tm: MeterView,
  ti: RulesConfig['treatmentIdle'],
  prodList: readonly MeterPoint[] | undefined,
  treatList: readonly MeterPoint[] | undefined,
): MeterStep {
  const gap = ti.maxInterpolationGapMs;
  const scale = (e - s) / (ti.windowMinutes * MINUTE_MS);
  const p = pm.ratedWindowKwh === undefined ? null : energyIn(prodList, s, e, gap);
  const t = tm.ratedWindowKwh === undefined ? null : energyIn(treatList, s, e, gap);
  return {
    start: s,
    end: e,
    prod: p === null ? null : ge(p, ti.productionShare * pm.ratedWindowKwh! * scale),
    treat: t === null ? null : ge(t, ti.treatmentShare * tm.ratedWindowKwh! * scale),
  };
}

/**
 * Start and stop occurrences of production over contiguous steps, judged for late treatment start and early
 * treatment stop. With `lag` = ⌊maxLag / step⌋ steps:
 * - production starts at P (a stopped step followed by a running one). Late (true) when the treatment meter runs in
 *   none of the steps starting at P … P + lag·step while production runs through them (treatment starts more
 *   than maxLag after P); on time (false) when it runs in one of them; unknown otherwise. The occurrence
 *   window is [P, P + (lag+1)·step) and is judged once its last step closed.
 * - production stops at S (a running step followed by a stopped one). Early (true) when the treatment meter ran
 *   earlier in this production run but in none of the lag+1 steps before S while production ran through them
 *   (treatment stopped more than maxLag before S); on time (false) when it ran in one of those steps; unknown
 *   otherwise (also when treatment never ran: that is late start / idle). Window [S − (lag+1)·step, S).
 */
export function timingWindows(
  steps: readonly MeterStep[],
  stepMs: number,
  maxLagMs: number,
): { late: WindowFact[]; early: WindowFact[] } {
  const lag = Math.floor(maxLagMs / stepMs);
  const late: WindowFact[] = [];
  const early: WindowFact[] = [];
  for (let k = 1; k < steps.length; k++) {
    const prev = steps[k - 1]!;
    const cur = steps[k]!;
    if (prev.prod === false && cur.prod === true) {
      if (k + lag >= steps.length) continue; // not judged until its last step closed
      const P = cur.start;
      let cond: Tri = true;
      for (let j = k; j <= k + lag; j++) {
        const st = steps[j]!;
        if (st.treat === true) {
          cond = false;
          break;
        }
        if (st.prod !== true || st.treat === null) cond = null;
      }
      let startAt: number | null = null;
      for (let j = k; j < steps.length && steps[j]!.prod === true; j++)
        if (steps[j]!.treat === true) {
          startAt = steps[j]!.start;
          break;
        }
      late.push({
        start: P,
        end: P + (lag + 1) * stepMs,
        cond,
        detail: {
          productionStartAt: P,
          treatmentStartAt: startAt,
          lagMinutes: startAt === null ? null : (startAt - P) / MINUTE_MS,
        },
      });
    } else if (prev.prod === true && cur.prod === false) {
      const first = k - 1 - lag;
      if (first < 0) continue;
      const S = cur.start;
      let cond: Tri = true;
      for (let j = first; j <= k - 1; j++) {
        const st = steps[j]!;
        if (st.treat === true) {
          cond = false;
          break;
        }
        if (st.prod !== true || st.treat === null) cond = null;
      }
      let stopAt: number | null = null;
      if (cond === true) {
        for (let j = first - 1; j >= 0 && steps[j]!.prod === true; j--)
          if (steps[j]!.treat === true) {
            stopAt = steps[j]!.end;
            break;
          }
        if (stopAt === null) cond = null;
      }
      early.push({
        start: S - (lag + 1) * stepMs,
        end: S,
        cond,
        detail: {
          productionStopAt: S,
          treatmentStopAt: stopAt,
          leadMinutes: stopAt === null ? null : (S - stopAt) / MINUTE_MS,
        },
      });
    }
  }
  return { late, early };
}

/**
 * Whether a production meter runs at instant `t`: over the meter interval [a, b) containing `t` (consecutive
 * readings at most `maxInterpolationGapMs` apart) its energy is ≥ the production share of its rated window
 * energy scaled to b − a. Unknown counts as not running.
 */
export function productionRunsAt(
  list: readonly MeterPoint[] | undefined,
  t: number,
  pm: MeterView,
  ti: RulesConfig['treatmentIdle'],
): boolean {
  if (!list || list.length < 2 || pm.ratedWindowKwh === undefined) return false;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  const a = list[lo - 1];
  const b = list[lo];
  if (!a || !b || b.t - a.t > ti.maxInterpolationGapMs) return false;
  const d = b.v - a.v;
  if (d < 0) return false;
  return ge(d, (ti.productionShare * pm.ratedWindowKwh * (b.t - a.t)) / (ti.windowMinutes * MINUTE_MS));
}

/** Production meters whose running makes a zero at this outlet suspicious: configured, else the enterprise's. */
export function productionMetersOf(
  outlet: { enterpriseId: string; productionMeterIds?: string[] },
  meters: Iterable<MeterView>,
): MeterView[] {
  const all = [...meters];
  const ids = outlet.productionMeterIds;
  return all
    .filter((m) =>
      ids !== undefined
        ? ids.includes(m.id)
        : m.enterpriseId === outlet.enterpriseId && m.role === 'production',
    )
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
