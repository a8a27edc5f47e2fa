// The peers cross-check on the real servers, with the demo registry (36 enterprises; the six coal-fired boilers of
// thermal power and heat supply share the process `coal-boiler`). The 30 days before 2026-11-29 00:00 Asia/Shanghai
// hold SO2 hourly aggregates for the six: five at 40–50 % of their limits, 折算 ratio 1.4, no maintenance hour; the
// sixth (out-0025-g1) at 92–98 % of its limit in every valid hour and with 200 maintenance-flagged hours. The
// scheduled round (a 1-s schedule) opens exactly one deviation however often it judges, records every outlet's
// judgement (flagged, clear, or why not judged), and writes ent-0025's risk component with its reason in words.
import { peersDeviationId } from '@offsite/domain';
import { toLine } from '@offsite/influx';
import { until } from '@offsite/testing';
import { crossCheckSuite } from './cross-check-suite.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The window's end: 2026-11-29 00:00 Asia/Shanghai. */
const END = Date.parse('2026-11-29T00:00:00+08:00');
const START = END - 30 * DAY;
const NOW = END + 10 * 60_000 + 30_000; // past the allowed lateness (10 min)
const ODD = { ent: 'ent-0025', site: 'out-0025-g1' };

const suite = crossCheckSuite({
  name: 'peers',
  job: 'peers',
  registry: 'demo.yaml',
  now: NOW,
  seed: async ({ pool }) => {
    const boilers = await pool.query<{ enterprise_id: string; id: string; limit: number }>(
      `select o.enterprise_id, o.id, l.value::float8 as limit from outlets o
         join permit_limits l on l.outlet_id = o.id and l.factor_code = 'a21026' and l.basis = 'hourly'
        where o.process = 'coal-boiler' order by o.id`,
    );
    expect(boilers.rows.map((r) => r.id)).toEqual([
      'out-0001-g1',
      'out-0002-g1',
      'out-0013-g1',
      'out-0014-g1',
      'out-0025-g1',
      'out-0026-g1',
    ]);
    const lines: string[] = [];
    boilers.rows.forEach((b, k) => {
      const odd = b.id === ODD.site;
      for (let i = 0; i < 30 * 24; i++) {
        // The odd outlet: 200 maintenance hours (every 3rd hour of the first 600), the others none.
        const m = odd && i < 600 && i % 3 === 0;
        const share = odd ? 0.92 + (i % 7) * 0.01 : 0.4 + ((i + k) % 11) * 0.01;
        const converted = Math.round(b.limit * share * 1000) / 1000;
        lines.push(
          toLine({
            measurement: 'aggregate',
            tags: { enterprise: b.enterprise_id, site: b.id, factor: 'a21026', interval: 'hour' },
            fields: {
              value: Math.round((converted / 1.4) * 1000) / 1000,
              converted,
              valid: !m,
              flag: m ? 'M' : 'N',
              coverage: 1,
            },
            timeSeconds: (START + i * HOUR) / 1000,
          }),
        );
      }
    });
    return lines;
  },
});

