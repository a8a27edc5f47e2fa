// The cross-device consistency check on the real servers, with the example registry and a second device added to
// ent-0002's stack. The judged day, 2026-11-28 (Asia/Shanghai), holds: out-0001-g1's hourly O2, flow and temperature
// with 4 hours at ambient air (20.8 %, 22 °C) while the flow stays at its usual ~51,000; out-0002-g1's usual hours,
// and its two devices' minute data, whose SO2 is 30 against 18 in 18 of the 24 hours (O2 6.0 against 6.2 throughout).
// The scheduled round (a 1-s schedule) opens exactly the two deviations however often it judges the day, records both
// sub-checks of every outlet with a device (flagged, clear, or why not judged) and writes both risk components.
import { crossDeviceDeviationId } from '@offsite/domain';
import { toLine } from '@offsite/influx';
import { until } from '@offsite/testing';
import { crossCheckSuite } from './cross-check-suite.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY_START = Date.parse('2026-11-28T00:00:00+08:00');
const NOW = DAY_START + DAY + 10 * 60_000 + 30_000; // past the allowed lateness (10 min)
const AMBIENT = { ent: 'ent-0001', site: 'out-0001-g1' };
const TWO = {
  ent: 'ent-0002',
  site: 'out-0002-g1',
  devices: ['99010202FG00020000000001', '99010202FG00020000000002'],
};

function aggregate(ent: string, site: string, factor: string, start: number, value: number): string {
  return toLine({
    measurement: 'aggregate',
    tags: { enterprise: ent, site, factor, interval: 'hour' },
    fields: { value, valid: true, flag: 'N', coverage: 1 },
    timeSeconds: start / 1000,
  });
}

const suite = crossCheckSuite({
  name: 'xdevice',
  job: 'cross-device',
  now: NOW,
  seed: async ({ pool }) => {
    // A second analyser on ent-0002's stack (the registry's import has no outlet with two).
    await pool.query(
      `insert into devices (mn, outlet_id, password, protocol_version) values ($1, $2, 'Qz8k2Vn5', 2017)`,
      [TWO.devices[1], TWO.site],
    );
    const lines: string[] = [];
    for (let i = 0; i < 24; i++) {
      const start = DAY_START + i * HOUR;
      const ambient = i >= 20;
      lines.push(
        aggregate(AMBIENT.ent, AMBIENT.site, 'a19001', start, ambient ? 20.8 : 6 + (i % 4) * 0.5),
        aggregate(AMBIENT.ent, AMBIENT.site, 'a00000', start, ambient ? 50_000 : 50_000 + (i % 3) * 1000),
        aggregate(AMBIENT.ent, AMBIENT.site, 'a01012', start, ambient ? 22 : 130),
        aggregate(TWO.ent, TWO.site, 'a19001', start, 6 + (i % 4) * 0.5),
        aggregate(TWO.ent, TWO.site, 'a00000', start, 50_000),
        aggregate(TWO.ent, TWO.site, 'a01012', start, 130),
      );
      for (let k = 0; k < 6; k++) {
        const t = (start + k * 600_000) / 1000;
        TWO.devices.forEach((device, d) => {
          const minute = (factor: string, avg: number) =>
            toLine({
              measurement: 'emission',
              // The loggers' minute series: `minute` and the writer's `minute-<n>s` are both read.
              tags: {
                enterprise: TWO.ent,
                site: TWO.site,
                device,
                factor,
                interval: d === 0 ? 'minute' : 'minute-600s',
              },
              fields: { Avg: avg, flag: 'N', unit: 'mg/m3' },
              timeSeconds: t,
            });
          lines.push(
            minute('a21026', d === 0 ? 30 : i < 18 ? 18 : 29.5),
            minute('a19001', d === 0 ? 6 : 6.2),
          );
        });
      }
    }
    return lines;
  },
});

