// The emissions-against-production cross-check on the real servers: ent-0003's water outlet has 30 days of usual
// hours seeded in InfluxDB (production meter at 100 kW, 100 m³ of wastewater an hour), then a day on which its flow
// falls to 20 m³ while production draws 110 kW. The scheduled round (one analyzer, a 1-s schedule) opens exactly one
// deviation however often it judges that day, records the judgement of every checked outlet (the others: why they
// were not judged), and writes ent-0003's risk score with its reason in words.
import { productionEmissionDeviationId } from '@offsite/domain';
import { toLine } from '@offsite/influx';
import { until } from '@offsite/testing';
import { crossCheckSuite } from './cross-check-suite.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The judged day: 2026-11-28 (Asia/Shanghai). */
const DAY_START = Date.parse('2026-11-28T00:00:00+08:00');
const NOW = DAY_START + DAY + 10 * 60_000 + 30_000; // past the allowed lateness (10 min)
const E = { ent: 'ent-0003', site: 'out-0003-w1', mn: '99010301WW00030000000001', meter: 'mtr-0003-p1' };

/** One hour: production meter mean power `kw`, flow `m3`, COD / NH3-N / TN at their usual concentrations. */
function hourLines(start: number, kw: number, m3: number): string[] {
  const timeSeconds = start / 1000;
  const agg = (factor: string, value: number) =>
    toLine({
      measurement: 'aggregate',
      tags: { enterprise: E.ent, site: E.site, factor, interval: 'hour' },
      fields: { value, valid: true, flag: 'N', coverage: 1 },
      timeSeconds,
    });
  return [
    toLine({
      measurement: 'energy',
      tags: { enterprise: E.ent, site: E.meter, device: E.meter, factor: 'power_kw', interval: 'realtime' },
      fields: { Rtd: kw },
      timeSeconds: timeSeconds + 1800,
    }),
    toLine({
      measurement: 'emission',
      tags: { enterprise: E.ent, site: E.site, device: E.mn, factor: 'w00000', interval: 'hour' },
      fields: { Avg: m3, Cou: m3, flag: 'N', unit: 'm3/h' },
      timeSeconds,
    }),
    agg('w01018', 40),
    agg('w21003', 2),
    agg('w21011', 8),
  ];
}

const suite = crossCheckSuite({
  name: 'xcheck',
  job: 'production-emission',
  now: NOW,
  seed: () => {
    const lines: string[] = [];
    // 30 usual days (flow 95–105 m³ at 100 kW), then the judged day: 20 m³ at 110 kW.
    for (let i = 0; i < 30 * 24; i++)
      lines.push(...hourLines(DAY_START - 30 * DAY + i * HOUR, 100, 95 + (i % 11)));
    for (let h = 0; h < 24; h++) lines.push(...hourLines(DAY_START + h * HOUR, 110, 20));
    return lines;
  },
});

test('emissions fall while production stays high → one deviation with its evidence, a recorded judgement and a risk score', async () => {
  const { analyzer, events, pool } = suite;
  await analyzer.start();
  await until(() => suite.rounds() >= 3, 60_000, 'three cross-check rounds');
  await until(() => events.length >= 1, 30_000, 'the deviation');
  const id = productionEmissionDeviationId(E.ent, E.site, DAY_START);
  expect(events).toHaveLength(1);
  const d = events[0]!;
  expect(d).toMatchObject({
    id,
    rule: 'production-emission',
    state: 'opened',
    revision: 1,
    enterpriseId: E.ent,
    siteId: E.site,
    windowStart: new Date(DAY_START).toISOString(),
    windowEnd: new Date(DAY_START + DAY).toISOString(),
    suspectedFalsification: true,
  });
  const p = d.evidence.params as {
    metrics: { metric: string; ratio: { z: number }; findings: string[] }[];
    findings: string[];
    hours: unknown[];
  };
  const flow = p.metrics.find((m) => m.metric === 'flow')!;
  // Baseline ratio: flows 95–105 m³ per 100 kWh → median 1 m³/kWh; the day: 20 / 110 = 0.1818.
  expect(flow).toMatchObject({ hardHours: 24, lowHours: 24, baselineMedian: 100 });
  expect(flow.ratio).toMatchObject({ n: 720, median: 1, dayMedian: 0.1818 });
  expect(flow.ratio.z).toBeLessThan(-3.5);
  expect(flow.findings).toEqual(['low-while-hard', 'ratio-drift-low']);
  expect(p.findings).toEqual(expect.arrayContaining(['low-while-hard', 'ratio-drift-low']));
  expect(p.hours).toHaveLength(24);
  expect(p.hours[0]).toEqual({
    start: DAY_START,
    energyKwh: 110,
    flowM3: 20,
    loadKg: expect.any(Number),
    hard: true,
  });
  expect(d.evidence.summary).toMatch(
    /^emissions out of line with the production energy: out-0003-w1 outlet \(2026-11-28: flow below 50 % of its usual 100 m³ in 24 of 24 hours/,
  );

  // One row per checked outlet and day; the outlets without data say why they were not judged.
  const checks = await pool.query<{
    site_id: string;
    status: string;
    reason: string | null;
    deviation_id: string | null;
  }>(
    `select site_id, status, reason, deviation_id from analyzer_cross_checks where day_start = $1 order by site_id`,
    [new Date(DAY_START)],
  );
  expect(checks.rows.find((r) => r.site_id === E.site)).toEqual({
    site_id: E.site,
    status: 'flagged',
    reason: null,
    deviation_id: id,
  });
  expect(checks.rows.find((r) => r.site_id === 'out-0001-g1')).toMatchObject({
    status: 'not-judged',
    reason: 'no-production-baseline',
  });
  const log = await pool.query('select revision, state from analyzer_deviations where id = $1', [id]);
  expect(log.rows).toEqual([{ revision: 1, state: 'opened' }]);

  const risk = await pool.query<{ enterprise_id: string; score: number; reasons: Record<string, unknown>[] }>(
    'select enterprise_id, score, reasons from analyzer_risk_v1 order by enterprise_id',
  );
  expect(risk.rows).toEqual([
    {
      enterprise_id: E.ent,
      score: 20,
      reasons: [expect.objectContaining({ check: 'production-emission', points: 20, findings: 1 })],
    },
  ]);
  expect(risk.rows[0]!.reasons[0]!.zh).toContain('2026-11-28');
  expect(risk.rows[0]!.reasons[0]!.en).toContain('1 outlet-day in the last 30 days');
});
