// The emissions-against-production cross-check round (`judgeProductionEmission` of the domain): per outlet with an
// enabled device and production meters, the last whole Shanghai day's hourly flow and load (the analyzer's hourly
// aggregates and the loggers' hourly data, as for the loads) against the production meters' hourly energy (mean
// power), and the baseline of the days before. Each outlet-day's judgement — or why it could not judge — is recorded
// in `analyzer_cross_checks`; a finding opens one deviation (deviation.v1 first, then the deviation log, as the
// annual-load round hands off), and the enterprise's risk component of this check is rewritten from the recorded
// findings. Judging the same day again emits nothing: the deviation log already holds its id.
import {
  FLOW_FACTOR,
  hasLoadUnit,
  judgeProductionEmission,
  outletHourFlows,
  outletHourLoads,
  productionEmissionDeviation,
  productionEmissionDeviationId,
  PRODUCTION_EMISSION_RULE,
  rulesFor,
  type EmissionEnergyHour,
} from '@offsite/domain';
import { hourLoadInputQueries, meterHourlyPowerQuery } from '@offsite/influx';
import type { RegistrySnapshot } from '@offsite/store';
import { deviationHeads } from './analyzer-db.js';
import type { AnnualLoadJobOptions } from './annual-load-job.js';
import { recordCrossCheck, rewriteRiskComponents } from './cross-check-db.js';
import {
  countVerdict,
  judgedDay,
  noCounts,
  handOffDeviation,
  recordCheckFailure,
  type CrossCheckCounts,
} from './cross-check-round.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The annual-load round's: the registry's outlets judged on InfluxDB's hours, deviations handed off the same way. */
export type ProductionEmissionJobOptions = AnnualLoadJobOptions;

interface Checked {
  enterpriseId: string;
  siteId: string;
  kind: 'gas' | 'water';
  meterIds: string[];
  factors: { factor: string; concentrationUnit: string }[];
}

/** Outlets with an enabled device and the production meters whose energy they are compared with. */
function checkedOutlets(snapshot: RegistrySnapshot): Checked[] {
  const out: Checked[] = [];
  for (const e of snapshot.enterprises) {
    const production = e.meters.filter((m) => m.role === 'production').map((m) => m.id);
    for (const o of e.outlets) {
      if (!o.devices.some((d) => d.enabled)) continue;
      const meterIds = o.productionMeterIds.length > 0 ? o.productionMeterIds : production;
      if (meterIds.length === 0) continue;
      const factors = new Map<string, string>();
      for (const l of o.limits)
        if (hasLoadUnit(l.unit) && !factors.has(l.factor)) factors.set(l.factor, l.unit);
      out.push({
        enterpriseId: e.id,
        siteId: o.id,
        kind: o.kind,
        meterIds: [...meterIds],
        factors: [...factors].map(([factor, concentrationUnit]) => ({ factor, concentrationUnit })),
      });
    }
  }
  return out;
}

