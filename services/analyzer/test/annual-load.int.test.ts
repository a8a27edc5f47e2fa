// The annual-load round on the real servers: two analyzers with a short annual-load schedule judge the permitted
// annual COD load (许可排放量) of ent-0003's water outlet from hourly data seeded in InfluxDB (the analyzer's hourly
// aggregates and the logger's 2061 data, as the console's loads page reads them). Running ahead of the permit pro
// rata opens one warning deviation (deviation.v1 and the deviation log) however many rounds either instance runs;
// more data past the permit make the same deviation's revision 2, an exceedance. A round reads only the hours since
// the last one: data for an earlier hour count once the analyzer sees them arrive (the logger's 2061 data on its
// topic), as with a logger re-sending stored hours, and then the outlet's year is read again.
// Back within a raised permit resolves the deviation; past the permit again opens its next generation, which
// follows it (resolved is final).
import { telemetryEventId, type DeviationV1, type TelemetryV1 } from '@offsite/contracts';
import { annualLoadDeviationId } from '@offsite/domain';
import { toLine } from '@offsite/influx';
import { createMemoryLogger, type MemoryLogger } from '@offsite/runtime';
import { until } from '@offsite/testing';
import type { Consumer, Kafka } from 'kafkajs';
import type pg from 'pg';
import { createAnalyzer, type Analyzer } from '../src/app.js';
import {
  closeTestServers,
  jobTestAnalyzerOptions,
  openTestServers,
  produceTo,
  testResources,
  type TestServers,
} from './resources.js';

const HOUR = 3_600_000;
const YEAR = Date.parse('2026-01-01T00:00:00+08:00');
// Judged as of 1 February 00:00 (+08): 744 of 8,760 hours elapsed; a permit of 876 kg → pro rata 74.4 kg.
const AS_OF = Date.parse('2026-02-01T00:00:00+08:00');
const NOW = AS_OF + 10 * 60_000 + 30_000; // past the allowed lateness (10 min)
const OUTLET = { ent: 'ent-0003', site: 'out-0003-w1', mn: '99010301WW00030000000001' };
const LATE = { ent: 'ent-0004', site: 'out-0004-w1', mn: '99010302WW00040000000001' };
const res = testResources('annual');
const { suffix, deviationTopic } = res;

let servers: TestServers;
let kafka: Kafka;
let pool: pg.Pool;
let collector: Consumer;
const analyzers: Analyzer[] = [];
const logs: MemoryLogger[] = [];
const events: DeviationV1[] = [];

/**
 * The logger's hourly (2061) data of hour `h` of the year, as it reaches the analyzer's topic (influx-writer
 * writes the same reading to InfluxDB; the test writes those points itself).
 */
function hourlyReading(o: typeof OUTLET, h: number): TelemetryV1 {
  const base = {
    enterpriseId: o.ent,
    deviceId: o.mn,
    kind: 'emission' as const,
    interval: 'hour' as const,
    dataTime: new Date(YEAR + h * HOUR).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: o.site,
    source: 'kafka',
    receivedAt: new Date(NOW).toISOString(),
    irregularities: [],
    measurements: [{ factor: 'w00000', stat: 'Cou', value: 100, unit: 'm3', flag: 'N' }],
  };
}

/**
 * Hours of COD `mgL` mg/L at 100 m³ (flow `Cou`) from hour `from` of the year: mgL × 0.1 kg each, written to
 * InfluxDB, and the first hour's 2061 reading produced to the analyzer's topic (`announce`).
 */
async function seedHours(
  from: number,
  count: number,
  mgL: number,
  o = OUTLET,
  announce = true,
): Promise<void> {
  const lines: string[] = [];
  for (let h = from; h < from + count; h++) {
    const timeSeconds = (YEAR + h * HOUR) / 1000;
    lines.push(
      toLine({
        measurement: 'aggregate',
        tags: { enterprise: o.ent, site: o.site, factor: 'w01018', interval: 'hour' },
        fields: { value: mgL, valid: true, flag: 'N', coverage: 1 },
        timeSeconds,
      }),
      toLine({
        measurement: 'emission',
        tags: {
          enterprise: o.ent,
          site: o.site,
          device: o.mn,
          factor: 'w00000',
          interval: 'hour',
        },
        fields: { Avg: 100, Cou: 100, flag: 'N', unit: 'm3/h' },
        timeSeconds,
      }),
    );
  }
  await servers.writer.write(lines);
  if (announce)
    await produceTo(kafka, res.telemetryTopic, [
      { key: o.ent, value: JSON.stringify(hourlyReading(o, from)) },
    ]);
}

