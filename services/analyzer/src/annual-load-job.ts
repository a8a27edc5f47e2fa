// The annual-load round (domain-rules §6a, `judgeAnnualLoad` of the domain): per outlet and factor with a
// permitted annual load (许可排放量) in the registry, the year-to-date load from InfluxDB (the analyzer's hourly
// aggregates and the loggers' hourly data: `outletHourLoads`, the computation the console's loads page shows)
// against the permit pro rata. A change of state is handed off like the silent-devices round's: deviation.v1
// first, then the deviation log, which holds each deviation's latest revision and so what the next round compares
// with. A crash between the two re-emits the same id and revision, which consumers de-duplicate.
import type { DeviationV1 } from '@offsite/contracts';
import {
  annualLoadDeviationId,
  annualLoadYear,
  FLOW_FACTOR,
  hasLoadUnit,
  judgeAnnualLoad,
  outletHourLoads,
  rulesFor,
  severityToContract,
  sumLoads,
  type DeviationOutput,
  type EngineConfig,
  type Severity,
} from '@offsite/domain';
import { hourLoadInputQueries, type InfluxQLRunner } from '@offsite/influx';
import type { Logger } from '@offsite/runtime';
import type { RegistrySnapshot } from '@offsite/store';
import { deviationHeads, openDeviationsOf, recordDeviations, type Db } from './analyzer-db.js';
import { deviationEvent } from './deviation-event.js';

const HOUR_MS = 3_600_000;

export interface AnnualLoadJobOptions {
  db: Db;
  query: InfluxQLRunner;
  /** Bucket of the telemetry and the aggregates. */
  bucket: string;
  engineConfig: EngineConfig;
  /** Hours end this long before now are judged: their aggregates closed once the watermark passed them. */
  allowedLatenessMs: number;
  /** Produces deviation.v1 events durably before resolving. */
  emit(events: DeviationV1[]): Promise<void>;
  logger: Logger;
}

interface Permitted {
  enterpriseId: string;
  siteId: string;
  kind: 'gas' | 'water';
  factors: { factor: string; concentrationUnit: string; permitKg: number }[];
}

/** The outlets whose permit gives an annual load for a factor with a mass concentration unit. */
function permittedOutlets(snapshot: RegistrySnapshot): Permitted[] {
  const out: Permitted[] = [];
  for (const e of snapshot.enterprises)
    for (const o of e.outlets) {
      const factors = new Map<string, Permitted['factors'][number]>();
      for (const l of o.limits)
        if (l.annualLoadKg !== null && hasLoadUnit(l.unit) && !factors.has(l.factor))
          factors.set(l.factor, { factor: l.factor, concentrationUnit: l.unit, permitKg: l.annualLoadKg });
      if (factors.size > 0)
        out.push({ enterpriseId: e.id, siteId: o.id, kind: o.kind, factors: [...factors.values()] });
    }
  return out;
}

const SEVERITY_OF_CONTRACT = new Map<string, Severity>(
  (Object.entries(severityToContract) as [Severity, string][]).map(([d, c]) => [c, d]),
);

/** The next events of one outlet's factors (the year-to-date read from InfluxDB), and of those `removed`. */
async function judgeOutlet(
  opts: AnnualLoadJobOptions,
  o: Permitted,
  asOf: number,
  removed: readonly string[],
): Promise<DeviationOutput[]> {
  const year = annualLoadYear(asOf);
  const flow = FLOW_FACTOR[o.kind];
  // Only the columns and factors the loads use: a year of every field of every factor is many times more.
  const q = hourLoadInputQueries(
    { aggregate: 'aggregate', emission: 'emission' },
    { enterpriseId: o.enterpriseId, site: o.siteId, factors: [...o.factors.map((f) => f.factor), flow] },
    new Date(year.start),
    new Date(asOf),
  );
  const [aggregates, hourly] =
    o.factors.length === 0
      ? [[], []]
      : await Promise.all([opts.query(opts.bucket, q.aggregates), opts.query(opts.bucket, q.hourly)]);
  const hours = outletHourLoads(aggregates, hourly, flow, o.factors);
  const judged = [
    ...o.factors.map((f, i) => ({ ...f, hours: hours[i]!.hours })),
    ...removed.map((factor) => ({ factor, concentrationUnit: '', permitKg: null, hours: [] })),
  ];
  const ids = judged.map((f) => annualLoadDeviationId(o.enterpriseId, o.siteId, f.factor, asOf));
  const heads = await deviationHeads(opts.db, ids);
  return judged.flatMap((f, i) => {
    const head = heads.get(ids[i]!);
    const next = judgeAnnualLoad({
      enterpriseId: o.enterpriseId,
      siteId: o.siteId,
      factor: f.factor,
      concentrationUnit: f.concentrationUnit,
      permitKg: f.permitKg,
      asOf,
      ytd: sumLoads(f.hours, year.start, asOf),
      previous: head
        ? {
            revision: head.revision,
            state: head.state,
            severity: SEVERITY_OF_CONTRACT.get(head.severity) ?? 'minor',
          }
        : null,
      rules: rulesFor(opts.engineConfig, o.enterpriseId, o.siteId, f.factor).annualLoad,
    });
    return next ? [next] : [];
  });
}

/** One round at `now`: judge every permitted outlet and factor; failures are per outlet. */
export async function runAnnualLoadJob(
  opts: AnnualLoadJobOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<{ outlets: number; events: number; failed: number }> {
  const log = opts.logger.child({ component: 'annual-load' });
  const asOf = Math.floor((now - opts.allowedLatenessMs) / HOUR_MS) * HOUR_MS;
  const outlets = permittedOutlets(snapshot);
  // Open deviations of the year whose permit (or outlet) is gone: judged without a permit, hence resolved.
  const permitted = new Set(outlets.flatMap((o) => o.factors.map((f) => `${o.siteId}|${f.factor}`)));
  const orphans = (await openDeviationsOf(opts.db, 'annual-load', annualLoadYear(asOf).start)).filter(
    (d) => !permitted.has(`${d.siteId}|${d.factor}`),
  );
  for (const d of orphans)
    if (!outlets.some((x) => x.siteId === d.siteId))
      outlets.push({ enterpriseId: d.enterpriseId, siteId: d.siteId, kind: 'gas', factors: [] });
  let events = 0;
  let failed = 0;
  for (const o of outlets) {
    const removed = orphans.filter((d) => d.siteId === o.siteId).map((d) => d.factor);
    try {
      const outputs = await judgeOutlet(opts, o, asOf, removed);
      if (outputs.length === 0) continue;
      const evs = outputs.map((d) => deviationEvent(d, now));
      await opts.emit(evs);
      await recordDeviations(
        opts.db,
        outputs.map((d, k) => ({ output: d, rule: evs[k]!.rule, severity: evs[k]!.severity })),
      );
      events += evs.length;
    } catch (err) {
      failed++;
      log.error({ err, enterpriseId: o.enterpriseId, siteId: o.siteId }, 'annual load judgement failed');
    }
  }
  log.info(
    { outlets: outlets.length, events, failed, asOf: new Date(asOf).toISOString() },
    'annual loads judged',
  );
  return { outlets: outlets.length, events, failed };
}
