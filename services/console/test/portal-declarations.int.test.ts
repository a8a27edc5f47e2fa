// The enterprise's declarations in its portal against the real Postgres: each with its state (pending,
// confirmed, rejected with the officer's reason), only its own enterprise's; officers see their
// district's pending ones; a declaration for the past is refused, naming the field, nothing saved.
import { upsertUser } from '../src/auth.js';
import { createWorld, loginAs as login, PASSWORD, sendAs, type Session, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
  // Another enterprise of the same district, with its own portal user.
  await upsertUser(w.pool, {
    username: 'ent-0004-user',
    displayName: '锦绣印染',
    role: 'enterprise',
    enterpriseId: 'ent-0004',
    password: PASSWORD,
  });
});
afterAll(async () => {
  await w?.close();
});

interface Declaration {
  id: string;
  kind: string;
  change: Record<string, unknown>;
  state: string;
  awaits: string;
  reason: string | null;
}
interface Answer {
  state?: string;
  requestId?: string;
  items?: Declaration[];
  field?: string;
  message?: string;
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const at = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
const requests = async () =>
  Number(
    (await w.pool.query<{ n: string }>('select count(*) as n from registry_change_requests')).rows[0]!.n,
  );

it('lists the enterprise’s declarations: pending, confirmed, rejected with the reason; only its own', async () => {
  const ent = await login(w.base, 'ent-0003-user');
  const mw = await send(ent, 'POST', '/api/enterprises/ent-0003/maintenance', {
    outletId: 'out-0003-w1',
    startsAt: at(2),
    endsAt: at(4),
    reason: '在线监测设备年度检修',
  });
  const shut = await send(ent, 'POST', '/api/enterprises/ent-0003/status', {
    status: 'shutdown',
    effectiveFrom: at(24),
    note: '计划停产检修',
  });
  const other = await send(ent, 'POST', '/api/enterprises/ent-0003/maintenance', {
    outletId: 'out-0003-w1',
    startsAt: at(30),
    endsAt: at(31),
    reason: '更换采样管',
  });
  expect([mw.body.state, shut.body.state, other.body.state]).toEqual(['pending', 'pending', 'pending']);

  // The officer of the district sees them pending; another district's officer does not.
  const lanxi = await login(w.base, 'officer-dist-lanxi');
  const landong = await login(w.base, 'officer-dist-landong');
  const pendingIds = async (s: Session) =>
    ((await send(s, 'GET', '/api/registry-changes?state=pending')).body.items ?? []).map((r) => r.id);
  expect(await pendingIds(lanxi)).toEqual(
    expect.arrayContaining([mw.body.requestId, shut.body.requestId, other.body.requestId]),
  );
  expect(await pendingIds(landong)).toEqual([]);

  // A comment the officer keeps with a confirmation is the bureau's; a rejection's reason is told.
  await send(lanxi, 'POST', `/api/registry-changes/${mw.body.requestId}/decision`, {
    approve: true,
    note: '内部：已电话核实',
  });
  await send(lanxi, 'POST', `/api/registry-changes/${shut.body.requestId}/decision`, {
    approve: false,
    note: '停产须附停产计划 / a shutdown needs the plan attached',
  });

  const listed = await send(ent, 'GET', '/api/portal/declarations');
  expect(listed.status).toBe(200);
  const byId = new Map((listed.body.items ?? []).map((d) => [d.id, d]));
  expect(byId.size).toBe(3);
  expect(byId.get(mw.body.requestId!)).toMatchObject({
    kind: 'maintenance',
    state: 'confirmed',
    reason: null,
    change: { outletId: 'out-0003-w1', reason: '在线监测设备年度检修' },
  });
  expect(byId.get(shut.body.requestId!)).toMatchObject({
    kind: 'status',
    state: 'rejected',
    reason: '停产须附停产计划 / a shutdown needs the plan attached',
  });
  expect(byId.get(other.body.requestId!)).toMatchObject({ state: 'pending', awaits: 'officer' });
  expect(JSON.stringify(listed.body)).not.toContain('内部');

  // Another enterprise of the same district sees none of them; officers use the approvals list.
  const ent4 = await login(w.base, 'ent-0004-user');
  expect((await send(ent4, 'GET', '/api/portal/declarations')).body.items).toEqual([]);
  expect((await send(lanxi, 'GET', '/api/portal/declarations')).status).toBe(403);
});

it('refuses a declaration for the past, naming the field in both languages; nothing saved', async () => {
  const ent = await login(w.base, 'ent-0003-user');
  const before = await requests();
  const mw = await send(ent, 'POST', '/api/enterprises/ent-0003/maintenance', {
    outletId: 'out-0003-w1',
    startsAt: at(-2),
    endsAt: at(1),
    reason: '补报检修',
  });
  expect(mw.status).toBe(400);
  expect(mw.body.field).toBe('startsAt');
  expect(mw.body.message).toMatch(
    /^startsAt：企业申报不能早于当前时间 \/ startsAt: an enterprise cannot declare/,
  );
  const st = await send(ent, 'POST', '/api/enterprises/ent-0003/status', {
    status: 'shutdown',
    effectiveFrom: at(-48),
  });
  expect(st.status).toBe(400);
  expect(st.body.field).toBe('effectiveFrom');
  expect(await requests()).toBe(before);
  // An officer may still record what happened in the past.
  const officer = await login(w.base, 'officer-dist-lanxi');
  const rec = await send(officer, 'POST', '/api/enterprises/ent-0003/maintenance', {
    outletId: 'out-0003-w1',
    startsAt: at(-2),
    endsAt: at(-1),
    reason: '补录检修',
  });
  expect(rec.status).toBe(200);
});