test('an outlet clustered just below its limit with 200 maintenance hours, among peers with none → one deviation, recorded judgements, a risk score', async () => {
  const { analyzer, events, pool } = suite;
  await analyzer.start();
  await until(() => suite.rounds() >= 3, 90_000, 'three peers rounds');
  await until(() => events.length >= 1, 30_000, 'the deviation');
  const id = peersDeviationId(ODD.ent, ODD.site, 'a21026', END);
  expect(events).toHaveLength(1);
  const d = events[0]!;
  expect(d).toMatchObject({
    id,
    rule: 'peers',
    state: 'opened',
    revision: 1,
    enterpriseId: ODD.ent,
    siteId: ODD.site,
    factor: 'a21026',
    windowStart: new Date(START).toISOString(),
    windowEnd: new Date(END).toISOString(),
    suspectedFalsification: true,
  });
  const p = d.evidence.params as {
    group: string;
    findings: string[];
    counts: Record<string, number>;
    figures: {
      metric: string;
      value: number;
      peers: Record<string, number>;
      z: number;
      flagged: boolean;
      zh: string;
    }[];
  };
  expect(p.group).toBe('coal-boiler');
  expect(p.findings).toEqual(['below-limit-share', 'maintenance-hours']);
  // 720 hours: 200 flagged M (invalid), 520 valid, all of them in [90 %, 100 %) of the limit.
  expect(p.counts).toEqual({
    hours: 720,
    validHours: 520,
    ratioHours: 520,
    nearHours: 520,
    maintenanceHours: 200,
  });
  const fig = (m: string) => p.figures.find((f) => f.metric === m)!;
  // Peers all at 0 % of hours near the limit and 0 maintenance hours: MAD 0, median 0; the absolute floors judge.
  expect(fig('below-limit-share')).toMatchObject({
    value: 1,
    peers: { n: 5, median: 0, mad: 0 },
    flagged: true,
  });
  expect(fig('below-limit-share').z).toBeCloseTo(1 / (1.4826 * 0.02), 1);
  expect(fig('maintenance-hours')).toMatchObject({
    value: 200,
    peers: { n: 5, median: 0, mad: 0 },
    flagged: true,
  });
  expect(fig('maintenance-hours').z).toBeCloseTo(200 / (1.4826 * 4), 1);
  // A high concentration is not the peers' concern; the 折算 ratio is the peers' 1.4.
  expect(fig('concentration')).toMatchObject({ flagged: false });
  expect(fig('concentration').value).toBeCloseTo(0.95, 2);
  expect(fig('conversion-ratio')).toMatchObject({ flagged: false });
  expect(fig('maintenance-hours').zh).toBe(
    'a21026 每 30 天维护标记小时数为 200.0，同工艺 5 个排口中位数 0.0（稳健 z = 33.72），明显偏高',
  );
  expect(d.evidence.summary).toMatch(
    /^far off the outlets of the same process: out-0025-g1 a21026 \(coal-boiler, 30 days to 2026-11-29: a21026 share of hours just below the limit 100\.0% against a median of 0\.0%/,
  );

  // One row per outlet with an enabled device, under the window's last day.
  const checks = await pool.query<{
    site_id: string;
    enterprise_id: string;
    status: string;
    reason: string | null;
    deviation_id: string | null;
  }>(
    `select site_id, enterprise_id, status, reason, deviation_id from analyzer_cross_checks
      where check_name = 'peers' and day_start = $1 order by site_id`,
    [new Date(END - DAY)],
  );
  const row = (site: string) => checks.rows.find((r) => r.site_id === site);
  expect(row(ODD.site)).toMatchObject({ status: 'flagged', reason: null, deviation_id: id });
  for (const site of ['out-0001-g1', 'out-0002-g1', 'out-0013-g1', 'out-0014-g1', 'out-0026-g1'])
    expect(row(site)).toMatchObject({ status: 'clear', reason: null, deviation_id: null });
  // The other processes' outlets have no data here; the demo registry gives every outlet a process.
  expect(row('out-0005-g1')).toMatchObject({ status: 'not-judged', reason: 'no-data' });
  expect(checks.rows.filter((r) => r.status === 'flagged')).toHaveLength(1);
  const log = await pool.query('select revision, state from analyzer_deviations where id = $1', [id]);
  expect(log.rows).toEqual([{ revision: 1, state: 'opened' }]);

  const risk = await pool.query<{ enterprise_id: string; score: number; reasons: Record<string, unknown>[] }>(
    'select enterprise_id, score, reasons from analyzer_risk_v1 order by enterprise_id',
  );
  expect(risk.rows).toEqual([
    {
      enterprise_id: ODD.ent,
      score: 20,
      reasons: [expect.objectContaining({ check: 'peers', points: 20, findings: 2 })],
    },
  ]);
  expect(risk.rows[0]!.reasons[0]!.zh).toMatch(
    /^同行比对：近 30 天有 2 项指标与同工艺排口相比明显异常——out-0025-g1 a21026 贴近限值/,
  );
  expect(risk.rows[0]!.reasons[0]!.en).toContain(
    '2 figures of the last 30 days far off the outlets of the same process',
  );

  // Another round as of the same time: the deviation log holds the id, nothing more is sent.
  const again = await analyzer.runPeers(NOW);
  expect(again).toMatchObject({ flagged: 1, clear: 5, events: 0, failed: 0 });
  await new Promise((r) => setTimeout(r, 1_000));
  expect(events).toHaveLength(1);
});