/** The rounds of the annual-load job each instance finished, as `owner@period`. */
const rounds = () =>
  logs.flatMap((l) =>
    l.entries
      .filter((e) => e.message === 'scheduled job round done' && e.fields.job === 'annual-load')
      .map((e) => String(e.fields.period)),
  );

const permit = (site: string) =>
  pool.query(
    `update permit_limits set annual_load_kg = 876 where outlet_id = $1 and factor_code = 'w01018'`,
    [site],
  );

beforeAll(async () => {
  servers = await openTestServers(res, 'analyzer-annual-int');
  ({ kafka, pool } = servers);
  await permit(OUTLET.site);
  collector = kafka.consumer({ groupId: `test-collector-${suffix}` });
  await collector.connect();
  await collector.subscribe({ topics: [deviationTopic], fromBeginning: true });
  await collector.run({
    // The annual-load rule's (the readings the test produces make the engine judge the devices too).
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value!.toString()) as DeviationV1;
      if (e.rule === 'annual-load') events.push(e);
    },
  });
  for (let i = 0; i < 2; i++) {
    const logger = createMemoryLogger();
    logs.push(logger);
    analyzers.push(
      await createAnalyzer({
        ...jobTestAnalyzerOptions(res, servers, 'annual'),
        annualLoad: { intervalMs: 1_000 },
        jobLeaseMs: 5_000,
        logger,
        clock: () => NOW,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await analyzers[1]?.stop();
  await closeTestServers(res, servers, analyzers[0], collector);
});

test('ahead of the permit pro rata → one warning across two instances; past the permit → its revision 2', async () => {
  // 700 valid hours at 0.1 mg/L × 100 m³ = 7 kg: within the share.
  await seedHours(0, 700, 0.1);
  await Promise.all(analyzers.map((a) => a.start()));
  await until(() => rounds().length >= 3, 60_000, 'three annual-load rounds');
  expect(events).toEqual([]);

  // 20 more hours at 250 mg/L (25 kg each): 7 + 500 = 507 kg, more than the 74.4 kg share, below 876 kg.
  await seedHours(700, 20, 250);
  await until(() => events.length >= 1, 30_000, 'the warning');
  const seen = rounds().length;
  await until(() => rounds().length >= seen + 4, 60_000, 'four more rounds');
  const id = annualLoadDeviationId(OUTLET.ent, OUTLET.site, 'w01018', AS_OF);
  expect(events).toHaveLength(1);
  const warning = events[0]!;
  expect(warning).toMatchObject({
    id,
    rule: 'annual-load',
    state: 'opened',
    revision: 1,
    severity: 'medium',
    enterpriseId: OUTLET.ent,
    siteId: OUTLET.site,
    factor: 'w01018',
    windowStart: new Date(YEAR).toISOString(),
  });
  expect(warning.evidence.params).toMatchObject({
    state: 'ahead',
    ytdKg: 507,
    permitKg: 876,
    proRataKg: 74.4,
    asOfText: '2026-02-01 00:00',
    validHours: 720,
    missingHours: 24,
  });
  expect(warning.evidence.summary).toBe(
    'year-to-date load ahead of the permitted annual load pro rata: out-0003-w1 w01018 (507 kg by 2026-02-01 00:00 Asia/Shanghai; pro rata 74.4 kg; permit 876 kg)',
  );
  // Every period ran once between the two instances.
  expect(new Set(rounds()).size).toBe(rounds().length);

  // 4 more hours at 1,000 mg/L (100 kg each): 907 kg > 876 kg.
  await seedHours(720, 4, 1000);
  await until(() => events.length >= 2, 30_000, 'the exceedance');
  const again = rounds().length;
  await until(() => rounds().length >= again + 4, 60_000, 'four more rounds');
  expect(events).toHaveLength(2);
  expect(events[1]).toMatchObject({ id, state: 'updated', revision: 2, severity: 'high' });
  expect(events[1]!.evidence.params).toMatchObject({ state: 'exceeded', ytdKg: 907 });
  const log = await pool.query('select revision, state, severity from analyzer_deviations where id = $1', [
    id,
  ]);
  expect(log.rows).toEqual([{ revision: 2, state: 'updated', severity: 'high' }]);
});

test('late data for an earlier hour: not read again until the analyzer sees it arrive, then the year is', async () => {
  const id = annualLoadDeviationId(LATE.ent, LATE.site, 'w01018', AS_OF);
  const sums = async () =>
    (
      await pool.query(
        `select up_to, computed_kg, valid_hours, changed_from from analyzer_annual_loads
          where site_id = $1 and factor = 'w01018'`,
        [LATE.site],
      )
    ).rows[0];
  // 700 hours at 0.1 mg/L: 7 kg, within the 74.4 kg share; once permitted, its first round reads the year and
  // carries the sums up to 3 hours before the judged end.
  await seedHours(0, 700, 0.1, LATE, false);
  await permit(LATE.site);
  await until(async () => (await sums())?.valid_hours === 700, 30_000, 'the sums of 700 hours');
  expect(await sums()).toEqual({
    up_to: new Date(AS_OF - 3 * HOUR),
    computed_kg: expect.closeTo(7, 9),
    valid_hours: 700,
    changed_from: null,
  });

  // Hour 10 rewritten in InfluxDB at 5,000 mg/L (500 kg) without the analyzer seeing it: carried hours are not read.
  await seedHours(10, 1, 5000, LATE, false);
  const seen = rounds().length;
  await until(() => rounds().length >= seen + 3, 60_000, 'three more rounds');
  expect(events.filter((e) => e.id === id)).toEqual([]);
  expect((await sums()).computed_kg).toBeCloseTo(7, 9);

  // Its 2061 data reach the analyzer (a logger re-sending the hour): the outlet is marked and its year read again.
  await produceTo(kafka, res.telemetryTopic, [
    { key: LATE.ent, value: JSON.stringify(hourlyReading(LATE, 10)) },
  ]);
  await until(() => events.some((e) => e.id === id), 30_000, 'the warning');
  expect(events.filter((e) => e.id === id)).toHaveLength(1);
  expect(events.find((e) => e.id === id)!.evidence.params).toMatchObject({
    state: 'ahead',
    ytdKg: 506.99,
    validHours: 700,
  });
  // Stored at the end of the round that read it.
  await until(async () => (await sums()).computed_kg > 500, 30_000, 'the sums with hour 10 again');
  expect((await sums()).computed_kg).toBeCloseTo(506.99, 9);
});

test('resolved is final: back within a raised permit resolves it; running past the permit again opens the next generation', async () => {
  const id = annualLoadDeviationId(OUTLET.ent, OUTLET.site, 'w01018', AS_OF);
  const id2 = annualLoadDeviationId(OUTLET.ent, OUTLET.site, 'w01018', AS_OF, 2);
  const mine = () => events.filter((e) => e.siteId === OUTLET.site);
  const before = mine().length; // the first test's warning and exceedance
  const setPermit = (kg: number) =>
    pool.query(
      `update permit_limits set annual_load_kg = $2 where outlet_id = $1 and factor_code = 'w01018'`,
      [OUTLET.site, kg],
    );
  // 907 kg within a permit of 876 t (pro rata 74.4 t): resolved, revision 3 of the same deviation.
  await setPermit(876_000);
  await until(() => mine().length >= before + 1, 30_000, 'the resolution');
  expect(mine()[before]).toMatchObject({ id, state: 'resolved', revision: 3 });
  // Back to 876 kg: exceeded again. Not revision 4 of the resolved deviation but a new one that follows it.
  await setPermit(876);
  await until(() => mine().length >= before + 2, 30_000, 'the next generation');
  const seen = rounds().length;
  await until(() => rounds().length >= seen + 4, 60_000, 'four more rounds');
  expect(mine().slice(before)).toHaveLength(2);
  const next = mine()[before + 1]!;
  expect(next).toMatchObject({ id: id2, state: 'opened', revision: 1, severity: 'high' });
  expect(next.evidence.params).toMatchObject({ state: 'exceeded', ytdKg: 907, follows: id });
  const log = await pool.query(
    'select id, revision, state from analyzer_deviations where id = any($1::text[]) order by revision desc',
    [[id, id2]],
  );
  expect(log.rows).toEqual([
    { id, revision: 3, state: 'resolved' },
    { id: id2, revision: 1, state: 'opened' },
  ]);
});