/** The hours of [from, to): production energy (every meter's mean power; null unless all reported), flow, load. */
async function outletHours(
  opts: ProductionEmissionJobOptions,
  o: Checked,
  from: number,
  to: number,
): Promise<EmissionEnergyHour[]> {
  const flow = FLOW_FACTOR[o.kind];
  const q = hourLoadInputQueries(
    { aggregate: 'aggregate', emission: 'emission' },
    { enterpriseId: o.enterpriseId, site: o.siteId, factors: [...o.factors.map((f) => f.factor), flow] },
    new Date(from),
    new Date(to),
  );
  const [aggregates, hourly, power] = await Promise.all([
    opts.query(opts.bucket, q.aggregates),
    opts.query(opts.bucket, q.hourly),
    opts.query(opts.bucket, meterHourlyPowerQuery(o.enterpriseId, o.meterIds, new Date(from), new Date(to))),
  ]);
  const energy = new Map<number, { kwh: number; meters: Set<string> }>();
  for (const s of power)
    for (const r of s.rows) {
      const t = Number(r.time);
      if (typeof r.kw !== 'number' || !Number.isFinite(r.kw) || r.kw < 0) continue;
      const e = energy.get(t) ?? { kwh: 0, meters: new Set<string>() };
      e.kwh += r.kw;
      e.meters.add(s.tags.site ?? '');
      energy.set(t, e);
    }
  const flows = outletHourFlows(aggregates, hourly, flow);
  const loads = o.factors.length > 0 ? outletHourLoads(aggregates, hourly, flow, o.factors) : [];
  // A load needs every permitted pollutant's valid hour (a missing factor would understate it).
  const loadAt = new Map<number, { kg: number; n: number; valid: boolean }>();
  for (const f of loads)
    for (const h of f.hours) {
      const acc = loadAt.get(h.start) ?? { kg: 0, n: 0, valid: true };
      acc.n++;
      if (h.computedKg === null) acc.valid = false;
      else acc.kg += h.computedKg;
      loadAt.set(h.start, acc);
    }
  const starts = new Set([...energy.keys(), ...flows.keys(), ...loadAt.keys()]);
  return [...starts]
    .filter((t) => t >= from && t < to)
    .sort((a, b) => a - b)
    .map((start) => {
      const e = energy.get(start);
      const f = flows.get(start);
      const l = loadAt.get(start);
      return {
        start,
        energyKwh: e && e.meters.size === o.meterIds.length ? e.kwh : null,
        flowM3: f?.valid && f.value !== null ? f.value : null,
        loadKg: l && l.valid && l.n === loads.length ? l.kg : null,
      };
    });
}

export interface ProductionEmissionRound extends CrossCheckCounts {
  day: { start: number; end: number };
  outlets: number;
}

/** One round as of `now`: the last whole Shanghai day before now − the allowed lateness. */
export async function runProductionEmissionJob(
  opts: ProductionEmissionJobOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<ProductionEmissionRound> {
  const log = opts.logger.child({ component: PRODUCTION_EMISSION_RULE });
  const day = judgedDay(now, opts.allowedLatenessMs);
  const round: ProductionEmissionRound = { day, outlets: 0, ...noCounts() };
  const enterprises = new Set<string>();
  for (const o of checkedOutlets(snapshot)) {
    round.outlets++;
    enterprises.add(o.enterpriseId);
    const rules = rulesFor(opts.engineConfig, o.enterpriseId, o.siteId).productionEmission;
    const id = productionEmissionDeviationId(o.enterpriseId, o.siteId, day.start);
    try {
      const hours = await outletHours(opts, o, day.start - rules.baselineDays * DAY_MS, day.end);
      const head = (await deviationHeads(opts.db, [id])).get(id);
      const input = {
        enterpriseId: o.enterpriseId,
        siteId: o.siteId,
        day,
        hours,
        previous: head ? { revision: head.revision } : null,
        rules,
      };
      const judgement = judgeProductionEmission(input);
      const deviation = productionEmissionDeviation(input, judgement);
      if (deviation) await handOffDeviation(opts, deviation, now, round);
      await recordCrossCheck(opts.db, {
        check: PRODUCTION_EMISSION_RULE,
        enterpriseId: o.enterpriseId,
        siteId: o.siteId,
        dayStart: day.start,
        status: judgement.status,
        reason: judgement.reason,
        details: judgement,
        deviationId: judgement.status === 'flagged' ? id : null,
      });
      countVerdict(round, judgement.status);
    } catch (err) {
      await recordCheckFailure(
        opts.db,
        log,
        round,
        {
          check: PRODUCTION_EMISSION_RULE,
          enterpriseId: o.enterpriseId,
          siteId: o.siteId,
          dayStart: day.start,
        },
        err,
      );
    }
  }
  await rewriteRiskComponents(opts.db, PRODUCTION_EMISSION_RULE, [...enterprises], day.end);
  log.info({ ...round, day: new Date(day.start).toISOString() }, 'production-emission cross-check done');
  return round;
}
