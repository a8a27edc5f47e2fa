// The console's routes in Chromium: a deep link opened before the login is the page shown after it; a
// filtered queue link sets the queue's filter, which a case's back link and the browser's Back keep; a page
// of another role (users, the enterprise portal) and an unknown route send the user to their start page,
// an enterprise user to its portal.
import type { Page } from 'playwright-core';
import { loginPage, pageSuite } from './chromium.js';
import { CASES, PASSWORD } from './fixture.js';

const suite = pageSuite(async () => undefined);

/** A fresh page (no session) opened on `hash`, then logged in through the form it shows. */
async function loginAt(hash: string, username: string): Promise<Page> {
  await suite.chromium.browser.clearCookies();
  const page = await suite.chromium.browser.newPage();
  await page.goto(`${suite.w.base}/#${hash}`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-test=whoami]');
  return page;
}

const hashOf = (page: Page) => new URL(page.url()).hash;

it('a deep link opened before the login shows its page after it', async () => {
  const page = await loginAt('/enterprise/ent-0002', 'supervisor');
  await page.waitForSelector('[data-test=enterprise-summary]');
  expect(hashOf(page)).toBe('#/enterprise/ent-0002');
  await page.goto(`${suite.w.base}/#/case/${CASES.landong}`);
  await page.reload();
  await page.waitForSelector('[data-test=case-title]');
  expect(hashOf(page)).toBe(`#/case/${CASES.landong}`);
  await page.close();
});

it('a filtered queue link sets the filter, kept when coming back from a case', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/queue?district=dist-lanxi&state=new`);
  await page.waitForURL(/#\/$/);
  await page.locator(`[data-test=queue] tr:has([data-id="${CASES.lanxi}"])`).waitFor();
  expect(await page.locator('select[name=district]').inputValue()).toBe('dist-lanxi');
  expect(await page.locator('select[name=state]').inputValue()).toBe('new');
  expect(await page.locator(`[data-test=queue] tr:has([data-id="${CASES.landong}"])`).count()).toBe(0);
  await page.click(`[data-test=queue] tr:has([data-id="${CASES.lanxi}"]) a`);
  await page.waitForSelector('[data-test=case-title]');
  await page.goBack();
  await page.locator(`[data-test=queue] tr:has([data-id="${CASES.lanxi}"])`).waitFor();
  expect(await page.locator('select[name=district]').inputValue()).toBe('dist-lanxi');
  expect(await page.locator(`[data-test=queue] tr:has([data-id="${CASES.landong}"])`).count()).toBe(0);
  await page.close();
});

it('a page of another role and an unknown route lead to the user’s start page', async () => {
  const officer = await loginAt('/users', 'officer-dist-landong');
  await officer.waitForURL(/#\/$/);
  await officer.locator(`[data-test=queue] tr:has([data-id="${CASES.landong}"])`).waitFor();
  expect(await officer.locator('[data-test=user-list]').count()).toBe(0);
  expect(await officer.locator('[data-test=nav-users]').count()).toBe(0);
  await officer.goto(`${suite.w.base}/#/portal`);
  await officer.waitForURL(/#\/$/);
  await officer.goto(`${suite.w.base}/#/no-such-page`);
  await officer.waitForURL(/#\/$/);
  await officer.close();
  const enterprise = await loginAt('/users', 'ent-0003-user');
  await enterprise.waitForURL(/#\/portal$/);
  await enterprise.waitForSelector('[data-test=portal-cases]');
  // The bureau's pages are not an enterprise's, even by a typed link.
  for (const path of [
    '/reg/positive-list',
    '/registry',
    `/case/${CASES.lanxi}`,
    '/enterprise/ent-0003',
    '/',
  ]) {
    await enterprise.goto(`${suite.w.base}/#/overview`);
    await enterprise.waitForURL(/#\/overview$/);
    await enterprise.goto(`${suite.w.base}/#${path}`);
    await enterprise.waitForURL(/#\/portal$/);
  }
  await enterprise.close();
  expect(suite.cspMessages).toEqual([]);
});
