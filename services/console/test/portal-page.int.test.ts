// In Chromium: an officer invites an enterprise user from the enterprise's page; the invitee sets a
// password through the link (a short one refused in Chinese) and lands on the portal with its own nav.
// The enterprise user sees its own cases only, acknowledges one (a past fix time refused, nothing
// saved), uploads a photo (an HTML file named .png refused), replaces it by a report (the officer still
// sees the photo, marked replaced) and declares a maintenance window, which the
// district's officer confirms on the approvals page; the portal's list of declarations shows it pending,
// then confirmed. The guide's screenshots of the portal are taken here.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { pageSuite, loginPage, SHOTS } from './chromium.js';
import { addAlerterHistory, CASES } from './fixture.js';

// The exceedance case of ent-0003 has had its reminders (an SMS and an email, both sent).
const suite = pageSuite((w) => addAlerterHistory(w.pool, CASES.lanxi).then(() => undefined));
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('photo'),
]);
const PDF = Buffer.from('%PDF-1.7\n% rectification report\n%%EOF\n');
/** A datetime-local value on the Asia/Shanghai wall clock (UTC+8 all year). */
/** `ms` on the Beijing wall clock as the date pickers show it, `YYYY-MM-DD HH:mm`. */
const shanghai = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
/** Types a Beijing time into the picker at `selector` and commits it with Enter. */
async function typeTime(page: Page, selector: string, ms: number): Promise<void> {
  await page.fill(selector, shanghai(ms));
  await page.press(selector, 'Enter');
}

