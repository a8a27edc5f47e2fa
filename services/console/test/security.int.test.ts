// Attacks on the console's HTTP surface, each kept as a regression test against the real app on
// real Postgres: path variants of every registered route (enumerated from the running app, so a new
// route is covered by itself) without a session and without the CSRF header, oversized ids and NUL
// characters, the hardening headers, a state change on a GET (the draw publication), and what an
// enterprise user sees of a case.
import { request as httpRequest } from 'node:http';
import {
  CASES,
  createWorld,
  http,
  loginAs as login,
  rawRequest,
  type RawResult,
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

const enc = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Ways of writing the same path that a router or a proxy may treat as equal (or almost). */
function variants(path: string): string[] {
  const segs = path.split('/').slice(1);
  const last = segs.length - 1;
  const out = new Set<string>([
    `/${enc(segs[0]![0]!)}${segs[0]!.slice(1)}/${segs.slice(1).join('/')}`,
    `/${segs.map((s, i) => (i === last && s ? enc(s[0]!) + s.slice(1) : s)).join('/')}`,
    `/${segs.map((s) => [...s].map(enc).join('')).join('/')}`,
    `/${segs.map((s) => [...s].map((c) => enc(c).toUpperCase()).join('')).join('/')}`,
    `/${path}`,
    path.replace(/^\/([^/]+)\//, '/$1//'),
    `${path}/`,
    `${path}//`,
    path.toUpperCase(),
    `/${segs[0]!.toUpperCase()}/${segs.slice(1).join('/')}`,
    `/${segs[0]}/./${segs.slice(1).join('/')}`,
    `/${segs[0]}/x/../${segs.slice(1).join('/')}`,
    `/${segs[0]}/%2e/${segs.slice(1).join('/')}`,
    `/${segs[0]}%2f${segs.slice(1).join('/')}`,
    `${path}%00`,
    `${path}?${segs[0]}=1`,
  ]);
  out.delete(path);
  return [...out];
}

/** The route's pattern with every parameter filled in. */
const fill = (url: string, value: string) => url.replace(/:[A-Za-z]+/g, value).replace(/\*$/, 'x');

const isSpaPage = (r: RawResult) =>
  r.statusCode === 200 &&
  String(r.headers['content-type']).startsWith('text/html') &&
  (r.body === '' || r.body.includes('<div id="app">'));

function apiRoutes() {
  const routes = w.app.registeredRoutes.filter((r) => r.method !== 'OPTIONS');
  return {
    all: routes,
    guarded: routes.filter((r) => !r.public),
  };
}

test('the enumeration sees the API, the regulation routes and the docs', () => {
  const { all, guarded } = apiRoutes();
  const urls = new Set(all.map((r) => `${r.method} ${r.url}`));
  for (const u of [
    'GET /api/session',
    'POST /api/logout',
    'GET /api/stream',
    'POST /api/deviations/:id/actions',
    'POST /api/regulation/draws/:id/publish',
    'GET /api/regulation/draws/:id/publication.csv',
    'HEAD /api/deviations',
  ])
    expect(urls).toContain(u);
  expect(all.filter((r) => r.public).map((r) => r.url)).toEqual(
    expect.arrayContaining(['/api/login', '/docs/json']),
  );
  expect(guarded.every((r) => r.url.startsWith('/api/'))).toBe(true);
  expect(guarded.length).toBeGreaterThan(40);
});

test('no route answers without a session, whatever the spelling of its path', async () => {
  const failures: string[] = [];
  for (const r of apiRoutes().guarded) {
    const path = fill(r.url, '1');
    const plain = await rawRequest(w.base, { method: r.method, path });
    if (plain.statusCode !== 401) failures.push(`${r.method} ${path} → ${plain.statusCode} (want 401)`);
    for (const v of variants(path)) {
      const res = await rawRequest(w.base, { method: r.method, path: v });
      const refused = [400, 401, 403, 404, 405].includes(res.statusCode);
      if (!refused && !(['GET', 'HEAD'].includes(r.method) && isSpaPage(res)))
        failures.push(`${r.method} ${v} → ${res.statusCode} ${res.body.slice(0, 80)}`);
    }
  }
  expect(failures).toEqual([]);
});

test('no state change passes without the CSRF header, whatever the spelling; the session survives', async () => {
  const s = await loginAs('admin');
  const failures: string[] = [];
  for (const r of apiRoutes().guarded.filter((x) => !['GET', 'HEAD'].includes(x.method))) {
    const path = fill(r.url, '1');
    for (const v of [path, ...variants(path)]) {
      const res = await rawRequest(w.base, { method: r.method, path: v, headers: { cookie: s.cookie } });
      if (![400, 403, 404, 405].includes(res.statusCode))
        failures.push(`${r.method} ${v} → ${res.statusCode} ${res.body.slice(0, 80)}`);
    }
  }
  expect(failures).toEqual([]);
  // `/%61pi/logout` without the token did not end the session.
  const still = await rawRequest(w.base, {
    method: 'GET',
    path: '/api/session',
    headers: { cookie: s.cookie },
  });
  expect(still.statusCode).toBe(200);
});

/** A POST with a raw body; `announced` is the content-length sent (the body itself may stop short of it). */
function postRaw(
  path: string,
  body: string,
  announced: number,
): Promise<{ statusCode: number; body: string }> {
  const u = new URL(w.base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'content-length': String(announced) },
      },
      (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => {
          resolve({ statusCode: r.statusCode!, body: text });
          req.destroy();
        });
      },
    );
    req.on('error', reject);
    req.write(body);
  });
}

