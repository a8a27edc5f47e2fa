// Stability metrics (domain-rules §4) per outlet and per enterprise over a trailing window, from the
// hourly and daily aggregates in InfluxDB, the analyzer's deviation log and the review decisions it
// consumed, upserted into analyzer_stability; and the compliance counts of each Asia/Shanghai month the window
// overlaps, from the same hours, upserted into analyzer_compliance_months.
import {
  complianceByMonth,
  isStablyCompliant,
  outletLimits,
  stabilityMetrics,
  type AggregateOutput,
  type LimitView,
  type MaintenanceSpan,
  type StabilityPolicy,
} from '@offsite/domain';
import { aggregatesQuery, type InfluxQLRunner } from '@offsite/influx';
import type { Logger } from '@offsite/runtime';
import type { RegistrySnapshot } from '@offsite/store';
import {
  confirmedDeviationIds,
  loadDeviations,
  loadLastSeen,
  upsertComplianceMonths,
  upsertStability,
  type ComplianceMonthRow,
  type Db,
  type StabilityRow,
} from './analyzer-db.js';

export interface StabilityJobOptions {
  db: Db;
  query: InfluxQLRunner;
  /** Bucket holding the `aggregate` measurement (on InfluxDB 1.8: `database/retention-policy`). */
  bucket: string;
  windowDays: number;
  policy: StabilityPolicy;
  logger: Logger;
  /**
   * What "last received" means: the last receipt (`analyzer_last_seen`, default: the round runs at the real
   * clock) or, for a round as of a past time (a replayed or simulated history, whose receipt times are the wall
   * clock of the replay), the end of the latest hour with an aggregate in the window.
   */
  lastReceived?: 'receipt' | 'data';
}

type Enterprise = RegistrySnapshot['enterprises'][number];

/** The monitored (site, factor) pairs of an enterprise: the factors its permit limits. */
function monitored(e: Enterprise): { siteId: string; factor: string }[] {
  const out = new Map<string, { siteId: string; factor: string }>();
  for (const o of e.outlets) {
    if (!o.devices.some((d) => d.enabled)) continue;
    for (const l of o.limits) out.set(`${o.id}|${l.factor}`, { siteId: o.id, factor: l.factor });
  }
  return [...out.values()];
}

/** The limit the exceedance rule applies per outlet and factor (hourly basis for gas, daily for water). */
function complianceLimits(e: Enterprise): LimitView[] {
  return e.outlets.flatMap((o) => outletLimits(o));
}

/**
 * The declared maintenance windows per outlet: a window names an outlet, a device (its outlet), or neither (every
 * outlet of the enterprise).
 */
function maintenanceSpans(e: Enterprise): MaintenanceSpan[] {
  return e.maintenanceWindows.flatMap((w) => {
    const from = Date.parse(w.from);
    const to = Date.parse(w.to);
    const sites = w.outletId
      ? [w.outletId]
      : w.deviceMn
        ? e.outlets.filter((o) => o.devices.some((d) => d.mn === w.deviceMn)).map((o) => o.id)
        : e.outlets.map((o) => o.id);
    return sites.map((siteId) => ({ siteId, from, to }));
  });
}

/** Hourly or daily aggregates of one enterprise starting in [from, to), one row per site/factor/window. */
export async function loadAggregates(
  query: InfluxQLRunner,
  bucket: string,
  enterpriseId: string,
  interval: 'hour' | 'day',
  from: Date,
  to: Date,
): Promise<AggregateOutput[]> {
  const series = await query(bucket, aggregatesQuery(enterpriseId, interval, from, to));
  return series.flatMap((s) =>
    s.rows.map((r): AggregateOutput => ({
      type: 'aggregate',
      enterpriseId,
      siteId: s.tags.site ?? '',
      factor: s.tags.factor ?? '',
      interval,
      start: Number(r.time),
      value: typeof r.value === 'number' ? r.value : null,
      convertedValue: typeof r.converted === 'number' ? r.converted : null,
      valid: r.valid === true,
      flag: 'N',
      coverage: 0,
    })),
  );
}

