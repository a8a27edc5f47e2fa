// In Chromium: the complaints page shows each complaint's verification task and the task list, where an
// officer assigns a task (a past deadline refused in Chinese with the field marked, nothing saved) and
// closes it with a note (a missing note refused); an overdue task is marked.
import type { BrowserContext, Page } from 'playwright-core';
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import { launchChromium, loginPage, type Chromium } from './chromium.js';
import { createWorld, loginAs, sendAs, type World } from './fixture.js';

let w: World;
let chromium: Chromium;
let browser: BrowserContext;
beforeAll(async () => {
  w = await createWorld();
  await w.pool.query(
    `insert into positive_list_decisions (enterprise_id, action, reason, valid_from, decided_by)
     select id, 'add', 'test', $1, 'supervisor' from enterprises where id in ('ent-0001', 'ent-0002')`,
    [addDays(shanghaiDate(Date.now()), -30)],
  );
  chromium = await launchChromium();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
});

const taskRow = (id: number) => `[data-test=verification-tasks] tr:has([data-test=task-${id}])`;
const row = (page: Page, id: number) => page.locator(taskRow(id));
const taskColumns = async (id: number) =>
  (await w.pool.query(`select status, assignee, due_at, note from verification_tasks where id = $1`, [id]))
    .rows[0];

it('an officer assigns and closes a complaint verification task; bad input is refused in Chinese', async () => {
  const officer = await loginAs(w.base, 'officer-dist-landong');
  const file = async (enterpriseId: string) =>
    (
      await sendAs<{ complaint: { id: number }; verificationTask: { id: number } }>(
        w.base,
        officer,
        'POST',
        '/api/regulation/complaints',
        { channel: 'hotline', enterpriseId, urgency: 'normal', summary: '夜间异味' },
      )
    ).body;
  const a = await file('ent-0001');
  const b = await file('ent-0002');
  await sendAs(w.base, officer, 'POST', `/api/verification-tasks/${b.verificationTask.id}/assignment`, {
    assignee: 'officer-dist-landong',
    dueOn: shanghaiDate(Date.now()),
  });
  await w.pool.query(`update verification_tasks set due_at = now() - interval '1 hour' where id = $1`, [
    b.verificationTask.id,
  ]);

  const page = await loginPage(browser, w.base, 'officer-dist-landong');
  await page.goto(`${w.base}/#/reg/complaints`);
  await page.waitForSelector(taskRow(a.verificationTask.id));
  expect(await page.locator(`[data-test=complaint-task-${a.complaint.id}]`).textContent()).toContain(
    `核查任务 #${a.verificationTask.id}`,
  );
  expect(await row(page, b.verificationTask.id).locator('[data-test=overdue]').textContent()).toBe('已逾期');
  // The complaint's status and its next steps in words.
  const complaintRow = page.locator('[data-test=complaint-list] tr', {
    has: page.locator(`[data-test=complaint-task-${a.complaint.id}]`),
  });
  expect(await complaintRow.locator('td').nth(4).textContent()).toBe('已受理');
  expect(await complaintRow.locator('td').nth(1).textContent()).toBe('12369 热线');
  expect((await complaintRow.locator('button').allTextContents()).map((x) => x.trim())).toEqual([
    '已确认',
    '不予受理',
  ]);
  expect(await row(page, a.verificationTask.id).locator('[data-test=overdue]').count()).toBe(0);

  const ra = row(page, a.verificationTask.id);
  await ra.locator('input[name=assignee]').fill('officer-dist-landong');
  await ra.locator('input[name=dueOn]').fill(addDays(shanghaiDate(Date.now()), -1));
  await ra.locator('[data-test=assign] button').click();
  await page.waitForSelector('[data-test=task-error]');
  expect(await page.locator('[data-test=task-error]').textContent()).toContain('期限不能早于今天');
  expect(await ra.locator('input[name=dueOn]').getAttribute('aria-invalid')).toBe('true');
  expect(await taskColumns(a.verificationTask.id)).toMatchObject({ assignee: null, due_at: null });

  await ra.locator('input[name=dueOn]').fill(addDays(shanghaiDate(Date.now()), 2));
  await ra.locator('[data-test=assign] button').click();
  await ra.locator('[data-test=resolve]').waitFor();
  expect(await taskColumns(a.verificationTask.id)).toMatchObject({ assignee: 'officer-dist-landong' });

  await ra.locator('[data-test=resolve] button').click();
  await page.waitForSelector('[data-test=task-error]');
  expect(await page.locator('[data-test=task-error]').textContent()).toContain('note');
  expect(await taskColumns(a.verificationTask.id)).toMatchObject({ status: 'open', note: null });

  await ra.locator('input[name=note]').fill('现场未见异常');
  await ra.locator('[data-test=resolve] button').click();
  await ra.locator('text=未发现问题：现场未见异常').waitFor();
  expect(await taskColumns(a.verificationTask.id)).toMatchObject({ status: 'done', note: '现场未见异常' });
});