test('a request without a session is refused before its body is read', async () => {
  // A body that does not parse: 401, not a parser error, so the parser never ran.
  const garbled = await postRaw('/api/deviations/bulk', '{"ids": [', 9);
  expect(garbled.statusCode).toBe(401);
  expect(JSON.parse(garbled.body)).toMatchObject({ code: 'UNAUTHENTICATED' });
  // A large body announced and only its first bytes sent: the answer does not wait for the rest.
  const started = await postRaw('/api/deviations/bulk', '{"ids": [', 500_000);
  expect(started.statusCode).toBe(401);
  expect(JSON.parse(started.body)).toMatchObject({ code: 'UNAUTHENTICATED' });
});

test('oversized ids answer 400 naming the field, on every route that takes one', async () => {
  const s = await loginAs('admin');
  const failures: string[] = [];
  for (const r of apiRoutes().guarded.filter((x) => x.url.includes(':'))) {
    const param = /:([A-Za-z]+)/.exec(r.url)![1]!;
    // Longer than any id schema allows (string ids ≤ 128 characters, numeric ids ≤ 2^53 - 1).
    for (const big of ['9'.repeat(300), 'a'.repeat(300)]) {
      const path = fill(r.url, big);
      const res = await rawRequest(w.base, {
        method: r.method,
        path,
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
        ...(['GET', 'HEAD'].includes(r.method) ? {} : { payload: {} }),
      });
      const body = r.method === 'HEAD' ? {} : (JSON.parse(res.body || '{}') as Record<string, unknown>);
      if (res.statusCode !== 400 || (r.method !== 'HEAD' && body.code !== 'INVALID_INPUT'))
        failures.push(`${r.method} ${path.slice(0, 60)}… → ${res.statusCode} ${res.body.slice(0, 120)}`);
      else if (r.method !== 'HEAD' && (body.field !== param || !String(body.message).includes(' / ')))
        failures.push(`${r.method} ${r.url}: field ${String(body.field)}, message ${String(body.message)}`);
    }
  }
  expect(failures).toEqual([]);
});

