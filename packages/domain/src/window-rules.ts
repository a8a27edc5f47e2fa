// The window rules on a site's hourly and daily aggregates (domain-rules §2–§3): the aggregates themselves, exceedance,
// clustered below the limit and the recalculation checks. The Evaluator and the workspace both call `siteWindows`.
import {
  convertConcentration,
  dailyMean,
  failsRecalculation,
  gasHourlyMean,
  isValidValue,
  relativeDifference,
  waterHourlyMean,
  type MeanResult,
  type SeriesPoint,
} from './aggregate.js';
import type { Tri, WindowFact } from './episodes.js';
import type { AggregateOutput } from './model.js';
import type { PackedReading } from './packed.js';
import type { EpisodeMemo, EpisodeOut, RuleScope, SectionInput } from './scope.js';
import { Col, pointAt, roundOrNull, roundSignificant, SLOT_STAT, type FactorSeries } from './series.js';
import { DAY_MS, HOUR_MS, ge, gt, hourStart } from './time.js';

interface HourAgg extends MeanResult {
  convertedValue: number | null;
  anomaly?: string;
  source: 'minute' | 'hour';
}

/** One factor's hour as last computed: what it was computed from (rows and the O2 hour it was converted with). */
interface HourEntry {
  rows: readonly PackedReading[];
  rep: PackedReading | undefined;
  o2h: HourAgg | undefined;
  ha: HourAgg | undefined;
}

/** What the daily-basis limit judges of a daily aggregate (a copy: the emitted aggregate belongs to the caller). */
type DayValue = Pick<AggregateOutput, 'value' | 'convertedValue' | 'valid'>;

/** One factor's day as last computed: the hours (and flow hours) it was computed from and its daily aggregate. */
interface DayEntry {
  hours: (HourAgg | undefined)[];
  flow: (HourAgg | undefined)[] | undefined;
  weighted: boolean;
  value: DayValue | undefined;
}

/** One window of a window rule as last judged: the objects it was judged from and the window. */
interface FactEntry {
  a: unknown;
  b: unknown;
  c: unknown;
  fact: WindowFact;
}

/**
 * What a site's window rules computed last time (the workspace keeps one per site). Rows are immutable and config and
 * registry fixed for an engine, so a result whose inputs are the same objects as last time is the same; it is reused
 * instead of recomputed, down to the episodes:
 * - `hours`: factor → hour start → the hour. An hour whose rows and O2 hour are the same objects has the same
 *   aggregate, and its hourly aggregate, already given to the engine when it was computed, is not given again (the
 *   engine would find it unchanged).
 * - `days`: factor → day start → the day, likewise from the same hour aggregates (and flow hours); not given again.
 * - `facts`: `rule|factor` → window start → the window judged from the same aggregates (and reported rows).
 * - `episodes`: series key → the episodes made from the windows (scope.ts `EpisodeMemo`): an episode made again from
 *   the same window objects is the same object, so the workspace and the engine's reconcile skip it by identity.
 */
export interface WindowMemo {
  hours: Map<string, Map<number, HourEntry>>;
  days: Map<string, Map<number, DayEntry>>;
  facts: Map<string, Map<number, FactEntry>>;
  episodes: EpisodeMemo;
  /**
   * Hour starts whose minute rows or hourly reports changed since the last evaluation (the workspace marks them as
   * readings arrive), and `all` when something else did (a new factor): only those hours, the days holding them, and
   * hours and days closed since are looked at again; the rest is taken from the last evaluation.
   */
  dirty: Set<number>;
  all: boolean;
  /** The hours and days of the last evaluation: its first hour, how many hours and days. */
  base: number | undefined;
  hourCount: number;
  dayCount: number;
  /** Factor → hour start → hour aggregate, and factor → day start → daily value, as of the last evaluation. */
  perHour: Map<string, Map<number, HourAgg>>;
  perDay: Map<string, Map<number, DayValue>>;
  /** `rule|factor` → the windows given to the episode machine last time, and whether that series was carried. */
  windows: Map<string, { list: WindowFact[]; carried: boolean }>;
}

