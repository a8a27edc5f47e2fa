// npm run bench:console — the console's statistics on a year of hourly data for 300 enterprises (issue 19's
// benchmark): p50/p95 of the overview (city and one district), the transmission statistics, the data browser's
// month and year of one outlet, the loads page's month and year, and the analyzer's annual-load round (the year read,
// then the next hours' rounds carrying their sums).
// Each figure comes with a same-run baseline: a raw InfluxQL count of the points the query covers, so the ratio
// means something on a machine 2× faster or slower.
//
// Data: the example registry cloned to --enterprises by the simulator's generator (300 outlets, one device each),
// imported into a private Postgres schema (dropped at the end); in InfluxDB's database `offsite_bench_console`
// (its own, kept between runs under .offsite/ like every InfluxDB database; --reseed writes it again): per outlet
// and hour from 2025-12-01 to 2026-12-01 (Asia/Shanghai) the logger's hourly data (`emission`, Avg/Min/Max/Cou,
// flag, unit) and the analyzer's aggregates (`aggregate`, value/converted/valid/flag/coverage) of each permitted
// factor and the flow, and for November 2026 the minute data at each device's minute interval (what 传输有效率
// counts). Written with @offsite/influx's writer in line protocol, a few batches in flight. In Postgres, the analyzer's
// monthly compliance rows (analyzer_compliance_months) of every enterprise and outlet for the year.
// --month picks the month of the overview and transmission statistics (default 2026-11; `current`: this Asia/Shanghai
// month, read live up to now): a month other than November gets its minute data written from its start (or from
// what an earlier run wrote of it) up to now, so the current month's figures are measured over the data a live
// console would have — closed days stored on the first call, today read from InfluxDB on every call.
// The console's functions are called in-process as its routes call them (the answer serialised to JSON, as the
// route would); the browser's draw is scripts/data-browser-draw.ts of services/console.
// A script that prints numbers, not a test. Loopback only; bounded in count.
// The servers are those of ./.offsite/env, or of the file OFFSITE_ENV_FILE names.
// Usage: flock /tmp/offsite-bench.lock npm run bench:console -- [--runs 20] [--reseed] [--no-store] [--enterprises 300]
//          [--month YYYY-MM|current] [--at ISO] [--only REGEX]
// --at computes the statistics as of that moment: `--month 2026-11 --at 2026-11-20T23:30:00+08:00` measures late in a
// Shanghai day (19 stored days, 23.5 hours read live) on the seeded November.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeConfig } from '@offsite/domain';
import { monthRange, shanghaiDate } from '@offsite/domain/calendar';
import {
  createInfluxClient,
  createInfluxWriter,
  ensureDatabase1x,
  influxql,
  queryInfluxQL,
  toLine,
  type InfluxQLQuery,
  type InfluxQLSeries,
} from '@offsite/influx';
import { importRegistry, loadRegistrySnapshot, runMigrations } from '@offsite/store';
import { generateRegistry, parseRegistryText } from '@offsite/simulator';
import { requireEnv, silentLogger } from '@offsite/testing';
import { createMemoryLogger } from '@offsite/runtime';
import pg from 'pg';
import { runAnnualLoadJob } from '../services/analyzer/src/annual-load-job.js';
import { browseData } from '../services/console/src/data-browser.js';
import type { EvidenceSource } from '../services/console/src/evidence.js';
import { emissionLoads } from '../services/console/src/loads.js';
import { overview } from '../services/console/src/overview.js';
import type { Principal } from '../services/console/src/principal.js';
import { transmissionReport } from '../services/console/src/transmission.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    enterprises: { type: 'string', default: '300' },
    reseed: { type: 'boolean', default: false },
    /** The transmission statistics without the stored days (every call reads the month from InfluxDB). */
    'no-store': { type: 'boolean', default: false },
    /** Only the figures whose name matches (a regular expression); the annual-load round is `annual`. */
    only: { type: 'string', default: '' },
    /** The month of the overview and transmission statistics: YYYY-MM or `current`. */
    month: { type: 'string', default: '2026-11' },
    /** The moment the statistics are computed at (ISO; default now): e.g. late in a Shanghai day of the seeded month. */
    at: { type: 'string' },
  },
});
// What the console's clock reads when the statistics are computed: a moment inside the seeded month makes its
// days before that stored and that day read live up to it, as a console would read them at that moment.
const AT = args.at === undefined ? Date.now() : Date.parse(args.at);
if (!Number.isFinite(AT) || AT > Date.now()) {
  console.error(`--at ${args.at}: expected an ISO time not in the future`);
  process.exit(64);
}
const RUNS = Math.max(3, Math.min(200, Number(args.runs)));
const ENTERPRISES = Math.max(1, Math.min(1_000, Number(args.enterprises)));
const DB = 'offsite_bench_console';
const repo = fileURLToPath(new URL('../', import.meta.url));
const HOUR = 3_600_000;
const YEAR_FROM = Date.parse('2025-12-01T00:00:00+08:00');
const YEAR_TO = Date.parse('2026-12-01T00:00:00+08:00');
// The month whose minute data the year's seed holds.
const MONTH = '2026-11';
const MONTH_FROM = Date.parse('2026-11-01T00:00:00+08:00');
const MONTH_TO = YEAR_TO;
// The month the overview and transmission statistics are measured in.
const STATS_MONTH = args.month === 'current' ? shanghaiDate(AT).slice(0, 7) : args.month;
const STATS_RANGE = monthRange(STATS_MONTH);
const FLOW: Record<'gas' | 'water', string> = { gas: 'a00000', water: 'w00000' };
const SEED_MARK = `v1-${ENTERPRISES}`;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

