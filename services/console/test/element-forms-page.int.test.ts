// In Chromium, the Element Plus forms and lists of the regulation pages and the registry upkeep: a list
// sorted by a header and paged as the API's rows say; a form's own message naming its field in each
// language; dates typed from the keyboard reaching the API as Beijing dates and times (+08:00).
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { loginAs, sendAs } from './fixture.js';

const suite = pageSuite(async () => undefined);

async function zhPage(username: string, hash: string): Promise<Page> {
  const page = await loginPage(suite.chromium.browser, suite.w.base, username);
  await page.evaluate("localStorage.setItem('lang', 'zh')");
  await page.goto(`${suite.w.base}/#${hash}`);
  await page.reload();
  return page;
}

/** The ids of a list's rows, top to bottom. */
const rowIds = (page: Page, table: string) =>
  page
    .locator(`[data-test=${table}] tbody tr`)
    .evaluateAll((rows) => rows.map((r) => r.querySelector('[data-id]')?.getAttribute('data-id')));

it('the positive list sorts by a header from the keyboard and pages, as the API’s rows say', async () => {
  const page = await zhPage('supervisor', '/reg/positive-list');
  const s = await loginAs(suite.w.base, 'supervisor');
  const all = (
    await sendAs<{ enterpriseId: string; eligible: boolean }[]>(
      suite.w.base,
      s,
      'GET',
      '/api/regulation/positive-list/eligibility',
    )
  ).body.map((e) => e.enterpriseId);
  expect(all.length).toBeGreaterThan(10);
  await page.locator('[data-test=eligibility] [data-id]').first().waitFor();
  const byId = [...all].sort();
  expect(await rowIds(page, 'eligibility')).toEqual(byId.slice(0, 10));
  // The enterprise header's sort button, from the keyboard: descending.
  const header = page.locator('[data-test=eligibility] th', { hasText: '企业' });
  await header.getByRole('button').focus();
  await page.keyboard.press('Enter');
  await page.locator('[data-test=eligibility] th[aria-sort=descending]', { hasText: '企业' }).waitFor();
  expect(await rowIds(page, 'eligibility')).toEqual([...byId].reverse().slice(0, 10));
  // The second page holds the rest.
  await page.locator('[data-test=eligibility-pager]').getByLabel('第 2 页').click();
  await page.locator(`[data-test=eligibility] [data-id="${[...byId].reverse()[10]}"]`).waitFor();
  expect(await rowIds(page, 'eligibility')).toEqual([...byId].reverse().slice(10, 20));
  await page.close();
  expect(suite.cspMessages).toEqual([]);
});

it('the positive-list decision names its missing fields in each language; a date typed from the keyboard is sent', async () => {
  const page = await zhPage('supervisor', '/reg/positive-list');
  const form = page.locator('[data-test=pl-decision]');
  await form.waitFor();
  await form.getByRole('button', { name: '提交' }).click();
  await form.getByText('企业：必填').waitFor();
  await form.getByText('原因：必填').waitFor();
  await page.click('[data-test=lang]');
  await form.getByRole('button', { name: 'Submit' }).click();
  await form.getByText('Reason: required').waitFor();
  await form.getByText('Enterprise: required').waitFor();
  await page.click('[data-test=lang]');

  await form.getByLabel('企业').selectOption('ent-0003');
  await form.getByLabel('决定').selectOption('remove');
  await form.getByLabel('原因').fill('键盘录入日期');
  const from = form.getByLabel('生效日期');
  await from.fill('');
  await from.pressSequentially('2026-04-01');
  await from.press('Enter');
  await form.getByRole('button', { name: '提交' }).click();
  await page.locator('[data-test=pl-history] td', { hasText: '键盘录入日期' }).waitFor();
  const { rows } = await suite.w.pool.query(
    `select to_char(valid_from, 'YYYY-MM-DD') as d from positive_list_decisions where reason = '键盘录入日期'`,
  );
  expect(rows).toEqual([{ d: '2026-04-01' }]);
  await page.screenshot({ path: join(SHOTS, 'positive-list-decision.png'), fullPage: true });
  await page.close();
});

it('a maintenance window typed from the keyboard in Beijing time reaches the API with +08:00', async () => {
  const page = await zhPage('officer-dist-landong', '/enterprise/ent-0001');
  const form = page.locator('[data-test=maintenance-form]');
  await form.waitFor();
  // Missing fields are named; the end must follow the start.
  await form.getByLabel('结束（北京时间）').fill('');
  await form.getByRole('button', { name: '申报' }).click();
  await form.getByText('设备或排放口：必填').waitFor();
  await form.getByText('原因：必填').waitFor();
  await form.getByLabel('设备或排放口').selectOption({ index: 0 });
  const starts = form.getByLabel('开始（北京时间）');
  await starts.fill('');
  await starts.pressSequentially('2030-03-10 08:00');
  await starts.press('Enter');
  const ends = form.getByLabel('结束（北京时间）');
  await ends.pressSequentially('2030-03-10 07:00');
  await ends.press('Enter');
  await form.getByText('结束（北京时间）：须晚于开始时间').waitFor();
  await ends.fill('');
  await ends.pressSequentially('2030-03-10 10:30');
  await ends.press('Enter');
  await form.getByLabel('原因').fill('键盘录入的比对监测');
  const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/maintenance'));
  await form.getByRole('button', { name: '申报' }).click();
  expect((await sent).postDataJSON()).toMatchObject({
    startsAt: '2030-03-10T08:00:00+08:00',
    endsAt: '2030-03-10T10:30:00+08:00',
  });
  await page.locator('[data-test=maintenance] td', { hasText: '键盘录入的比对监测' }).waitFor();
  const { rows } = await suite.w.pool.query(
    `select starts_at, ends_at from maintenance_windows where reason = '键盘录入的比对监测'`,
  );
  expect(rows).toEqual([
    { starts_at: new Date('2030-03-10T00:00:00Z'), ends_at: new Date('2030-03-10T02:30:00Z') },
  ]);
  await page.screenshot({ path: join(SHOTS, 'registry-maintenance.png'), fullPage: true });
  await page.close();
});
