// Simulated history at the aggregate level (the demo's preceding months): the hourly and daily aggregates an
// enterprise's monitored factors would have had, each valid hour at a share of its permit limit, with the gaps a
// profile asks for. The analyzer owns the `aggregate` measurement, so the history goes in through its own points;
// the stability round "as of" the simulated clock then judges it like any other data.
import { outletLimits, type AggregateOutput } from '@offsite/domain';
import { aggregatesDeleteQuery, toLine, type InfluxQLRunner, type InfluxWriter } from '@offsite/influx';
import type { RegistrySnapshot } from '@offsite/store';
import { aggregatePoint } from './aggregate-points.js';

type Enterprise = RegistrySnapshot['enterprises'][number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface HistoryProfile {
  /** Every n-th hour of the history is missing (n ≥ 2): transmission 1 − 1/n. */
  missingEvery?: number;
  /** The enterprise's loggers went silent at this time (epoch ms): no aggregate from then on. */
  silentFrom?: number;
  /**
   * Every valid hour just below the limit (92–98 %, `nearLimitShare`) instead of the usual cycle: an outlet that
   * stands out among the peers of its process.
   */
  nearLimit?: boolean;
}

/** Share of the limit of a valid hour: 40–50 %, higher by day (a plain daily cycle). */
export function historyShare(start: number): number {
  const hourOfDay = Math.floor(((start + 8 * HOUR_MS) % DAY_MS) / HOUR_MS);
  return 0.4 + (hourOfDay >= 8 && hourOfDay < 20 ? 0.1 : 0);
}

/** Share of the limit of a near-limit hour: 92–98 %, a step of 1 % an hour over a 7-hour cycle. */
export function nearLimitShare(start: number): number {
  return 0.92 + (Math.floor(start / HOUR_MS) % 7) * 0.01;
}

/**
 * Hourly aggregates of [from, to) (whole hours) for the factors with a permit limit on the enterprise's outlets
 * with an enabled device, and one daily aggregate per (outlet, factor, day) with data: the mean of its hours.
 * Hour i (counted from `from`) is missing when `missingEvery` divides i + 1.
 */
export function historyAggregates(
  e: Enterprise,
  from: number,
  to: number,
  profile: HistoryProfile = {},
): AggregateOutput[] {
  const out: AggregateOutput[] = [];
  const end = Math.min(to, profile.silentFrom ?? Infinity);
  const n = profile.missingEvery;
  for (const o of e.outlets) {
    if (!o.devices.some((d) => d.enabled)) continue;
    for (const l of outletLimits(o)) {
      const days = new Map<number, number[]>();
      for (let start = from, i = 0; start < end; start += HOUR_MS, i++) {
        if (n !== undefined && (i + 1) % n === 0) continue;
        const value = round3(l.value * (profile.nearLimit ? nearLimitShare(start) : historyShare(start)));
        out.push(aggregate(e.id, o.id, l.factor, 'hour', start, value));
        const day = start - ((start + 8 * HOUR_MS) % DAY_MS);
        days.set(day, [...(days.get(day) ?? []), value]);
      }
      for (const [day, values] of days)
        out.push(
          aggregate(
            e.id,
            o.id,
            l.factor,
            'day',
            day,
            round3(values.reduce((a, b) => a + b, 0) / values.length),
          ),
        );
    }
  }
  return out;
}

function aggregate(
  enterpriseId: string,
  siteId: string,
  factor: string,
  interval: 'hour' | 'day',
  start: number,
  value: number,
): AggregateOutput {
  return {
    type: 'aggregate',
    enterpriseId,
    siteId,
    factor,
    interval,
    start,
    value,
    convertedValue: value,
    valid: true,
    flag: 'N',
    coverage: 1,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Writes the history of [from, to) of every enterprise (its profile, if any). A silent enterprise's aggregates from
 * its `silentFrom` on are deleted first: an earlier run may have written some (its simulated day, say).
 */
export async function writeHistory(
  deps: { query: InfluxQLRunner; bucket: string; writer: InfluxWriter },
  enterprises: readonly Enterprise[],
  from: number,
  to: number,
  profiles: ReadonlyMap<string, HistoryProfile>,
): Promise<number> {
  for (const [id, p] of profiles)
    if (p.silentFrom !== undefined)
      await deps.query(deps.bucket, aggregatesDeleteQuery(id, new Date(p.silentFrom)));
  let points = 0;
  for (const e of enterprises) {
    const lines = historyAggregates(e, from, to, profiles.get(e.id)).map((a) => toLine(aggregatePoint(a)));
    await deps.writer.write(lines);
    points += lines.length;
  }
  return points;
}
