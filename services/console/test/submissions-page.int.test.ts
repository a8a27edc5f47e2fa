// The submissions page (月度报送) in Chromium under the console's CSP: a district officer writes the article,
// picks a typical case of the district and submits; an empty article and a resubmission without a reason are
// refused with the message under the field (the server's, in each language; the page's own for the reason) and
// nothing saved; the resubmission with its reason makes version 2 and the
// first stays readable. A draft saved before is there again after a reload, and is no version. Each version
// shows its frozen figures as tables with headers (counts, 传输有效率, loads) with their CSV, and the month's
// live figures below. The city supervisor's status table names every district's status under its headers.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CASES } from './fixture.js';
import { loginPage, pageSuite, SHOTS } from './chromium.js';

const suite = pageSuite(async () => {});
const versions = async () =>
  Number((await suite.w.pool.query(`select count(*)::int as n from submission_versions`)).rows[0].n);

async function openMarch(page: Page): Promise<void> {
  await page.click('[data-test=nav-submissions]');
  await page.waitForSelector('[data-test=submissions]');
  await page.fill('[data-test=sub-month]', '2026-03');
}

it('an officer submits, is refused without article or reason, and resubmits with a reason', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'officer-dist-landong');
  await openMarch(page);
  await page.waitForSelector(`[data-test=sub-form] input[data-case="${CASES.landong}"]`);
  expect(await page.locator(`input[data-case="${CASES.lanxi}"]`).count()).toBe(0);
  expect(await page.textContent('[data-test=sub-due]')).toBe('2026-03-25');

  // The server refuses an empty article: its message stands under the article, in the chosen language.
  const underArticle = page.locator(
    '[data-test=sub-form] .el-form-item:has([data-test=sub-article]) .el-form-item__error',
  );
  await page.click('[data-test=sub-submit]');
  await expect(underArticle.textContent()).resolves.toMatch(/^字段 articleHtml 过短或为空/);
  expect(await page.getAttribute('[data-test=sub-article]', 'aria-invalid')).toBe('true');
  await page.evaluate("localStorage.setItem('lang', 'en')");
  await page.reload();
  await openMarch(page);
  await page.waitForSelector(`[data-test=sub-form] input[data-case="${CASES.landong}"]`);
  await page.click('[data-test=sub-submit]');
  await expect(underArticle.textContent()).resolves.toMatch(
    /^invalid field articleHtml: must NOT have fewer than 1 characters/,
  );
  expect(await page.getAttribute('[data-test=sub-article]', 'aria-invalid')).toBe('true');
  await page.evaluate("localStorage.setItem('lang', 'zh')");
  await page.reload();
  await openMarch(page);
  await page.waitForSelector(`[data-test=sub-form] input[data-case="${CASES.landong}"]`);
  expect(await versions()).toBe(0);

  await page.click('[data-test=sub-article]');
  await page.keyboard.type('三月正面清单工作亮点');
  await page.check(`input[data-case="${CASES.landong}"]`);
  // A draft: saved, found again after a reload, not a version.
  await page.click('[data-test=sub-save-draft]');
  await page.waitForSelector('[data-test=sub-draft]');
  await page.reload();
  await openMarch(page);
  await page.waitForSelector('[data-test=sub-draft]');
  expect(await page.textContent('[data-test=sub-article]')).toBe('三月正面清单工作亮点');
  expect(await page.isChecked(`input[data-case="${CASES.landong}"]`)).toBe(true);
  expect(await page.textContent('[data-test=sub-state]')).toBe('未报送（已逾期）');
  expect(await versions()).toBe(0);
  // The month's figures, live, as tables with headers.
  await page.waitForSelector('[data-test=sub-preview-figures] [data-test=fig-loads]');
  await page.click('[data-test=sub-submit]');
  await page.waitForSelector('[data-test=sub-notice]');
  await page.waitForSelector('[data-test=sub-versions] [data-version="1"]');
  expect(await versions()).toBe(1);

  // A resubmission needs its reason: the page says so under the field and sends nothing.
  await page.click('[data-test=sub-submit]');
  await expect(
    page
      .locator('[data-test=sub-form] .el-form-item:has([data-test=sub-reason]) .el-form-item__error')
      .textContent(),
  ).resolves.toBe('重新报送理由：必填');
  expect(await page.getAttribute('[data-test=sub-reason]', 'aria-invalid')).toBe('true');
  expect(await versions()).toBe(1);

  await page.fill('[data-test=sub-reason]', '补充典型案例');
  await page.click('[data-test=sub-submit]');
  await page.waitForSelector('[data-test=sub-versions] [data-version="2"]');
  expect(await versions()).toBe(2);
  await page.click('[data-test=sub-versions] button[data-version="1"]');
  await page.waitForSelector('[data-test=sub-shown] h4:text("1")');
  expect(await page.textContent('[data-test=sub-shown-article]')).toContain('三月正面清单工作亮点');
  expect(await page.textContent('[data-test=sub-shown-cases]')).toContain(CASES.landong);
  expect(await page.locator('[data-test=sub-draft]').count()).toBe(0); // submitting removed the draft
  const heads = (sel: string) =>
    page.locator(`[data-test=sub-shown-figures] [data-test=${sel}] thead th`).allTextContents();
  expect(await heads('fig-transmission')).toEqual(['传输率', '有效率', '传输有效率', '考核值']);
  expect(await heads('fig-loads')).toEqual([
    '企业',
    '排放口',
    '监测因子',
    '当月排放量（kg）',
    '许可排放量（kg/年）',
    '当月许可份额（kg）',
    '超出份额',
  ]);
  expect(await page.textContent('[data-test=sub-shown-figures] [data-test=fig-counts]')).toContain(
    '举报奖励金额（元）',
  );
  const csv = await page.getAttribute('[data-test=sub-csv]', 'href');
  expect(csv).toMatch(/^\/api\/submissions\/versions\/\d+\/figures\.csv$/);
  const text = await page.evaluate(async (u) => (await fetch(u!)).text(), csv);
  expect(text).toContain('rewardsAmountYuan');
  await page.screenshot({ path: join(SHOTS, 'submissions-officer.png'), fullPage: true });
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('the city sees every district’s status under its headers', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await openMarch(page);
  await page.waitForSelector('[data-test=sub-status] [data-district="dist-landong"]');
  const headers = await page.locator('[data-test=sub-status] thead th').allTextContents();
  expect(headers.map((h) => h.trim()).slice(0, 5)).toEqual([
    '区县',
    '状态',
    '首次报送时间',
    '最新版本',
    '最新报送时间',
  ]);
  const status = (d: string) =>
    page.textContent(`[data-test=sub-status] tr:has([data-district="${d}"]) [data-test=sub-status-cell]`);
  await page.waitForSelector(
    '[data-test=sub-status] tr:has([data-district="dist-landong"]) [data-test=sub-latest]:text-is("2")',
  );
  // March 2026 is past due: Landong submitted after the 25th, the others nothing.
  expect(await status('dist-landong')).toBe('逾期报送');
  expect(await status('dist-lanxi')).toBe('未报送（已逾期）');
  await page.click('[data-test=sub-status] tr:has([data-district="dist-landong"]) [data-test=sub-open]');
  await page.waitForSelector('[data-test=sub-shown-article]');
  expect(await page.locator('[data-test=sub-form]').count()).toBe(0);
  await page.screenshot({ path: join(SHOTS, 'submissions-city.png'), fullPage: true });
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});
