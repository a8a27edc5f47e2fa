// In Chromium under the console's CSP: a complaint that came in through the WeChat official account is
// listed as 微信 with its sender masked and no enterprise; the city supervisor assigns the enterprise
// in the row. A contact's WeChat openid is edited on the registry upkeep page: a malformed one is
// named under its field, a good one saved. Both views pass axe's serious/critical checks.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { recordIntakeComplaint } from '../src/regulation/complaints-repo.js';
import { describeViolations, seriousViolations } from './axe.js';
import { loginPage, pageSuite, SHOTS } from './chromium.js';

const OPENID = 'oQw3Ert5Yui7Opa9SdfGhJk1';
let complaintId = 0;
const suite = pageSuite(async (w) => {
  const c = await recordIntakeComplaint(w.pool, {
    id: 'wechat:gh_offsite:24000000000000123',
    channel: 'wechat',
    source: OPENID,
    text: '港城供热厂夜里烟囱冒黑烟',
    receivedAt: new Date(Date.now() - 3_600_000),
  });
  complaintId = c!.id;
});
const one = async (sql: string, params: unknown[] = []) => (await suite.w.pool.query(sql, params)).rows[0];
const errorUnder = (page: Page, form: string, control: string) =>
  page.locator(`[data-test=${form}] .el-form-item:has(${control}) .el-form-item__error`);

it('lists a WeChat complaint with the sender masked and no enterprise; the supervisor assigns one', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'supervisor');
  await page.goto(`${suite.w.base}/#/reg/complaints`);
  const row = page.locator('[data-test=complaint-list] tr', { hasText: '港城供热厂夜里烟囱冒黑烟' });
  await row.waitFor();
  expect(await row.textContent()).toContain('微信');
  expect(await row.locator(`[data-test=complaint-source-${complaintId}]`).textContent()).toContain('oQw3…k1');
  expect(await page.content()).not.toContain(OPENID);
  await row.locator(`[data-test=complaint-unassigned-${complaintId}]`).waitFor();
  expect(await row.textContent()).toContain('待指定企业');
  // Without an enterprise the only step offered is a rejection.
  expect(await row.getByRole('button', { name: '已确认' }).count()).toBe(0);
  expect(describeViolations('complaints with a WeChat complaint', await seriousViolations(page))).toBe('');
  await page.screenshot({ path: join(SHOTS, 'complaints-wechat.png'), fullPage: true });

  await row.locator(`[data-test=complaint-assign-select-${complaintId}]`).selectOption('ent-0002');
  await row.locator(`[data-test=complaint-assign-${complaintId}]`).click();
  await row.locator(`[data-test=complaint-unassigned-${complaintId}]`).waitFor({ state: 'detached' });
  expect(await row.textContent()).toContain('ent-0002');
  expect(await one('select enterprise_id, district_id from complaints where id = $1', [complaintId])).toEqual(
    {
      enterprise_id: 'ent-0002',
      district_id: 'dist-landong',
    },
  );
  expect(suite.cspMessages).toEqual([]);
});

it('edits a contact’s WeChat openid: a malformed one is named under its field, a good one saved', async () => {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'officer-dist-landong');
  await page.goto(`${suite.w.base}/#/enterprise/ent-0001`);
  await page.locator('[data-test=upkeep]').waitFor();
  const listed = page.locator('[data-test=contact-list] tr', { hasText: '孙涛' });
  await listed.getByRole('button', { name: '编辑' }).click();
  const form = page.locator('[data-test=contact-form]');
  await form.locator('input[name=wechatOpenid]').fill('o x');
  await form.getByRole('button', { name: '保存' }).click();
  await expect(errorUnder(page, 'contact-form', 'input[name=wechatOpenid]').textContent()).resolves.toMatch(
    /^微信 openid：为 6–64 位字母、数字、下划线或连字符/,
  );
  expect(await form.locator('input[name=wechatOpenid]').getAttribute('aria-invalid')).toBe('true');
  expect(await one(`select wechat_openid from contacts where name = '孙涛'`)).toEqual({
    wechat_openid: null,
  });
  expect(describeViolations('contact form with an openid error', await seriousViolations(page))).toBe('');

  await form.locator('input[name=wechatOpenid]').fill(OPENID);
  await form.getByRole('button', { name: '保存' }).click();
  await page.locator('[data-test=contact-list] td', { hasText: OPENID }).waitFor();
  expect(await one(`select wechat_openid from contacts where name = '孙涛'`)).toEqual({
    wechat_openid: OPENID,
  });
  const audit = await one(
    `select after from audit_log where action = 'registry.contact' and entity_id = 'ent-0001' order by id desc limit 1`,
  );
  expect(audit.after).toEqual({ contact: expect.objectContaining({ name: '孙涛', wechatOpenid: OPENID }) });
  await page.screenshot({ path: join(SHOTS, 'registry-contact-openid.png'), fullPage: true });
  expect(suite.cspMessages).toEqual([]);
});
