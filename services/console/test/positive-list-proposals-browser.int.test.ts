// In Chromium: the approvals table reads as field names and values (before → after), and the
// positive-list proposals page takes an officer's proposal and a city supervisor's decision.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { shanghaiDate } from '@offsite/domain/calendar';
import { launchChromium, loginPage, type Chromium } from './chromium.js';
import { createWorld, loginAs, raiseLimit, sendAs, type World } from './fixture.js';
import { goodStability } from './regulation-harness.js';

const shots = fileURLToPath(new URL('../test-output/', import.meta.url));
let w: World;
let chromium: Chromium;
let browser: BrowserContext;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  w = await createWorld({ regulation: () => ({ stability: goodStability }) });
  chromium = await launchChromium();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
});

/** A fresh page logged in as `username`, Chinese unless `lang` says otherwise, at `hash`. */
async function pageAs(username: string, hash: string, lang: 'zh' | 'en' = 'zh'): Promise<Page> {
  const page = await loginPage(browser, w.base, username);
  await page.evaluate(`localStorage.setItem('lang', '${lang}')`);
  await page.goto(`${w.base}/#${hash}`);
  // The language is read when the app loads.
  await page.reload();
  await page.waitForSelector('[data-test=whoami]');
  return page;
}
const text = async (page: Page, selector: string) =>
  ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

it('the approvals table names each field and shows its value before → after, in Chinese and English', async () => {
  const officer = await loginAs(w.base, 'officer-dist-landong');
  const raised = await raiseLimit(w.base, officer);
  expect(raised.body.state).toBe('pending');
  const disabled = await sendAs<{ state: string; requestId: string }>(
    w.base,
    officer,
    'PATCH',
    '/api/enterprises/ent-0002/devices/99010202FG00020000000001',
    { enabled: false },
  );
  expect(disabled.body.state).toBe('pending');

  const page = await pageAs('supervisor', '/approvals');
  const limitRow = `[data-test=pending] tr:has([data-id="${raised.body.requestId}"])`;
  await page.waitForSelector(limitRow);
  expect(await text(page, `${limitRow} [data-test=change] .subject`)).toBe(
    '排放口 out-0002-g1 · 二氧化硫 SO₂ · 小时均值',
  );
  expect(await text(page, `${limitRow} li[data-field=value]`)).toBe('限值：50 → 80');
  const deviceRow = `[data-test=pending] tr:has([data-id="${disabled.body.requestId}"])`;
  expect(await text(page, `${deviceRow} [data-test=change] .subject`)).toBe(
    '设备 MN 99010202FG00020000000001',
  );
  expect(await text(page, `${deviceRow} li[data-field=enabled]`)).toBe('启用：启用 → 停用');
  // Why each waits, in the chosen language only (the other language on hover).
  expect(await text(page, `${limitRow} [data-test=why]`)).toBe('限值放宽');
  expect(await page.locator(`${limitRow} [data-test=why]`).getAttribute('title')).toBe('limit relaxed');
  expect(await text(page, `${deviceRow} [data-test=why]`)).toBe('停用设备');
  const cells = await page.locator('[data-test=pending] [data-test=change]').allTextContents();
  for (const raw of ['value:', 'factorCode', 'outletId', 'enabled:', 'a21026', 'true', 'false', '"'])
    expect(cells.join(' ')).not.toContain(raw);
  await page.screenshot({ path: join(shots, 'approvals-fields-zh.png'), fullPage: true });

  await page.click('[data-test=lang]');
  await page.locator(`${limitRow} li[data-field=value]`, { hasText: 'Limit' }).waitFor();
  expect(await text(page, `${limitRow} li[data-field=value]`)).toBe('Limit: 50 → 80');
  expect(await text(page, `${limitRow} [data-test=change] .subject`)).toBe(
    'Outlet out-0002-g1 · Sulphur dioxide SO₂ · Hourly mean',
  );
  expect(await text(page, `${deviceRow} li[data-field=enabled]`)).toBe('Enabled: enabled → disabled');
  expect(await text(page, `${limitRow} [data-test=why]`)).toBe('limit relaxed');
  expect(await text(page, `${deviceRow} [data-test=why]`)).toBe('device disabled');
  await page.close();
});