test('a NUL character gives 400 naming the field, in a username or anywhere else', async () => {
  const login = await http(w.base, {
    method: 'POST',
    url: '/api/login',
    payload: { username: 'super\u0000visor', password: 'x' },
  });
  expect(login.statusCode).toBe(400);
  expect(login.json()).toMatchObject({ code: 'INVALID_INPUT', in: 'body', field: 'username' });
  expect((login.json() as { message: string }).message).toMatch(
    /username.*空字符.*\/ invalid field username/,
  );
  const s = await loginAs('supervisor');
  const q = await rawRequest(w.base, {
    method: 'GET',
    path: '/api/deviations?q=a%00b',
    headers: { cookie: s.cookie },
  });
  expect(q.statusCode).toBe(400);
  expect(JSON.parse(q.body)).toMatchObject({ code: 'INVALID_INPUT', in: 'querystring', field: 'q' });
  const comment = await http(w.base, {
    method: 'POST',
    url: `/api/deviations/${CASES.landong}/actions`,
    payload: { action: 'comment', body: 'x\u0000y' },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  expect(comment.statusCode).toBe(400);
  expect(comment.json()).toMatchObject({ field: 'body' });
});

test('schema violations are bilingual and name the field', async () => {
  const r = await http(w.base, {
    method: 'POST',
    url: '/api/login',
    payload: { username: 'x'.repeat(65), password: 'p' },
  });
  expect(r.statusCode).toBe(400);
  expect(r.json()).toEqual({
    code: 'INVALID_INPUT',
    in: 'body',
    field: 'username',
    message: expect.stringMatching(/^字段 username 过长 \/ invalid field username: /),
  });
});

test('every answer carries the CSP (frame-ancestors none) and the hardening headers', async () => {
  const s = await loginAs('viewer');
  for (const path of [
    '/',
    '/queue',
    '/api/session',
    '/api/nope',
    '/docs',
    '/docs/json',
    '/docs/static/index.html',
  ]) {
    const r = await rawRequest(w.base, { method: 'GET', path, headers: { cookie: s.cookie } });
    expect(r.statusCode).toBeLessThan(500);
    expect(String(r.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(String(r.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  }
});

test('reading a draw publication changes nothing; publishing is a POST with CSRF for supervisors only', async () => {
  await w.pool.query(`insert into inspectors (id, name, district_id) values
    ('insp-s1', '检查员一', 'dist-landong'), ('insp-s2', '检查员二', 'dist-landong'),
    ('insp-s3', '检查员三', 'dist-lanxi'), ('insp-s4', '检查员四', 'dist-lanxi'),
    ('insp-s5', '检查员五', 'dist-kaifa'), ('insp-s6', '检查员六', 'dist-kaifa')`);
  const sup = await loginAs('supervisor');
  const created = await http(w.base, {
    method: 'POST',
    url: '/api/regulation/draws',
    payload: { period: '2026-H1', seed: 'publish-test' },
    headers: { cookie: sup.cookie, 'x-csrf-token': sup.csrf },
  });
  expect(created.statusCode).toBe(201);
  const id = (created.json() as { id: number }).id;
  const publishedAt = async () =>
    (
      await w.pool.query<{ p: Date | null }>('select published_at as p from inspection_draws where id = $1', [
        id,
      ])
    ).rows[0]!.p;

  const viewer = await loginAs('viewer');
  const csv = await http(w.base, {
    method: 'GET',
    url: `/api/regulation/draws/${id}/publication.csv`,
    headers: { cookie: viewer.cookie },
  });
  expect(csv.statusCode).toBe(200);
  expect(csv.body).toContain('publish-test');
  expect(await publishedAt()).toBeNull();

  const publish = (s: Session, csrf = true) =>
    http(w.base, {
      method: 'POST',
      url: `/api/regulation/draws/${id}/publish`,
      headers: { cookie: s.cookie, ...(csrf ? { 'x-csrf-token': s.csrf } : {}) },
    });
  expect((await publish(viewer)).statusCode).toBe(403);
  expect((await publish(await loginAs('officer-dist-landong'))).statusCode).toBe(403);
  expect((await publish(sup, false)).statusCode).toBe(403);
  expect(await publishedAt()).toBeNull();

  const ok = await publish(sup);
  expect(ok.statusCode).toBe(200);
  const first = (ok.json() as { publishedAt: string }).publishedAt;
  expect((await publishedAt())!.toISOString()).toBe(first);
  expect(((await publish(sup)).json() as { publishedAt: string }).publishedAt).toBe(first);
});

test('an enterprise user sees neither internal review comments nor supervisor-only notifications', async () => {
  const sup = await loginAs('supervisor');
  const act = await http(w.base, {
    method: 'POST',
    url: `/api/deviations/${CASES.lanxi}/actions`,
    payload: { action: 'comment', body: '内部意见：建议立案 / internal: prosecute' },
    headers: { cookie: sup.cookie, 'x-csrf-token': sup.csrf },
  });
  expect(act.statusCode).toBe(200);
  const group = `grp-${CASES.lanxi}`;
  await w.pool.query(`update alert_cases set group_key = $2 where deviation_id = $1`, [CASES.lanxi, group]);
  for (const [id, kind] of [
    [`${group}:sup`, 'supervisor'],
    [`${group}:ent`, 'enterprise-contact'],
  ] as const)
    await w.pool.query(
      `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id,
          address_masked, channel, status, provider, attempts, sent_at)
       values ($1, $2, $3, 'reminder', 1, $4, 'r1', 'x***@example.cn', 'email', 'sent', 'smtp', 1, now())`,
      [id, group, [CASES.lanxi], kind],
    );

  const supView = (
    await http(w.base, {
      method: 'GET',
      url: `/api/deviations/${CASES.lanxi}`,
      headers: { cookie: sup.cookie },
    })
  ).json() as { comments: unknown[]; notifications: { recipientKind: string }[] };
  expect(supView.comments).toHaveLength(1);
  expect(supView.notifications.map((n) => n.recipientKind).sort()).toEqual([
    'enterprise-contact',
    'supervisor',
  ]);

  const ent = await loginAs('ent-0003-user');
  const r = await http(w.base, {
    method: 'GET',
    url: `/api/deviations/${CASES.lanxi}`,
    headers: { cookie: ent.cookie },
  });
  expect(r.statusCode).toBe(200);
  const view = r.json() as {
    comments: unknown[];
    notifications: { recipientKind: string }[];
    assignee: unknown;
  };
  expect(view.comments).toEqual([]);
  expect(view.notifications.map((n) => n.recipientKind)).toEqual(['enterprise-contact']);
  expect(r.body).not.toContain('内部意见');
  expect(view.assignee).toBeNull();
});

test('an enterprise user is not told the assignee in the queue either; the list has no internal fields', async () => {
  const sup = await loginAs('supervisor');
  const { rows } = await w.pool.query<{ id: string }>(
    `select id::text as id from console_users where username = 'officer-dist-lanxi'`,
  );
  expect(rows).toHaveLength(1);
  const act = await http(w.base, {
    method: 'POST',
    url: `/api/deviations/${CASES.lanxi}/actions`,
    payload: { action: 'assign', assigneeId: rows[0]!.id },
    headers: { cookie: sup.cookie, 'x-csrf-token': sup.csrf },
  });
  expect(act.statusCode).toBe(200);
  type Listed = { items: Record<string, unknown>[] };
  const list = async (cookie: string) => {
    const r = await http(w.base, { method: 'GET', url: '/api/deviations?pageSize=200', headers: { cookie } });
    expect(r.statusCode).toBe(200);
    return { body: r.body, item: (r.json() as Listed).items.find((i) => i.id === CASES.lanxi) };
  };

  // A supervisor's queue names the assignee: the case really is assigned.
  expect((await list(sup.cookie)).item?.assignee).toBe('officer-dist-lanxi');

  const ent = await list((await loginAs('ent-0003-user')).cookie);
  expect(ent.item).toBeDefined();
  expect(ent.item!.assignee).toBeNull();
  expect(ent.body).not.toContain('officer-dist-lanxi');
  for (const internal of ['comments', 'notifications', 'alert', 'decision', 'dismissReason'])
    expect(ent.item).not.toHaveProperty(internal);
});