interface Outlet {
  ent: string;
  site: string;
  kind: 'gas' | 'water';
  devices: { mn: string; minuteS: number }[];
  factors: string[];
}

/** A deterministic value of a factor at an hour (a daily wave and a slow drift). */
const valueAt = (i: number, k: number, t: number) =>
  20 + 8 * Math.sin(t / (5 * HOUR) + i) + 4 * Math.sin(t / (240 * HOUR) + k) + (k % 5);

/** Writes, retrying what InfluxDB calls retryable (a timeout while it compacts on a loaded machine). */
async function writeRetrying(write: (lines: string[]) => Promise<void>, lines: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++)
    try {
      return await write(lines);
    } catch (err) {
      if (attempt >= 8 || !(err instanceof Error && 'retryable' in err && err.retryable)) throw err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
}

async function seed(
  outlets: readonly Outlet[],
  write: (lines: string[]) => Promise<void>,
): Promise<{ lines: number; seconds: number }> {
  const t0 = performance.now();
  let total = 0;
  let batch: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const flush = async () => {
    if (batch.length === 0) return;
    const p = writeRetrying(write, batch).finally(() => inFlight.delete(p));
    inFlight.add(p);
    total += batch.length;
    batch = [];
    if (inFlight.size >= 3) await Promise.race(inFlight);
  };
  for (const [i, o] of outlets.entries()) {
    const factors = [...o.factors, FLOW[o.kind]];
    const mn = o.devices[0]!.mn;
    for (let t = YEAR_FROM; t < YEAR_TO; t += HOUR) {
      const bad = (t / HOUR + i) % 97 === 0;
      const flag = bad ? 'D' : 'N';
      for (const [k, factor] of factors.entries()) {
        const flow = factor === FLOW[o.kind];
        const v = flow ? 100 + 10 * Math.sin(t / (7 * HOUR)) : valueAt(i, k, t);
        const timeSeconds = t / 1000;
        batch.push(
          toLine({
            measurement: 'emission',
            tags: { enterprise: o.ent, site: o.site, device: mn, factor, interval: 'hour' },
            fields: {
              Avg: v,
              Min: v * 0.8,
              Max: v * 1.2,
              Cou: flow ? v : (v * 100) / 1e6,
              flag,
              unit: flow ? 'm3/h' : o.kind === 'gas' ? 'mg/m3' : 'mg/L',
            },
            timeSeconds,
          }),
          toLine({
            measurement: 'aggregate',
            tags: { enterprise: o.ent, site: o.site, factor, interval: 'hour' },
            fields: { value: v, converted: v * 1.1, valid: !bad, flag, coverage: bad ? 0.5 : 1 },
            timeSeconds,
          }),
        );
      }
      if (batch.length >= 10_000) await flush();
    }
    // The month's minute data (transmission statistics): every device at its minute interval.
    for (const d of o.devices)
      for (const line of minuteLines(o, i, d, MONTH_FROM, MONTH_TO)) {
        batch.push(line);
        if (batch.length >= 10_000) await flush();
      }
  }
  await flush();
  await Promise.all(inFlight);
  return { lines: total, seconds: (performance.now() - t0) / 1000 };
}

