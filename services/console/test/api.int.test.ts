import { CASES, createWorld, http, PASSWORD, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w.close();
});

interface Session {
  cookie: string;
  csrf: string;
}

async function loginAs(username: string): Promise<Session> {
  const r = await http(w.base, {
    method: 'POST',
    url: '/api/login',
    payload: { username, password: PASSWORD },
  });
  expect(r.statusCode).toBe(200);
  const set = r.cookies.find((c) => c.name === 'offsite_session');
  expect(set?.httpOnly).toBe(true);
  return { cookie: `offsite_session=${set!.value}`, csrf: (r.json() as { csrfToken: string }).csrfToken };
}
const get = (s: Session, url: string) => http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
const post = (s: Session, url: string, payload: object) =>
  http(w.base, { method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });

describe('sessions', () => {
  it('rejects a wrong password and anonymous API calls', async () => {
    const r = await http(w.base, {
      method: 'POST',
      url: '/api/login',
      payload: { username: 'admin', password: 'nope' },
    });
    expect(r.statusCode).toBe(401);
    expect((await http(w.base, { method: 'GET', url: '/api/deviations' })).statusCode).toBe(401);
  });

  it('stores an argon2id hash, never the password', async () => {
    const r = await w.pool.query<{ h: string }>(
      `select password_hash as h from console_users where username = 'admin'`,
    );
    expect(r.rows[0]!.h).toMatch(/^\$argon2id\$/);
  });

  it('refuses a state change without or with a wrong CSRF token', async () => {
    const s = await loginAs('supervisor');
    const none = await http(w.base, {
      method: 'POST',
      url: `/api/deviations/${CASES.landong2}/actions`,
      payload: { action: 'comment', body: 'x' },
      headers: { cookie: s.cookie },
    });
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ code: 'CSRF_INVALID' });
    const wrong = await http(w.base, {
      method: 'POST',
      url: `/api/deviations/${CASES.landong2}/actions`,
      payload: { action: 'comment', body: 'x' },
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf.slice(1) + 'A' },
    });
    expect(wrong.statusCode).toBe(403);
    const c = await w.pool.query(`select count(*)::int as n from review_comments`);
    expect(c.rows[0].n).toBe(0);
  });

  it('ends an expired session and a logged-out one', async () => {
    const s = await loginAs('viewer');
    expect((await get(s, '/api/session')).statusCode).toBe(200);
    await w.pool.query(
      `update console_sessions set expires_at = now() - interval '1 second'
        where user_id = (select id from console_users where username = 'viewer')`,
    );
    expect((await get(s, '/api/session')).statusCode).toBe(401);
    const s2 = await loginAs('viewer');
    expect((await post(s2, '/api/logout', {})).statusCode).toBe(200);
    expect((await get(s2, '/api/session')).statusCode).toBe(401);
  });

  it('rate-limits login attempts per client and username', async () => {
    const limited = await (await import('./fixture.js')).createWorld({ loginMax: 3 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await http(limited.base, {
          method: 'POST',
          url: '/api/login',
          payload: { username: 'admin', password: 'x' },
        });
        codes.push(r.statusCode);
      }
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      // Another username from the same client is not locked out.
      const other = await http(limited.base, {
        method: 'POST',
        url: '/api/login',
        payload: { username: 'viewer', password: PASSWORD },
      });
      expect(other.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('district isolation', () => {
  it('a Landong officer sees only Landong cases in lists, counts and search', async () => {
    const s = await loginAs('officer-dist-landong');
    const all = (await get(s, '/api/deviations?pageSize=200')).json() as {
      items: { id: string }[];
      total: number;
    };
    expect(all.items.map((i) => i.id).sort()).toEqual([CASES.landong, CASES.landong2].sort());
    expect(all.total).toBe(2);
    const filtered = (await get(s, '/api/deviations?district=dist-lanxi')).json() as {
      items: unknown[];
      total: number;
    };
    expect(filtered).toMatchObject({ items: [], total: 0 });
    const search = (await get(s, `/api/deviations?q=${encodeURIComponent(CASES.lanxi)}`)).json() as {
      total: number;
    };
    expect(search.total).toBe(0);
    const byEnt = (await get(s, '/api/deviations?enterprise=ent-0003')).json() as { total: number };
    expect(byEnt.total).toBe(0);
    const ents = (await get(s, '/api/enterprises')).json() as { items: { districtId: string }[] };
    expect(ents.items.length).toBeGreaterThan(0);
    expect(new Set(ents.items.map((e) => e.districtId))).toEqual(new Set(['dist-landong']));
  });

  it('a Landong officer can neither read nor change a Lanxi case, nor its audit trail or enterprise', async () => {
    const s = await loginAs('officer-dist-landong');
    expect((await get(s, `/api/deviations/${CASES.lanxi}`)).statusCode).toBe(404);
    expect((await get(s, `/api/deviations/${CASES.lanxi}/evidence`)).statusCode).toBe(404);
    expect((await get(s, `/api/audit?entityType=deviation&entityId=${CASES.lanxi}`)).statusCode).toBe(404);
    expect((await get(s, '/api/enterprises/ent-0003')).statusCode).toBe(404);
    const act = await post(s, `/api/deviations/${CASES.lanxi}/actions`, { action: 'acknowledge' });
    expect(act.statusCode).toBe(404);
    const bulk = await post(s, '/api/deviations/bulk', {
      ids: [CASES.lanxi, CASES.landong2],
      action: { action: 'acknowledge' },
    });
    expect(bulk.json()).toEqual({
      results: [
        { id: CASES.lanxi, ok: false, code: 'NOT_FOUND' },
        { id: CASES.landong2, ok: true, reviewState: 'acknowledged' },
      ],
    });
    const st = await w.pool.query(`select review_state from review_cases where deviation_id = $1`, [
      CASES.lanxi,
    ]);
    expect(st.rows[0].review_state).toBe('new');
  });

  it('the city supervisor sees every district; an enterprise user sees only its own non-falsification cases', async () => {
    const sup = await loginAs('supervisor');
    expect(((await get(sup, '/api/deviations')).json() as { total: number }).total).toBe(4);
    const ent = await loginAs('ent-0003-user');
    const mine = (await get(ent, '/api/deviations')).json() as { items: { id: string }[] };
    expect(mine.items.map((i) => i.id)).toEqual([CASES.lanxi]);
    expect((await get(ent, `/api/deviations/${CASES.falsified}`)).statusCode).toBe(404);
    expect(
      (await post(ent, `/api/deviations/${CASES.lanxi}/actions`, { action: 'acknowledge' })).statusCode,
    ).toBe(403);
    expect(
      (await post(ent, `/api/deviations/${CASES.lanxi}/enterprise-ack`, { note: '已整改' })).statusCode,
    ).toBe(200);
  });
});

describe('review actions', () => {
  it('a viewer can read but not act', async () => {
    const s = await loginAs('viewer');
    expect((await get(s, `/api/deviations/${CASES.landong}`)).statusCode).toBe(200);
    const r = await post(s, `/api/deviations/${CASES.landong}/actions`, { action: 'acknowledge' });
    expect(r.statusCode).toBe(403);
    expect(
      (await post(s, '/api/deviations/bulk', { ids: [CASES.landong], action: { action: 'acknowledge' } }))
        .statusCode,
    ).toBe(403);
    const patch = await http(w.base, {
      method: 'PATCH',
      url: '/api/enterprises/ent-0002',
      payload: { address: 'x' },
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    });
    expect(patch.statusCode).toBe(403);
  });

  it('walks a case through its workflow, each step audited with before and after', async () => {
    const s = await loginAs('officer-dist-landong');
    const url = `/api/deviations/${CASES.landong}/actions`;
    expect((await post(s, url, { action: 'acknowledge' })).json()).toMatchObject({
      reviewState: 'acknowledged',
    });
    expect((await post(s, url, { action: 'comment', body: '已电话联系企业' })).statusCode).toBe(200);
    expect((await post(s, url, { action: 'dismiss', reason: ' ' })).statusCode).toBe(400);
    const rect = await post(s, url, { action: 'request-rectification', deadline: '2026-03-20' });
    expect(rect.json()).toMatchObject({ reviewState: 'rectification-requested' });
    expect((await post(s, url, { action: 'confirm', decision: 'no-penalty' })).json()).toMatchObject({
      reviewState: 'confirmed',
    });
    expect((await post(s, url, { action: 'acknowledge' })).statusCode).toBe(409);
    expect((await post(s, url, { action: 'close' })).json()).toMatchObject({ reviewState: 'closed' });
    const detail = (await get(s, `/api/deviations/${CASES.landong}`)).json() as Record<string, unknown>;
    expect(detail).toMatchObject({
      reviewState: 'closed',
      decision: 'no-penalty',
      rectificationDue: '2026-03-20',
    });
    const audit = (await get(s, `/api/audit?entityType=deviation&entityId=${CASES.landong}`)).json() as {
      items: {
        action: string;
        actorName: string;
        before: Record<string, unknown>;
        after: Record<string, unknown>;
      }[];
    };
    expect(audit.items.map((a) => a.action).reverse()).toEqual([
      'case.acknowledge',
      'case.comment',
      'case.request-rectification',
      'case.confirm',
      'case.close',
    ]);
    expect(audit.items[0]).toMatchObject({
      actorName: 'officer-dist-landong',
      before: { review_state: 'confirmed' },
      after: { review_state: 'closed' },
    });
  });

  it('keeps the audit log append-only', async () => {
    await expect(w.pool.query(`update audit_log set actor_name = 'someone-else'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(w.pool.query(`delete from audit_log`)).rejects.toThrow(/append-only/);
    await expect(w.pool.query(`truncate audit_log`)).rejects.toThrow(/append-only/);
  });

  it('masks HJ 212 credentials and audits a registry edit', async () => {
    const s = await loginAs('admin');
    const e = (await get(s, '/api/enterprises/ent-0002')).json() as { devices: { password: string }[] };
    expect(e.devices.length).toBeGreaterThan(0);
    const real = await w.pool.query(`select password from devices limit 1`);
    expect(JSON.stringify(e)).not.toContain(real.rows[0].password);
    expect(e.devices.every((d) => d.password === '******')).toBe(true);
    const r = await http(w.base, {
      method: 'PATCH',
      url: '/api/enterprises/ent-0002',
      payload: { address: '青澜市澜东区工业路 8 号' },
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    });
    expect(r.statusCode).toBe(200);
    const a = await w.pool.query(
      `select after from audit_log where entity_type = 'enterprise' and entity_id = 'ent-0002'`,
    );
    expect(a.rows[0].after).toEqual({ address: '青澜市澜东区工业路 8 号' });
  });
});

describe('evidence', () => {
  it('returns the pollutant series with its permit limit from InfluxDB', async () => {
    const s = await loginAs('supervisor');
    const r = await get(s, `/api/deviations/${CASES.landong}/evidence`);
    expect(r.statusCode).toBe(200);
    const ev = r.json() as {
      kind: string;
      series: { field: string; points: [string, number][] }[];
      limit: { value: number };
    };
    expect(ev.kind).toBe('pollutant');
    expect(ev.limit.value).toBe(50);
    expect(ev.series[0]!.field).toBe('Avg');
    expect(ev.series[0]!.points.map((p) => p[1])).toEqual([30, 71, 72, 73, 34, 35, 36, 37]);
  });
});

describe('injection attempts in every filter fail harmlessly', () => {
  const hostile = [
    `' or 1=1 --`,
    `dist-lanxi' or '1'='1`,
    `x"); drop table review_cases; --`,
    `x") or true or (r.site == "`,
    `%`,
    `_`,
  ];
  it.each([
    'district',
    'enterprise',
    'rule',
    'q',
    'severity',
    'state',
    'sort',
    'order',
    'from',
    'to',
    'page',
  ])('filter %s', async (field) => {
    const s = await loginAs('officer-dist-landong');
    for (const h of hostile) {
      const r = await get(s, `/api/deviations?${field}=${encodeURIComponent(h)}`);
      expect([200, 400]).toContain(r.statusCode);
      if (r.statusCode === 200) {
        const ids = (r.json() as { items: { id: string }[] }).items.map((i) => i.id);
        expect(ids).not.toContain(CASES.lanxi);
        // Free text matched literally: no case has these strings in it.
        expect(ids).toEqual([]);
      }
    }
    const still = await w.pool.query(`select count(*)::int as n from review_cases`);
    expect(still.rows[0].n).toBe(4);
  });

  it('hostile deviation ids reach neither SQL nor Flux as code', async () => {
    const s = await loginAs('supervisor');
    for (const h of hostile) {
      const r = await get(s, `/api/deviations/${encodeURIComponent(h)}/evidence`);
      expect(r.statusCode).toBe(404);
    }
  });
});
