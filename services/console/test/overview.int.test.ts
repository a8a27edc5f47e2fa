// GET /api/overview over the real Postgres and InfluxDB: March 2026 of the example registry (12 enterprises,
// 4 per district, every device enabled) with the fixture's cases and overview-data.ts's additions; every
// figure below is counted by hand from those rows. The month's 传输有效率 is /api/transmission's own figure.
// Scope: a city role sees every district, an officer theirs, an enterprise user their own enterprise.
import type { Overview } from '../src/overview.js';
import type { TransmissionReport } from '../src/transmission.js';
import { createWorld, http, loginAs, type Session, type World } from './fixture.js';
import { writeOverviewCases, writeComplianceMonths } from './overview-data.js';
import { writeMarch } from './transmission-data.js';

let w: World;

async function get<T = Overview>(
  url: string,
  s: Session,
): Promise<{ status: number; body: T & { code?: string; message?: string } }> {
  const r = await http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
  return { status: r.statusCode, body: r.json() as T & { code?: string; message?: string } };
}

beforeAll(async () => {
  w = await createWorld();
  await writeMarch(w);
  await writeOverviewCases(w);
  await writeComplianceMonths(w);
});

afterAll(async () => {
  await w?.close();
});

const district = (o: Overview, id: string) => o.districts.find((d) => d.id === id)!;

test('the city: monitored, online, open by rule and severity, overdue, reminders; 传输有效率 as /api/transmission', async () => {
  const admin = await loginAs(w.base, 'admin');
  const r = await get('/api/overview?month=2026-03', admin);
  expect(r.status).toBe(200);
  const o = r.body;
  expect(o.scope).toBe('city');
  expect(o.month).toBe('2026-03');
  expect(o.districts.map((d) => d.id)).toEqual(['dist-kaifa', 'dist-landong', 'dist-lanxi']);
  // Open: landong-exceed-1 (high), landong-exceed-2 (medium), the offline case; lanxi-exceed-1 (critical),
  // the flatline (high). The resolved offline case of ent-0005 counts neither as open nor as offline.
  expect(district(o, 'dist-landong')).toMatchObject({
    enterprises: 4,
    online: 3,
    openDeviations: 3,
    overdueCases: 0,
    remindersSent: 1,
    remindersAcknowledged: 1,
  });
  expect(district(o, 'dist-lanxi')).toMatchObject({
    enterprises: 4,
    online: 4,
    openDeviations: 2,
    overdueCases: 1,
    remindersSent: 1,
    remindersAcknowledged: 0,
  });
  expect(district(o, 'dist-kaifa')).toMatchObject({ enterprises: 4, online: 4, openDeviations: 0 });
  expect(o.total).toMatchObject({
    enterprises: 12,
    online: 11,
    openDeviations: 5,
    overdueCases: 1,
    remindersSent: 2,
    remindersAcknowledged: 1,
  });
  expect(o.openByRule).toEqual([
    { districtId: 'dist-landong', rule: 'exceedance', severity: 'high', count: 1 },
    { districtId: 'dist-landong', rule: 'exceedance', severity: 'medium', count: 1 },
    { districtId: 'dist-landong', rule: 'offline', severity: 'high', count: 1 },
    { districtId: 'dist-lanxi', rule: 'exceedance', severity: 'critical', count: 1 },
    { districtId: 'dist-lanxi', rule: 'flatline', severity: 'high', count: 1 },
  ]);
  // 传输有效率 is the transmission page's figure, by district and in total.
  const t = (await get<TransmissionReport>('/api/transmission?month=2026-03', admin)).body;
  expect(o.transmissionUnavailable).toBe(false);
  expect(o.threshold).toBe(0.9);
  expect(o.total.transmission).toEqual({
    expected: t.total.expected,
    received: t.total.received,
    valid: t.total.valid,
    effectiveRate: t.total.effectiveRate,
    belowThreshold: t.total.belowThreshold,
  });
  const lanxi = t.districts.find((d) => d.id === 'dist-lanxi')!;
  expect(district(o, 'dist-lanxi').transmission).toMatchObject({
    expected: lanxi.expected,
    valid: lanxi.valid,
    effectiveRate: lanxi.effectiveRate,
  });
});