export function newWindowMemo(): WindowMemo {
  return {
    hours: new Map(),
    days: new Map(),
    facts: new Map(),
    episodes: new Map(),
    dirty: new Set(),
    all: true,
    base: undefined,
    hourCount: 0,
    dayCount: 0,
    perHour: new Map(),
    perDay: new Map(),
    windows: new Map(),
  };
}

/** Which hours and days an evaluation looks at again (ascending indexes into its `hours` and `days`). */
interface Todo {
  /** Everything: no memo, or nothing usable in it. */
  full: boolean;
  hours: number[];
  days: number[];
}

function todoOf(memo: WindowMemo | undefined, hours: readonly number[], days: readonly number[]): Todo {
  const full =
    memo === undefined ||
    memo.all ||
    memo.base !== hours[0] ||
    memo.hourCount > hours.length ||
    memo.dayCount > days.length;
  const hourIdx: number[] = [];
  const dayIdx: number[] = [];
  if (full) {
    for (let i = 0; i < hours.length; i++) hourIdx.push(i);
    for (let i = 0; i < days.length; i++) dayIdx.push(i);
    return { full, hours: hourIdx, days: dayIdx };
  }
  const first = hours[0] ?? 0;
  for (const h of [...memo.dirty].sort((a, b) => a - b)) {
    const i = (h - first) / HOUR_MS;
    if (Number.isInteger(i) && i >= 0 && i < memo.hourCount) hourIdx.push(i);
  }
  for (let i = memo.hourCount; i < hours.length; i++) hourIdx.push(i);
  for (let i = 0; i < days.length; i++) {
    const d = days[i]!;
    if (i >= memo.dayCount || hourIdx.some((j) => hours[j]! >= d && hours[j]! < d + DAY_MS)) dayIdx.push(i);
  }
  return { full, hours: hourIdx, days: dayIdx };
}