it('an officer invites; the invitee sets a password and gets the portal’s own nav', async () => {
  const { w, chromium } = suite;
  const officer = await loginPage(chromium.browser, w.base, 'officer-dist-lanxi');
  await officer.goto(`${w.base}/#/enterprise/ent-0003`);
  await officer.fill('[data-test=portal-invitation-form] input[name=inviteName]', '环保专员 周');
  await officer.click('[data-test=portal-invitation-form] button[type=submit]');
  const link = (await officer.locator('[data-test=portal-invitation-link] code').textContent())!.trim();
  expect(link).toMatch(/\/#\/invite\/[A-Za-z0-9_-]{43}$/);
  await officer.close();

  await chromium.browser.clearCookies();
  const page = await chromium.browser.newPage();
  await page.goto(link);
  await page.waitForSelector('[data-test=portal-invite-for]');
  await page.fill('[data-test=portal-invite-form] input[name=username]', 'ent3-zhou');
  await page.fill('[data-test=portal-invite-form] input[name=password]', 'short');
  await page.click('[data-test=portal-invite-form] button[type=submit]');
  expect(await page.locator('[data-test=portal-invite-error]').textContent()).toContain('密码至少 12 位');
  expect(await page.getAttribute('input[name=password]', 'aria-invalid')).toBe('true');
  await page.fill('[data-test=portal-invite-form] input[name=password]', 'zhou-long-passw0rd');
  await page.click('[data-test=portal-invite-form] button[type=submit]');
  await page.waitForSelector('[data-test=portal-invite-done]');
  await page.click('[data-test=portal-invite-done] a');
  await page.fill('input[name=username]', 'ent3-zhou');
  await page.fill('input[name=password]', 'zhou-long-passw0rd');
  await page.click('[data-test=login-form] button[type=submit]');
  await page.waitForSelector('[data-test=portal-cases]');
  expect(page.url()).toBe(`${w.base}/#/portal`);
  expect(await page.locator('[data-test=nav-portal]').count()).toBe(1);
  expect(await page.locator('[data-test=nav-queue], [data-test=nav-regulation]').count()).toBe(0);
  await page.close();
});

it('the enterprise user sees its cases, acknowledges one, uploads evidence and declares maintenance', async () => {
  const { w, chromium } = suite;
  const page = await loginPage(chromium.browser, w.base, 'ent-0003-user');
  await page.waitForSelector('[data-test=portal-cases]');
  const cases = await page.locator('[data-test=portal-cases]').textContent();
  expect(cases).toContain(CASES.lanxi);
  expect(cases).not.toContain(CASES.falsified);
  expect(cases).not.toContain(CASES.landong);
  await page.screenshot({ path: join(SHOTS, 'portal-home.png'), fullPage: true });

  await page.click(`[data-test="portal-open-${CASES.lanxi}"]`);
  await page.waitForSelector('[data-test=portal-ack-form]');
  // The reminders in words: channel and status by name, not their codes.
  const reminders = await page.locator('[data-test=portal-reminders]').textContent();
  expect(reminders).toMatch(/短信 · 138\*\*\*\*0002 ·\s*已发送/);
  expect(reminders).toContain('电子邮件');
  expect(reminders).not.toMatch(/\b(sms|email|sent)\b/);
  await page.fill('[data-test=portal-ack-form] textarea[name=explanation]', '仪表故障，已联系运维单位');
  await typeTime(page, '[data-test=portal-ack-form] input[name=plannedFixAt]', Date.now() - 86_400_000);
  await page.click('[data-test=portal-ack-form] button[type=submit]');
  // The server's error stands under the field it names, and marks the field invalid.
  expect(
    await page.locator('[data-test=portal-ack-form] [data-test=plannedFixAt-error]').textContent(),
  ).toContain('计划整改完成时间不能早于现在');
  expect(
    await page.locator('[data-test=portal-ack-form] input[name=plannedFixAt]').getAttribute('aria-invalid'),
  ).toBe('true');
  expect(
    (await w.pool.query('select enterprise_ack_at from review_states where deviation_id = $1', [CASES.lanxi]))
      .rows[0]?.enterprise_ack_at ?? null,
  ).toBeNull();
  await typeTime(page, '[data-test=portal-ack-form] input[name=plannedFixAt]', Date.now() + 3 * 86_400_000);
  await page.click('[data-test=portal-ack-form] button[type=submit]');
  expect(await page.locator('[data-test=portal-acked]').textContent()).toContain('仪表故障，已联系运维单位');
  await page.locator('[data-test=portal-case]').screenshot({ path: join(SHOTS, 'portal-ack.png') });

  await page.setInputFiles('[data-test=portal-upload-form] input[name=file]', {
    name: 'fake.png',
    mimeType: 'image/png',
    buffer: Buffer.from('<html><script>alert(1)</script></html>'),
  });
  await page.click('[data-test=portal-upload-form] button[type=submit]');
  expect(await page.locator('[data-test=portal-upload-error]').textContent()).toContain(
    '仅接受 JPEG、PNG 照片或 PDF 文件',
  );
  await page.setInputFiles('[data-test=portal-upload-form] input[name=file]', {
    name: '整改后.png',
    mimeType: 'image/png',
    buffer: PNG,
  });
  await page.click('[data-test=portal-upload-form] button[type=submit]');
  await page.waitForSelector('[data-test=portal-uploaded]');
  expect(await page.locator('[data-test=portal-evidence]').textContent()).toContain('整改后.png');
  expect(Number((await w.pool.query('select count(*) as n from portal_evidence')).rows[0].n)).toBe(1);
  await page.locator('[data-test=portal-upload-form]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'portal-evidence.png') });

  // Replaced by a report: the photo leaves the enterprise's list and stays on record for the officer.
  await page.click('[data-test=portal-evidence] [data-test=portal-evidence-replace]');
  await page.waitForSelector('[data-test=portal-replacing]');
  await page.setInputFiles('[data-test=portal-upload-form] input[name=file]', {
    name: '整改报告.pdf',
    mimeType: 'application/pdf',
    buffer: PDF,
  });
  await page.click('[data-test=portal-upload-form] button[type=submit]');
  await page.locator('[data-test=portal-evidence]', { hasText: '整改报告.pdf' }).waitFor();
  expect(await page.locator('[data-test=portal-evidence]').textContent()).not.toContain('整改后.png');
  expect(Number((await w.pool.query('select count(*) as n from portal_evidence')).rows[0].n)).toBe(2);

  await typeTime(page, '[data-test=portal-maintenance-form] input[name=startsAt]', Date.now() + 3_600_000);
  await typeTime(page, '[data-test=portal-maintenance-form] input[name=endsAt]', Date.now() + 3 * 3_600_000);
  await page.fill('[data-test=portal-maintenance-form] input[name=reason]', '比对监测');
  await page.click('[data-test=portal-maintenance-form] button[type=submit]');
  expect(await page.locator('[data-test=portal-maintenance-result]').textContent()).toContain(
    '待执法人员确认',
  );
  expect(
    Number(
      (await w.pool.query(`select count(*) as n from registry_change_requests where state = 'pending'`))
        .rows[0].n,
    ),
  ).toBe(1);
  await page.waitForSelector('[data-test=portal-declarations] [data-state=pending]');
  expect(await page.locator('[data-test=portal-declarations]').textContent()).toContain(
    '待区分局执法人员确认',
  );
  await page.locator('[data-test=portal-declarations]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'portal-declaration.png') });
  await page.close();

  // The district's officer sees the evidence on the case's page and confirms the declaration on the
  // approvals page; the window is in the registry then.
  const officer = await loginPage(chromium.browser, w.base, 'officer-dist-lanxi');
  await officer.goto(`${w.base}/#/case/${CASES.lanxi}`);
  await officer.waitForSelector('[data-test=case-portal-evidence] a');
  expect(await officer.locator('[data-test=case-portal-evidence]').textContent()).toContain('整改报告.pdf');
  expect(
    await officer.locator('[data-test=case-portal-evidence] li[data-superseded=true]').textContent(),
  ).toContain('整改后.png');
  await officer.goto(`${w.base}/#/approvals`);
  await officer.fill('[data-test=pending] input[name^=note-]', '已核实');
  await officer.click('[data-test=pending] [data-test=approve]');
  await officer.waitForSelector('[data-test=no-pending]');
  expect(
    Number(
      (await w.pool.query(`select count(*) as n from maintenance_windows where enterprise_id = 'ent-0003'`))
        .rows[0].n,
    ),
  ).toBe(1);
  await officer.close();

  // Back in the portal, the declaration is confirmed.
  const again = await loginPage(chromium.browser, w.base, 'ent-0003-user');
  await again.waitForSelector('[data-test=portal-declarations] [data-state=confirmed]');
  expect(await again.locator('[data-test=portal-declarations] [data-state=pending]').count()).toBe(0);
  expect(suite.cspMessages).toEqual([]);
  await again.close();
});
