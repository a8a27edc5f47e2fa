// The case page's evidence chart in Chromium, one test per rule kind, read back from ECharts' own option
// (the chart's `data-summary`): treatment idle (power of both meters on one kW axis, the deviation window
// shaded, energy per window instead of the ~250,000 kWh counters, running as bands), exceedance (converted
// hourly means against the limit line, the invalid hour marked) and flatline (the repeated value and its span);
// the evidence of zero while running: the outlet's zeros and the production meter that ran.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { CASES } from './fixture.js';
import { FLAT, IDLE, writeEvidenceData, ZERO } from './evidence-data.js';

const suite = pageSuite(writeEvidenceData);

interface Summary {
  kind: string;
  rule: string;
  yAxes: { name: string; type: string; grid: number; categories?: string[] }[];
  series: {
    name: string;
    type: string;
    yAxis: number;
    count: number;
    max: number | null;
    markAreas: [number | null, number | null, string][];
    markLines: number[];
  }[];
}

async function openCase(page: Page, id: string): Promise<Summary> {
  await page.goto(`${suite.w.base}/#/case/${encodeURIComponent(id)}`);
  await page.waitForSelector('[data-test=chart][data-summary*="series"] canvas');
  return JSON.parse((await page.getAttribute('[data-test=chart]', 'data-summary'))!) as Summary;
}

it('treatment idle: both meters’ power on one kW axis, the window shaded, energy per window, running as bands', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  const s = await openCase(page, IDLE.id);
  expect(s.kind).toBe('meters');
  const power = s.series.filter((x) => x.name.includes('(kW)'));
  expect(power.map((x) => x.name)).toEqual([
    '生产设施 mtr-0001-p1 功率 (kW)',
    '治污设施 mtr-0001-t1 功率 (kW)',
  ]);
  // One axis for both powers, named with its unit.
  expect(new Set(power.map((x) => x.yAxis))).toEqual(new Set([0]));
  expect(s.yAxes[0]!.name).toBe('功率 (kW)');
  expect(power.map((x) => x.max)).toEqual([150, 0.4]);
  // The deviation window shaded on the power chart.
  expect(power[0]!.markAreas).toEqual([
    [Date.parse(IDLE.windowStart), Date.parse(IDLE.windowEnd), '偏差时段'],
  ]);
  // Energy per 15 minutes on its own kWh axis: 37.5 kWh for production, 0.1 for treatment, the rule's thresholds.
  const energy = s.series.filter((x) => x.type === 'bar');
  expect(energy.map((x) => x.yAxis)).toEqual([1, 1]);
  expect(s.yAxes[1]!.name).toBe('每15分钟电量 (kWh)');
  expect(energy.map((x) => x.max)).toEqual([37.5, 0.1]);
  expect(energy.map((x) => x.markLines)).toEqual([[36], [9.5]]);
  // The treatment meter's counter reset at 04:20: that window has no figure and is marked.
  expect(energy[1]!.markAreas).toEqual([
    [Date.parse('2026-03-02T04:15:00.000Z'), Date.parse('2026-03-02T04:30:00.000Z'), '计数器复位，电量未知'],
  ]);
  // No series anywhere carries the counters' magnitudes.
  for (const x of s.series) expect(x.max ?? 0).toBeLessThan(1000);
  // Running as bands on a category axis: the production meter's one band, the treatment meter's none.
  const running = s.series.find((x) => x.type === 'custom')!;
  expect(s.yAxes[running.yAxis]).toMatchObject({ type: 'category', name: '运行 / 运行状态' });
  expect(running.count).toBe(1);
  await page.locator('[data-test=chart]').screenshot({ path: join(SHOTS, 'evidence-treatment-idle.png') });
  await page.close();
});

