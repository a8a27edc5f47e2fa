// In Chromium, registry upkeep's device, meter, contact and limit forms (Element forms): the page's own
// checks name their field; the server's refusals show under the field they name, in the chosen language,
// with aria-invalid on the control; a refused change saves nothing; a meter's facility links are picked
// from the enterprise's outlets.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { loginPage, pageSuite, SHOTS } from './chromium.js';

const suite = pageSuite(async () => undefined);
const MN = '99010201FG00010000000001';
const OTHER_MN = '99010202FG00020000000001';

async function upkeepPage(lang: 'zh' | 'en'): Promise<Page> {
  const page = await loginPage(suite.chromium.browser, suite.w.base, 'officer-dist-landong');
  await page.evaluate(`localStorage.setItem('lang', '${lang}')`);
  await page.goto(`${suite.w.base}/#/enterprise/ent-0001`);
  await page.reload();
  await page.locator('[data-test=upkeep]').waitFor();
  return page;
}
/** The error Element shows under the form item holding `control`. */
const errorUnder = (page: Page, form: string, control: string) =>
  page.locator(`[data-test=${form}] .el-form-item:has(${control}) .el-form-item__error`);
const one = async (sql: string, params: unknown[] = []) => (await suite.w.pool.query(sql, params)).rows[0];

it('a device’s MN taken by another device is named under the MN field in each language; nothing is saved', async () => {
  for (const [lang, text] of [
    ['zh', /^newMn：该 MN 已被另一台设备使用/],
    ['en', /newMn: this MN is already used by another device/],
  ] as const) {
    const page = await upkeepPage(lang);
    await page.click(`[data-test="edit-device-${MN}"]`);
    const form = page.locator('[data-test=device-form]');
    // The page's own check first: a minute interval that is not whole minutes.
    await form.locator('input[name=minuteIntervalS]').fill('90');
    await form.locator('button[type=submit]').click();
    await expect(
      errorUnder(page, 'device-form', 'input[name=minuteIntervalS]').textContent(),
    ).resolves.toMatch(
      lang === 'zh'
        ? /^分钟数据间隔（秒）：须为 60–3600 之间 60 的整数倍/
        : /^Minute-data interval \(s\): a multiple of 60/,
    );
    await form.locator('input[name=minuteIntervalS]').fill('600');
    await form.locator('input[name=newMn]').fill(OTHER_MN);
    await form.locator('button[type=submit]').click();
    const under = errorUnder(page, 'device-form', 'input[name=newMn]');
    await under.waitFor();
    await expect(under.textContent()).resolves.toMatch(text);
    expect(await form.locator('input[name=newMn]').getAttribute('aria-invalid')).toBe('true');
    await expect(page.locator('[data-test=upkeep-error]').count()).resolves.toBe(0);
    if (lang === 'zh')
      await page.screenshot({ path: join(SHOTS, 'registry-device-form.png'), fullPage: true });
    await page.close();
  }
  expect(await one('select count(*)::int as n from devices where mn = $1', [MN])).toEqual({ n: 1 });
  expect(suite.cspMessages).toEqual([]);
});

it('a unit that does not fit the outlet is named under the unit field; the limit is unchanged', async () => {
  const before = await one(
    `select value::float8 as v, unit from permit_limits where outlet_id = 'out-0001-g1' and factor_code = 'a21026' and basis = 'hourly'`,
  );
  for (const [lang, text] of [
    ['zh', /^unit：单位 mg\/L 不适用于废气排放口/],
    ['en', /unit: unit mg\/L does not fit a gas outlet/],
  ] as const) {
    const page = await upkeepPage(lang);
    await page.click('[data-test="edit-limit-out-0001-g1-a21026"]');
    const form = page.locator('[data-test=limit-form]');
    await form.locator('input[name=unit]').fill('mg/L');
    await form.locator('input[name=value]').fill(String(before.v - 1));
    await form.locator('button[type=submit]').click();
    const under = errorUnder(page, 'limit-form', 'input[name=unit]');
    await under.waitFor();
    await expect(under.textContent()).resolves.toMatch(text);
    expect(await form.locator('input[name=unit]').getAttribute('aria-invalid')).toBe('true');
    await page.close();
  }
  expect(
    await one(
      `select value::float8 as v, unit from permit_limits where outlet_id = 'out-0001-g1' and factor_code = 'a21026' and basis = 'hourly'`,
    ),
  ).toEqual(before);
});

it('a contact without phone or email is refused in the page; a meter’s facility link is picked from the outlets', async () => {
  const page = await upkeepPage('zh');
  const contact = page.locator('[data-test=contact-form]');
  await contact.locator('input[name=contactName]').fill('周工');
  await contact.getByRole('button', { name: '添加' }).click();
  await expect(errorUnder(page, 'contact-form', 'input[name=phone]').textContent()).resolves.toBe(
    '手机：手机号与邮箱至少填一项',
  );
  await contact.locator('input[name=email]').fill('zhou@example.com');
  await contact.getByRole('button', { name: '添加' }).click();
  await page.locator('[data-test=contact-list] td', { hasText: '周工' }).waitFor();
  expect(await one(`select email from contacts where name = '周工'`)).toEqual({ email: 'zhou@example.com' });

  await page.click('[data-test="edit-meter-mtr-0001-t1"]');
  const meter = page.locator('[data-test=meter-form]');
  const links = await meter.locator('select[name^=facilityOutlet]').count();
  await meter.locator('[data-test=meter-add-facility]').click();
  await meter.locator(`select[name=facilityOutlet${links}]`).selectOption('out-0001-g1');
  await meter.locator(`input[name=facilityCode${links}]`).fill('SB9');
  await meter.locator('button[type=submit]').click();
  await page.locator('[data-test=upkeep-outcome]').waitFor();
  await page.locator('[data-test=meter-list] tr', { hasText: 'out-0001-g1:SB9' }).waitFor();
  expect(
    (
      await suite.w.pool.query(
        `select outlet_id, code from meter_facilities where meter_id = 'mtr-0001-t1' and code = 'SB9'`,
      )
    ).rows,
  ).toEqual([{ outlet_id: 'out-0001-g1', code: 'SB9' }]);
  await page.close();
});
