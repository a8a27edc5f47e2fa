// In Chromium, the regulation forms pick ids instead of taking them typed: the complaint's enterprise, the
// campaign's and the report's district are selects filled from what the API shows the signed-in user (an
// officer sees the own district's only). A complaint without an enterprise is refused in the page, naming
// the field; one with the chosen enterprise is recorded for it.
import type { Page } from 'playwright-core';
import { loginPage, pageSuite } from './chromium.js';
import { loginAs, sendAs } from './fixture.js';

const suite = pageSuite(async () => undefined);

async function zhPage(username: string, hash: string): Promise<Page> {
  const page = await loginPage(suite.chromium.browser, suite.w.base, username);
  await page.evaluate("localStorage.setItem('lang', 'zh')");
  await page.goto(`${suite.w.base}/#${hash}`);
  await page.reload();
  return page;
}
/** The non-empty option values of a select, once it has at least one. */
async function options(page: Page, select: string): Promise<string[]> {
  await page.locator(`${select} option:not([value=""])`).first().waitFor({ state: 'attached' });
  return page
    .locator(`${select} option:not([value=""])`)
    .evaluateAll((os) => os.map((o) => o.getAttribute('value') ?? ''));
}
const ids = async (username: string, url: string) =>
  (
    await sendAs<{ items: { id: string }[] }>(suite.w.base, await loginAs(suite.w.base, username), 'GET', url)
  ).body.items
    .map((x) => x.id)
    .sort();

it('the complaint’s enterprise is picked from the officer’s own enterprises; none picked is named', async () => {
  const page = await zhPage('officer-dist-landong', '/reg/complaints');
  const form = page.locator('[data-test=complaint-form]');
  const mine = await ids('officer-dist-landong', '/api/enterprises');
  expect(mine).toContain('ent-0002');
  expect(mine).not.toContain('ent-0003');
  expect((await options(page, '[data-test=complaint-form] select[name=enterpriseId]')).sort()).toEqual(mine);
  await form.locator('input[name=summary]').fill('夜间异味');
  await form.locator('button[type=submit]').click();
  await form.getByText('企业：必填').waitFor();
  await form.locator('select[name=enterpriseId]').selectOption('ent-0002');
  await form.locator('button[type=submit]').click();
  await page.locator('[data-test=complaint-list] td', { hasText: '夜间异味' }).waitFor();
  expect(
    (await suite.w.pool.query(`select enterprise_id from complaints where summary = '夜间异味'`)).rows,
  ).toEqual([{ enterprise_id: 'ent-0002' }]);
  await page.close();
});

it('the campaign’s and the report’s district are picked from the districts the user may see', async () => {
  const all = await ids('supervisor', '/api/districts');
  expect(all.length).toBeGreaterThan(1);
  const sup = await zhPage('supervisor', '/reg/campaigns');
  expect((await options(sup, 'select[name=districtId]')).sort()).toEqual(all);
  await sup.goto(`${suite.w.base}/#/reg/report`);
  expect((await options(sup, '[data-test=report] select[name=district]')).sort()).toEqual(all);
  await sup.selectOption('[data-test=report] select[name=district]', 'dist-lanxi');
  await sup.locator('[data-test=report-form] button[type=submit]').click();
  await sup.locator('[data-test=report-title]').waitFor();
  await sup.close();

  const officer = await zhPage('officer-dist-landong', '/reg/campaigns');
  expect(await options(officer, 'select[name=districtId]')).toEqual(['dist-landong']);
  await officer.goto(`${suite.w.base}/#/reg/report`);
  expect(await options(officer, '[data-test=report] select[name=district]')).toEqual(['dist-landong']);
  expect(await officer.locator('[data-test=report] select[name=district]').inputValue()).toBe('dist-landong');
  await officer.close();
  expect(suite.cspMessages).toEqual([]);
});