/** A device's minute data in [from, to), at its minute interval, on slot boundaries. */
function* minuteLines(
  o: Outlet,
  i: number,
  d: Outlet['devices'][number],
  from: number,
  to: number,
): Generator<string> {
  const step = d.minuteS * 1000;
  const factors = [...o.factors, FLOW[o.kind]];
  for (let t = Math.ceil(from / step) * step; t < to; t += step)
    for (const [k, factor] of factors.entries())
      yield toLine({
        measurement: 'emission',
        tags: { enterprise: o.ent, site: o.site, device: d.mn, factor, interval: 'minute' },
        fields: { Avg: valueAt(i, k, t), flag: (t / 60_000 + i) % 701 === 0 ? 'D' : 'N' },
        timeSeconds: t / 1000,
      });
}

/**
 * The minute data of [from, to) outside the seeded year's November: each outlet's devices from their last point
 * written in the range (an earlier run's) up to `to`, so a run on a later day only adds the days since.
 */
async function topUpMinutes(
  outlets: readonly Outlet[],
  from: number,
  to: number,
  raw: (q: InfluxQLQuery) => Promise<InfluxQLSeries[]>,
  write: (lines: string[]) => Promise<void>,
): Promise<{ lines: number; seconds: number }> {
  const t0 = performance.now();
  const last = await raw(
    influxql(
      `SELECT last("Avg") FROM "emission" WHERE "interval" = 'minute' AND time >= $from AND time < $to GROUP BY "device"`,
      { from: new Date(from), to: new Date(to) },
    ),
  );
  const lastAt = new Map(last.map((x) => [x.tags.device!, Number(x.rows[0]!.time)]));
  let total = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await writeRetrying(write, batch);
    total += batch.length;
    batch = [];
  };
  for (const [i, o] of outlets.entries())
    for (const d of o.devices) {
      const seen = lastAt.get(d.mn);
      for (const line of minuteLines(o, i, d, seen === undefined ? from : seen + 1, to)) {
        batch.push(line);
        if (batch.length >= 10_000) await flush();
      }
    }
  await flush();
  return { lines: total, seconds: (performance.now() - t0) / 1000 };
}