/** Index of the first row with data time ≥ t. */
function lowerRow(rows: readonly PackedReading[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.dataTime < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The windows of one rule and factor for the episode machine: those at the indexes to look at again are made by
 * `make`, the others kept from the last evaluation. `changed`: some window is not the object it was.
 */
function windowsOf(
  memo: WindowMemo | undefined,
  key: string,
  todo: readonly number[],
  full: boolean,
  count: number,
  make: (i: number) => WindowFact,
): { list: WindowFact[]; changed: boolean } {
  const kept = full ? undefined : memo?.windows.get(key)?.list;
  if (!kept) {
    const list: WindowFact[] = [];
    for (let i = 0; i < count; i++) list.push(make(i));
    return { list, changed: true };
  }
  let changed = kept.length !== count;
  for (const i of todo) {
    const w = make(i);
    if (kept[i] !== w) changed = true;
    kept[i] = w;
  }
  return { list: kept, changed };
}

/** Whether `a` holds the same objects as `b[from, to)`. */
function sameRows(
  a: readonly PackedReading[],
  b: readonly PackedReading[],
  from: number,
  to: number,
): boolean {
  if (a.length !== to - from) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[from + i]) return false;
  return true;
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The per-start memo of one rule and factor's windows (undefined without a memo). */
function factsOf(
  memo: WindowMemo | undefined,
  rule: string,
  factor: string,
): Map<number, FactEntry> | undefined {
  if (!memo) return undefined;
  const k = `${rule}|${factor}`;
  let m = memo.facts.get(k);
  if (!m) memo.facts.set(k, (m = new Map()));
  return m;
}

/** The window at `start` last judged from the same `a`, `b`, `c`, if any. */
function factHit(
  m: Map<number, FactEntry> | undefined,
  start: number,
  a: unknown,
  b: unknown,
  c: unknown,
): WindowFact | undefined {
  const hit = m?.get(start);
  return hit && hit.a === a && hit.b === b && hit.c === c ? hit.fact : undefined;
}

function keepFact(
  m: Map<number, FactEntry> | undefined,
  start: number,
  a: unknown,
  b: unknown,
  c: unknown,
  fact: WindowFact,
): WindowFact {
  m?.set(start, { a, b, c, fact });
  return fact;
}

const NO_ROWS: readonly PackedReading[] = [];

/** Hourly/daily aggregates and the window rules on them (exceedance, clustered, recalculation) of one site. */
export function siteWindows(
  sc: RuleScope,
  input: SectionInput,
  siteId: string,
  factors: Map<string, FactorSeries>,
  hours: readonly number[],
  days: readonly number[],
  aggregates: AggregateOutput[],
  episodes: EpisodeOut[],
  memo?: WindowMemo,
): void {
  const { cfg } = sc;
  const outlet = sc.idx.outlets.get(siteId);
  if (!outlet) return;
  const todo = todoOf(memo, hours, days);
  if (memo && todo.full) {
    memo.perHour = new Map();
    memo.perDay = new Map();
    memo.windows = new Map();
  }
  const hourAggs = memo?.perHour ?? new Map<string, Map<number, HourAgg>>();
  const dayValues = memo?.perDay ?? new Map<string, Map<number, DayValue>>();
  const agg = sc.cfg[outlet.kind];
  const o2 = factors.get(cfg.conversion.o2Factor);
  const order = [...factors.keys()].sort((a, b) =>
    a === cfg.conversion.o2Factor ? -1 : b === cfg.conversion.o2Factor ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  for (const factor of order) {
    const s = factors.get(factor)!;
    const rules = sc.rules(input.enterpriseId, siteId, factor);
    const range = sc.range(siteId, factor, rules);
    const valid = (p: SeriesPoint) => isValidValue(p.value, p.flag, cfg.validFlags, range);
    let perHour = hourAggs.get(factor);
    if (!perHour) hourAggs.set(factor, (perHour = new Map()));
    let seen = memo?.hours.get(factor);
    if (memo && !seen) memo.hours.set(factor, (seen = new Map()));
    if (seen && todo.full) for (const h of seen.keys()) if (h < (hours[0] ?? Infinity)) seen.delete(h);
    const minuteCol = new Col(factor, SLOT_STAT.minute);
    const hourCol = new Col(factor, SLOT_STAT.hourAvg);
    // The minute rows are ordered by data time: an hour's rows are the run [from, to) with that hour start.
    const minute = s.minute;
    for (const i of todo.hours) {
      const h = hours[i]!;
      let from = 0;
      let to = 0;
      if (hourStart(h) === h) {
        from = lowerRow(minute, h);
        to = lowerRow(minute, h + HOUR_MS);
      }
      const rep = from === to ? s.hourAvg.get(h) : undefined;
      const o2h =
        factor === cfg.conversion.o2Factor ? undefined : hourAggs.get(cfg.conversion.o2Factor)?.get(h);
      const hit = seen?.get(h);
      if (hit && hit.rep === rep && hit.o2h === o2h && sameRows(hit.rows, minute, from, to)) {
        if (hit.ha) perHour.set(h, hit.ha);
        else perHour.delete(h);
        continue;
      }
      perHour.delete(h);
      const rows = from === to ? NO_ROWS : minute.slice(from, to);
      const entry: HourEntry = { rows, rep, o2h, ha: undefined };
      seen?.set(h, entry);
      const pts = rows.map((row) => pointAt(row, minuteCol.of(row), cfg));
      let m: MeanResult | undefined;
      let source: HourAgg['source'] = 'minute';
      if (pts.length > 0)
        m = outlet.kind === 'gas' ? gasHourlyMean(pts, agg, valid) : waterHourlyMean(pts, valid);
      else if (rep) {
        const p = pointAt(rep, hourCol.of(rep), cfg);
        const ok = valid(p);
        m = {
          value: ok ? p.value : null,
          valid: ok,
          flag: p.flag,
          coverage: ok ? 1 : 0,
          validCount: ok ? 1 : 0,
          count: 1,
        };
        source = 'hour';
      }
      if (!m) continue;
      let convertedValue: number | null = null;
      let anomaly: string | undefined;
      const limit = sc.idx.limits.get(siteId)?.get(factor);
      if (
        outlet.kind === 'gas' &&
        factor !== cfg.conversion.o2Factor &&
        (sc.isPollutant(siteId, factor) || limit?.converted)
      ) {
        if (outlet.referenceO2 === undefined) anomaly = 'no-reference-o2';
        else if (!o2 || !o2h || !o2h.valid || o2h.value === null) anomaly = 'o2-invalid';
        else if (m.value !== null) {
          const c = convertConcentration(m.value, o2h.value, outlet.referenceO2, cfg.conversion);
          convertedValue = c.value;
          anomaly = c.anomaly;
        }
      }
      const ha: HourAgg = { ...m, convertedValue, source, ...(anomaly ? { anomaly } : {}) };
      perHour.set(h, ha);
      entry.ha = ha;
      const digits = cfg.aggregateSignificantDigits;
      aggregates.push({
        type: 'aggregate',
        enterpriseId: input.enterpriseId,
        siteId,
        factor,
        interval: 'hour',
        start: h,
        value: roundOrNull(ha.value, digits),
        convertedValue: roundOrNull(ha.convertedValue, digits),
        valid: ha.valid,
        flag: ha.flag,
        coverage: roundSignificant(ha.coverage, digits),
        ...(anomaly ? { anomaly } : {}),
      });
    }
    let daysSeen = memo?.days.get(factor);
    if (memo && !daysSeen) memo.days.set(factor, (daysSeen = new Map()));
    if (daysSeen && todo.full)
      for (const d of daysSeen.keys()) if (d < (hours[0] ?? Infinity)) daysSeen.delete(d);
    let perDay = dayValues.get(factor);
    if (!perDay) dayValues.set(factor, (perDay = new Map()));
    // The flow factor's hours as of this point of the factor order (as the Evaluator weighs them).
    const flowHours =
      order.indexOf(agg.flowFactor) <= order.indexOf(factor) ? hourAggs.get(agg.flowFactor) : undefined;
    const weighted = outlet.kind === 'water' && flowHours !== undefined && factor !== agg.flowFactor;
    for (const i of todo.days) {
      const d = days[i]!;
      const inDay = hours.filter((h) => h >= d && h < d + DAY_MS);
      const dayHours = inDay.map((h) => perHour.get(h));
      const flow = flowHours && inDay.map((h) => flowHours.get(h));
      const hit = daysSeen?.get(d);
      if (hit && hit.weighted === weighted && sameList(hit.hours, dayHours) && sameList(hit.flow, flow)) {
        if (hit.value) perDay.set(d, hit.value);
        else perDay.delete(d);
        continue;
      }
      perDay.delete(d);
      const entry: DayEntry = { hours: dayHours, flow, weighted, value: undefined };
      daysSeen?.set(d, entry);
      const hs = dayHours.filter((x): x is HourAgg => x !== undefined);
      if (hs.length === 0) continue;
      const inputs = inDay
        .filter((h) => perHour.has(h))
        .map((h) => {
          const x = perHour.get(h)!;
          const f = flowHours?.get(h);
          return {
            value: x.value,
            valid: x.valid,
            flag: x.flag,
            weight: f && f.valid ? f.value : null,
          };
        });
      const dm = dailyMean(inputs, agg, weighted);
      const conv = hs
        .filter((x) => x.valid && x.convertedValue !== null)
        .map((x) => x.convertedValue as number);
      const a: AggregateOutput = {
        type: 'aggregate',
        enterpriseId: input.enterpriseId,
        siteId,
        factor,
        interval: 'day',
        start: d,
        value: roundOrNull(dm.value, cfg.aggregateSignificantDigits),
        convertedValue:
          conv.length === 0
            ? null
            : roundSignificant(conv.reduce((a, b) => a + b, 0) / conv.length, cfg.aggregateSignificantDigits),
        valid: dm.valid,
        flag: dm.flag,
        coverage: roundSignificant(dm.coverage, cfg.aggregateSignificantDigits),
      };
      entry.value = { value: a.value, convertedValue: a.convertedValue, valid: a.valid };
      perDay.set(d, entry.value);
      aggregates.push(a);
    }
  }
  limitRules(sc, input, siteId, hourAggs, dayValues, hours, days, episodes, memo, todo);
  recalculation(sc, input, siteId, factors, hourAggs, hours, episodes, memo, todo);
  if (memo) {
    memo.dirty.clear();
    memo.all = false;
    memo.base = hours[0];
    memo.hourCount = hours.length;
    memo.dayCount = days.length;
  }
}

/** The episodes of one window series: made again only when a window or the carried state changed. */
function seriesEpisodes(
  memo: WindowMemo | undefined,
  input: SectionInput,
  key: string,
  windows: { list: WindowFact[]; changed: boolean },
  episodes: EpisodeOut[],
  make: (list: WindowFact[], memo: EpisodeMemo | undefined) => void,
): void {
  const carried = input.carried.has(key);
  const last = memo?.windows.get(key);
  if (memo && last && !windows.changed && last.list === windows.list && last.carried === carried) {
    for (const m of memo.episodes.get(key) ?? []) episodes.push(m.out);
    return;
  }
  memo?.windows.set(key, { list: windows.list, carried });
  make(windows.list, memo?.episodes);
}

// ---- exceedance and clustered-below-limit -------------------------------------------------------------

function limitRules(
  sc: RuleScope,
  input: SectionInput,
  siteId: string,
  hourAggs: Map<string, Map<number, HourAgg>>,
  dayValues: Map<string, Map<number, DayValue>>,
  hours: readonly number[],
  days: readonly number[],
  episodes: EpisodeOut[],
  memo: WindowMemo | undefined,
  todo: Todo,
): void {
  const limits = sc.idx.limits.get(siteId);
  if (!limits) return;
  for (const limit of [...limits.values()].sort((a, b) => (a.factor < b.factor ? -1 : 1))) {
    const rules = sc.rules(input.enterpriseId, siteId, limit.factor);
    const ex = rules.exceedance;
    const pick = (v: { value: number | null; convertedValue: number | null }) =>
      limit.converted ? v.convertedValue : v.value;
    const perHour = hourAggs.get(limit.factor);
    if (ex.enabled) {
      const key = `${siteId}|exceedance|${limit.factor}`;
      const seen = factsOf(memo, 'exceedance', limit.factor);
      let windows: { list: WindowFact[]; changed: boolean };
      if (limit.basis === 'hourly') {
        windows = windowsOf(memo, key, todo.hours, todo.full, hours.length, (i) => {
          const h = hours[i]!;
          const a = perHour?.get(h);
          const hit = factHit(seen, h, a, undefined, undefined);
          if (hit) return hit;
          const v = a && a.valid ? pick(a) : null;
          return keepFact(seen, h, a, undefined, undefined, limitWindow(h, h + HOUR_MS, v, limit.value));
        });
      } else {
        const perDay = dayValues.get(limit.factor);
        windows = windowsOf(memo, key, todo.days, todo.full, days.length, (i) => {
          const d = days[i]!;
          const a = perDay?.get(d);
          const hit = factHit(seen, d, a, undefined, undefined);
          if (hit) return hit;
          const v = a && a.valid ? pick(a) : null;
          return keepFact(seen, d, a, undefined, undefined, limitWindow(d, d + DAY_MS, v, limit.value));
        });
      }
      seriesEpisodes(memo, input, key, windows, episodes, (list, em) =>
        sc.windowEpisodes(
          input,
          'exceedance',
          siteId,
          limit.factor,
          limit.factor,
          list,
          ex,
          episodes,
          (eps) => {
            const worst = Math.max(...eps.map((w) => Number(w.detail?.ratio ?? 0)));
            const bySev = ex.severityByRatio.find((s) => ge(worst, s.minRatio));
            return bySev ? bySev.severity : ex.severity;
          },
          { limit: limit.value, unit: limit.unit, basis: limit.basis, converted: limit.converted },
          em,
        ),
      );
    }
    const cl = rules.clusteredBelowLimit;
    if (cl.enabled && limit.basis === 'hourly') {
      const key = `${siteId}|clustered-below-limit|${limit.factor}`;
      const seen = factsOf(memo, 'clustered-below-limit', limit.factor);
      const windows = windowsOf(memo, key, todo.days, todo.full, days.length, (i): WindowFact => {
        const d = days[i]!;
        const inDay: (HourAgg | undefined)[] = [];
        for (const h of hours) if (h >= d && h < d + DAY_MS) inDay.push(perHour?.get(h));
        const prev = seen?.get(d);
        if (prev && sameList(prev.a as (HourAgg | undefined)[], inDay)) return prev.fact;
        const vals: number[] = [];
        for (const a of inDay) {
          const v = a && a.valid ? pick(a) : null;
          if (v !== null) vals.push(v);
        }
        if (vals.length < cl.minValidHours)
          return keepFact(seen, d, inDay, undefined, undefined, { start: d, end: d + DAY_MS, cond: null });
        const inBand = vals.filter(
          (v) => ge(v, cl.lowerShareOfLimit * limit.value) && !gt(v, limit.value),
        ).length;
        const share = inBand / vals.length;
        return keepFact(seen, d, inDay, undefined, undefined, {
          start: d,
          end: d + DAY_MS,
          cond: ge(share, cl.minShareOfHours),
          detail: { validHours: vals.length, inBand, share },
        });
      });
      seriesEpisodes(memo, input, key, windows, episodes, (list, em) =>
        sc.windowEpisodes(
          input,
          'clustered-below-limit',
          siteId,
          limit.factor,
          limit.factor,
          list,
          cl,
          episodes,
          () => cl.severity,
          {
            limit: limit.value,
            lowerShareOfLimit: cl.lowerShareOfLimit,
            minShareOfHours: cl.minShareOfHours,
            minValidHours: cl.minValidHours,
          },
          em,
        ),
      );
    }
  }
}

function limitWindow(start: number, end: number, v: number | null, limit: number): WindowFact {
  if (v === null) return { start, end, cond: null };
  return { start, end, cond: gt(v, limit), detail: { value: v, limit, ratio: v / limit } };
}

// ---- recalculation checks ------------------------------------------------------------------------------

function recalculation(
  sc: RuleScope,
  input: SectionInput,
  siteId: string,
  factors: Map<string, FactorSeries>,
  hourAggs: Map<string, Map<number, HourAgg>>,
  hours: readonly number[],
  episodes: EpisodeOut[],
  memo: WindowMemo | undefined,
  todo: Todo,
): void {
  for (const factor of [...factors.keys()].sort()) {
    const s = factors.get(factor)!;
    if (s.hourAvg.size === 0 && s.hourZs.size === 0) continue;
    const rc = sc.rules(input.enterpriseId, siteId, factor).inconsistentAggregate;
    if (!rc.enabled) continue;
    const avgCol = new Col(factor, SLOT_STAT.hourAvg);
    const zsCol = new Col(factor, SLOT_STAT.hourZs);
    const perHour = hourAggs.get(factor);
    const seen = factsOf(memo, 'inconsistent-aggregate', factor);
    const key = `${siteId}|inconsistent-aggregate|${factor}`;
    const windows = windowsOf(memo, key, todo.hours, todo.full, hours.length, (i): WindowFact => {
      const h = hours[i]!;
      const a = perHour?.get(h);
      const repRow = s.hourAvg.get(h);
      const zsRow = s.hourZs.get(h);
      const hit = factHit(seen, h, a, repRow, zsRow);
      if (hit) return hit;
      if (!a || a.source !== 'minute' || !a.valid || a.value === null)
        return keepFact(seen, h, a, repRow, zsRow, { start: h, end: h + HOUR_MS, cond: null });
      const detail: Record<string, unknown> = {};
      let cond: Tri = null;
      if (repRow) {
        const rep = { value: repRow.v[avgCol.of(repRow)]! };
        const bad = failsRecalculation(rep.value, a.value, rc.maxRelativeDifference);
        Object.assign(detail, {
          reportedAvg: rep.value,
          recomputedAvg: a.value,
          relDiffAvg: relativeDifference(rep.value, a.value),
        });
        cond = bad;
      }
      const zs = zsRow && { value: zsRow.v[zsCol.of(zsRow)]! };
      if (zs && a.convertedValue !== null) {
        const bad = failsRecalculation(zs.value, a.convertedValue, rc.maxRelativeDifference);
        Object.assign(detail, {
          reportedZsAvg: zs.value,
          recomputedZsAvg: a.convertedValue,
          relDiffZsAvg: relativeDifference(zs.value, a.convertedValue),
        });
        cond = cond === true || bad;
      }
      return keepFact(seen, h, a, repRow, zsRow, { start: h, end: h + HOUR_MS, cond, detail });
    });
    seriesEpisodes(memo, input, key, windows, episodes, (list, em) =>
      sc.windowEpisodes(
        input,
        'inconsistent-aggregate',
        siteId,
        factor,
        factor,
        list,
        rc,
        episodes,
        () => rc.severity,
        {
          maxRelativeDifference: rc.maxRelativeDifference,
        },
        em,
      ),
    );
  }
}
