// The whistle-blower rewards section (举报奖励) of the complaints page in Chromium under the console's CSP:
// an officer proposes a reward on a complaint (an amount with three decimals and a phone number as the
// reference are refused in Chinese with the field marked and nothing saved), sees no approval controls
// on their own proposal; the city supervisor approves it and records the payment date.
import { join } from 'node:path';
import { shanghaiDate } from '@offsite/domain/calendar';
import { loginPage, pageSuite, SHOTS } from './chromium.js';
import { listPositive, loginAs, sendAs } from './fixture.js';

let complaintId = '';
const suite = pageSuite(async (w) => {
  await listPositive(w.pool, ['ent-0002']);
  const officer = await loginAs(w.base, 'officer-dist-landong');
  const filed = await sendAs<{ complaint: { id: number } }>(
    w.base,
    officer,
    'POST',
    '/api/regulation/complaints',
    {
      channel: 'hotline',
      enterpriseId: 'ent-0002',
      urgency: 'normal',
      summary: '夜间偷排',
    },
  );
  complaintId = String(filed.body.complaint.id);
});
const rows = async () =>
  (await suite.w.pool.query(`select status, amount_fen::int, paid_on from whistleblower_rewards`)).rows;

it('an officer proposes a reward, refused in Chinese on bad input; the supervisor approves and records the payment', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'officer-dist-landong');
  await page.goto(`${suite.w.base}/#/reg/complaints`);
  const form = page.locator('[data-test=reward-propose]');
  await form.waitFor();
  await form.locator('input[name=complaintId]').fill(complaintId);
  await form.locator('input[name=amountYuan]').fill('500.125');
  await form.locator('input[name=whistleblowerRef]').fill('12369-2027-0001');
  await form.locator('input[name=basis]').fill('举报属实，查实偷排');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('[data-test=reward-error]');
  expect(await page.textContent('[data-test=reward-error]')).toContain('金额须为大于 0');
  expect(await form.locator('input[name=amountYuan]').getAttribute('aria-invalid')).toBe('true');
  expect(await rows()).toEqual([]);

  await form.locator('input[name=amountYuan]').fill('500.5');
  await form.locator('input[name=whistleblowerRef]').fill('13800000001');
  await form.locator('button[type=submit]').click();
  await page.locator('[data-test=reward-error]', { hasText: '受理编号' }).waitFor();
  expect(await form.locator('input[name=whistleblowerRef]').getAttribute('aria-invalid')).toBe('true');
  expect(await rows()).toEqual([]);

  await form.locator('input[name=whistleblowerRef]').fill('12369-2027-0001');
  await form.locator('button[type=submit]').click();
  const row = page.locator('[data-test=rewards] tr', { hasText: '12369-2027-0001' });
  await row.waitFor();
  expect(await row.locator('[data-test=reward-amount]').textContent()).toBe('500.50');
  expect((await row.locator('[data-test=reward-status]').textContent())?.trim()).toBe('待审批');
  // The proposer gets no approval controls.
  expect(await row.locator('[data-test=reward-decide]').count()).toBe(0);
  expect(await rows()).toEqual([{ status: 'proposed', amount_fen: 50050, paid_on: null }]);

  const city = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await city.goto(`${suite.w.base}/#/reg/complaints`);
  const cityRow = city.locator('[data-test=rewards] tr', { hasText: '12369-2027-0001' });
  await cityRow.locator('[data-test=reward-decide] input[name=note]').fill('同意发放');
  await cityRow.locator('[data-test=reward-decide] button[type=submit]').click();
  await cityRow.locator('[data-test=reward-pay]').waitFor();
  expect((await cityRow.locator('[data-test=reward-status]').textContent())?.trim()).toBe('已批准');
  const today = shanghaiDate(Date.now());
  await cityRow.locator('input[name=paidOn]').fill(today);
  await cityRow.locator('[data-test=reward-pay] button').click();
  await cityRow.locator('[data-test=reward-paid-on]').waitFor();
  expect(await cityRow.locator('[data-test=reward-paid-on]').textContent()).toBe(`（${today}）`);
  expect(await cityRow.locator('[data-test=reward-status]').textContent()).toBe('已发放');
  await city.screenshot({ path: join(SHOTS, 'whistleblower-rewards.png'), fullPage: true });
  expect((await rows())[0]).toMatchObject({ status: 'paid', amount_fen: 50050 });
  expect(suite.cspMessages).toEqual([]);
});
