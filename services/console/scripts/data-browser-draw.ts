// Measures the data browser on a month of one outlet's hourly data (a measurement script, not a test):
// the API's answer (GET /api/data/series, the baseline of the same run) and query + draw in Chromium (from
// the click on 查询 to the chart's `finished` event with both tables rendered), p50/p95 over repeated runs,
// with the load average. Needs the servers (`offsite-infra up`) and Chromium; run it from services/console:
//   flock /tmp/offsite-bench.lock node --conditions=offsite-source --import tsx scripts/data-browser-draw.ts [runs]
import os from 'node:os';
import { createInfluxClient, createInfluxWriter, influxql, queryInfluxQL, toLine } from '@offsite/influx';
import { requireEnv, silentLogger } from '@offsite/testing';
import { launchChromium, loginPage } from '../test/chromium.js';
import { createWorld, http, PASSWORD } from '../test/fixture.js';

const RUNS = Number(process.argv[2] ?? 10);
const MN = '99010202FG00020000000001';
/** 2026-01-01 00:00 Asia/Shanghai. */
const JAN = Date.parse('2025-12-31T16:00:00Z') / 1000;
const HOURS = 31 * 24;
const POLLUTANTS = ['a34013', 'a21026', 'a21002'];
const PARAMETERS = ['a19001', 'a01011', 'a01012', 'a01013', 'a01014', 'a00000'];

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function main(): Promise<void> {
  console.log(
    `data browser, a month of hourly data; ${os.cpus().length} CPUs, loadavg ${load()} (1/5/15 min)`,
  );
  const w = await createWorld();
  const conn = {
    url: requireEnv('OFFSITE_INFLUX_URL'),
    token: requireEnv('OFFSITE_INFLUX_TOKEN'),
    org: process.env.OFFSITE_INFLUX_ORG ?? '',
    bucket: requireEnv('OFFSITE_INFLUX_BUCKET'),
  };
  const client = createInfluxClient(conn, silentLogger);
  const writer = createInfluxWriter({ ...conn, logger: silentLogger }, client);
  const lines: string[] = [];
  for (const factor of [...POLLUTANTS, ...PARAMETERS])
    for (let h = 0; h < HOURS; h++) {
      const v = 20 + 10 * Math.sin(h / 5) + (factor.charCodeAt(5) % 7);
      const pollutant = POLLUTANTS.includes(factor);
      lines.push(
        toLine({
          measurement: `emission_${w.run}`,
          tags: { enterprise: 'ent-0002', site: 'out-0002-g1', device: MN, factor, interval: 'hour' },
          fields: {
            Avg: v,
            Min: v - 3,
            Max: v + 3,
            ...(pollutant ? { ZsAvg: v * 1.2 } : {}),
            flag: h % 97 === 0 ? 'D' : 'N',
            unit: pollutant ? 'mg/m3' : '%',
          },
          timeSeconds: JAN + h * 3600,
        }),
      );
      if (pollutant)
        lines.push(
          toLine({
            measurement: `aggregate_${w.run}`,
            tags: { enterprise: 'ent-0002', site: 'out-0002-g1', factor, interval: 'hour' },
            fields: {
              value: v,
              converted: v * 1.2,
              valid: h % 97 !== 0,
              flag: h % 97 === 0 ? 'D' : 'N',
              coverage: 1,
            },
            timeSeconds: JAN + h * 3600,
          }),
        );
    }
  await writer.write(lines);
  console.log(
    `wrote ${lines.length} points: ${POLLUTANTS.length + PARAMETERS.length} factors × ${HOURS} hours`,
  );

  const q = new URLSearchParams({
    enterprise: 'ent-0002',
    site: 'out-0002-g1',
    granularity: 'hour',
    from: '2026-01-01T00:00:00+08:00',
    to: '2026-02-01T00:00:00+08:00',
  });
  const login = await http(w.base, {
    method: 'POST',
    url: '/api/login',
    payload: { username: 'supervisor', password: PASSWORD },
  });
  const session = login.cookies.find((c) => c.name === 'offsite_session');
  if (!session) throw new Error(`login answered ${login.statusCode}`);
  const cookie = `offsite_session=${session.value}`;
  const api: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS * 2; i++) {
    const t0 = performance.now();
    const r = await http(w.base, { method: 'GET', url: `/api/data/series?${q}`, headers: { cookie } });
    api.push(performance.now() - t0);
    if (r.statusCode !== 200) throw new Error(`series answered ${r.statusCode}`);
    bytes = Buffer.byteLength(r.body);
  }

  const chromium = await launchChromium();
  const draws: { what: string; times: number[]; answered: number[] }[] = [];
  try {
    const page = await loginPage(chromium.browser, w.base, 'supervisor');
    await page.click('[data-test=nav-data]');
    await page.waitForSelector('[data-test=data-enterprise] option[value="ent-0002"]', { state: 'attached' });
    await page.selectOption('[data-test=data-enterprise]', 'ent-0002');
    await page.waitForSelector('[data-test=data-site] option[value="out-0002-g1"]', { state: 'attached' });
    await page.selectOption('[data-test=data-site]', 'out-0002-g1');
    await page.fill('[data-test=data-from]', '2026-01-01T00:00');
    await page.fill('[data-test=data-to]', '2026-02-01T00:00');
    // Every factor of the outlet (the worst case), then one factor (the page's default choice).
    for (const factor of ['', 'a21002']) {
      await page.selectOption('[data-test=data-factor]', factor);
      const times: number[] = [];
      const answered: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const before = Number(await page.getAttribute('[data-test=data-chart]', 'data-drawn'));
        await page.evaluate(() => performance.clearResourceTimings());
        const t0 = performance.now();
        await page.click('[data-test=data-query]');
        await page
          .locator(`[data-test=data-chart][data-drawn="${before + 1}"]`)
          .waitFor({ state: 'attached' });
        const t = performance.now() - t0;
        // The browser's own timing of the request (sent → last byte): the rest is parsing, the chart, the tables.
        const fetched = await page.evaluate(
          () =>
            performance
              .getEntriesByType('resource')
              .filter((e) => e.name.includes('/api/data/series'))
              .map((e) => e.duration)[0] ?? Number.NaN,
        );
        // The first run warms the page up (chart instance, fonts); it is not counted.
        if (i > 0) {
          times.push(t);
          answered.push(fetched);
        }
      }
      const cols = await page.locator('[data-test=data-table] thead th').count();
      draws.push({
        what: factor ? `factor ${factor} (${cols - 2} series)` : `all factors (${cols - 2} series)`,
        times,
        answered,
      });
    }
  } finally {
    await chromium.close();
    for (const m of [`emission_${w.run}`, `aggregate_${w.run}`, `energy_${w.run}`])
      await queryInfluxQL(client, conn.bucket, influxql(`DROP MEASUREMENT "${m}"`)).catch(() => undefined);
    writer.close();
    await w.close();
  }
  console.log(
    `API GET /api/data/series (${(bytes / 1024).toFixed(0)} KiB): p50 ${pct(api, 50).toFixed(0)} ms, p95 ${pct(api, 95).toFixed(0)} ms over ${api.length}`,
  );
  for (const d of draws)
    console.log(
      `query + draw in Chromium, ${d.what}: p50 ${pct(d.times, 50).toFixed(0)} ms, p95 ${pct(d.times, 95).toFixed(0)} ms over ${d.times.length}` +
        ` (of which the request, sent → last byte, in the browser: p50 ${pct(d.answered, 50).toFixed(0)} ms)`,
    );
  console.log(`loadavg ${load()} (1/5/15 min)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
