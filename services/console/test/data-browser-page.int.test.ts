// The data browser page (数据查询) in Chromium: choosing an enterprise, outlet or meter, granularity and range;
// the chart with its permit limit, the tables with their headers, the field-named bilingual errors, the scope.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { launchChromium, loginPage, type Chromium } from './chromium.js';
import { MN, writeBrowseData } from './data-fixture.js';
import { createWorld, type World } from './fixture.js';

const shots = fileURLToPath(new URL('../test-output/', import.meta.url));
let w: World;
let chromium: Chromium;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  w = await createWorld();
  await writeBrowseData(w);
  chromium = await launchChromium({ acceptDownloads: true });
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
});

async function openBrowser(username: string): Promise<Page> {
  const page = await loginPage(chromium.browser, w.base, username);
  await page.click('[data-test=nav-data]');
  await page.waitForSelector('[data-test=data-form]');
  return page;
}

/** Fills the form (Beijing wall-clock times) and waits for the answer: a drawn chart or an error. */
async function query(page: Page, f: Record<string, string>): Promise<void> {
  if (f.enterprise) {
    await page.waitForSelector(`[data-test=data-enterprise] option[value="${f.enterprise}"]`, {
      state: 'attached',
    });
    await page.selectOption('[data-test=data-enterprise]', f.enterprise);
  }
  if (f.site) {
    await page.waitForSelector(`[data-test=data-site] option[value="${f.site}"]`, { state: 'attached' });
    await page.selectOption('[data-test=data-site]', f.site);
  }
  if (f.factor !== undefined) await page.selectOption('[data-test=data-factor]', f.factor);
  if (f.granularity) await page.selectOption('[data-test=data-granularity]', f.granularity);
  if (f.from) await page.fill('[data-test=data-from]', f.from);
  if (f.to) await page.fill('[data-test=data-to]', f.to);
  const drawn = Number((await page.getAttribute('[data-test=data-chart]', 'data-drawn')) ?? 0);
  await page.click('[data-test=data-query]');
  // An error shown, or one more finished draw of the chart (the page counts them in data-drawn).
  await page
    .locator(`[data-test=data-error], [data-test=data-chart][data-drawn="${drawn + 1}"]`)
    .first()
    .waitFor({ state: 'attached' });
}

const headers = (page: Page, table: string) =>
  page.locator(`[data-test=${table}] thead th`).evaluateAll((ths) => ths.map((t) => t.textContent?.trim()));
const firstRow = (page: Page, table: string) =>
  page.locator(`[data-test=${table}] tbody tr`).first().locator('td').allTextContents();

