// In Chromium, the portal invitation's two Element forms: the officer's invitation (the page's own check
// names the field; a name of blanks is refused by the server under the name field) and the invitee's
// account (a username already taken is named under the username field, in Chinese and in English, with
// aria-invalid on it, and no account is made).
import { join } from 'node:path';
import { loginPage, pageSuite, SHOTS } from './chromium.js';

const suite = pageSuite(async () => undefined);
const count = async (sql: string) => Number((await suite.w.pool.query(sql)).rows[0].n);

it('the invitation form names its field, and the invitee is told under the field that a username is taken', async () => {
  const { w, chromium } = suite;
  const officer = await loginPage(chromium.browser, w.base, 'officer-dist-lanxi');
  await officer.evaluate("localStorage.setItem('lang', 'zh')");
  await officer.goto(`${w.base}/#/enterprise/ent-0003`);
  await officer.reload();
  const form = officer.locator('[data-test=portal-invitation-form]');
  const under = (name: string) => form.locator(`.el-form-item:has(input[name=${name}]) .el-form-item__error`);
  await form.locator('input[name=inviteEmail]').fill('not-an-address');
  await form.locator('button[type=submit]').click();
  await expect(under('inviteName').textContent()).resolves.toBe('被邀请人姓名：必填');
  await expect(under('inviteEmail').textContent()).resolves.toBe('邮箱（可选）：邮箱格式不正确');
  // Blanks pass the page's check; the server names the field.
  await form.locator('input[name=inviteEmail]').fill('');
  await form.locator('input[name=inviteName]').fill('   ');
  await form.locator('button[type=submit]').click();
  // The page's own "必填" stays under the field until the server's answer replaces it: wait for that.
  await under('inviteName')
    .filter({ hasText: /displayName/ })
    .waitFor();
  await expect(under('inviteName').textContent()).resolves.toMatch(/displayName/);
  expect(await form.locator('input[name=inviteName]').getAttribute('aria-invalid')).toBe('true');
  expect(await count(`select count(*)::int as n from portal_invitations`)).toBe(0);
  await form.locator('input[name=inviteName]').fill('环保专员 吴');
  await form.locator('button[type=submit]').click();
  const link = (await officer.locator('[data-test=portal-invitation-link] code').textContent())!.trim();
  await officer.screenshot({ path: join(SHOTS, 'portal-invitation.png'), fullPage: true });
  await officer.close();

  await chromium.browser.clearCookies();
  const page = await chromium.browser.newPage();
  const accounts = `select count(*)::int as n from console_users where role = 'enterprise'`;
  const before = await count(accounts);
  for (const [lang, text] of [
    ['zh', '用户名已存在'],
    ['en', 'already exists'],
  ] as const) {
    await page.goto(link);
    await page.evaluate(`localStorage.setItem('lang', '${lang}')`);
    await page.reload();
    const invite = page.locator('[data-test=portal-invite-form]');
    await invite.waitFor();
    await invite.locator('input[name=username]').fill('ent-0003-user');
    await invite.locator('input[name=password]').fill('a-long-enough-passw0rd');
    await invite.locator('button[type=submit]').click();
    const error = invite.locator('.el-form-item:has(input[name=username]) .el-form-item__error');
    await expect(error.textContent()).resolves.toContain(text);
    expect(await invite.locator('input[name=username]').getAttribute('aria-invalid')).toBe('true');
    if (lang === 'zh') await page.screenshot({ path: join(SHOTS, 'portal-invite.png'), fullPage: true });
  }
  expect(await count(accounts)).toBe(before);
  await page.close();
  expect(suite.cspMessages).toEqual([]);
});