test('the valid-hour compliance rate of the month: the analyzer enterprise rows summed per district and for the city', async () => {
  const admin = await loginAs(w.base, 'admin');
  const o = (await get('/api/overview?month=2026-03', admin)).body;
  // landong: ent-0001 700/720 + ent-0002 100/200 (its outlet row 1/1000 not again) = 800/920
  expect(district(o, 'dist-landong').compliance).toEqual({
    compliantValidHours: 800,
    judgedValidHours: 920,
    rate: 800 / 920,
  });
  // lanxi: ent-0003 0/0 + ent-0004 1500/2000; kaifa: no figure stored
  expect(district(o, 'dist-lanxi').compliance).toEqual({
    compliantValidHours: 1500,
    judgedValidHours: 2000,
    rate: 0.75,
  });
  expect(district(o, 'dist-kaifa').compliance).toBeNull();
  expect(o.total.compliance).toEqual({
    compliantValidHours: 2300,
    judgedValidHours: 2920,
    rate: 2300 / 2920,
  });
  // The part of March judged: from 1 March 00:00 Shanghai.
  expect(o.complianceWindow).toEqual({ from: '2026-02-28T16:00:00.000Z', to: '2026-03-05T16:00:00.000Z' });

  // February: February's rows only (landong ent-0001 10/20, lanxi ent-0004 30/30), none of March's.
  const feb = (await get('/api/overview?month=2026-02', admin)).body;
  expect(district(feb, 'dist-landong').compliance).toEqual({
    compliantValidHours: 10,
    judgedValidHours: 20,
    rate: 0.5,
  });
  expect(district(feb, 'dist-lanxi').compliance).toEqual({
    compliantValidHours: 30,
    judgedValidHours: 30,
    rate: 1,
  });
  expect(feb.total.compliance).toEqual({ compliantValidHours: 40, judgedValidHours: 50, rate: 0.8 });
  expect(feb.complianceWindow).toEqual({ from: '2026-01-31T16:00:00.000Z', to: '2026-02-28T16:00:00.000Z' });
  // A month the analyzer has no row for: no figure, not 0 %.
  expect((await get('/api/overview?month=2026-01', admin)).body.total.compliance).toBeNull();

  // Its list: the enterprises with their counts for the month, lowest rate first, filtered by district.
  const list = (
    await get<{ month: string; items: { enterpriseId: string; rate: number | null }[] }>(
      '/api/compliance?month=2026-03',
      admin,
    )
  ).body.items;
  expect(list.map((x) => [x.enterpriseId, x.rate])).toEqual([
    ['ent-0002', 0.5],
    ['ent-0004', 0.75],
    ['ent-0001', 700 / 720],
    ['ent-0003', null],
  ]);
  const landong = await get<{ items: { enterpriseId: string }[] }>(
    '/api/compliance?month=2026-03&district=dist-landong',
    admin,
  );
  expect(landong.body.items.map((x) => x.enterpriseId)).toEqual(['ent-0002', 'ent-0001']);
  const febList = await get<{
    month: string;
    items: { enterpriseId: string; compliantValidHours: number }[];
  }>('/api/compliance?month=2026-02', admin);
  expect(febList.body.month).toBe('2026-02');
  expect(febList.body.items.map((x) => [x.enterpriseId, x.compliantValidHours])).toEqual([
    ['ent-0001', 10],
    ['ent-0004', 30],
  ]);
  expect((await get('/api/compliance?district=bad%20id', admin)).status).toBe(400);
  expect((await get('/api/compliance?month=2026-13', admin)).status).toBe(400);

  // Scope: the officer their district; the enterprise user their own enterprise (no judged hour: no rate).
  const officer = await loginAs(w.base, 'officer-dist-landong');
  expect((await get('/api/overview?month=2026-03', officer)).body.total.compliance?.rate).toBe(800 / 920);
  const offList = (await get<{ items: { enterpriseId: string }[] }>('/api/compliance?month=2026-03', officer))
    .body.items;
  expect(offList.map((x) => x.enterpriseId)).toEqual(['ent-0002', 'ent-0001']);
  // February: only their district's ent-0001 (lanxi's ent-0004 is not theirs), in the overview and in the list.
  const offFeb = (await get('/api/overview?month=2026-02', officer)).body;
  expect(offFeb.total.compliance).toEqual({ compliantValidHours: 10, judgedValidHours: 20, rate: 0.5 });
  expect(offFeb.districts.map((d: { id: string }) => d.id)).toEqual(['dist-landong']);
  const offFebList = (
    await get<{ items: { enterpriseId: string }[] }>('/api/compliance?month=2026-02', officer)
  ).body.items;
  expect(offFebList.map((x) => x.enterpriseId)).toEqual(['ent-0001']);
  // Another district asked for by name: nothing of it.
  const offLanxi = (
    await get<{ items: { enterpriseId: string }[] }>(
      '/api/compliance?month=2026-02&district=dist-lanxi',
      officer,
    )
  ).body.items;
  expect(offLanxi).toEqual([]);
  const own = await loginAs(w.base, 'ent-0003-user');
  expect((await get('/api/overview?month=2026-03', own)).body.total.compliance).toEqual({
    compliantValidHours: 0,
    judgedValidHours: 0,
    rate: null,
  });
});