it('draws an outlet’s hourly data with its permit limit, shows it in tables with headers and exports it', async () => {
  const page = await openBrowser('supervisor');
  await query(page, {
    enterprise: 'ent-0002',
    site: 'out-0002-g1',
    factor: 'a21002',
    granularity: 'hour',
    from: '2026-02-01T00:00',
    to: '2026-02-02T00:00',
  });
  await expect(page.locator('[data-test=data-error]').count()).resolves.toBe(0);
  await expect(page.getAttribute('[data-test=data-chart]', 'data-limits')).resolves.toBe(
    '许可限值 150 mg/m3',
  );
  expect(await page.locator('[data-test=data-chart] canvas').count()).toBeGreaterThan(0);
  expect(await headers(page, 'data-table')).toEqual([
    '时间（北京时间）',
    '氮氧化物 NOx 均值 (mg/m3)',
    '氮氧化物 NOx 折算均值 (mg/m3)',
    '数据标记',
  ]);
  await expect(page.locator('[data-test=data-table] tbody tr').count()).resolves.toBe(24);
  expect(await firstRow(page, 'data-table')).toEqual(['2026/02/01 00:00', '100', '120', 'D']);
  expect(await headers(page, 'data-aggregates')).toEqual([
    '时间（北京时间）',
    '监测因子',
    '均值',
    '折算值',
    '有效',
    '数据标记',
    '数据覆盖率',
  ]);
  const invalid = await page
    .locator('[data-test=data-aggregates] tbody tr')
    .nth(5)
    .locator('td')
    .allTextContents();
  expect(invalid).toEqual(['2026/02/01 05:00', '氮氧化物 NOx', '105', '125', '✘', 'D', '100%']);
  await page.screenshot({ path: join(shots, 'data-browser.png') });

  // The same data as an Excel workbook and as CSV, from the page's links.
  const [xlsx] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-test=data-export-xlsx]'),
  ]);
  expect(xlsx.suggestedFilename()).toBe('out-0002-g1-hour-20260201.xlsx');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(readFileSync((await xlsx.path())!) as unknown as ArrayBuffer);
  const ws = wb.getWorksheet('监测数据')!;
  expect([1, 5, 7, 8, 10].map((c) => ws.getRow(1).getCell(c).value)).toEqual([
    '时间（北京时间）',
    '监测因子',
    '单位',
    '均值（Avg）',
    '数据标记',
  ]);
  expect([1, 4, 5, 7, 8, 10].map((c) => ws.getRow(2).getCell(c).value)).toEqual([
    '2026-02-01 00:00:00',
    MN,
    '氮氧化物（a21002）',
    'mg/m3',
    100,
    'D',
  ]);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=data-export-csv]')]);
  const text = readFileSync((await csv.path())!, 'utf8');
  expect(text.startsWith('\uFEFF时间（北京时间）,企业,排放口')).toBe(true);

  // A long range is downsampled, and says so.
  await query(page, { from: '2026-02-01T00:00', to: '2026-05-12T00:00' });
  await expect(page.locator('[data-test=data-downsampled]').textContent()).resolves.toBe(
    '时段较长，已按 2 h 求均值显示',
  );
  // 1,200 two-hour rows: the table shows 100 at a time.
  await expect(page.locator('[data-test=data-table] tbody tr').count()).resolves.toBe(100);
  await expect(page.locator('[data-test=data-pager-data] span').textContent()).resolves.toBe('第 1 / 12 页');
  await page.locator('[data-test=data-pager-data] button', { hasText: '下一页' }).click();
  await expect(page.locator('[data-test=data-pager-data] span').textContent()).resolves.toBe('第 2 / 12 页');
  expect((await firstRow(page, 'data-table'))[0]).toBe('2026/02/09 08:00');
  await page.close();
});

it('shows production and treatment meters side by side', async () => {
  const page = await openBrowser('officer-dist-landong');
  await query(page, {
    enterprise: 'ent-0002',
    site: 'mtr-0002-t1',
    granularity: 'hour',
    from: '2026-02-01T00:00',
    to: '2026-02-02T00:00',
  });
  expect(await headers(page, 'data-table')).toEqual([
    '时间（北京时间）',
    'mtr-0002-p1 生产设施 有功功率 实时值 (kW)',
    'mtr-0002-t1 治污设施 有功功率 实时值 (kW)',
    '数据标记',
  ]);
  expect(await firstRow(page, 'data-table')).toEqual(['2026/02/01 00:00', '80', '12', '']);
  await page.close();
});

it('answers a too-long range and an empty range with a message naming the field, in either language', async () => {
  const page = await openBrowser('admin');
  await query(page, {
    enterprise: 'ent-0002',
    site: 'out-0002-g1',
    granularity: 'realtime',
    from: '2026-02-01T00:00',
    to: '2026-02-03T00:00',
  });
  await expect(page.locator('[data-test=data-error]').textContent()).resolves.toBe(
    '字段 to：实时数据一次最多查询 1 天，请缩短时间范围',
  );
  await expect(page.locator('[data-test=data-error]').getAttribute('role')).resolves.toBe('alert');
  await expect(page.locator('[data-test=data-table]').count()).resolves.toBe(0);
  await page.click('[data-test=lang]');
  await query(page, { granularity: 'day', from: '2025-01-01T00:00', to: '2025-02-01T00:00' });
  await expect(page.locator('[data-test=data-error]').textContent()).resolves.toBe(
    'field from: no daily data in the chosen range',
  );
  await expect(page.locator('label', { hasText: 'From (Beijing time)' }).count()).resolves.toBe(1);
  await page.click('[data-test=lang]');
  await page.close();
});

it('offers an enterprise user only its own enterprise', async () => {
  const page = await openBrowser('ent-0003-user');
  await page.waitForSelector('[data-test=data-enterprise] option[value="ent-0003"]', { state: 'attached' });
  const options = await page
    .locator('[data-test=data-enterprise] option')
    .evaluateAll((os) => os.map((o) => o.getAttribute('value')).filter(Boolean));
  expect(options).toEqual(['ent-0003']);
  await page.close();
});