test('ambient air in a flowing stack and two devices apart on SO2 → two deviations, recorded judgements, risk scores', async () => {
  const { analyzer, events, pool } = suite;
  await analyzer.start();
  await until(() => suite.rounds() >= 3, 90_000, 'three cross-device rounds');
  await until(() => events.length >= 2, 30_000, 'the deviations');
  const flueId = crossDeviceDeviationId(AMBIENT.ent, AMBIENT.site, 'flue-gas', DAY_START);
  const devId = crossDeviceDeviationId(TWO.ent, TWO.site, 'devices', DAY_START);
  expect(events.map((e) => e.id).sort()).toEqual([flueId, devId].sort());
  const flue = events.find((e) => e.id === flueId)!;
  expect(flue).toMatchObject({
    rule: 'cross-device',
    state: 'opened',
    revision: 1,
    enterpriseId: AMBIENT.ent,
    siteId: AMBIENT.site,
    windowStart: new Date(DAY_START).toISOString(),
    windowEnd: new Date(DAY_START + DAY).toISOString(),
    suspectedFalsification: true,
  });
  const fp = flue.evidence.params as {
    findings: string[];
    offHours: number[];
    figures: { figure: string; value: number; hours: Record<string, number>; flagged: boolean }[];
  };
  expect(fp.findings).toEqual(['ambient-while-flowing']);
  expect(fp.offHours).toEqual([20, 21, 22, 23].map((h) => DAY_START + h * HOUR));
  // Flow: 11 × 50,000, 7 × 51,000, 6 × 52,000 → median 51,000, MAD 1,000 → CV 1.4826 × 1,000 / 51,000 = 0.0291.
  // O2: 5 each of 6.0, 6.5, 7.0, 7.5 and 4 × 20.8 → median 7.0, MAD 0.5.
  expect(fp.figures).toEqual([
    expect.objectContaining({
      figure: 'ambient-while-flowing-hours',
      value: 4,
      hours: { judged: 24, off: 4 },
      flagged: true,
    }),
    expect.objectContaining({ figure: 'o2-mad', value: 0.5, flagged: false }),
    expect.objectContaining({ figure: 'flow-cv', value: 0.0291, flagged: false }),
  ]);
  expect(flue.evidence.summary).toMatch(
    /^readings of one stack that cannot all be true \(cross-device consistency\): out-0001-g1 flue-gas \(2026-11-28 flue-gas: 4 of 24 hours with the flow/,
  );

  const two = events.find((e) => e.id === devId)!;
  expect(two).toMatchObject({ enterpriseId: TWO.ent, siteId: TWO.site, suspectedFalsification: true });
  const dp = two.evidence.params as { figures: Record<string, unknown>[]; offHours: number[] };
  expect(dp.figures).toEqual([
    expect.objectContaining({
      factor: 'a19001',
      device: TWO.devices[0],
      otherDevice: TWO.devices[1],
      value: 6,
      other: 6.2,
      hours: { judged: 24, off: 0 },
      flagged: false,
    }),
    // 30 against 18: 12 > max(10 % × 30, 1) in hours 0–17; 30 against 29.5 after.
    expect.objectContaining({
      factor: 'a21026',
      value: 30,
      other: 18,
      hours: { judged: 24, off: 18 },
      flagged: true,
    }),
  ]);
  expect(dp.offHours).toHaveLength(18);

  // Both sub-checks of every outlet with a device, under the judged day.
  const checks = await pool.query<{
    check_name: string;
    site_id: string;
    status: string;
    reason: string | null;
    deviation_id: string | null;
  }>(
    `select check_name, site_id, status, reason, deviation_id from analyzer_cross_checks
      where check_name like 'cross-device/%' and day_start = $1 order by check_name, site_id`,
    [new Date(DAY_START)],
  );
  expect(checks.rows).toHaveLength(24);
  const row = (check: string, site: string) =>
    checks.rows.find((r) => r.check_name === `cross-device/${check}` && r.site_id === site);
  expect(row('flue-gas', AMBIENT.site)).toMatchObject({
    status: 'flagged',
    reason: null,
    deviation_id: flueId,
  });
  expect(row('flue-gas', TWO.site)).toMatchObject({ status: 'clear', reason: null, deviation_id: null });
  expect(row('flue-gas', 'out-0005-g1')).toMatchObject({ status: 'not-judged', reason: 'no-data' });
  expect(row('flue-gas', 'out-0003-w1')).toMatchObject({ status: 'not-judged', reason: 'not-gas' });
  expect(row('devices', TWO.site)).toMatchObject({ status: 'flagged', reason: null, deviation_id: devId });
  expect(row('devices', AMBIENT.site)).toMatchObject({ status: 'not-judged', reason: 'single-device' });
  expect(checks.rows.filter((r) => r.status === 'flagged')).toHaveLength(2);
  const log = await pool.query('select id, revision, state from analyzer_deviations order by id');
  expect(log.rows).toEqual([flueId, devId].sort().map((id) => ({ id, revision: 1, state: 'opened' })));

  const risk = await pool.query<{ enterprise_id: string; score: number; reasons: Record<string, unknown>[] }>(
    'select enterprise_id, score, reasons from analyzer_risk_v1 order by enterprise_id',
  );
  expect(risk.rows.map((r) => [r.enterprise_id, r.score])).toEqual([
    [AMBIENT.ent, 20],
    [TWO.ent, 20],
  ]);
  expect(risk.rows[0]!.reasons).toEqual([
    expect.objectContaining({ check: 'cross-device', points: 20, findings: 1 }),
  ]);
  expect(risk.rows[0]!.reasons[0]!.zh).toBe(
    '近 30 天内有 1 个排口日的监测数据相互矛盾（烟气氧含量、流量与烟温不符，或同一排口不同设备的数据不一致），最近一次为 2026-11-28',
  );
  expect(risk.rows[1]!.reasons[0]!.en).toContain('on 1 outlet-day in the last 30 days');

  // Another round as of the same time: the deviation log holds the ids, nothing more is sent.
  const again = await analyzer.runCrossDevice(NOW);
  expect(again).toMatchObject({ outlets: 12, flagged: 2, events: 0, failed: 0 });
  await new Promise((r) => setTimeout(r, 1_000));
  expect(events).toHaveLength(2);
});
