// The 传输有效率 page in Chromium under the console's CSP: March 2026's figures (transmission-data.ts) in a
// table with Chinese headers, enterprise rows with their device rows, below-threshold rows marked, the month
// picker, English on the language switch, and an enterprise user seeing only their own enterprise.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { GAS, WATER, WATER2, writeMarch } from './transmission-data.js';

const suite = pageSuite(writeMarch);

async function openMarch(username: string): Promise<Page> {
  const page = await loginPage(suite.chromium.browser, suite.w.base, username);
  await page.click('[data-test=nav-transmission]');
  await page.locator('[data-test=transmission]').waitFor();
  await page.fill('[data-test=transmission-month]', '2026-03');
  await page.click('[data-test=transmission-show]');
  // The page first shows the current month; March's answer replaces it.
  await page.locator('[data-test=transmission-table][data-month="2026-03"]').waitFor();
  return page;
}

it('shows March per enterprise with device rows, Chinese headers, below-threshold rows marked; English too', async () => {
  const page = await openMarch('supervisor');
  const headers = await page.locator('[data-test=transmission-table] thead th').allTextContents();
  expect(headers.map((h) => h.trim())).toEqual([
    '企业 / 监测设备',
    '区县',
    '数据周期',
    '应传输条数',
    '实际传输条数',
    '有效条数',
    '传输率',
    '有效率',
    '传输有效率',
    '状态',
  ]);
  // Water device: 740 expected, 690 received, 684 valid → 93.2 %, 99.1 %, 92.4 %; 4 maintenance slots.
  const water = page.locator(`[data-device="${WATER}"]`);
  const cells = (await water.locator('td').allTextContents()).map((c) => c.trim());
  expect(cells.slice(2)).toEqual(['60 分钟', '740', '690', '684', '93.2 %', '99.1 %', '92.4 %', '达标']);
  expect(cells[0]).toContain('运维时段扣除 4');
  expect(await water.getAttribute('data-below')).toBe('false');
  // No data at all: 0 %, marked.
  const silent = page.locator(`[data-device="${WATER2}"]`);
  expect(await silent.getAttribute('data-below')).toBe('true');
  expect(await silent.textContent()).toContain('0.0 %');
  expect(await silent.textContent()).toContain('⚠ 低于考核值');
  expect(await page.locator('[data-enterprise="ent-0004"]').getAttribute('data-below')).toBe('true');
  expect(await page.locator(`[data-device="${GAS}"]`).textContent()).toContain('100.0 %');
  expect(await page.locator('[data-test=transmission-threshold]').textContent()).toBe('90.0 %');
  await page.screenshot({ path: join(SHOTS, 'transmission.png'), fullPage: true });

  await page.click('[data-test=lang]');
  await page.locator('th', { hasText: 'Effective rate' }).first().waitFor();
  expect(await silent.textContent()).toContain('below threshold');
  await page.click('[data-test=lang]');
  await page.close();
});

it('an enterprise user sees only their own enterprise; a bad month is refused in the page', async () => {
  const page = await openMarch('ent-0003-user');
  const rows = page.locator('[data-enterprise]');
  expect(await rows.count()).toBe(1);
  expect(await rows.first().getAttribute('data-enterprise')).toBe('ent-0003');
  // A month that has not begun: the server's message, in Chinese.
  await page.fill('[data-test=transmission-month]', '2999-01');
  await page.click('[data-test=transmission-show]');
  await page.locator('[data-test=transmission-error]').waitFor();
  expect(await page.locator('[data-test=transmission-error]').textContent()).toContain('该月尚未开始');
  await page.close();
  expect(suite.cspMessages).toEqual([]);
});

it('the district monthly report shows the district’s 传输有效率 and names the enterprises below it', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'officer-dist-lanxi');
  await page.goto(`${suite.w.base}/#/reg/report`);
  await page.waitForSelector('[data-test=report] input[name=month]');
  await page.selectOption('[data-test=report] select[name=district]', 'dist-lanxi');
  await page.fill('[data-test=report] input[name=month]', '2026-03');
  await page.click('[data-test=report] button[type=submit]');
  await page.waitForSelector('[data-test=report-title]:has-text("2026-03")');
  const row = page.locator('[data-test=report-transmission]');
  await row.waitFor();
  const text = (await row.textContent()) ?? '';
  expect(text).toContain('传输有效率');
  expect(text).toContain('⚠');
  expect(text).toContain('青澜锦绣印染有限公司'); // ent-0004: no data in March
  expect(text).not.toContain('澜西精细化工有限公司'); // ent-0003: 92.4 %
  await page.close();
});
