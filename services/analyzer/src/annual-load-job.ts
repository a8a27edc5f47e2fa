// The annual-load round (domain-rules §6a, `judgeAnnualLoad` of the domain): per outlet and factor with a
// permitted annual load (许可排放量) in the registry, the year-to-date load from InfluxDB (the analyzer's hourly
// aggregates and the loggers' hourly data: `outletHourLoads`, the computation the console's loads page shows)
// against the permit pro rata. A change of state is handed off like the silent-devices round's: deviation.v1
// first, then the deviation log, which holds each deviation's latest revision and so what the next round compares
// with. A crash between the two re-emits the same id and revision, which consumers de-duplicate.
//
// Incremental: the year's sums of the hours older than the last `REREAD_HOURS` are kept (annual-load-state.ts), so
// a round reads only the hours since (the last few read again: the loggers' hourly data reach InfluxDB through
// influx-writer, whose lag the analyzer does not see). Data arriving later than that for an outlet (a backfill, a
// logger's re-sent hours, a late aggregate) mark it through the partitions' checkpoints, and its year is read
// again; so does a new year (Asia/Shanghai), a changed unit or flow factor, or a first round. The sums equal a
// full recompute's to the last bit (`carryOutletLoads`).
import type { DeviationV1 } from '@offsite/contracts';
import {
  annualLoadDeviationId,
  annualLoadYear,
  carryOutletLoads,
  FLOW_FACTOR,
  hasLoadUnit,
  judgeAnnualLoad,
  loadTotalOf,
  NO_CARRIED_LOADS,
  rulesFor,
  severityToContract,
  type CarriedLoads,
  type DeviationOutput,
  type EngineConfig,
  type LoadSeries,
  type Severity,
} from '@offsite/domain';
import { hourLoadInputQueries, type InfluxQLRunner } from '@offsite/influx';
import type { Logger } from '@offsite/runtime';
import type { RegistrySnapshot } from '@offsite/store';
import {
  deviationHeads,
  openDeviationsOf,
  recordDeviations,
  type Db,
  type DeviationHead,
} from './analyzer-db.js';
import { claimLoadStates, saveLoadStates, type LoadState, type LoadStateKey } from './annual-load-state.js';
import { deviationEvent } from './deviation-event.js';

const HOUR_MS = 3_600_000;
/** The last hours before the judged end every round reads again (data later than that mark the outlet). */
export const REREAD_HOURS = 3;
export const REREAD_MS = REREAD_HOURS * HOUR_MS;

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

type Year = ReturnType<typeof annualLoadYear>;

/** The series' rows in [from, to). */
const within = (series: readonly LoadSeries[], from: number, to: number): LoadSeries[] =>
  series.map((x) => ({
    ...x,
    rows: x.rows.filter((r) => Number(r.time) >= from && Number(r.time) < to),
  }));

/** The outlet's loads' inputs of [from, to) from InfluxDB: only the columns and factors the loads use. */
async function readHours(
  opts: AnnualLoadJobOptions,
  o: Permitted,
  from: number,
  to: number,
): Promise<{ aggregates: LoadSeries[]; hourly: LoadSeries[] }> {
  if (from >= to) return { aggregates: [], hourly: [] };
  const q = hourLoadInputQueries(
    { aggregate: 'aggregate', emission: 'emission' },
    {
      enterpriseId: o.enterpriseId,
      site: o.siteId,
      factors: [...o.factors.map((f) => f.factor), FLOW_FACTOR[o.kind]],
    },
    new Date(from),
    new Date(to),
  );
  const [aggregates, hourly] = await Promise.all([
    opts.query(opts.bucket, q.aggregates),
    opts.query(opts.bucket, q.hourly),
  ]);
  return { aggregates, hourly };
}

/** The sums the rows carry, when they can be carried: same year, units and flow factor, no late data. */
function carried(o: Permitted, rows: readonly (LoadState | undefined)[], year: Year, asOf: number) {
  const first = rows[0];
  const ok =
    first !== undefined &&
    first.upTo !== null &&
    first.upTo <= asOf &&
    rows.every(
      (r, i) =>
        r !== undefined &&
        r.yearStart === year.start &&
        r.upTo === first.upTo &&
        r.flowUnit === first.flowUnit &&
        r.changedFrom === null &&
        r.concentrationUnit === o.factors[i]!.concentrationUnit &&
        r.flowFactor === FLOW_FACTOR[o.kind],
    );
  return ok
    ? { from: first.upTo!, prev: { flowUnit: first.flowUnit, sums: rows.map((r) => r!.sums) } }
    : null;
}

/**
 * The outlet's sums of [year start, asOf) to judge, and those of the hours before the last `REREAD_HOURS` to keep:
 * the kept sums plus the hours since, or the year read again.
 */
