import { until } from '@offsite/testing';
import {
  CASES,
  createWorld,
  http,
  insertAlertCase,
  loginAs as login,
  PASSWORD,
  type Session,
  type World,
} from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w.close();
});

const loginAs = (username: string): Promise<Session> => login(w.base, username);
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

  it('offers each user only the districts in scope as queue filters', async () => {
    const ids = async (u: string) =>
      ((await get(await loginAs(u), '/api/districts')).json() as { items: { id: string }[] }).items.map(
        (d) => d.id,
      );
    expect(await ids('officer-dist-landong')).toEqual(['dist-landong']);
    expect(await ids('ent-0003-user')).toEqual(['dist-lanxi']);
    const all = await ids('supervisor');
    expect(all).toEqual(expect.arrayContaining(['dist-landong', 'dist-lanxi']));
    expect(all.length).toBeGreaterThan(2);
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
  it("reads the influx-writer's layout: one series per interval and statistic, flags, the analyzer's aggregates and the limit", async () => {
    const s = await loginAs('supervisor');
    const r = await get(s, `/api/deviations/${CASES.landong}/evidence`);
    expect(r.statusCode).toBe(200);
    const ev = r.json() as {
      kind: string;
      unit: string;
      series: {
        name: string;
        interval: string;
        field: string;
        points: [string, number][];
        flags: [string, string][];
      }[];
      aggregates: { start: string; converted: number; valid: boolean; flag: string; coverage: number }[];
      limit: { value: number };
    };
    expect(ev.kind).toBe('pollutant');
    expect(ev.limit.value).toBe(50);
    expect(ev.unit).toBe('mg/m3');
    const byField = Object.fromEntries(ev.series.map((x) => [`${x.interval}/${x.field}`, x]));
    // Only the case's site and factor: the other factor (999) and the other outlet (888) stay out.
    expect(Object.keys(byField).sort()).toEqual(['hour/Avg', 'hour/Max', 'hour/Min', 'hour/aggregate']);
    expect(byField['hour/Avg']!.points.map((p) => p[1])).toEqual([30, 71, 72, 73, 34, 35, 36, 37]);
    // The hour flagged D (fault) is marked on the series.
    expect(byField['hour/Avg']!.flags).toEqual([['2026-03-02T06:00:00.000Z', 'D']]);
    // The analyzer's converted hourly means, and its aggregate rows with validity and coverage.
    expect(byField['hour/aggregate']!.points.map((p) => p[1])).toEqual([75, 76, 77, 78]);
    expect(ev.aggregates).toHaveLength(4);
    expect(ev.aggregates[3]).toMatchObject({ converted: 78, valid: false, flag: 'D', coverage: 0.5 });
  });
});

describe("the alerter's cases", () => {
  it('the detail shows the notifications sent, their delivery attempts and the enterprise acknowledgement', async () => {
    const s = await loginAs('officer-dist-landong');
    const d = (await get(s, `/api/deviations/${CASES.landong}`)).json() as {
      alert: { groupKey: string };
      notifications: {
        channel: string;
        status: string;
        deliveries: { provider: string; status: string; errorCode: string | null }[];
      }[];
      acknowledgements: { contactName: string; cause: string }[];
    };
    expect(d.alert.groupKey).toBe(`grp-${CASES.landong}`);
    const sms = d.notifications.find((n) => n.channel === 'sms')!;
    expect(sms.status).toBe('sent');
    expect(sms.deliveries.map((x) => `${x.provider}:${x.status}:${x.errorCode ?? ''}`)).toEqual([
      'aliyun:failed:PROVIDER_UNAVAILABLE',
      'tencent:sent:',
    ]);
    expect(d.notifications.map((n) => n.channel).sort()).toEqual(['email', 'sms']);
    expect(d.acknowledgements).toHaveLength(1);
    expect(d.acknowledgements[0]!.cause).toContain('脱硫塔');
    expect(d.acknowledgements[0]!.contactName).toBeTruthy();
    // Another case has no notifications of its own.
    const other = (await get(s, `/api/deviations/${CASES.landong2}`)).json() as { notifications: unknown[] };
    expect(other.notifications).toEqual([]);
  });

  it('a case the alerter upserts appears in the queue and is pushed over SSE to a subscriber who may see it', async () => {
    const s = await loginAs('officer-dist-landong');
    const ctrl = new AbortController();
    const res = await fetch(`${w.base}/api/stream`, { headers: { cookie: s.cookie }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const seen = (id: string) => text.includes(`"id":"${id}"`);
    const reading = (async () => {
      for (;;) {
        const c = await reader.read();
        if (c.done) return;
        text += Buffer.from(c.value).toString('utf8');
      }
    })().catch(() => undefined);
    await until(() => text.includes(': connected'), 5_000, 'the stream to open');
    const ev = {
      schema: 'deviation.v1' as const,
      id: 'dev-landong-live-1',
      rule: 'exceedance' as const,
      state: 'opened' as const,
      revision: 1,
      severity: 'medium' as const,
      enterpriseId: 'ent-0001',
      siteId: 'out-0001-g1',
      factor: 'a34013',
      windowStart: '2026-03-03T01:00:00.000Z',
      openedAt: '2026-03-03T03:00:00.000Z',
      suspectedFalsification: false,
      inResumptionWindow: false,
      evidence: { summary: 'x', values: [], params: {} },
      emittedAt: '2026-03-03T03:00:01.000Z',
    };
    // A Lanxi case: the Landong officer's stream must not carry it.
    await insertAlertCase(w.pool, {
      ...ev,
      id: 'dev-lanxi-live-1',
      enterpriseId: 'ent-0003',
      siteId: 'out-0003-w1',
    });
    await insertAlertCase(w.pool, ev);
    await until(() => seen('dev-landong-live-1'), 5_000, 'the new case on the stream');
    // The resolved revision of the same case is pushed as well.
    await insertAlertCase(w.pool, {
      ...ev,
      revision: 2,
      state: 'resolved',
      resolvedAt: '2026-03-03T05:00:00.000Z',
    });
    await until(
      () => (text.match(/dev-landong-live-1/g) ?? []).length >= 2,
      5_000,
      'the resolved revision on the stream',
    );
    ctrl.abort();
    await reading;
    expect(seen('dev-lanxi-live-1')).toBe(false);
    const q = (await get(s, '/api/deviations?pageSize=200')).json() as {
      items: { id: string; deviationState: string; windowStart: string }[];
    };
    const row = q.items.find((i) => i.id === 'dev-landong-live-1')!;
    expect(row).toMatchObject({ deviationState: 'resolved', windowStart: '2026-03-03T01:00:00.000Z' });
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
    expect(still.rows[0].n).toBeGreaterThanOrEqual(4);
  });

  it('hostile deviation ids reach neither SQL nor Flux as code', async () => {
    const s = await loginAs('supervisor');
    for (const h of hostile) {
      const r = await get(s, `/api/deviations/${encodeURIComponent(h)}/evidence`);
      expect(r.statusCode).toBe(404);
    }
  });
});