/** Runs `fn` `runs` times after one warm-up; the times in ms. */
async function timed(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  console.log(
    `console statistics bench: ${ENTERPRISES} enterprises, ${RUNS} runs per figure; ${cpus().length} CPUs, loadavg ${load()} (1/5/15 min)`,
  );
  const conn = {
    url: requireEnv('OFFSITE_INFLUX_URL'),
    token: requireEnv('OFFSITE_INFLUX_TOKEN'),
    org: process.env.OFFSITE_INFLUX_ORG ?? '',
    bucket: DB,
  };
  const client = createInfluxClient(conn, silentLogger);
  const writer = createInfluxWriter({ ...conn, logger: silentLogger, maxSockets: 4 }, client);
  const raw = (q: InfluxQLQuery) => queryInfluxQL(client, DB, q);
  const schema = `bench_console_${process.pid}`;
  const pgUrl = requireEnv('OFFSITE_PG_URL');
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const pool = new pg.Pool({ connectionString: pgUrl, options: `-c search_path=${schema}`, max: 6 });
  try {
    await runMigrations(pool, { logger: silentLogger });
    const template = parseRegistryText(readFileSync(`${repo}registry/example.yaml`, 'utf8'), 'example.yaml');
    const generated = generateRegistry(template, { count: ENTERPRISES });
    await importRegistry(pool, { data: generated }, { logger: silentLogger });
    // Every mass-concentration limit gets a permitted annual load, so the annual-load round judges them all.
    await pool.query(`update permit_limits set annual_load_kg = 100000 where unit in ('mg/m3', 'mg/L')`);
    // Every device registered before the year, so the transmission statistics expect each slot of the month.
    await pool.query(`update devices set created_at = $1`, [new Date(YEAR_FROM)]);
    // The analyzer's monthly compliance rows the overview reads: per enterprise and outlet, each month of the year
    // (its hours from the Shanghai 1st to the next 1st); the counts vary by enterprise.
    await pool.query(
      `insert into analyzer_compliance_months (enterprise_id, site_id, month, hours_from, hours_to,
              compliant_valid_hours, judged_valid_hours)
       select s.enterprise_id, s.site_id, to_char(m, 'YYYY-MM'), m at time zone 'Asia/Shanghai',
              (m + interval '1 month') at time zone 'Asia/Shanghai', 600 + length(s.enterprise_id) % 7 * 10, 700
         from (select id as enterprise_id, '' as site_id from enterprises
               union all select enterprise_id, id from outlets) s
        cross join generate_series(timestamp '2025-12-01', timestamp '2026-12-01', interval '1 month') m`,
    );
    const outlets: Outlet[] = generated.enterprises.flatMap((e) =>
      e.outlets
        .filter((o) => o.devices.length > 0)
        .map((o) => ({
          ent: e.id,
          site: o.id,
          kind: o.kind,
          devices: o.devices.map((d) => ({ mn: d.mn, minuteS: d.minuteIntervalS ?? 600 })),
          factors: [...new Set((o.limits ?? []).map((l) => l.factor))],
        })),
    );

    await ensureDatabase1x(client, DB);
    const mark = await raw(influxql(`SELECT "v" FROM "bench_seed" WHERE "mark" = $m`, { m: SEED_MARK }));
    if (args.reseed || mark.length === 0) {
      if (args.reseed)
        await raw(influxql(`DROP SERIES FROM "emission", "aggregate", "bench_seed"`)).catch(() => undefined);
      // An interrupted seeding goes on: an outlet is written in time order, its last minute point last.
      const last = await raw(
        influxql(
          `SELECT last("Avg") FROM "emission" WHERE "interval" = 'minute' AND time >= $from GROUP BY "site"`,
          { from: new Date(MONTH_FROM) },
        ),
      );
      const done = new Set(
        last
          .filter((x) => {
            const o = outlets.find((y) => y.site === x.tags.site);
            const step = (o?.devices[0]?.minuteS ?? 600) * 1000;
            return Number(x.rows[0]?.time) >= MONTH_TO - step;
          })
          .map((x) => x.tags.site),
      );
      console.log(
        `seeding ${outlets.length - done.size} of ${outlets.length} outlets into InfluxDB database ${DB}…`,
      );
      const s = await seed(
        outlets.filter((o) => !done.has(o.site)),
        (lines) => writer.write(lines),
      );
      const planned = outlets.reduce(
        (n, o) =>
          n +
          (o.factors.length + 1) *
            (((YEAR_TO - YEAR_FROM) / HOUR) * 2 +
              o.devices.reduce((m, d) => m + (MONTH_TO - MONTH_FROM) / (d.minuteS * 1000), 0)),
        0,
      );
      await writer.write([
        toLine({
          measurement: 'bench_seed',
          tags: { mark: SEED_MARK },
          fields: { v: planned },
          timeSeconds: 0,
        }),
      ]);
      console.log(
        `seeded ${s.lines.toLocaleString('en')} points in ${s.seconds.toFixed(0)} s (${Math.round(s.lines / s.seconds).toLocaleString('en')} points/s), loadavg ${load()}`,
      );
    } else
      console.log(
        `reusing the seeded database ${DB} (${Number(mark[0]!.rows[0]!.v).toLocaleString('en')} points; --reseed to write it again)`,
      );

    if (STATS_MONTH !== MONTH) {
      const to = Math.min(STATS_RANGE.to.getTime(), AT);
      const s = await topUpMinutes(outlets, STATS_RANGE.from.getTime(), to, raw, (lines) =>
        writer.write(lines),
      );
      console.log(
        `${STATS_MONTH}'s minute data written up to ${new Date(to).toISOString()}: ${s.lines.toLocaleString('en')} points added in ${s.seconds.toFixed(0)} s, loadavg ${load()}`,
      );
    }

    const src: EvidenceSource = {
      client,
      bucket: DB,
      emissionMeasurement: 'emission',
      energyMeasurement: 'energy',
      statusMeasurement: 'status',
      aggregateMeasurement: 'aggregate',
      marginHours: 6,
    };
    // Closed days' counts stored in the bench's Postgres schema (new each run): the first call fills the store.
    const storeDays = !args['no-store'];
    const tsrc = { client, bucket: DB, emissionMeasurement: 'emission', threshold: 0.9, storeDays };
    const city: Principal = {
      userId: '0',
      username: 'bench',
      displayName: 'bench',
      role: 'city-supervisor',
      districtId: null,
      enterpriseId: null,
    };
    const officer: Principal = { ...city, role: 'district-officer', districtId: 'dist-landong' };
    const gas = outlets.find((o) => o.kind === 'gas')!;
    const iso = (t: number) => new Date(t).toISOString();
    const now = AT;
    const json = async (p: Promise<unknown>) => JSON.stringify(await p).length;
    const count = (from: number, to: number, where: string, params: Record<string, string> = {}) =>
      raw(
        influxql(`SELECT count("Avg") FROM "emission" WHERE ${where} AND time >= $from AND time < $to`, {
          ...params,
          from: new Date(from),
          to: new Date(to),
        }),
      );
    const outletWhere = `"enterprise" = $e AND "site" = $s AND "interval" = 'hour'`;
    const outletParams = { e: gas.ent, s: gas.site };
    const statsTo = Math.min(STATS_RANGE.to.getTime(), now);
    const statsLabel =
      statsTo < STATS_RANGE.to.getTime()
        ? `${STATS_MONTH}, live up to ${args.at === undefined ? 'now' : new Date(AT).toISOString()}`
        : STATS_MONTH;
    const statsBase = () => count(STATS_RANGE.from.getTime(), statsTo, `"interval" =~ /^minute/`);
    const cases: {
      what: string;
      target: number;
      run: () => Promise<unknown>;
      base: () => Promise<unknown>;
    }[] = [
      {
        what: `overview, city (${statsLabel})`,
        target: 500,
        run: () => json(overview(pool, tsrc, city, { month: STATS_MONTH }, now)),
        base: statsBase,
      },
      {
        what: `overview, district dist-landong (${statsLabel})`,
        target: 500,
        run: () => json(overview(pool, tsrc, officer, { month: STATS_MONTH }, now)),
        base: statsBase,
      },
      {
        what: `transmission statistics, city (${statsLabel})`,
        target: 500,
        run: () => json(transmissionReport(pool, tsrc, city, { month: STATS_MONTH }, now)),
        base: statsBase,
      },
      ...(
        [
          ['month', MONTH_FROM, MONTH_TO, 500, 'day'],
          ['year', YEAR_FROM, YEAR_TO, 2000, 'month'],
        ] as const
      ).flatMap(([span, from, to, target, loadsBy]) => {
        const range = { enterprise: gas.ent, site: gas.site, from: iso(from), to: iso(to) };
        const base = () => count(from, to, outletWhere, outletParams);
        return [
          {
            what: `data browser, ${span} of hourly data, ${gas.site} all factors`,
            target,
            run: () => json(browseData(pool, src, city, { ...range, granularity: 'hour' })),
            base,
          },
          {
            what: `loads, ${span} by ${loadsBy}, ${gas.site}`,
            target,
            run: () => json(emissionLoads(pool, src, city, { ...range, granularity: loadsBy })),
            base,
          },
        ];
      }),
    ];
    const only = new RegExp(args.only);
    for (const c of cases.filter((x) => only.test(x.what))) {
      const t0 = performance.now();
      const bytes = (await c.run()) as number;
      const first = performance.now() - t0;
      const times = await timed(RUNS, c.run);
      const base = await timed(RUNS, c.base);
      const p95 = pct(times, 95);
      console.log(
        `${c.what}: p50 ${pct(times, 50).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (target ${c.target} ms: ${p95 < c.target ? 'met' : 'MISSED'});` +
          ` ${(bytes / 1024).toFixed(0)} KiB JSON; first call ${first.toFixed(0)} ms${storeDays ? '' : ' (--no-store)'}; baseline raw count p50 ${pct(base, 50).toFixed(0)} ms (×${(pct(times, 50) / pct(base, 50)).toFixed(1)})`,
      );
    }

    // The analyzer's annual-load round at every outlet's permitted factors, year to date, judged inside the seeded
    // year: first with nothing carried (the whole year read, what every round did before it carried its sums),
    // then the next hours' rounds, each reading the hours since the previous one (and the last 3 again).
    if (only.test('annual')) {
      const snapshot = await loadRegistrySnapshot(pool);
      const job = {
        db: pool,
        query: (bucket: string, q: InfluxQLQuery) => queryInfluxQL(client, bucket, q),
        bucket: DB,
        engineConfig: makeConfig(),
        allowedLatenessMs: 600_000,
        emit: async () => undefined,
        logger: createMemoryLogger(),
      };
      const at = YEAR_TO - 24 * HOUR + job.allowedLatenessMs + 120_000;
      const round = async (t: number) => {
        const t0 = performance.now();
        const judged = await runAnnualLoadJob(job, snapshot, t);
        const ms = performance.now() - t0;
        const err = job.logger.entries.find((e) => e.level === 'error');
        console.log(
          `  round as of ${new Date(t).toISOString()}: ${(ms / 1000).toFixed(2)} s, ${judged.failed} failed${err ? ` (${String((err.fields.err as Error | undefined)?.message ?? err.message)})` : ''}`,
        );
        job.logger.entries.length = 0;
        return { ms, ...judged };
      };
      const full: number[] = [];
      const next: number[] = [];
      let judged = { outlets: 0, failed: 0 };
      for (let i = 0; i < 1; i++) {
        await pool.query('delete from analyzer_annual_loads');
        const r = await round(at + i * HOUR);
        full.push(r.ms);
        judged = r;
        for (let h = 1; h <= 3; h++) next.push((await round(at + (i + h) * HOUR)).ms);
      }
      const ytdFrom = Date.parse('2026-01-01T00:00:00+08:00');
      const base = await timed(3, () => count(ytdFrom, at, `"interval" = 'hour'`));
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(
        `annual-load round (${judged.outlets} outlets, ${judged.failed} failed, as of ${new Date(at).toISOString()}):` +
          ` nothing carried (the year read) ${full.map(s).join(', ')}; the next hours' rounds (carried)` +
          ` ${next.map(s).join(', ')}, p50 ${s(pct(next, 50))};` +
          ` baseline raw count of the year's hourly points p50 ${pct(base, 50).toFixed(0)} ms`,
      );
    }
  } finally {
    writer.close();
    await pool.end();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
  console.log(`loadavg ${load()} (1/5/15 min)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
