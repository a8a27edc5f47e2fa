// A supervisor's commands to one data logger, against the real Postgres and Kafka and in Chromium:
// the request goes to hj212.command.v1 (schema-valid, who asked), is audited, and the outcome the
// gateway records (gateway_commands_v1) is shown on the enterprise page; bad periods are refused by
// field in both languages; enterprise users and other districts cannot ask or see.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, type Chromium } from './chromium.js';
import { validateHj212CommandV1, type Hj212CommandV1 } from '@offsite/contracts';
import { createDurableProducer, createKafkaClient, type DurableProducer } from '@offsite/kafka';
import { requireEnv, silentLogger, until } from '@offsite/testing';
import { createWorld, http, loginAs, PASSWORD, readTopic, type Session, type World } from './fixture.js';

const shots = fileURLToPath(new URL('../test-output/', import.meta.url));
const MN = '99010201FG00010000000001'; // ent-0001, dist-landong
const topic = `t-console-cmd-${Date.now().toString(36)}`;
const kafka = createKafkaClient({
  brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
  clientId: 'console-cmd-test',
  logger: silentLogger,
});
let producer: DurableProducer;

/** An API call as a logged-in user. */
async function call(
  method: string,
  url: string,
  payload: object | undefined,
  s: Session,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await http(w.base, {
    method,
    url,
    ...(payload ? { payload } : {}),
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  return { status: r.statusCode, body: (r.body ? r.json() : {}) as Record<string, unknown> };
}
let w: World;
let sent: { records: Hj212CommandV1[]; close(): Promise<void> };
let browser: BrowserContext;
let chromium: Chromium;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  sent = await readTopic(kafka, topic, validateHj212CommandV1);
  producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  w = await createWorld({
    deviceCommands: {
      publish: async (r) => {
        await producer.send(topic, [{ key: r.mn, value: JSON.stringify(r) }]);
      },
    },
  });
  chromium = await launchChromium();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await w?.close();
  await producer?.disconnect();
  await sent?.close();
});

it('a supervisor reads a logger’s time: the request is on hj212.command.v1 and in the audit log', async () => {
  const s = await loginAs(w.base, 'supervisor');
  const r = await call('POST', `/api/devices/${MN}/commands`, { cn: '1011' }, s);
  expect(r.status).toBe(202);
  const id = String(r.body.id);
  await until(() => sent.records.some((x) => x.id === id), 15_000, 'the request on Kafka');
  expect(sent.records.find((x) => x.id === id)).toMatchObject({ mn: MN, cn: '1011' });
  expect(sent.records.find((x) => x.id === id)!.requestedBy).toContain('supervisor');
  const audit = await w.pool.query(
    `select action, entity_id, actor_name from audit_log where action = 'device.command.request'`,
  );
  expect(audit.rows).toEqual([{ action: 'device.command.request', entity_id: MN, actor_name: 'supervisor' }]);
});

it('refuses a history request without a proper period, by field, in both languages', async () => {
  const s = await loginAs(w.base, 'supervisor');
  const none = await call('POST', `/api/devices/${MN}/commands`, { cn: '2051' }, s);
  expect(none.status).toBe(400);
  expect(none.body).toMatchObject({ code: 'INVALID_INPUT', field: 'beginTime' });
  const backwards = await call(
    'POST',
    `/api/devices/${MN}/commands`,
    { cn: '2051', beginTime: '2026-03-02T04:00:00Z', endTime: '2026-03-02T02:00:00Z' },
    s,
  );
  expect(backwards.body).toMatchObject({ code: 'INVALID_INPUT', field: 'endTime' });
  expect(String(backwards.body.message)).toMatch(/结束时间不能早于开始时间.*endTime is before beginTime/);
  const bad = await call('POST', `/api/devices/${MN}/commands`, { cn: '1012' }, s);
  expect(bad.status).toBe(400);
});

it('an enterprise user may not ask; another district’s officer does not find the device', async () => {
  const ent = await loginAs(w.base, 'ent-0003-user');
  expect((await call('POST', `/api/devices/${MN}/commands`, { cn: '1011' }, ent)).status).toBe(403);
  expect((await call('GET', `/api/devices/${MN}/commands`, undefined, ent)).status).toBe(403);
  const lanxi = await loginAs(w.base, 'officer-dist-lanxi');
  expect((await call('POST', `/api/devices/${MN}/commands`, { cn: '1011' }, lanxi)).status).toBe(404);
  const landong = await loginAs(w.base, 'officer-dist-landong');
  expect((await call('GET', `/api/devices/${MN}/commands`, undefined, landong)).status).toBe(200);
});

it('shows the outcomes on the enterprise page (Chinese by default) and sends a read from there', async () => {
  // Outcomes as the gateway records them: an answered time read, a refused and an automatic backfill.
  await w.pool.query(
    `insert into gateway_commands (id, mn, cn, trigger, requested_by, expires_at, max_attempts, status, attempts, qn_rtn, exe_rtn, reply, finished_at)
     values ('g-1', $1, '1011', 'supervisor', 'u supervisor', now() + interval '1 hour', 3, 'fulfilled', 1, '1', '1', '{"SystemTime":"20260302120000"}', now()),
            ('g-2', $1, '1063', 'supervisor', 'u supervisor', now() + interval '1 hour', 3, 'refused', 1, '2', null, null, now())`,
    [MN],
  );
  await w.pool.query(
    `insert into gateway_commands (id, mn, cn, begin_time, end_time, trigger, requested_by, expires_at, max_attempts, status, attempts, readings, finished_at)
     values ('g-3', $1, '2051', '2026-03-02T02:00:00Z', '2026-03-02T04:00:00Z', 'offline-closed', 'deviation d', now() + interval '1 hour', 3, 'fulfilled', 1, 12, now())`,
    [MN],
  );
  await browser.clearCookies();
  const page = await browser.newPage();
  await page.goto(w.base + '/');
  await page.fill('input[name=username]', 'supervisor');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-test=whoami]');
  await page.goto(w.base + '/#/enterprise/ent-0001');
  const panel = page.locator(`[data-test=device-commands-${MN}]`);
  await panel.locator('[data-test=cmd-list]').waitFor();
  await expect(panel.locator('[data-test=cmd-row-1011]').first().textContent()).resolves.toContain(
    'SystemTime=20260302120000',
  );
  await expect(panel.locator('[data-test=cmd-row-1063]').textContent()).resolves.toContain('数采仪拒绝');
  const backfill = await panel.locator('[data-test=cmd-row-2051]').textContent();
  expect(backfill).toContain('断线恢复自动补遗');
  expect(backfill).toContain('12');
  const before = sent.records.length;
  await panel.locator('[data-test=cmd-1061]').click();
  await expect(panel.locator('[data-test=cmd-message]').textContent()).resolves.toContain('已发送');
  await until(() => sent.records.length === before + 1, 15_000, 'the 1061 on Kafka');
  expect(sent.records.at(-1)).toMatchObject({ mn: MN, cn: '1061' });
  await page.screenshot({ path: join(shots, 'device-commands.png'), fullPage: true });
  await page.close();
});
