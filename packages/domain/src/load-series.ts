// The hours of emission loads (loads.ts) of one outlet from the InfluxDB series both the console's loads page and
// the analyzer's annual-load round read (plain data, no client here):
// - the analyzer's hourly aggregates (`aggregate`, interval `hour`): each factor's measured hourly mean and its
//   validity, the flow factor's hourly mean flow rate;
// - the loggers' hourly data (`emission`, interval `hour`, CN 2061): the flow's `Cou` (m³, the hour's volume,
//   preferred to the mean rate) and each pollutant's `Cou` (kg), valid when flagged `N`; the flow rate's `unit`.
import {
  addHourLoads,
  hourFlowVolume,
  hourLoad,
  NO_LOAD_SUMS,
  type HourLoad,
  type HourValue,
  type LoadSums,
} from './loads.js';

/** One series of an InfluxQL answer: its tags (`factor` used here) and its rows (`time` in epoch ms). */
export interface LoadSeries {
  tags: Readonly<Record<string, string | undefined>>;
  rows: readonly Readonly<Record<string, unknown>>[];
}

/** The gas and water flow factors (HJ 212-2017). */
export const FLOW_FACTOR: Readonly<Record<'gas' | 'water', string>> = Object.freeze({
  gas: 'a00000',
  water: 'w00000',
});

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** factor → hour start → value, from the aggregate series. */
function hourlyMeans(series: readonly LoadSeries[]): Map<string, Map<number, HourValue>> {
  const out = new Map<string, Map<number, HourValue>>();
  for (const s of series) {
    const f = s.tags.factor ?? '';
    const m = out.get(f) ?? new Map<number, HourValue>();
    out.set(f, m);
    for (const r of s.rows) m.set(Number(r.time), { value: num(r.value), valid: r.valid === true });
  }
  return out;
}

/** factor → hour start → the logger's `Cou` (valid when flagged `N`), and each factor's unit as sent. */
function hourlyCou(series: readonly LoadSeries[]): {
  cou: Map<string, Map<number, HourValue>>;
  units: Map<string, string>;
} {
  const cou = new Map<string, Map<number, HourValue>>();
  const units = new Map<string, string>();
  for (const s of series) {
    const f = s.tags.factor ?? '';
    const m = cou.get(f) ?? new Map<number, HourValue>();
    cou.set(f, m);
    for (const r of s.rows) {
      if (typeof r.unit === 'string' && !units.has(f)) units.set(f, r.unit);
      const v = num(r.Cou);
      if (v !== null) m.set(Number(r.time), { value: v, valid: (r.flag ?? 'N') === 'N' });
    }
  }
  return { cou, units };
}

export interface FactorHours {
  factor: string;
  concentrationUnit: string;
  /** Every hour with any input, in order. */
  hours: HourLoad[];
  /** The factor has a concentration or a reported load in the series (not only flow). */
  seen: boolean;
}

/** The unit a factor's hourly series give first (the flow rate's, for a volume from its mean); null when none. */
export function hourlyUnit(hourly: readonly LoadSeries[], factor: string): string | null {
  return hourlyCou(hourly).units.get(factor) ?? null;
}

/**
 * The hourly loads of each factor (`concentrationUnit` a mass unit: `hasLoadUnit`) of one outlet, from its hourly
 * aggregate series and its loggers' hourly series over the same range. `flowUnit`, when given, is the flow rate's
 * unit (read from earlier hours of the year: `hourlyUnit`); otherwise the range's own.
 */
export function outletHourLoads(
  aggregates: readonly LoadSeries[],
  hourly: readonly LoadSeries[],
  flowFactor: string,
  factors: readonly { factor: string; concentrationUnit: string }[],
  flowUnit?: string | null,
): FactorHours[] {
  const means = hourlyMeans(aggregates);
  const { cou, units } = hourlyCou(hourly);
  if (flowUnit) units.set(flowFactor, flowUnit);
  const flowMean = means.get(flowFactor);
  const flowCou = cou.get(flowFactor);
  const flowAt = (h: number) => {
    const c = flowCou?.get(h);
    const m = flowMean?.get(h);
    return hourFlowVolume({
      ...(c ? { cou: c } : {}),
      ...(m ? { mean: { ...m, unit: units.get(flowFactor) ?? null } } : {}),
    });
  };
  return factors.map(({ factor, concentrationUnit }) => {
    const conc = means.get(factor) ?? new Map<number, HourValue>();
    const rep = cou.get(factor) ?? new Map<number, HourValue>();
    const starts = new Set([
      ...conc.keys(),
      ...rep.keys(),
      ...(flowMean?.keys() ?? []),
      ...(flowCou?.keys() ?? []),
    ]);
    const hours = [...starts]
      .sort((a, b) => a - b)
      .map((h) => {
        const c = conc.get(h);
        const f = flowAt(h);
        const r = rep.get(h);
        return hourLoad(
          {
            start: h,
            ...(c ? { concentration: c } : {}),
            ...(f ? { flowM3: f } : {}),
            ...(r ? { reported: r } : {}),
          },
          concentrationUnit,
        );
      });
    return { factor, concentrationUnit, hours, seen: conc.size > 0 || rep.size > 0 };
  });
}

/** An outlet's running sums per factor since `start` (the year's), and the flow rate's unit they used. */
export interface CarriedLoads {
  flowUnit: string | null;
  /** In the order of the factors. */
  sums: LoadSums[];
}

/** Nothing counted yet. */
export const NO_CARRIED_LOADS = (factors: number): CarriedLoads => ({
  flowUnit: null,
  sums: Array.from({ length: factors }, () => NO_LOAD_SUMS),
});

/**
 * `prev` (the sums of [start, from)) plus the hours of [from, to) read from the series of that range alone; equal,
 * to the last bit, to the sums of [start, to) read at once. null when they are not: the flow rate's unit shows up
 * for the first time after `start` (the hours before it would have used it), so [start, to) must be read again.
 */
export function carryOutletLoads(
  prev: CarriedLoads,
  aggregates: readonly LoadSeries[],
  hourly: readonly LoadSeries[],
  flowFactor: string,
  factors: readonly { factor: string; concentrationUnit: string }[],
  range: { start: number; from: number; to: number },
): CarriedLoads | null {
  const unit = prev.flowUnit ?? hourlyUnit(hourly, flowFactor);
  if (prev.flowUnit === null && unit !== null && range.from > range.start) return null;
  const hours = outletHourLoads(aggregates, hourly, flowFactor, factors, unit);
  return {
    flowUnit: unit,
    sums: hours.map((f, i) => addHourLoads(prev.sums[i] ?? NO_LOAD_SUMS, f.hours, range.from, range.to)),
  };
}

/** The hourly flow volumes (m³) of one outlet: hour start → volume, as the loads above take them. */
export function outletHourFlows(
  aggregates: readonly LoadSeries[],
  hourly: readonly LoadSeries[],
  flowFactor: string,
): Map<number, HourValue> {
  const mean = hourlyMeans(aggregates).get(flowFactor);
  const { cou, units } = hourlyCou(hourly);
  const c = cou.get(flowFactor);
  const out = new Map<number, HourValue>();
  for (const h of new Set([...(mean?.keys() ?? []), ...(c?.keys() ?? [])])) {
    const m = mean?.get(h);
    const v = hourFlowVolume({
      ...(c?.get(h) ? { cou: c.get(h)! } : {}),
      ...(m ? { mean: { ...m, unit: units.get(flowFactor) ?? null } } : {}),
    });
    if (v) out.set(h, v);
  }
  return out;
}
