// The enterprise portal's API against the real Postgres: invitations (scope, one-time, expiry, audit),
// and what an enterprise user may see and do.
import { createWorld, http, loginAs as login, sendAs, type Session, type World } from './fixture.js';

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
  token?: string;
  link?: string;
  enterpriseName?: string;
  user?: { username: string; enterpriseId: string | null; role?: string };
  items?: Record<string, unknown>[];
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const anon = async (method: string, url: string, payload?: object) => {
  const r = await http(w.base, { method, url, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: r.json() as Answer };
};
const count = async (sql: string, params: unknown[] = []) =>
  Number((await w.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

describe('invitations to the enterprise portal', () => {
  it('a district officer invites for its own district only; viewers and enterprise users may not', async () => {
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const other = await send(lanxi, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0002',
      displayName: '王经理',
    });
    expect(other.status).toBe(404);
    expect(other.body.field).toBe('enterpriseId');
    for (const who of ['viewer', 'ent-0003-user']) {
      const s = await login(w.base, who);
      const r = await send(s, 'POST', '/api/portal/invitations', {
        enterpriseId: 'ent-0003',
        displayName: 'x',
      });
      expect(r.status).toBe(403);
    }
    expect(await count('select count(*) as n from portal_invitations')).toBe(0);
    const city = await login(w.base, 'supervisor');
    expect(
      (await send(city, 'POST', '/api/portal/invitations', { enterpriseId: 'ent-0002', displayName: '张' }))
        .status,
    ).toBe(201);
    // The officer lists only its district's invitations.
    expect((await send(lanxi, 'GET', '/api/portal/invitations')).body.items).toEqual([]);
  });

  it('the invitee sets a password once; the account is bound to the enterprise; audited, token never stored', async () => {
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const inv = await send(lanxi, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0003',
      displayName: '环保专员 刘',
      email: 'liu@ent3.example',
    });
    expect(inv.status).toBe(201);
    const token = inv.body.token!;
    expect(inv.body.link).toBe(`/#/invite/${token}`);
    const shown = await anon('GET', `/api/portal/invitations/${token}`);
    expect(shown.status).toBe(200);
    expect(shown.body.enterpriseName).toBeTruthy();

    // Bad input: a short password, a malformed username → field-named 400, nothing saved, still open.
    const short = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'ent3-liu',
      password: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.body.field).toBe('password');
    expect(short.body.message).toMatch(/密码/);
    const badName = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'Bad Name!',
      password: 'a-long-enough-passw0rd',
    });
    expect(badName.body.field).toBe('username');
    const taken = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'viewer',
      password: 'a-long-enough-passw0rd',
    });
    expect(taken.status).toBe(400);
    expect(await count(`select count(*) as n from console_users where username = 'ent3-liu'`)).toBe(0);
    expect(await count('select count(*) as n from portal_invitations where used_at is not null')).toBe(0);

    const ok = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'ent3-liu',
      password: 'a-long-enough-passw0rd',
    });
    expect(ok.status).toBe(201);
    const s = await login(w.base, 'ent3-liu', 'a-long-enough-passw0rd');
    const me = await send(s, 'GET', '/api/session');
    expect(me.body.user).toMatchObject({ role: 'enterprise', enterpriseId: 'ent-0003' });

    // One time only.
    expect((await anon('GET', `/api/portal/invitations/${token}`)).status).toBe(404);
    const again = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'ent3-other',
      password: 'a-long-enough-passw0rd',
    });
    expect(again.status).toBe(404);
    expect(await count(`select count(*) as n from console_users where username = 'ent3-other'`)).toBe(0);

    const audit = await w.pool.query<{ action: string; actor_name: string; after: unknown }>(
      `select action, actor_name, after from audit_log where action like 'portal.invitation.%' or
         (action = 'user.add' and after->>'username' = 'ent3-liu') order by id`,
    );
    expect(audit.rows.map((r) => [r.action, r.actor_name])).toEqual(
      expect.arrayContaining([
        ['portal.invitation.create', 'officer-dist-lanxi'],
        ['user.add', 'officer-dist-lanxi'],
        ['portal.invitation.accept', 'ent3-liu'],
      ]),
    );
    expect(JSON.stringify(audit.rows)).not.toContain(token);
    expect(await count('select count(*) as n from portal_invitations where token_hash = $1', [token])).toBe(
      0,
    );
  });

  it('an expired invitation is refused', async () => {
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const inv = await send(lanxi, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0003',
      displayName: '赵',
    });
    await w.pool.query(
      `update portal_invitations set created_at = now() - interval '4 days', expires_at = now() - interval '1 hour'
        where id = $1`,
      [(inv.body as { id?: string }).id],
    );
    const r = await anon('POST', `/api/portal/invitations/${inv.body.token}/accept`, {
      username: 'ent3-zhao',
      password: 'a-long-enough-passw0rd',
    });
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/过期.*expired/);
    expect(await count(`select count(*) as n from console_users where username = 'ent3-zhao'`)).toBe(0);
  });
});
