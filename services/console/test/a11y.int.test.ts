// Accessibility of every console page in Chromium: axe-core finds no serious or critical violation on
// the login page and on each page of the nav, for the city supervisor, a district officer, the admin and
// an enterprise user (its portal and its other pages, and the invitation page), and every table on them has
// column headers; every control that Tab reaches shows a visible focus outline.
import type { Page } from 'playwright-core';
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import { describeViolations, seriousViolations } from './axe.js';
import { launchChromium, loginPage, type Chromium } from './chromium.js';
import { writeBrowseData } from './data-fixture.js';
import { CASES, createWorld, loginAs, raiseLimit, sendAs, type World } from './fixture.js';

let w: World;
let chromium: Chromium;
const pages = new Map<string, Page>();

beforeAll(async () => {
  w = await createWorld();
  await writeBrowseData(w);
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

/** Opens `hash` as `username` and returns axe's verdict on it as text (empty: no violation). */
async function violationsOn(username: string, hash: string, ready: string): Promise<string> {
  const page = await pageOf(username);
  await page.goto(`${w.base}/#${hash}`);
  return violationsShown(page, `${username} #${hash}`, ready);
}

/** Waits until `ready` is on the page and returns axe's verdict on what it shows now, as text. */
async function violationsShown(page: Page, where: string, ready: string): Promise<string> {
  await page.locator(ready).first().waitFor({ state: 'attached' });
  return describeViolations(where, await seriousViolations(page)) + (await headerless(page));
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
  ['/', `[data-test=queue] tr:has([data-id="${CASES.landong}"])`],
  [`/case/${CASES.landong}`, '[data-test=discretion]'],
  [`/case/${CASES.falsified}`, '[data-test=falsification]'],
  ['/registry', '[data-test=enterprises] td'],
  ['/enterprise/ent-0002', '[data-test=upkeep]'],
  // The risk score section loads on its own (EnterpriseRisk.vue).
  ['/enterprise/ent-0002', '[data-test=enterprise-risk-score]'],
  ['/data', '[data-test=data-form]'],
  ['/transmission', '[data-test=transmission-table], [data-test=transmission-empty]'],
  ['/overview', '[data-test=overview-cards]'],
  ['/compliance', '[data-test=compliance-table], [data-test=compliance-empty]'],
  ['/reminders?month=2026-03&state=sent', '[data-test=reminders-table]'],
  ['/loads', '[data-test=loads-form]'],
  ['/approvals', '[data-test=no-pending], [data-test=pending]'],
  ['/reg/positive-list', '[data-test=positive-list]'],
  ['/reg/proposals', '[data-test=pl-proposals]'],
  ['/reg/draws', '[data-test=draws]'],
  ['/reg/complaints', '[data-test=complaints]'],
  ['/reg/campaigns', '[data-test=campaigns]'],
  ['/reg/report', '[data-test=report]'],
  ['/submissions', '[data-test=sub-status] tbody tr'],
];

describe('the city supervisor’s pages have no serious or critical violation', () => {
  it.each(supervisorPages)('#%s', async (hash, ready) => {
    expect(await violationsOn('supervisor', hash, ready)).toBe('');
  });
});

describe('the district officer’s pages have no serious or critical violation', () => {
  it.each<[string, string]>([
    ['/overview', '[data-test=overview-cards]'],
    ['/', `[data-test=queue] tr:has([data-id="${CASES.landong}"])`],
    [`/case/${CASES.landong}`, '[data-test=actions]'],
    ['/enterprise/ent-0002', '[data-test=upkeep]'],
    ['/approvals', '[data-test=no-pending], [data-test=pending]'],
    ['/reg/proposals', '[data-test=pl-proposals]'],
    ['/reg/draws', '[data-test=draws]'],
    // The officer's district's report loads with the page.
    ['/reg/report', '[data-test=report-figures]'],
    ['/submissions', '[data-test=sub-form]'],
  ])('#%s', async (hash, ready) => {
    expect(await violationsOn('officer-dist-landong', hash, ready)).toBe('');
  });
});

it('the registry upkeep’s device and meter forms, open, with a server error under a field', async () => {
  const page = await pageOf('officer-dist-landong');
  await page.goto(`${w.base}/#/enterprise/ent-0002`);
  await page.locator('[data-test=device-list] [data-test^=edit-device-]').first().click();
  const form = page.locator('[data-test=device-form]');
  await form.locator('input[name=newMn]').fill('99010201FG00010000000001');
  await form.locator('button[type=submit]').click();
  await form.locator('.el-form-item__error').waitFor();
  await page.locator('[data-test=meter-list] [data-test^=edit-meter-]').first().click();
  expect(
    await violationsShown(page, 'officer #/enterprise/ent-0002 (forms open)', '[data-test=meter-form]'),
  ).toBe('');
});

it('the queue and the registry open a case and an enterprise from the keyboard', async () => {
  const page = await pageOf('supervisor');
  await page.goto(`${w.base}/#/`);
  await page.locator(`[data-test=queue] tr:has([data-id="${CASES.landong}"]) a`).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-test=case-title]');
  expect(page.url()).toBe(`${w.base}/#/case/${CASES.landong}`);
  await page.goto(`${w.base}/#/registry`);
  await page.locator('[data-test=enterprises] a', { hasText: 'ent-0002' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-test=enterprise-summary]');
  expect(page.url()).toBe(`${w.base}/#/enterprise/ent-0002`);
});

describe('in English, the pages with most controls have no serious or critical violation', () => {
  it.each<[string, string]>([
    ['/', `[data-test=queue] tr:has([data-id="${CASES.landong}"])`],
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

describe('the enterprise user’s other pages have no serious or critical violation', () => {
  it.each<[string, string]>([
    ['/overview', '[data-test=overview-cards]'],
    ['/data', '[data-test=data-form]'],
    ['/transmission', '[data-test=transmission-table], [data-test=transmission-empty]'],
    ['/reminders', '[data-test=reminders-table], [data-test=reminders-empty]'],
  ])('#%s', async (hash, ready) => {
    expect(await violationsOn('ent-0003-user', hash, ready)).toBe('');
  });
});

/**
 * Tabs through the page (at most `max` presses, until focus comes round to a control again) and returns how
 * many controls it reached and those whose focus shows no outline of at least 2 px (nor a box shadow), from
 * the top of the page; after the last control Tab passes through the browser.
 */
async function tabStops(page: Page, max: number): Promise<{ reached: number; unmarked: string[] }> {
  // Tab starts after the point last clicked: the app's title, before the nav.
  await page.click('header h1');
  let reached = 0;
  const unmarked: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const stop = (await page.evaluate(`(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      // A date input's day, month and year are stops of their own within the one control.
      if (e.getAttribute('data-tab-seen') === '${reached}') return { within: true };
      if (e.hasAttribute('data-tab-seen')) return { again: true };
      e.setAttribute('data-tab-seen', '${reached + 1}');
      const s = getComputedStyle(e);
      return {
        again: false,
        name: e.tagName.toLowerCase() + ' ' + (e.getAttribute('aria-label') || e.textContent || e.getAttribute('name') || '').trim().slice(0, 30),
        marked: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none',
      };
    })()`)) as { again?: boolean; within?: boolean; name?: string; marked?: boolean } | null;
    if (!stop || stop.within) continue;
    if (stop.again) break;
    reached++;
    if (!stop.marked) unmarked.push(stop.name ?? '');
  }
  await page.evaluate(
    `document.querySelectorAll('[data-tab-seen]').forEach((e) => e.removeAttribute('data-tab-seen'))`,
  );
  return { reached, unmarked };
}

describe('every control reached with Tab shows where the focus is', () => {
  it.each<[string, string, string, number]>([
    ['supervisor', '/', `[data-test=queue] tr:has([data-id="${CASES.landong}"])`, 20],
    ['supervisor', `/case/${CASES.landong}`, '[data-test=actions]', 25],
    ['officer-dist-landong', '/enterprise/ent-0002', '[data-test=upkeep]', 40],
    ['ent-0003-user', '/portal', '[data-test=portal-cases]', 10],
  ])('%s #%s', async (username, hash, ready, least) => {
    const page = await pageOf(username);
    await page.goto(`${w.base}/#${hash}`);
    await page.locator(ready).first().waitFor();
    const { reached, unmarked } = await tabStops(page, 120);
    expect(unmarked).toEqual([]);
    expect(reached).toBeGreaterThanOrEqual(least);
  });

  it('on the login page', async () => {
    await chromium.browser.clearCookies();
    for (const [, p] of pages) await p.close();
    pages.clear();
    const page = await chromium.browser.newPage();
    await page.goto(w.base + '/');
    await page.waitForSelector('[data-test=login-form]');
    const { reached, unmarked } = await tabStops(page, 12);
    expect(unmarked).toEqual([]);
    // The language switch, the user name, the password and the login button.
    expect(reached).toBe(4);
    await page.close();
  });
});

describe('the enterprise portal has no serious or critical violation', () => {
  it('the portal with a case open, in Chinese and in English', async () => {
    const page = await pageOf('ent-0003-user');
    // The language is kept per browser: the tests after this one find it as they left it.
    const before = await page.evaluate("localStorage.getItem('lang') ?? 'zh'");
    for (const l of ['zh', 'en']) {
      await page.evaluate(`localStorage.setItem('lang', '${l}')`);
      await page.goto(`${w.base}/#/portal`);
      await page.reload();
      await page.waitForSelector('[data-test=portal-cases]');
      await page.click(`[data-test="portal-open-${CASES.lanxi}"]`);
      expect(
        await violationsShown(page, `ent-0003-user #/portal (${l})`, '[data-test=portal-ack-form]'),
      ).toBe('');
    }
    await page.evaluate(`localStorage.setItem('lang', '${before}')`);
  });

  it('the invitation page', async () => {
    const officer = await loginAs(w.base, 'officer-dist-lanxi');
    const inv = await sendAs<{ token: string }>(w.base, officer, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0003',
      displayName: '环保专员',
    });
    await chromium.browser.clearCookies();
    for (const [, p] of pages) await p.close();
    pages.clear();
    const page = await chromium.browser.newPage();
    await page.goto(`${w.base}/#/invite/${inv.body.token}`);
    expect(await violationsShown(page, '#/invite', '[data-test=portal-invite-form]')).toBe('');
    await page.close();
  });
});

it('the admin’s users page has no serious or critical violation', async () => {
  expect(await violationsOn('admin', '/users', '[data-test=user-list]')).toBe('');
});

describe('pages with their results shown have no serious or critical violation', () => {
  it('the approvals page with a pending limit raise, and the enterprise page marking it', async () => {
    const officer = await loginAs(w.base, 'officer-dist-landong');
    const raised = await raiseLimit(w.base, officer);
    expect(raised.body.state).toBe('pending');
    const pending = `[data-test=pending] tr:has([data-id="${raised.body.requestId}"])`;
    expect(await violationsOn('supervisor', '/approvals', pending)).toBe('');
    expect(await violationsOn('officer-dist-landong', '/approvals', pending)).toBe('');
  });

  it('the complaints page with a complaint and its verification task', async () => {
    // A complaint about an enterprise on the positive list gets a verification task.
    await w.pool.query(
      `insert into positive_list_decisions (enterprise_id, action, reason, valid_from, decided_by)
       values ('ent-0002', 'add', 'test', $1, 'supervisor')`,
      [addDays(shanghaiDate(Date.now()), -30)],
    );
    const officer = await loginAs(w.base, 'officer-dist-landong');
    const filed = await sendAs<{ complaint: { id: number }; verificationTask: { id: number } }>(
      w.base,
      officer,
      'POST',
      '/api/regulation/complaints',
      { channel: 'hotline', enterpriseId: 'ent-0002', urgency: 'normal', summary: '夜间异味' },
    );
    const task = `[data-test=verification-tasks] [data-test=task-${filed.body.verificationTask.id}]`;
    // A proposed whistle-blower reward: the supervisor sees its approval and rejection controls.
    const reward = await sendAs<{ id: string }>(w.base, officer, 'POST', '/api/whistleblower-rewards', {
      complaintId: String(filed.body.complaint.id),
      amountYuan: '500',
      whistleblowerRef: '12369-A11Y',
      basis: '举报属实',
    });
    const row = `[data-test=rewards] tr:has([data-test=reward-${reward.body.id}]) [data-test=reward-decide]`;
    expect(await violationsOn('officer-dist-landong', '/reg/complaints', task)).toBe('');
    const both = `[data-test=complaints]:has(${task}):has(${row})`;
    expect(await violationsOn('supervisor', '/reg/complaints', both)).toBe('');
  });

  it('the draws page with a draw open', async () => {
    await w.pool.query(`insert into inspectors (id, name, district_id) values
      ('insp-a1', '检查员一', 'dist-landong'), ('insp-a2', '检查员二', 'dist-landong'),
      ('insp-a3', '检查员三', 'dist-lanxi'), ('insp-a4', '检查员四', 'dist-lanxi'),
      ('insp-a5', '检查员五', 'dist-kaifa'), ('insp-a6', '检查员六', 'dist-kaifa')`);
    const page = await pageOf('supervisor');
    await page.goto(`${w.base}/#/reg/draws`);
    await page.waitForSelector('[data-test=draw-list]');
    const [period, seed] = await page.locator('[data-test=draws] form input').all();
    await period!.fill('2026-Q2');
    await seed!.fill('2026Q2-a11y');
    await page.click('[data-test=draws] button[type=submit]');
    expect(await violationsShown(page, 'supervisor #/reg/draws (a draw)', '[data-test=draw-csv]')).toBe('');
  });

  it('the data browser with an hour’s chart, data table and aggregates', async () => {
    const page = await pageOf('supervisor');
    await page.goto(`${w.base}/#/data`);
    await page.waitForSelector('[data-test=data-enterprise] option[value="ent-0002"]', { state: 'attached' });
    await page.selectOption('[data-test=data-enterprise]', 'ent-0002');
    await page.waitForSelector('[data-test=data-site] option[value="out-0002-g1"]', { state: 'attached' });
    await page.selectOption('[data-test=data-site]', 'out-0002-g1');
    await page.selectOption('[data-test=data-factor]', 'a21002');
    await page.selectOption('[data-test=data-granularity]', 'hour');
    await page.fill('[data-test=data-from]', '2026-02-01T00:00');
    await page.fill('[data-test=data-to]', '2026-02-02T00:00');
    await page.click('[data-test=data-query]');
    expect(
      await violationsShown(page, 'supervisor #/data (results)', '[data-test=data-aggregates] tbody tr'),
    ).toBe('');
  });
});