it('an officer proposes adding an enterprise of the district; a city supervisor approves it and the registry marks it listed', async () => {
  const officer = await pageAs('officer-dist-landong', '/reg/proposals');
  await officer.waitForSelector('[data-test=pl-form]');
  // Only the officer's district is offered, and only enterprises not yet on the list.
  await officer.waitForSelector('select[name=plEnterprise] option[value="ent-0002"]', { state: 'attached' });
  const offered = await officer
    .locator('select[name=plEnterprise] option')
    .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value).filter(Boolean));
  expect(offered).toContain('ent-0001');
  expect(offered).not.toContain('ent-0003');
  await officer.selectOption('select[name=plAction]', 'add');
  await officer.selectOption('select[name=plEnterprise]', 'ent-0002');
  await officer.fill('textarea[name=plReason]', '连续三个季度稳定达标，信用A级');
  // A first day in the past: the server's bilingual answer names the field, shown in Chinese.
  await officer.fill('input[name=plValidFrom]', '2020-01-01');
  await officer.click('[data-test=pl-form] button[type=submit]');
  await officer.waitForSelector('[data-test=pl-error]');
  expect(await text(officer, '[data-test=pl-error]')).toMatch(/^validFrom：不得早于今天/);
  expect(await officer.locator('input[name=plValidFrom].invalid').count()).toBe(1);
  expect(await officer.locator('[data-test=pl-list]').count()).toBe(0);

  await officer.fill('input[name=plValidFrom]', '');
  await officer.click('[data-test=pl-form] button[type=submit]');
  await officer.waitForSelector('[data-test=pl-saved]');
  const row = officer.locator('[data-test=pl-list] tbody tr').first();
  expect(await row.locator('[data-state]').getAttribute('data-state')).toBe('pending');
  expect(((await row.textContent()) ?? '').replace(/\s+/g, ' ')).toMatch(
    /澜东区.*纳入正面清单.*提出时符合纳入条件.*连续三个季度稳定达标，信用A级.*officer-dist-landong.*待审批/,
  );
  // Officers do not decide.
  expect(await officer.locator('[data-test=pl-approve]').count()).toBe(0);
  await officer.screenshot({ path: join(shots, 'positive-list-proposal-zh.png'), fullPage: true });
  const id = await row.locator('[data-id]').getAttribute('data-id');
  await officer.close();

  const sup = await pageAs('supervisor', '/reg/proposals');
  // The proposal's mark (its id and state) and its row.
  const mark = `[data-test=pl-list] [data-id="${id}"]`;
  const pending = `[data-test=pl-list] tr:has([data-id="${id}"])`;
  await sup.waitForSelector(`${pending} [data-test=pl-approve]`);
  // Approving without a reason is refused by name, and nothing changes.
  await sup.click(`${pending} [data-test=pl-approve]`);
  await sup.waitForSelector('[data-test=pl-error]');
  expect(await text(sup, '[data-test=pl-error]')).toContain('reason');
  expect(await sup.locator(mark).getAttribute('data-state')).toBe('pending');
  await sup.fill(`input[name="plDecision-${id}"]`, '经市局审核，符合纳入条件');
  await sup.click(`${pending} [data-test=pl-approve]`);
  await sup.waitForSelector(pending, { state: 'detached' });
  await sup.selectOption('[data-test=pl-state]', 'approved');
  await sup.waitForSelector(`${mark}[data-state=approved]`);
  expect(await text(sup, `${pending} [data-test=pl-decision-reason]`)).toBe('经市局审核，符合纳入条件');
  expect(await text(sup, `${pending} [data-test=pl-row-state]`)).toBe('已批准');
  await sup.screenshot({ path: join(shots, 'positive-list-approved-zh.png'), fullPage: true });

  // The positive-list page's history of the enterprise: who decided, who proposed, and why.
  await sup.goto(`${w.base}/#/reg/positive-list`);
  await sup.getByRole('button', { name: '历史 ent-0002', exact: true }).click();
  await sup.waitForSelector('[data-test=pl-history] tbody tr');
  const cells = (
    await sup.locator('[data-test=pl-history] tbody tr').first().locator('td').allTextContents()
  ).map((c) => c.replace(/\s+/g, ' ').trim());
  expect(cells.slice(1, 5)).toEqual([
    '纳入',
    `${shanghaiDate(new Date())} –`,
    '经市局审核，符合纳入条件',
    'supervisor',
  ]);
  expect(cells[5]).toMatch(/^officer-dist-landong .+：连续三个季度稳定达标，信用A级$/);

  // Where the list is used: the registry marks the enterprise.
  await sup.goto(`${w.base}/#/registry`);
  const ent = sup.locator('[data-test=enterprises] tr', { hasText: 'ent-0002' });
  await ent.locator('[data-test=listed]').waitFor();

  // The page in English.
  await sup.goto(`${w.base}/#/reg/proposals`);
  await sup.click('[data-test=lang]');
  await sup.waitForSelector('text=Positive-list proposals');
  await sup.selectOption('[data-test=pl-state]', 'approved');
  await sup.waitForSelector(`${mark}[data-state=approved]`);
  expect(await text(sup, `${pending} [data-test=pl-row-state]`)).toBe('approved');
  expect(await text(sup, `${pending}`)).toContain('Add to the list');
  await sup.close();
});
