// GET /api/reminders over the real Postgres: the list behind the overview's "reminders sent / acknowledged"
// figures. March 2026: the fixture's acknowledged reminder to ent-0002's contact (landong case, SMS and e-mail,
// one reminder), overview-data.ts's unacknowledged SMS to ent-0003's contact (lanxi case), and below: a second
// WeChat round of that lanxi reminder with a failed delivery receipt, and three that never count: the
// supervisor's copy for the same group (not an enterprise contact's reminder), one sent in February, one that
// failed to send. Its totals must be the
// overview's figures for every scope, and another district's reminders must not show.
import type { Overview } from '../src/overview.js';
import type { ReminderList } from '../src/overview-reminders.js';
import { CASES, createWorld, http, loginAs, type Session, type World } from './fixture.js';
import { writeOverviewCases } from './overview-data.js';

let w: World;

async function get<T>(
  url: string,
  s: Session,
): Promise<{ status: number; body: T & { code?: string; message?: string } }> {
  const r = await http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
  return { status: r.statusCode, body: r.json() as T & { code?: string; message?: string } };
}

const group = `grp-${CASES.lanxi}`;
let landongContactId = '';
const landongContact = () => landongContactId;

beforeAll(async () => {
  w = await createWorld();
  await writeOverviewCases(w);
  landongContactId = (
    await w.pool.query<{ recipient_id: string }>(
      `select recipient_id from alert_notifications where group_key = $1 limit 1`,
      [`grp-${CASES.landong}`],
    )
  ).rows[0]!.recipient_id;
  const add = (
    id: string,
    round: number,
    kind: string,
    recipient: string,
    masked: string,
    channel: string,
    status: string,
    sentAt: string | null,
  ) =>
    w.pool.query(
      `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id,
          address_masked, channel, status, provider, attempts, sent_at)
       values ($1, $2, $3, 'reminder', $4, $5, $6, $7, $8, $9, 'tencent', 1, $10)`,
      [id, group, [CASES.lanxi], round, kind, recipient, masked, channel, status, sentAt],
    );
  await add(
    `${group}:wechat:2`,
    2,
    'enterprise-contact',
    'c-lanxi',
    'o***x3',
    'wechat',
    'sent',
    '2026-03-03T06:00:00Z',
  );
  await w.pool.query(
    `insert into alert_delivery_receipts (notification_id, provider, provider_message_id, phone_masked, delivered,
        error_code, reported_at, received_at)
     values ($1, 'tencent', 'm-1', 'o***x3', false, 'USER_BLOCKED', '2026-03-03T06:01:00Z', '2026-03-03T06:01:05Z')`,
    [`${group}:wechat:2`],
  );
  await add(
    `${group}:sup:1`,
    1,
    'supervisor',
    'sup-lanxi',
    'l***@bureau.example.cn',
    'email',
    'sent',
    '2026-03-02T04:20:00Z',
  );
  await add(
    `${group}:feb:1`,
    1,
    'enterprise-contact',
    'c-lanxi-feb',
    '139****0009',
    'sms',
    'sent',
    '2026-02-27T04:00:00Z',
  );
  await add(
    `${group}:failed:1`,
    1,
    'enterprise-contact',
    'c-lanxi-failed',
    '139****0008',
    'sms',
    'failed',
    null,
  );
});

afterAll(async () => {
  await w?.close();
});

async function figuresAndLists(s: Session, district?: string) {
  const o = (await get<Overview>('/api/overview?month=2026-03', s)).body;
  const d = district ? `&district=${district}` : '';
  const sent = (await get<ReminderList>(`/api/reminders?month=2026-03&state=sent${d}`, s)).body;
  const acked = (await get<ReminderList>(`/api/reminders?month=2026-03&state=acknowledged${d}`, s)).body;
  const fig = district ? o.districts.find((x) => x.id === district)! : o.total;
  return { o, fig, sent, acked };
}

