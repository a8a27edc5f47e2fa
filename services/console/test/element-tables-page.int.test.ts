// In Chromium, the Element Plus tables: the queue sorts by a column header from the keyboard in the
// server’s order (the header says which way it sorts) and pages through the server’s pages; the registry
// filters, sorts and pages in the page; the users dialog checks its fields and names each error’s field.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { insertAlertCase, loginAs, sendAs } from './fixture.js';

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
/** Cases besides the world's four, so the queue has a second page (20 a page). */
const EXTRA = 22;

const suite = pageSuite(async (w) => {
  for (let i = 0; i < EXTRA; i++)
    await insertAlertCase(w.pool, {
      schema: 'deviation.v1',
      id: `dev-page-${String(i).padStart(2, '0')}`,
      emittedAt: '2026-03-02T04:00:05.000Z',
      revision: 1,
      state: 'opened',
      rule: 'exceedance',
      enterpriseId: 'ent-0001',
      siteId: 'out-0001-g1',
      factor: 'a21002',
      severity: SEVERITIES[i % SEVERITIES.length]!,
      windowStart: '2026-02-01T00:00:00.000Z',
      windowEnd: '2026-02-01T01:00:00.000Z',
      openedAt: new Date(Date.parse('2026-02-01T01:00:00.000Z') + i * 3_600_000).toISOString(),
      suspectedFalsification: false,
      inResumptionWindow: false,
      evidence: { summary: 'hourly mean above the permit limit', values: [], params: { limit: 50 } },
    });
});

/** The case ids of the queue's rows, top to bottom. */
const shownIds = (page: Page) =>
  page
    .locator('[data-test=queue] tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.querySelector('[data-id]')?.getAttribute('data-id')));

/** The ids of one page of the queue as the API sorts it. */
async function serverIds(query: string): Promise<string[]> {
  const s = await loginAs(suite.w.base, 'supervisor');
  const r = await sendAs<{ items: { id: string }[] }>(
    suite.w.base,
    s,
    'GET',
    `/api/deviations?pageSize=20&${query}`,
  );
  return r.body.items.map((c) => c.id);
}

/** Waits until `id` is the queue's first row. */
const firstIs = (page: Page, id: string) =>
  page.locator('[data-test=queue] tbody tr').first().locator(`[data-id="${id}"]`).waitFor();

it('the queue sorts by a column header from the keyboard, in the server’s order, and pages', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.evaluate("localStorage.setItem('lang', 'zh')");
  await page.reload();
  const newest = await serverIds('sort=openedAt&order=desc');
  await firstIs(page, newest[0]!);
  expect(await shownIds(page)).toEqual(newest);
  await expect(page.locator('[data-test=total]').textContent()).resolves.toBe(String(EXTRA + 4));

  // The severity header's sort button, from the keyboard: the most severe first, then the least.
  const severity = page.locator('[data-test=queue] th', { hasText: '级别' });
  await severity.getByRole('button').focus();
  await page.keyboard.press('Enter');
  const severe = await serverIds('sort=severity&order=desc');
  expect(severe).not.toEqual(newest);
  await firstIs(page, severe[0]!);
  expect(await shownIds(page)).toEqual(severe);
  await expect(
    page.locator('[data-test=queue] tbody tr').first().locator('[data-test=severity]').textContent(),
  ).resolves.toBe('严重');
  await expect(severity.getAttribute('aria-sort')).resolves.toBe('descending');
  await page.keyboard.press('Enter');
  const mild = await serverIds('sort=severity&order=asc');
  await firstIs(page, mild[0]!);
  expect(await shownIds(page)).toEqual(mild);
  await expect(severity.getAttribute('aria-sort')).resolves.toBe('ascending');

  // The second page holds the rest, in the same order.
  await page.locator('[data-test=queue-pager]').getByLabel('第 2 页').click();
  const rest = await serverIds('sort=severity&order=asc&page=2');
  expect(rest).toHaveLength(EXTRA + 4 - 20);
  await firstIs(page, rest[0]!);
  expect(await shownIds(page)).toEqual(rest);
  await page.close();
  expect(suite.cspMessages).toEqual([]);
});

