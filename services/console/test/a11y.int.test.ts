// Accessibility of every console page in Chromium: axe-core finds no serious or critical violation on
// the login page and on each page of the nav, for the city supervisor, a district officer and the admin,
// and every table on them has column headers.
import type { Page } from 'playwright-core';
import { describeViolations, seriousViolations } from './axe.js';
import { launchChromium, loginPage, type Chromium } from './chromium.js';
import { CASES, createWorld, type World } from './fixture.js';

let w: World;
let chromium: Chromium;
const pages = new Map<string, Page>();

beforeAll(async () => {
  w = await createWorld();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
});

/** The logged-in page of `username`, one per user (a login clears the others' cookies, so users go in turn). */
async function pageOf(username: string): Promise<Page> {
  const open = pages.get(username);
  if (open) return open;
  for (const [, p] of pages) await p.close();
  pages.clear();
  const page = await loginPage(chromium.browser, w.base, username);
  pages.set(username, page);
  return page;
}

/** Opens `hash` as `username`, waits until `ready` is on the page and returns axe's verdict as text. */
async function violationsOn(username: string, hash: string, ready: string): Promise<string> {
  const page = await pageOf(username);
  await page.goto(`${w.base}/#${hash}`);
  await page.locator(ready).first().waitFor({ state: 'attached' });
  return describeViolations(`${username} #${hash}`, await seriousViolations(page)) + (await headerless(page));
}

/** Every table has column headers: the tables without a <th>, named by data-test or their first cell. */
async function headerless(page: Page): Promise<string> {
  const tables = await page
    .locator('table:not(:has(th))')
    .evaluateAll((ts) =>
      ts.map((t) => t.getAttribute('data-test') ?? (t.textContent ?? '').trim().slice(0, 40)),
    );
  return tables.map((t) => `\ntable without column headers: ${t}`).join('');
}

it('the login page has no serious or critical violation', async () => {
  await chromium.browser.clearCookies();
  const page = await chromium.browser.newPage();
  await page.goto(w.base + '/');
  await page.waitForSelector('[data-test=login-form]');
  expect(describeViolations('login', await seriousViolations(page))).toBe('');
  await page.close();
});

const supervisorPages: [string, string][] = [
  ['/', `[data-test=queue] tr[data-id="${CASES.landong}"]`],
  [`/case/${CASES.landong}`, '[data-test=discretion]'],
  [`/case/${CASES.falsified}`, '[data-test=falsification]'],
  ['/registry', '[data-test=enterprises] td'],
  ['/enterprise/ent-0002', '[data-test=upkeep]'],
  ['/data', '[data-test=data-form]'],
  ['/transmission', '[data-test=transmission-table], [data-test=transmission-empty]'],
  ['/overview', '[data-test=overview-cards]'],
  ['/approvals', '[data-test=no-pending], [data-test=pending]'],
  ['/reg/positive-list', '[data-test=positive-list]'],
  ['/reg/proposals', '[data-test=pl-proposals]'],
  ['/reg/draws', '[data-test=draws]'],
  ['/reg/complaints', '[data-test=complaints]'],
  ['/reg/campaigns', '[data-test=campaigns]'],
  ['/reg/report', '[data-test=report]'],
];

describe('the city supervisor’s pages have no serious or critical violation', () => {
  it.each(supervisorPages)('#%s', async (hash, ready) => {
    expect(await violationsOn('supervisor', hash, ready)).toBe('');
  });
});

describe('the district officer’s pages have no serious or critical violation', () => {
  it.each<[string, string]>([
    ['/', `[data-test=queue] tr[data-id="${CASES.landong}"]`],
    [`/case/${CASES.landong}`, '[data-test=actions]'],
    ['/enterprise/ent-0002', '[data-test=upkeep]'],
    ['/approvals', '[data-test=no-pending], [data-test=pending]'],
    ['/reg/proposals', '[data-test=pl-proposals]'],
    ['/reg/draws', '[data-test=draws]'],
    // The officer's district's report loads with the page.
    ['/reg/report', '[data-test=report-figures]'],
  ])('#%s', async (hash, ready) => {
    expect(await violationsOn('officer-dist-landong', hash, ready)).toBe('');
  });
});

describe('in English, the pages with most controls have no serious or critical violation', () => {
  it.each<[string, string]>([
    ['/', `[data-test=queue] tr[data-id="${CASES.landong}"]`],
    [`/case/${CASES.landong}`, '[data-test=discretion]'],
    ['/enterprise/ent-0002', '[data-test=upkeep]'],
    ['/reg/complaints', '[data-test=complaints]'],
    ['/reg/campaigns', '[data-test=campaigns]'],
  ])('#%s', async (hash, ready) => {
    const page = await pageOf('supervisor');
    if ((await page.getAttribute('html', 'lang')) !== 'en') {
      await page.evaluate("localStorage.setItem('lang', 'en')");
      await page.reload();
      await page.waitForSelector('[data-test=whoami]');
    }
    // The language attribute says English after a reload, not the page's initial zh-CN.
    await expect(page.getAttribute('html', 'lang')).resolves.toBe('en');
    expect(await violationsOn('supervisor', hash, ready)).toBe('');
  });
});

it('the admin’s users page has no serious or critical violation', async () => {
  expect(await violationsOn('admin', '/users', '[data-test=user-list]')).toBe('');
});