test('the city: the list’s totals are the overview’s figures, in total and per district; its rows', async () => {
  const admin = await loginAs(w.base, 'admin');
  const all = await figuresAndLists(admin);
  // landong: ent-0002's contact (acknowledged); lanxi: ent-0003's contact.
  expect(all.fig).toMatchObject({ remindersSent: 2, remindersAcknowledged: 1 });
  expect(all.sent.total).toBe(all.fig.remindersSent);
  expect(all.sent.items.map((r) => r.recipientId).sort()).toEqual(['c-lanxi', landongContact()].sort());
  expect(all.acked.total).toBe(all.fig.remindersAcknowledged);
  for (const id of ['dist-landong', 'dist-lanxi', 'dist-kaifa']) {
    const one = await figuresAndLists(admin, id);
    expect([one.sent.total, one.acked.total]).toEqual([one.fig.remindersSent, one.fig.remindersAcknowledged]);
    expect(one.sent.items.every((r) => r.districtId === id)).toBe(true);
  }

  const landong = all.sent.items.find((r) => r.enterpriseId === 'ent-0002')!;
  expect(landong).toMatchObject({
    deviationIds: [CASES.landong],
    recipientKind: 'enterprise-contact',
    round: 1,
    sentAt: '2026-03-02T04:05:00.000Z',
    acknowledgedAt: '2026-03-02T05:00:00.000Z',
  });
  expect(landong.deliveries.map((x) => x.channel).sort()).toEqual(['email', 'sms']);
  expect(all.acked.items.map((r) => r.enterpriseId)).toEqual(['ent-0002']);

  // The lanxi contact's reminder: two rounds in March, the last by WeChat and not delivered; masked address.
  const lanxi = all.sent.items.find((r) => r.recipientId === 'c-lanxi')!;
  expect(lanxi).toMatchObject({
    enterpriseId: 'ent-0003',
    round: 2,
    sentAt: '2026-03-03T06:00:00.000Z',
    acknowledgedAt: null,
    addressMasked: 'o***x3',
  });
  expect(lanxi.deliveries).toEqual([
    { channel: 'sms', round: 1, sentAt: '2026-03-02T04:10:00.000Z', delivery: 'no-receipt', errorCode: null },
    {
      channel: 'wechat',
      round: 2,
      sentAt: '2026-03-03T06:00:00.000Z',
      delivery: 'undelivered',
      errorCode: 'USER_BLOCKED',
    },
  ]);
  // Latest send first.
  expect(all.sent.items[0]!.recipientId).toBe('c-lanxi');
  // Paged: one a page still counts all.
  const p2 = (await get<ReminderList>('/api/reminders?month=2026-03&pageSize=1&page=2', admin)).body;
  expect([p2.total, p2.items.length]).toEqual([2, 1]);
  expect(p2.items[0]!.enterpriseId).toBe('ent-0002');
  const past = (await get<ReminderList>('/api/reminders?month=2026-03&pageSize=1&page=9', admin)).body;
  expect([past.total, past.items.length]).toEqual([2, 0]);
});

test('an officer: their district’s reminders only, the count their figure; another district’s do not show', async () => {
  const officer = await loginAs(w.base, 'officer-dist-landong');
  const own = await figuresAndLists(officer);
  expect(own.fig).toMatchObject({ remindersSent: 1, remindersAcknowledged: 1 });
  expect([own.sent.total, own.acked.total]).toEqual([1, 1]);
  expect(own.sent.items.map((r) => r.enterpriseId)).toEqual(['ent-0002']);
  const other = (await get<ReminderList>('/api/reminders?month=2026-03&district=dist-lanxi', officer)).body;
  expect([other.total, other.items]).toEqual([0, []]);
});

test('an enterprise user: their own enterprise’s reminders, as the overview counts them', async () => {
  const ent = await loginAs(w.base, 'ent-0003-user');
  const own = await figuresAndLists(ent);
  expect(own.fig).toMatchObject({ remindersSent: 1, remindersAcknowledged: 0 });
  expect([own.sent.total, own.acked.total]).toEqual([1, 0]);
  expect(own.sent.items.map((r) => r.recipientId)).toEqual(['c-lanxi']);
  expect(own.sent.items.every((r) => r.enterpriseId === 'ent-0003')).toBe(true);
});

test('bad input is refused by field; no session, no list', async () => {
  const admin = await loginAs(w.base, 'admin');
  for (const [q, field] of [
    ['month=2026-13', 'month'],
    ['month=2999-01', 'month'],
    ['state=delivered', 'state'],
    ['district=bad%20id', 'district'],
    ['pageSize=1000', 'pageSize'],
  ] as const) {
    const r = await get<ReminderList>(`/api/reminders?${q}`, admin);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID_INPUT');
    expect(r.body.message).toMatch(new RegExp(field));
    expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
  }
  expect((await http(w.base, { method: 'GET', url: '/api/reminders' })).statusCode).toBe(401);
});
