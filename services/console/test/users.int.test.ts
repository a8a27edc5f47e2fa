import { createWorld, sendAs, loginAs as login, type Session, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w?.close();
});

interface Answer {
  code?: string;
  field?: string;
  message?: string;
  password?: string;
  user?: { id: string; role: string; districtId: string | null; disabled: boolean };
  items?: { username: string; onDuty: boolean; inspector: boolean }[];
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const one = async (sql: string, params: unknown[] = []) => (await w.pool.query(sql, params)).rows[0];

describe('admins manage users in the console', () => {
  it('creates an officer who can log in, is on the draw roster and in the recipients read API; audited', async () => {
    const admin = await login(w.base, 'admin');
    const r = await send(admin, 'POST', '/api/users', {
      username: 'officer-li',
      displayName: '李执法',
      role: 'district-officer',
      districtId: 'dist-lanxi',
      email: 'li@qinglan.example',
    });
    expect(r.status).toBe(200);
    expect(r.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const s = await login(w.base, 'officer-li', r.body.password);
    expect((await send(s, 'GET', '/api/enterprises/ent-0002')).status).toBe(404);
    expect((await send(s, 'GET', '/api/enterprises/ent-0003')).status).toBe(200);
    expect(
      await one(`select is_officer, active, district_id from inspectors where id = 'officer-li'`),
    ).toEqual({
      is_officer: true,
      active: true,
      district_id: 'dist-lanxi',
    });
    expect(
      await one(`select role, district_id, email from console_recipients_v1 where username = 'officer-li'`),
    ).toEqual({
      role: 'district-officer',
      district_id: 'dist-lanxi',
      email: 'li@qinglan.example',
    });
    const a = await one(
      `select actor_name, after from audit_log where action = 'user.add' and after->>'username' = 'officer-li'`,
    );
    expect(a.actor_name).toBe('admin');
    expect(JSON.stringify(a.after)).not.toContain(r.body.password);
  });

  it('takes a user off duty, moves them, resets a password and disables them; each audited, sessions ended', async () => {
    const admin = await login(w.base, 'admin');
    const off = await send(admin, 'PATCH', '/api/users/officer-li', { onDuty: false });
    expect(off.status).toBe(200);
    expect(
      await one(`select count(*)::int as n from console_recipients_v1 where username = 'officer-li'`),
    ).toEqual({ n: 0 });
    const reset = await send(admin, 'POST', '/api/users/officer-li/reset-password');
    const s = await login(w.base, 'officer-li', reset.body.password);
    const moved = await send(admin, 'PATCH', '/api/users/officer-li', {
      districtId: 'dist-landong',
      onDuty: true,
    });
    expect(moved.body.user).toMatchObject({ role: 'district-officer', districtId: 'dist-landong' });
    // The old session's scope is gone with it.
    expect((await send(s, 'GET', '/api/session')).status).toBe(401);
    const up = await send(admin, 'PATCH', '/api/users/officer-li', { role: 'city-supervisor' });
    expect(up.body.user).toMatchObject({ role: 'city-supervisor', districtId: null });
    expect(await one(`select active, is_officer from inspectors where id = 'officer-li'`)).toEqual({
      active: false,
      is_officer: false,
    });
    const dis = await send(admin, 'POST', '/api/users/officer-li/disable');
    expect(dis.body.user).toMatchObject({ disabled: true });
    const actions = (
      await w.pool.query(
        `select action from audit_log where entity_type = 'console_user' and actor_name = 'admin' order by id`,
      )
    ).rows.map((x: { action: string }) => x.action);
    expect(actions).toEqual([
      'user.add',
      'user.update',
      'user.reset-password',
      'user.update',
      'user.update',
      'user.disable',
    ]);
  });

  it('refuses bad fields by name and anyone but an admin', async () => {
    const admin = await login(w.base, 'admin');
    const noDistrict = await send(admin, 'POST', '/api/users', {
      username: 'x-officer',
      displayName: 'x',
      role: 'district-officer',
    });
    expect([noDistrict.status, noDistrict.body.field]).toEqual([400, 'district']);
    expect(noDistrict.body.message).toMatch(/区县/);
    const badMail = await send(admin, 'PATCH', '/api/users/supervisor', { email: 'not-a-mail' });
    expect([badMail.status, badMail.body.field]).toEqual([400, 'email']);
    expect((await send(admin, 'PATCH', '/api/users/nobody', { onDuty: false })).status).toBe(404);
    for (const u of ['supervisor', 'officer-dist-landong', 'viewer']) {
      const s = await login(w.base, u);
      expect([u, (await send(s, 'GET', '/api/users')).status]).toEqual([u, 403]);
      expect([u, (await send(s, 'POST', '/api/users/viewer/disable')).status]).toEqual([u, 403]);
    }
    expect(await one(`select count(*)::int as n from console_users where username = 'x-officer'`)).toEqual({
      n: 0,
    });
  });
});
