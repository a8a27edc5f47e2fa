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
}

export function newWindowMemo(): WindowMemo {
  return { hours: new Map(), days: new Map(), facts: new Map(), episodes: new Map() };
}

/** Whether `a` holds the same objects as `b[from, to)`. */
function sameRows(a: readonly PackedReading[], b: readonly PackedReading[], from: number, to: number): boolean {
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
function factsOf(memo: WindowMemo | undefined, rule: string, factor: string): Map<number, FactEntry> | undefined {
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
  const hourAggs = new Map<string, Map<number, HourAgg>>();
  const dayValues = new Map<string, Map<number, DayValue>>();
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
    const perHour = new Map<number, HourAgg>();
    hourAggs.set(factor, perHour);
    let seen = memo?.hours.get(factor);
    if (memo && !seen) memo.hours.set(factor, (seen = new Map()));
    if (seen) for (const h of seen.keys()) if (h < (hours[0] ?? Infinity)) seen.delete(h);
    const minuteCol = new Col(factor, SLOT_STAT.minute);
    const hourCol = new Col(factor, SLOT_STAT.hourAvg);
    // The minute rows are ordered by data time: each hour's rows are the run [from, to) with that hour start.
    const minute = s.minute;
    let to = 0;
    for (const h of hours) {
      let from = to;
      while (from < minute.length && hourStart(minute[from]!.dataTime) < h) from++;
      to = from;
      while (to < minute.length && hourStart(minute[to]!.dataTime) === h) to++;
      const rep = from === to ? s.hourAvg.get(h) : undefined;
      const o2h =
        factor === cfg.conversion.o2Factor ? undefined : hourAggs.get(cfg.conversion.o2Factor)?.get(h);
      const hit = seen?.get(h);
      if (hit && hit.rep === rep && hit.o2h === o2h && sameRows(hit.rows, minute, from, to)) {
        if (hit.ha) perHour.set(h, hit.ha);
        continue;
      }
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
    if (daysSeen) for (const d of daysSeen.keys()) if (d < (hours[0] ?? Infinity)) daysSeen.delete(d);
    const perDay = new Map<number, DayValue>();
    dayValues.set(factor, perDay);
    const flowHours = hourAggs.get(agg.flowFactor);
    const weighted = outlet.kind === 'water' && flowHours !== undefined && factor !== agg.flowFactor;
    for (const d of days) {
      const inDay = hours.filter((h) => h >= d && h < d + DAY_MS);
      const dayHours = inDay.map((h) => perHour.get(h));
      const flow = flowHours && inDay.map((h) => flowHours.get(h));
      const hit = daysSeen?.get(d);
      if (hit && hit.weighted === weighted && sameList(hit.hours, dayHours) && sameList(hit.flow, flow)) {
        if (hit.value) perDay.set(d, hit.value);
        continue;
      }
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
  limitRules(sc, input, siteId, hourAggs, dayValues, hours, days, episodes, memo);
  recalculation(sc, input, siteId, factors, hourAggs, hours, episodes, memo);
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
      let windows: WindowFact[];
      const seen = factsOf(memo, 'exceedance', limit.factor);
      if (limit.basis === 'hourly') {
        windows = hours.map((h) => {
          const a = perHour?.get(h);
          const hit = factHit(seen, h, a, undefined, undefined);
          if (hit) return hit;
          const v = a && a.valid ? pick(a) : null;
          return keepFact(seen, h, a, undefined, undefined, limitWindow(h, h + HOUR_MS, v, limit.value));
        });
      } else {
        const perDay = dayValues.get(limit.factor);
        windows = days.map((d) => {
          const a = perDay?.get(d);
          const hit = factHit(seen, d, a, undefined, undefined);
          if (hit) return hit;
          const v = a && a.valid ? pick(a) : null;
          return keepFact(seen, d, a, undefined, undefined, limitWindow(d, d + DAY_MS, v, limit.value));
        });
      }
      sc.windowEpisodes(
        input,
        'exceedance',
        siteId,
        limit.factor,
        limit.factor,
        windows,
        ex,
        episodes,
        (eps) => {
          const worst = Math.max(...eps.map((w) => Number(w.detail?.ratio ?? 0)));
          const bySev = ex.severityByRatio.find((s) => ge(worst, s.minRatio));
          return bySev ? bySev.severity : ex.severity;
        },
        { limit: limit.value, unit: limit.unit, basis: limit.basis, converted: limit.converted },
        memo?.episodes,
      );
    }
    const cl = rules.clusteredBelowLimit;
    if (cl.enabled && limit.basis === 'hourly') {
      const seen = factsOf(memo, 'clustered-below-limit', limit.factor);
      const windows = days.map((d): WindowFact => {
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
      sc.windowEpisodes(
        input,
        'clustered-below-limit',
        siteId,
        limit.factor,
        limit.factor,
        windows,
        cl,
        episodes,
        () => cl.severity,
        {
          limit: limit.value,
          lowerShareOfLimit: cl.lowerShareOfLimit,
          minShareOfHours: cl.minShareOfHours,
          minValidHours: cl.minValidHours,
        },
        memo?.episodes,
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
    const windows = hours.map((h): WindowFact => {
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
    sc.windowEpisodes(
      input,
      'inconsistent-aggregate',
      siteId,
      factor,
      factor,
      windows,
      rc,
      episodes,
      () => rc.severity,
      {
        maxRelativeDifference: rc.maxRelativeDifference,
      },
      memo?.episodes,
    );
  }
}