async function outletSums(
  opts: AnnualLoadJobOptions,
  o: Permitted,
  rows: readonly (LoadState | undefined)[],
  year: Year,
  asOf: number,
): Promise<{ judged: CarriedLoads; kept: CarriedLoads & { upTo: number } }> {
  const flow = FLOW_FACTOR[o.kind];
  const keepTo = Math.max(year.start, asOf - REREAD_MS);
  const carry = (
    prev: CarriedLoads,
    s: { aggregates: LoadSeries[]; hourly: LoadSeries[] },
    from: number,
    to: number,
  ) =>
    carryOutletLoads(prev, within(s.aggregates, from, to), within(s.hourly, from, to), flow, o.factors, {
      start: year.start,
      from,
      to,
    });
  const attempt = (
    prev: CarriedLoads,
    from: number,
    s: { aggregates: LoadSeries[]; hourly: LoadSeries[] },
  ) => {
    const upTo = Math.max(from, keepTo);
    const kept = carry(prev, s, from, upTo);
    // A flow unit first seen in the re-read hours: the year as a whole, the kept part as it is.
    const judged =
      kept && (carry(kept, s, upTo, asOf) ?? (from === year.start ? carry(prev, s, from, asOf) : null));
    return kept && judged ? { judged, kept: { ...kept, upTo } } : null;
  };
  const c = carried(o, rows, year, asOf);
  if (c) {
    const next = attempt(c.prev, c.from, await readHours(opts, o, c.from, asOf));
    if (next) return next;
  }
  return attempt(NO_CARRIED_LOADS(o.factors.length), year.start, await readHours(opts, o, year.start, asOf))!;
}

/**
 * Per deviation (its id of each generation), the log's head of its highest generation: generation n + 1 exists only
 * once generation n is resolved (a resolved deviation is never reopened; running ahead again opens the next), so
 * the search goes on only past resolved heads — one query per generation present, usually one.
 */
async function latestGenerations(
  db: Db,
  idOf: readonly ((generation: number) => string)[],
): Promise<((DeviationHead & { generation: number }) | undefined)[]> {
  const found: (undefined | (DeviationHead & { generation: number }))[] = idOf.map(() => undefined);
  let pending = idOf.map((_, i) => i);
  for (let generation = 1; pending.length > 0; generation++) {
    const heads = await deviationHeads(
      db,
      pending.map((i) => idOf[i]!(generation)),
    );
    const next: number[] = [];
    for (const i of pending) {
      const head = heads.get(idOf[i]!(generation));
      if (!head) continue;
      found[i] = { ...head, generation };
      if (head.state === 'resolved') next.push(i);
    }
    pending = next;
  }
  return found;
}

/** The next events of one outlet's factors (with their year-to-date sums), and of those `removed`. */
async function judgeOutlet(
  opts: AnnualLoadJobOptions,
  o: Permitted,
  asOf: number,
  removed: readonly string[],
  states: ReadonlyMap<string, LoadState>,
): Promise<{ outputs: DeviationOutput[]; kept: (CarriedLoads & { upTo: number }) | null }> {
  const year = annualLoadYear(asOf);
  const rows = o.factors.map((f) => states.get(`${o.siteId}|${f.factor}`));
  const sums = o.factors.length === 0 ? null : await outletSums(opts, o, rows, year, asOf);
  const judged = [
    ...o.factors.map((f, i) => ({ ...f, ytd: loadTotalOf(sums!.judged.sums[i]!, year.start, asOf) })),
    ...removed.map((factor) => ({
      factor,
      concentrationUnit: '',
      permitKg: null,
      ytd: loadTotalOf(NO_CARRIED_LOADS(1).sums[0]!, year.start, asOf),
    })),
  ];
  const heads = await latestGenerations(
    opts.db,
    judged.map(
      (f) => (generation: number) =>
        annualLoadDeviationId(o.enterpriseId, o.siteId, f.factor, asOf, generation),
    ),
  );
  const outputs = judged.flatMap((f, i) => {
    const head = heads[i];
    const next = judgeAnnualLoad({
      enterpriseId: o.enterpriseId,
      siteId: o.siteId,
      factor: f.factor,
      concentrationUnit: f.concentrationUnit,
      permitKg: f.permitKg,
      asOf,
      ytd: f.ytd,
      previous: head
        ? {
            generation: head.generation,
            revision: head.revision,
            state: head.state,
            severity: SEVERITY_OF_CONTRACT.get(head.severity) ?? 'minor',
          }
        : null,
      rules: rulesFor(opts.engineConfig, o.enterpriseId, o.siteId, f.factor).annualLoad,
    });
    return next ? [next] : [];
  });
  return { outputs, kept: sums?.kept ?? null };
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
  const year = annualLoadYear(asOf);
  const keyOf = (o: Permitted, f: Permitted['factors'][number]): LoadStateKey => ({
    siteId: o.siteId,
    factor: f.factor,
    yearStart: year.start,
    concentrationUnit: f.concentrationUnit,
    flowFactor: FLOW_FACTOR[o.kind],
  });
  const { states, readAt } = await claimLoadStates(
    opts.db,
    outlets.flatMap((o) => o.factors.map((f) => keyOf(o, f))),
    asOf,
  );
  const save: Parameters<typeof saveLoadStates>[1][number][] = [];
  let events = 0;
  let failed = 0;
  for (const o of outlets) {
    const removed = orphans.filter((d) => d.siteId === o.siteId).map((d) => d.factor);
    try {
      const { outputs, kept } = await judgeOutlet(opts, o, asOf, removed, states);
      if (kept)
        o.factors.forEach((f, i) =>
          save.push({ ...keyOf(o, f), upTo: kept.upTo, flowUnit: kept.flowUnit, sums: kept.sums[i]! }),
        );
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
  // Marks older than the hours read again are cleared: their data were in InfluxDB before this round read it.
  await saveLoadStates(opts.db, save, readAt - REREAD_MS);
  log.info(
    { outlets: outlets.length, events, failed, asOf: new Date(asOf).toISOString() },
    'annual loads judged',
  );
  return { outlets: outlets.length, events, failed };
}