/** Computes and stores the rows of one enterprise (per outlet and '' for the whole enterprise). */
export async function computeEnterpriseStability(
  opts: StabilityJobOptions,
  e: Enterprise,
  now: number,
): Promise<StabilityRow[]> {
  // Whole hours: the window ends at the last full hour.
  const to = Math.floor(now / 3_600_000) * 3_600_000;
  const from = to - opts.windowDays * 86_400_000;
  const factors = monitored(e);
  const limits = complianceLimits(e);
  const maintenance = maintenanceSpans(e);
  const daily = limits.some((l) => l.basis === 'daily');
  const [hourly, days, deviations, lastReceiptAt] = await Promise.all([
    loadAggregates(opts.query, opts.bucket, e.id, 'hour', new Date(from), new Date(to)),
    // The days of the window's hours: the first may start up to a day before the window.
    daily
      ? loadAggregates(opts.query, opts.bucket, e.id, 'day', new Date(from - 86_400_000), new Date(to))
      : [],
    loadDeviations(opts.db, e.id, from, to),
    opts.lastReceived === 'data' ? null : loadLastSeen(opts.db, e.id),
  ]);
  const confirmed = await confirmedDeviationIds(
    opts.db,
    deviations.map((d) => d.id),
  );
  const lastReceivedAt = opts.lastReceived === 'data' ? lastDataHourEnd(hourly, from, to) : lastReceiptAt;
  const months: ComplianceMonthRow[] = [];
  const row = (siteId: string, keep: (s: string) => boolean): StabilityRow => {
    const input = {
      from,
      to,
      factors: factors.filter((f) => keep(f.siteId)),
      hourly: hourly.filter((a) => keep(a.siteId)),
      daily: days.filter((a) => keep(a.siteId)),
      limits: limits.filter((l) => keep(l.siteId)),
      deviations: deviations.filter((d) => keep(d.siteId)),
      confirmedIds: confirmed,
      maintenance: maintenance.filter((m) => keep(m.siteId)),
    };
    const metrics = stabilityMetrics(input);
    for (const m of complianceByMonth(input)) months.push({ enterpriseId: e.id, siteId, ...m });
    return {
      enterpriseId: e.id,
      siteId,
      windowFrom: new Date(from),
      windowTo: new Date(to),
      metrics,
      stablyCompliant: metrics.expected > 0 && isStablyCompliant(metrics, opts.policy),
      lastReceivedAt,
    };
  };
  const rows = [
    row('', () => true),
    ...e.outlets.filter((o) => o.devices.length > 0).map((o) => row(o.id, (s) => s === o.id)),
  ];
  await upsertStability(opts.db, rows);
  await upsertComplianceMonths(opts.db, months);
  return rows;
}

/** The end of the latest hour in [from, to) with an aggregate; null when there is none. */
function lastDataHourEnd(hourly: readonly AggregateOutput[], from: number, to: number): Date | null {
  let last = -Infinity;
  for (const a of hourly) if (a.start >= from && a.start < to && a.start > last) last = a.start;
  return Number.isFinite(last) ? new Date(last + 3_600_000) : null;
}

/** One run over every enterprise, one at a time (bounded load on InfluxDB); failures are per enterprise. */
export async function runStabilityJob(
  opts: StabilityJobOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<{ enterprises: number; failed: number }> {
  const log = opts.logger.child({ component: 'stability' });
  let failed = 0;
  for (const e of snapshot.enterprises) {
    try {
      await computeEnterpriseStability(opts, e, now);
    } catch (err) {
      failed++;
      log.error({ err, enterpriseId: e.id }, 'stability computation failed');
    }
  }
  log.info({ enterprises: snapshot.enterprises.length, failed }, 'stability metrics computed');
  return { enterprises: snapshot.enterprises.length, failed };
}