test('the figures are their lists: the queue filtered by open, rule and severity, or overdue', async () => {
  const admin = await loginAs(w.base, 'admin');
  const q = async (query: string) =>
    (await get<{ total: number; items: { id: string }[] }>(`/api/deviations?${query}`, admin)).body;
  expect((await q('open=true')).total).toBe(5);
  expect((await q('open=true&district=dist-landong')).total).toBe(3);
  expect((await q('open=true&district=dist-landong&rule=offline')).items.map((c) => c.id)).toEqual([
    'dev-overview-offline-open',
  ]);
  expect((await q('overdue=true')).items.map((c) => c.id)).toEqual(['dev-lanxi-exceed-1']);
  expect((await q('overdue=true&district=dist-landong')).total).toBe(0);
});

test('scope: an officer sees their district only; an enterprise user their own enterprise, no falsification', async () => {
  const officer = (await get('/api/overview?month=2026-03', await loginAs(w.base, 'officer-dist-landong')))
    .body;
  expect(officer.scope).toBe('district');
  expect(officer.districts.map((d) => d.id)).toEqual(['dist-landong']);
  expect(officer.total).toMatchObject({ enterprises: 4, online: 3, openDeviations: 3, overdueCases: 0 });
  expect(officer.openByRule.every((x) => x.districtId === 'dist-landong')).toBe(true);

  const own = (await get('/api/overview?month=2026-03', await loginAs(w.base, 'ent-0003-user'))).body;
  expect(own.scope).toBe('enterprise');
  expect(own.districts.map((d) => d.id)).toEqual(['dist-lanxi']);
  // The flatline case is suspected falsification: not the enterprise's to see.
  expect(own.total).toMatchObject({
    enterprises: 1,
    online: 1,
    openDeviations: 1,
    overdueCases: 1,
    remindersSent: 1,
    remindersAcknowledged: 0,
  });
  expect(own.openByRule).toEqual([
    { districtId: 'dist-lanxi', rule: 'exceedance', severity: 'critical', count: 1 },
  ]);
  const ownT = (
    await get<TransmissionReport>('/api/transmission?month=2026-03', await loginAs(w.base, 'ent-0003-user'))
  ).body;
  expect(own.total.transmission?.expected).toBe(ownT.total.expected);
});

test('the current month by default; a bad or future month is refused by field; no session, no figures', async () => {
  const admin = await loginAs(w.base, 'admin');
  const now = await get('/api/overview', admin);
  expect(now.status).toBe(200);
  const month = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
  })
    .format(new Date(now.body.asOf))
    .slice(0, 7);
  expect(now.body.month).toBe(month);
  // No reminder was sent this month; open and overdue cases are counted as of now.
  expect(now.body.total).toMatchObject({ remindersSent: 0, openDeviations: 5, overdueCases: 1 });
  for (const m of ['2026-3', '2026-13', '2999-01']) {
    const r = await get(`/api/overview?month=${m}`, admin);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID_INPUT');
    expect(r.body.message).toMatch(/month/);
    expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
  }
  const anon = await http(w.base, { method: 'GET', url: '/api/overview' });
  expect(anon.statusCode).toBe(401);
});
