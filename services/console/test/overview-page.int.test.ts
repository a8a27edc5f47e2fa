// The overview (首页 / 一张图) in Chromium under the console's CSP: the cards and the table by district with
// Chinese headers (overview-data.ts's cases; the figures are those of overview.int.test.ts), March's
// reminders through the month picker and their list, a figure's link opening the queue with its filter, English on the
// language switch, a new case arriving live without a reload, and the officer's and enterprise's scope.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { insertAlertCase, WINDOW } from './fixture.js';
import { writeOverviewCases, writeComplianceMonths } from './overview-data.js';

const suite = pageSuite(async (w) => {
  await writeOverviewCases(w);
  await writeComplianceMonths(w);
});

async function openOverview(username: string): Promise<Page> {
  const page = await loginPage(suite.chromium.browser, suite.w.base, username);
  await page.click('[data-test=nav-overview]');
  await page.locator('[data-test=overview-cards]').waitFor();
  return page;
}
/** March 2026 through the month picker, once its figures are drawn. */
async function showMarch(page: Page): Promise<void> {
  await page.fill('[data-test=overview-month]', '2026-03');
  await page.click('[data-test=overview-show]');
  await page.locator('[data-test=overview-cards][data-month="2026-03"]').waitFor();
}
const card = async (page: Page, name: string) =>
  ((await page.locator(`[data-test=card-${name}] b`).textContent()) ?? '').trim();
const row = async (page: Page, district: string) =>
  (
    await page.locator(`[data-test=overview-districts] tr[data-district="${district}"] > *`).allTextContents()
  ).map((c) => c.trim());