it('the registry filters by name or id, district and status, and sorts by a header', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/registry`);
  const s = await loginAs(suite.w.base, 'supervisor');
  const all = (
    await sendAs<{ items: { id: string; districtId: string }[] }>(suite.w.base, s, 'GET', '/api/enterprises')
  ).body.items;
  await page.locator('[data-test=enterprises] [data-id="ent-0001"]').waitFor();
  await expect(page.locator('[data-test=registry-total]').textContent()).resolves.toBe(String(all.length));
  const ids = () =>
    page
      .locator('[data-test=enterprises] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.querySelector('[data-id]')?.getAttribute('data-id')));
  expect(await ids()).toEqual(
    all
      .map((e) => e.id)
      .sort()
      .slice(0, 20),
  );
  // Every column has its header, in the same table as the rows.
  await expect(
    page.locator('[data-test=enterprises] table:has(tbody tr) th').allTextContents(),
  ).resolves.toEqual(['编号', '企业', '区县', '监管类别', '生产状态']);
  // The id header's sort button turns the order round.
  const idSort = page.locator('[data-test=enterprises] th', { hasText: '编号' }).getByRole('button');
  await idSort.press('Enter');
  await page.locator('[data-test=enterprises] th[aria-sort=descending]', { hasText: '编号' }).waitFor();
  expect(await ids()).toEqual(
    all
      .map((e) => e.id)
      .sort()
      .reverse()
      .slice(0, 20),
  );
  // A district leaves its enterprises only; a search within them, the one it names.
  await page.selectOption('[data-test=registry-filters] select[name=district]', { label: '澜西区' });
  const lanxi = all.filter((e) => e.districtId === 'dist-lanxi').map((e) => e.id);
  expect(lanxi.length).toBeGreaterThan(1);
  await expect(page.locator('[data-test=registry-total]').textContent()).resolves.toBe(String(lanxi.length));
  expect((await ids()).sort()).toEqual(lanxi.sort());
  await page.getByLabel('搜索').fill(lanxi[0]!);
  await expect(page.locator('[data-test=registry-total]').textContent()).resolves.toBe('1');
  expect(await ids()).toEqual([lanxi[0]]);
  await page.getByLabel('搜索').fill('');
  await page.selectOption('[data-test=registry-filters] select[name=district]', '');
  await idSort.press('Enter');
  await page.locator('[data-test=enterprises] th[aria-sort=ascending]', { hasText: '编号' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'registry.png') });
  await page.close();
});

it('the users dialog names the field of each error, its own and the server’s, in the chosen language', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'admin');
  await page.evaluate("localStorage.setItem('lang', 'zh')");
  await page.goto(`${suite.w.base}/#/users`);
  await page.reload();
  await page.locator('[data-test=user-create]').click();
  const form = page.locator('[data-test=user-form]');
  await form.waitFor();
  // Saving the empty form: the required fields are named, nothing is sent.
  await form.getByRole('button', { name: '保存' }).click();
  await form.getByText('用户名：必填').waitFor();
  await form.getByText('姓名：必填').waitFor();
  await form.getByLabel('邮箱').fill('not-an-address');
  await form.getByLabel('邮箱').blur();
  await form.getByText('邮箱：邮箱格式不正确').waitFor();
  // An existing username passes the form's checks; the server's refusal is shown at that field.
  await form.getByLabel('用户名').fill('supervisor');
  await form.getByLabel('姓名').fill('重名');
  await form.getByLabel('区县').selectOption('dist-lanxi');
  await form.getByLabel('邮箱').fill('');
  await form.getByRole('button', { name: '保存' }).click();
  await form.getByText('用户名已存在').waitFor();
  expect(
    (await suite.w.pool.query(`select count(*)::int as n from console_users where display_name = '重名'`))
      .rows[0].n,
  ).toBe(0);
  await page.screenshot({ path: join(SHOTS, 'users-dialog.png') });
  // The dialog is modal: Escape closes it. In English the form's own messages name the field in English.
  await page.keyboard.press('Escape');
  await form.waitFor({ state: 'hidden' });
  await page.click('[data-test=lang]');
  await page.locator('[data-test=user-create]').click();
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByText('Username: required').waitFor();
  await page.close();
  expect(suite.cspMessages).toEqual([]);
});