it("treatment idle: the facility's reported status (SB1-RS) as bands of one state each, named in words, beside the meters", async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  const s = await openCase(page, IDLE.id);
  // The band rows: the two meters, then the facility the treatment meter powers, on the outlet that reports it.
  const bands = s.yAxes.find((a) => a.type === 'category')!;
  expect(bands.name).toBe('运行 / 运行状态');
  expect(bands.categories).toEqual([
    '生产设施 mtr-0001-p1',
    '治污设施 mtr-0001-t1',
    '治污设施 SB1（out-0001-g1）',
  ]);
  // One series per reported state, in HJ 212's words: running once, stopped twice (around the fault), fault once.
  const states = s.series.filter((x) => x.type === 'custom' && x.name.includes('(RS='));
  expect(states.map((x) => [x.name, x.count])).toEqual([
    ['停运 (RS=0)', 2],
    ['运行 (RS=1)', 1],
    ['故障报警 (RS=4)', 1],
  ]);
  // Every state band on the facility's row (row 2), on the same time axis as the power with its shaded window.
  for (const x of states) expect(x.max).toBe(2);
  const running = s.series.find((x) => x.type === 'custom' && x.name === '运行')!;
  expect(running.markAreas).toEqual([[Date.parse(IDLE.windowStart), Date.parse(IDLE.windowEnd), '']]);
  await page.click('[data-test=lang]');
  await page.waitForSelector('[data-test=chart][data-summary*="Fault / alarm (RS=4)"]');
  const en = JSON.parse((await page.getAttribute('[data-test=chart]', 'data-summary'))!) as Summary;
  expect(en.series.filter((x) => x.name.includes('(RS=')).map((x) => x.name)).toEqual([
    'Stopped (RS=0)',
    'Running (RS=1)',
    'Fault / alarm (RS=4)',
  ]);
  expect(en.yAxes.find((a) => a.type === 'category')!.categories![2]).toBe(
    'Treatment facility SB1 (out-0001-g1)',
  );
  await page.click('[data-test=lang]');
  // English one click away: the same chart with English names.
  await page.click('[data-test=lang]');
  await page.waitForSelector('[data-test=chart][data-summary*="Power (kW)"]');
  await page.click('[data-test=lang]');
  await page.waitForSelector('[data-test=chart][data-summary*="功率 (kW)"]');
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('exceedance: the converted hourly means against the limit line, the invalid hour marked', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  const s = await openCase(page, CASES.landong);
  expect(s.rule).toBe('exceedance');
  expect(s.yAxes[0]!.name).toBe('二氧化硫 SO₂ (mg/m3)');
  const converted = s.series.find((x) => x.name === '小时折算均值')!;
  expect(converted.count).toBe(4);
  expect(converted.max).toBe(78);
  expect(converted.markLines).toEqual([50]);
  expect(converted.markAreas).toHaveLength(1);
  // The measured means alongside, and the one invalid (flag D) hour.
  expect(s.series.find((x) => x.name === '小时实测均值')!.max).toBe(73);
  const invalid = s.series.find((x) => x.name === '无效时段')!;
  expect([invalid.count, invalid.max]).toEqual([1, 78]);
  await page.locator('[data-test=chart]').screenshot({ path: join(SHOTS, 'evidence-exceedance.png') });
  await page.close();
});

it('flatline: the repeated value and its span highlighted', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  const s = await openCase(page, FLAT.id);
  expect(s.rule).toBe('flatline');
  const judged = s.series[0]!;
  expect(judged.markAreas).toEqual([
    [Date.parse(FLAT.windowStart), Date.parse(FLAT.windowEnd), '恒值 41.2 mg/m3 · 持续 70 分钟'],
  ]);
  const repeated = s.series.find((x) => x.name === '恒值')!;
  // Every reading of the 70 minutes (71 minute readings), all the same value, with its line.
  expect([repeated.count, repeated.max]).toEqual([71, FLAT.value]);
  expect(repeated.markLines).toEqual([FLAT.value]);
  expect(judged.count).toBeGreaterThan(repeated.count);
  await page.locator('[data-test=chart]').screenshot({ path: join(SHOTS, 'evidence-flatline.png') });
  await page.close();
});

it("zero while running: the evidence is the outlet's factor and its production meters, not a meter's", async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  const r = await page.request.get(`${suite.w.base}/api/deviations/${encodeURIComponent(ZERO.id)}/evidence`);
  expect(r.status()).toBe(200);
  const ev = (await r.json()) as {
    kind: string;
    series: { factor: string; interval: string; field: string; points: [string, number][] }[];
    meters: { meterId: string; role: string }[];
  };
  expect(ev.kind).toBe('pollutant');
  const rt = ev.series.find((x) => x.interval === 'realtime' && x.field === 'Rtd')!;
  expect(rt.factor).toBe('a21026');
  // 91 readings of 0 from 02:30 to 04:00 among the 181 of 02:00–05:00.
  expect(rt.points).toHaveLength(181);
  expect(rt.points.filter((p) => p[1] === 0)).toHaveLength(91);
  expect(ev.meters.map((m) => [m.meterId, m.role])).toEqual([['mtr-0001-p1', 'production']]);
  await page.close();
});
