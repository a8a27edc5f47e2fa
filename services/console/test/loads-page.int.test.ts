// The emission-loads page (排放量) in Chromium under the console's CSP: choosing the outlet, factor, granularity and
// Beijing-time range; the table per factor with loads-data.ts's hand-computed figures (loads.int.test.ts), the
// flagged recalculation check, the export link, and the field-named error instead of an empty table.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { writeLoadsData } from './loads-data.js';

const suite = pageSuite(writeLoadsData);

async function ask(page: Page, f: { factor?: string; granularity: string; from: string; to: string }) {
  await page.waitForSelector('[data-test=loads-enterprise] option[value="ent-0003"]', { state: 'attached' });
  await page.selectOption('[data-test=loads-enterprise]', 'ent-0003');
  await page.waitForSelector('[data-test=loads-site] option[value="out-0003-w1"]', { state: 'attached' });
  await page.selectOption('[data-test=loads-site]', 'out-0003-w1');
  if (f.factor) {
    await page.waitForSelector(`[data-test=loads-factor] option[value="${f.factor}"]`, { state: 'attached' });
    await page.selectOption('[data-test=loads-factor]', f.factor);
  }
  await page.selectOption('[data-test=loads-granularity]', f.granularity);
  await page.fill('[data-test=loads-from]', f.from);
  await page.fill('[data-test=loads-to]', f.to);
  await page.click('[data-test=loads-show]');
  await page.locator('[data-test=loads-table], [data-test=loads-error]').first().waitFor();
}

const rows = (page: Page) =>
  page
    .locator('[data-test=loads-table] tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent?.trim())));

it('shows the daily loads of an outlet with the Cou check, and exports them', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.click('[data-test=nav-loads]');
  await page.waitForSelector('[data-test=loads-form]');
  await ask(page, { factor: 'w01018', granularity: 'day', from: '2026-04-01T00:00', to: '2026-04-03T00:00' });
  const headers = await page.locator('[data-test=loads-table] thead th').allTextContents();
  expect(headers.map((h) => h.trim())).toEqual([
    '时段',
    '排放量 kg（浓度×流量）',
    '排放量 kg（数采仪累计值）',
    '有效 / 无效 / 缺失小时',
    '核算比对偏差',
  ]);
  expect(await rows(page)).toEqual([
    ['2026-04-01', '10.000', '13.000', '2 / 1 / 21', '0.0 %'],
    ['2026-04-02', '6.000', '9.000', '1 / 0 / 23', '50.0 % ⚠ 超出容差'],
    ['合计', '16.000', '22.000', '3 / 1 / 44', '18.8 %'],
  ]);
  expect(await page.locator('[data-test=loads-permit]').textContent()).toBe('2500');
  expect(await page.getAttribute('[data-test=loads-xlsx]', 'href')).toContain(
    '/api/data/loads.xlsx?enterprise=ent-0003',
  );
  await page.screenshot({ path: join(SHOTS, 'loads.png'), fullPage: true });
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('says there is no data, by field, instead of an empty table', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/loads`);
  await ask(page, { granularity: 'day', from: '2026-05-01T00:00', to: '2026-05-02T00:00' });
  expect(await page.locator('[data-test=loads-error]').textContent()).toContain('所选时段内没有');
  expect(await page.locator('[data-test=loads-table]').count()).toBe(0);
  await page.close();
});
