// The positive-list page (正面清单) in Chromium: each criterion's evidence in words and numbers, in Chinese and
// English, never the judged value's raw form. Stability as the analyzer keeps it (analyzer_stability):
// ent-0001 stably compliant, ent-0002 below the 90 % effective transmission rate with an exceedance window.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { goodMetrics } from './regulation-harness.js';
import type { World } from './fixture.js';

async function writeStability(w: World): Promise<void> {
  const now = Date.now();
  const rows: [string, Record<string, number>][] = [
    ['ent-0001', goodMetrics as unknown as Record<string, number>],
    ['ent-0002', { ...goodMetrics, effectiveTransmissionRate: 0.862, exceedanceWindows: 2 }],
  ];
  for (const [id, metrics] of rows)
    await w.pool.query(
      `insert into analyzer_stability (enterprise_id, site_id, window_from, window_to, metrics, stably_compliant, last_received_at)
       values ($1, '', $2, $3, $4, $5, $6)`,
      [
        id,
        new Date(now - 90 * 86_400_000),
        new Date(now),
        metrics,
        id === 'ent-0001',
        new Date(now - 600_000),
      ],
    );
}

const suite = pageSuite(writeStability);

const criteriaOf = (page: Page, id: string) =>
  page
    .locator(`[data-test=positive-list] tr:has(small:text-is("${id}")) li`)
    .evaluateAll((lis) => lis.map((li) => (li.textContent ?? '').replace(/\s+/g, ' ').trim()));

it('shows each criterion’s evidence in words and numbers, never raw values', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/reg/positive-list`);
  await page.waitForSelector('[data-test=positive-list] [data-test=criterion-evidence]');
  const failing = await criteriaOf(page, 'ent-0002');
  expect(failing.find((c) => c.includes('稳定达标'))).toMatch(
    /^✘ .*传输有效率 86\.2 %（要求 ≥ 90 %）；超标时段 2 个；经确认的数据造假 0 次；统计期 \d{4}\/\d{2}\/\d{2} – \d{4}\/\d{2}\/\d{2}$/,
  );
  const passing = await criteriaOf(page, 'ent-0001');
  expect(passing.find((c) => c.includes('稳定达标'))).toContain(
    '传输有效率 96.3 %（要求 ≥ 90 %）；超标时段 0 个',
  );
  expect(passing.find((c) => c.includes('已安装'))).toContain('已登记启用的监控设备');
  expect(passing.find((c) => c.includes('联网'))).toMatch(
    /最近一次收到数据：\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/,
  );
  expect(passing.find((c) => c.includes('信用'))).toContain('环境信用评价 A');
  // ent-0003 has no stability figures yet: said so.
  expect((await criteriaOf(page, 'ent-0003')).find((c) => c.includes('稳定达标'))).toContain(
    '尚无稳定达标统计',
  );
  const all = (await page.locator('[data-test=positive-list]').textContent()) ?? '';
  expect(all).not.toMatch(/[{}]|effectiveTransmissionRate|lastReceivedAt|exceedanceWindows|null|undefined/);
  await page.screenshot({ path: join(SHOTS, 'positive-list-criteria.png'), fullPage: true });

  await page.click('[data-test=lang]');
  await page.waitForSelector('[data-test=criterion-evidence]:has-text("effective transmission rate")');
  expect((await criteriaOf(page, 'ent-0002')).join('\n')).toContain(
    'effective transmission rate 86.2 % (required ≥ 90 %); 2 exceedance window(s)',
  );
  await page.click('[data-test=lang]');
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});