it('shows the cards and the table by district with Chinese headers; March’s reminders; English too', async () => {
  const page = await openOverview('supervisor');
  expect(await card(page, 'enterprises')).toBe('12');
  expect(await card(page, 'online')).toBe('11');
  expect(await card(page, 'open')).toBe('5');
  expect(await card(page, 'overdue')).toBe('1');
  const headers = await page.locator('[data-test=overview-districts] thead th').allTextContents();
  expect(headers.map((h) => h.trim())).toEqual([
    '区县',
    '监控企业',
    '当前在线',
    '本月传输有效率',
    '有效小时达标率',
    '未关闭异常',
    '整改逾期',
    '本月提醒 已发送 / 已确认',
  ]);
  const landong = await row(page, 'dist-landong');
  // Compliance '—': no figure for the current month (below: March's and February's).
  expect([landong[1], landong[2], landong[4], landong[5], landong[6]]).toEqual(['4', '3', '—', '3', '0']);
  expect((await row(page, 'dist-lanxi'))[6]).toBe('1');
  // The current month: the analyzer stored no compliance figure for it (overview-data.ts has February and March).
  expect(await card(page, 'compliance')).toBe('—');

  await showMarch(page);
  // March: 2300 of 2920 judged valid hours compliant (overview.int.test.ts); kaifa has no figure
  await page.locator('[data-test=card-compliance] b', { hasText: '78.8 %' }).waitFor();
  expect((await row(page, 'dist-landong'))[4]).toBe('87.0 %');
  expect((await row(page, 'dist-kaifa'))[4]).toBe('—');
  expect(await card(page, 'reminders')).toBe('2 / 1');
  expect((await row(page, 'dist-landong'))[7]).toBe('1 / 1');
  await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
  // February: its own rows only, 40 of 50.
  await page.fill('[data-test=overview-month]', '2026-02');
  await page.click('[data-test=overview-show]');
  await page.locator('[data-test=card-compliance] b', { hasText: '80.0 %' }).waitFor();
  expect((await row(page, 'dist-landong'))[4]).toBe('50.0 %');
  expect((await row(page, 'dist-lanxi'))[4]).toBe('100.0 %');

  await page.click('[data-test=lang]');
  await page.locator('th', { hasText: 'Open deviations' }).first().waitFor();
  expect(await page.locator('[data-test=card-overdue] .label').textContent()).toBe('Overdue rectifications');
  await page.click('[data-test=lang]');
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('the reminders figures lead to their list: March’s reminders sent, then acknowledged, with their rows', async () => {
  const page = await openOverview('supervisor');
  await showMarch(page);
  const sent = ((await page.locator('[data-test=card-reminders-sent]').textContent()) ?? '').trim();
  expect(sent).toBe('2');
  await page.click('[data-test=card-reminders-sent]');
  // The list's own total, once its rows are drawn: the figure that linked here.
  await page.locator('[data-test=reminders-table] [data-enterprise="ent-0003"]').waitFor();
  await page.locator('[data-test=reminders-total]', { hasText: /^2$/ }).waitFor();
  const rows = page.locator('[data-test=reminders-table] tbody tr');
  expect(await rows.count()).toBe(2);
  const lanxi = page.locator('[data-test=reminders-table] tr:has([data-enterprise="ent-0003"])');
  expect(await lanxi.locator('[data-test=reminder-case]').textContent()).toBe('dev-lanxi-exceed-1');
  // 04:10 UTC is 12:10 in Asia/Shanghai; the phone number is the alerter's masked one; no receipt yet.
  const text = (await lanxi.textContent()) ?? '';
  expect(text).toContain('12:10');
  expect(text).toContain('139****0003');
  expect(text).toContain('短信');
  expect(text).toContain('未确认');
  expect(text).toContain('已发出，无回执');
  await page.screenshot({ path: join(SHOTS, 'overview-reminders.png'), fullPage: true });

  // Acknowledged: the landong reminder only, acknowledged at 13:00 Shanghai time.
  await page.selectOption('[data-test=reminders-state]', 'acknowledged');
  await page.locator('[data-test=reminders-total]', { hasText: /^1$/ }).waitFor();
  await lanxi.waitFor({ state: 'detached' });
  expect(await rows.count()).toBe(1);
  expect(await page.locator('[data-test=reminder-ack]').textContent()).toContain('13:00');
  // A row's case opens the case page.
  await page.click('[data-test=reminder-case]');
  await page.waitForURL(/#\/case\/dev-landong-exceed-1$/);
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('an officer’s reminders figure opens their district’s list only', async () => {
  const page = await openOverview('officer-dist-landong');
  await showMarch(page);
  await page.click('[data-test=district-reminders-acknowledged]');
  await page.locator('[data-test=reminders-table] [data-enterprise="ent-0002"]').waitFor();
  await page.locator('[data-test=reminders-total]', { hasText: /^1$/ }).waitFor();
  expect(await page.locator('[data-test=reminders-table] tbody tr').count()).toBe(1);
  expect(await page.locator('[data-test=reminders-state]').inputValue()).toBe('acknowledged');
  await page.close();
});

it('the compliance rate leads to its list of the month: the district’s enterprises, lowest rate first', async () => {
  const page = await openOverview('supervisor');
  await showMarch(page);
  await page.locator('[data-test=card-compliance] b', { hasText: '78.8 %' }).waitFor();
  await page
    .locator(
      '[data-test=overview-districts] tr[data-district="dist-landong"] [data-test=district-compliance]',
    )
    .click();
  await page.locator('[data-test=compliance-table]').waitFor();
  const rows = await page
    .locator('[data-test=compliance-table] tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [
        tr.querySelector('[data-enterprise]')?.getAttribute('data-enterprise'),
        tr.children[4]?.textContent?.trim(),
      ]),
    );
  expect(rows).toEqual([
    ['ent-0002', '50.0 %'],
    ['ent-0001', '97.2 %'],
  ]);
  expect(await page.locator('[data-test=compliance-month]').textContent()).toContain('2026-03');
  expect(suite.cspMessages).toEqual([]);
  await page.close();
});

it('a figure leads to its list: open deviations by rule and severity open the filtered queue', async () => {
  const page = await openOverview('supervisor');
  await page.click('[data-test="open-dist-landong-exceedance-high"]');
  await page.locator('[data-test=rule-filter]').waitFor();
  expect(await page.locator('select[name=severity]').inputValue()).toBe('high');
  expect(await page.locator('select[name=district]').inputValue()).toBe('dist-landong');
  // Only the landong high exceedance case is in the queue.
  const rules = page.locator('[data-test=rule]');
  await rules.first().waitFor();
  await rules.nth(1).waitFor({ state: 'detached' });
  expect(await rules.count()).toBe(1);
  expect(await page.locator('[data-test=open-filter]').count()).toBe(1);
  // Overdue: the one overdue rectification.
  await page.click('[data-test=nav-overview]');
  await page.click('[data-test=card-overdue]');
  await page.locator('[data-test=overdue-filter]').waitFor();
  await page.locator('[data-test=total]', { hasText: /^1$/ }).waitFor();
  expect(await rules.count()).toBe(1);
  await page.close();
});

it('scope: an officer sees their district; an enterprise user their own enterprise', async () => {
  const officer = await openOverview('officer-dist-landong');
  expect(await officer.locator('[data-test=overview-districts] tbody tr[data-district]').count()).toBe(1);
  expect(await card(officer, 'enterprises')).toBe('4');
  await officer.close();
  const own = await openOverview('ent-0003-user');
  expect(await card(own, 'enterprises')).toBe('1');
  expect(await card(own, 'open')).toBe('1');
  expect(await own.locator('.overview .hint').textContent()).toContain('本企业');
  await own.close();
});

it('refreshes live: a new case shows in the figures without a reload', async () => {
  const page = await openOverview('supervisor');
  expect(await card(page, 'open')).toBe('5');
  await insertAlertCase(suite.w.pool, {
    schema: 'deviation.v1',
    emittedAt: '2026-03-04T00:00:05.000Z',
    id: 'dev-overview-live-1',
    revision: 1,
    state: 'opened',
    enterpriseId: 'ent-0007',
    siteId: 'out-0007-w1',
    rule: 'exceedance',
    factor: 'w01018',
    severity: 'low',
    windowStart: WINDOW,
    openedAt: '2026-03-04T00:00:00.000Z',
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: { summary: 'hourly mean above the permit limit', values: [], params: {} },
  });
  await page.locator('[data-test=card-open] b', { hasText: '6' }).waitFor();
  expect((await row(page, 'dist-kaifa'))[5]).toBe('1');
  await page.close();
});

it('the current month is read again every minute, so its figures follow new minute data; a past month is not', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  // The page's timers run on a clock the test moves (installed before the overview sets its interval).
  await page.clock.install();
  const reads: URL[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/overview') reads.push(u);
  });
  await page.click('[data-test=nav-overview]');
  await page.locator('[data-test=overview-cards]').waitFor();
  const month = await page.locator('[data-test=overview-cards]').getAttribute('data-month');
  const shown = reads.length;
  const next = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/overview', { timeout: 15_000 });
  await page.clock.runFor(61_000);
  expect(new URL((await next).url()).searchParams.get('month')).toBe(month);
  await page.locator('[data-test=overview-cards]').waitFor();
  expect(reads.length).toBe(shown + 1);

  await showMarch(page);
  const afterMarch = reads.length;
  await page.clock.runFor(181_000);
  // Nothing to wait for: give a read that should not happen a moment to show up.
  await page.waitForTimeout(1_500);
  expect(reads.length).toBe(afterMarch);
  expect(await page.locator('[data-test=overview-cards]').getAttribute('data-month')).toBe('2026-03');
  await page.close();
});
