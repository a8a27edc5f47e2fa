// The penalty-discretion section of a case in Chromium: the first-violation check, a decision refused
// by field in the chosen language (nothing saved), then proposed by the district officer and put in
// force by the city supervisor it names and counted in the month's report; a coercive measure with a past review date refused.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import type { Page } from 'playwright-core';
import { launchChromium, loginPage, type Chromium } from './chromium.js';
import { CASES, createWorld, type World } from './fixture.js';

const shots = fileURLToPath(new URL('../test-output/', import.meta.url));
let w: World;
let chromium: Chromium;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  w = await createWorld();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
});

async function openCase(username: string, lang: 'zh' | 'en' = 'zh'): Promise<Page> {
  const page = await loginPage(chromium.browser, w.base, username);
  await page.evaluate(`localStorage.setItem('lang', '${lang}')`);
  await page.goto(`${w.base}/#/case/${CASES.landong}`);
  await page.reload();
  await page.waitForSelector('[data-test=discretion] [data-test=first-violation]');
  return page;
}
const decisions = async () =>
  Number((await w.pool.query('select count(*)::int as n from discretion_decisions')).rows[0].n);

it('an officer proposes a no-penalty decision with its criteria and basis; the named supervisor puts it in force', async () => {
  const page = await openCase('officer-dist-landong');
  const section = page.locator('[data-test=discretion]');
  await expect(section.locator('[data-test=first-violation]').textContent()).resolves.toContain('属首次违法');
  const form = section.locator('[data-test=decision-form]');
  await form.locator('select[name=basisCode]').selectOption('apl-33-1-minor');
  // The basis marks the criteria it requires.
  await expect(form.locator('fieldset').textContent()).resolves.toContain('所选依据要求');
  await form.getByRole('checkbox', { name: /^违法行为轻微/ }).check();
  await form.getByRole('checkbox', { name: /^在期限内改正/ }).check();
  await form.locator('textarea[name=reason]').fill('超标仅两小时，当日已整改');
  const supervisorId = (
    await w.pool.query(`select id::text as id from console_users where username = 'supervisor'`)
  ).rows[0].id as string;
  await form.locator('select[name=approverId]').selectOption(supervisorId);
  await form.locator('[data-test=submit-decision]').click();
  const error = section.locator('[data-test=discretion-error]');
  await error.waitFor();
  await expect(error.textContent()).resolves.toContain('未造成危害后果');
  await expect(error.textContent()).resolves.not.toContain(' / ');
  expect(await form.getByRole('checkbox', { name: /^未造成危害后果/ }).getAttribute('aria-invalid')).toBe(
    'true',
  );
  expect(await decisions()).toBe(0);

  await form.getByRole('checkbox', { name: /^未造成危害后果/ }).check();
  await form.locator('[data-test=submit-decision]').click();
  await section.locator('[data-test=discretion-saved]').waitFor();
  const row = section.locator('[data-test=decisions] tbody tr').first();
  await expect(row.locator('[data-test=status]').textContent()).resolves.toContain('待审批');
  await expect(row.textContent()).resolves.toContain('违法行为轻微、在期限内改正、未造成危害后果');
  // The maker cannot approve their own decision: no buttons for them.
  expect(await row.locator('[data-test=approve]').count()).toBe(0);

  const measure = section.locator('[data-test=measure-form]');
  const today = shanghaiDate(Date.now());
  await measure.locator('select[name=kind]').selectOption('seal-up');
  await measure.locator('input[name=startsOn]').fill(addDays(today, -3));
  await measure.locator('input[name=reviewOn]').fill(addDays(today, -1));
  await measure.locator('input[name=reason]').fill('查封旁路阀门');
  await measure.locator('select[name=approverId]').selectOption(supervisorId);
  await measure.locator('button[type=submit]').click();
  await measure.locator('[data-test=reviewOn-error]', { hasText: '复查日期已经过去' }).waitFor();
  expect(await measure.locator('input[name=reviewOn]').getAttribute('aria-invalid')).toBe('true');
  expect(await measure.locator('input[name=startsOn]').getAttribute('aria-invalid')).toBe('false');
  expect(Number((await w.pool.query('select count(*)::int as n from coercive_measures')).rows[0].n)).toBe(0);
  await section.screenshot({ path: join(shots, 'discretion-proposed.png') });
  await page.close();

  const sup = await openCase('supervisor', 'en');
  const s2 = sup.locator('[data-test=discretion]');
  await expect(s2.locator('h3').first().textContent()).resolves.toBe('Penalty discretion');
  const mine = s2.locator('[data-test=decisions] tbody tr').first();
  await expect(mine.textContent()).resolves.toContain('Administrative Penalty Law');
  await mine.locator('input').fill('Agreed');
  await mine.locator('[data-test=approve]').click();
  await mine.locator('[data-test=status]', { hasText: 'in force' }).waitFor();
  const stored = await w.pool.query(`select status, approval_note from discretion_decisions`);
  expect(stored.rows).toEqual([{ status: 'approved', approval_note: 'Agreed' }]);
  await s2.screenshot({ path: join(shots, 'discretion-approved.png') });
  // The month's report counts it by kind (minor / first violation / force majeure).
  await sup.goto(`${w.base}/#/reg/report`);
  await sup.waitForSelector('[data-test=report] input[name=month]');
  await sup.selectOption('[data-test=report] select[name=district]', 'dist-landong');
  await sup.fill('[data-test=report] input[name=month]', shanghaiDate(Date.now()).slice(0, 7));
  await sup.click('[data-test=report] button[type=submit]');
  const noPenalty = sup.locator('[data-test=report-no-penalty]');
  await noPenalty.waitFor();
  expect((await noPenalty.textContent())?.replace(/\s+/g, ' ').trim()).toBe('1 / 0 / 0');
  await sup.close();
});
