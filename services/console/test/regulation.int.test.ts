// Regulatory features mounted in the console: scope from the session, outcomes and removal
// proposals recorded by review actions in the same transaction, listed enterprises marked.
import { CASES, createWorld, http, PASSWORD, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
  // ent-0002 (Landong) is on the positive list since yesterday.
  await w.pool.query(
    `insert into positive_list_decisions (enterprise_id, action, reason, valid_from, valid_until, decided_by)
     values ('ent-0002', 'add', '稳定达标', (now() at time zone 'Asia/Shanghai')::date - 1, null, 'supervisor')`,
  );
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
  const c = r.cookies.find((x) => x.name === 'offsite_session')!;
  return { cookie: `offsite_session=${c.value}`, csrf: (r.json() as { csrfToken: string }).csrfToken };
}
const get = (s: Session, url: string) => http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
const post = (s: Session, url: string, payload: object) =>
  http(w.base, { method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
const thisMonth = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(
    new Date(),
  );

it('marks listed enterprises in the queue and the registry', async () => {
  const s = await loginAs('supervisor');
  const q = (await get(s, '/api/deviations?pageSize=200')).json() as {
    items: { id: string; listed: boolean }[];
  };
  const listed = Object.fromEntries(q.items.map((i) => [i.id, i.listed]));
  expect(listed[CASES.landong]).toBe(true);
  expect(listed[CASES.landong2]).toBe(false);
  const ents = (await get(s, '/api/enterprises')).json() as { items: { id: string; listed: boolean }[] };
  expect(ents.items.find((e) => e.id === 'ent-0002')?.listed).toBe(true);
  expect(ents.items.find((e) => e.id === 'ent-0001')?.listed).toBe(false);
  const pl = (await get(s, '/api/regulation/positive-list')).json() as { enterpriseId: string }[];
  expect(pl.map((x) => x.enterpriseId)).toEqual(['ent-0002']);
});

it('confirming a serious violation of a listed enterprise proposes its removal and records the report figures', async () => {
  const s = await loginAs('officer-dist-landong');
  const r = await post(s, `/api/deviations/${CASES.landong}/actions`, {
    action: 'confirm',
    decision: 'penalty',
    note: '超标排放，责令改正并处罚款',
  });
  expect(r.statusCode).toBe(200);
  expect(r.json()).toMatchObject({ reviewState: 'confirmed', removalProposed: true });
  const proposals = (await get(s, '/api/regulation/positive-list/removal-proposals')).json() as {
    enterpriseId: string;
    trigger: string;
    sourceRef: string;
  }[];
  expect(proposals).toEqual([
    expect.objectContaining({
      enterpriseId: 'ent-0002',
      trigger: 'serious-violation',
      sourceRef: `case:${CASES.landong}`,
    }),
  ]);
  const audit = await w.pool.query(
    `select after from audit_log where entity_id = $1 and action = 'case.confirm'`,
    [CASES.landong],
  );
  expect(audit.rows[0].after.removal_proposal_id).toBeDefined();

  // Not listed: a rectification cycle on ent-0001 proposes nothing but counts in the report.
  const due = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
  expect(
    (
      await post(s, `/api/deviations/${CASES.landong2}/actions`, {
        action: 'request-rectification',
        deadline: due,
      })
    ).statusCode,
  ).toBe(200);
  expect((await post(s, `/api/deviations/${CASES.landong2}/actions`, { action: 'close' })).statusCode).toBe(
    200,
  );

  const rep = (
    await get(s, `/api/regulation/reports/monthly?district=dist-landong&month=${thisMonth()}`)
  ).json() as {
    figures: {
      offsiteChecks: number;
      deviationsTotal: number;
      deviations: { rule: string; outcome: string; count: number }[];
      rectifications: { total: number; inTime: number };
    };
  };
  expect(rep.figures.offsiteChecks).toBe(2);
  expect(rep.figures.deviations).toEqual([{ rule: 'exceedance', outcome: 'confirmed', count: 1 }]);
  expect(rep.figures.rectifications).toMatchObject({ total: 1, inTime: 1 });
  const csv = await get(s, `/api/regulation/reports/monthly.csv?district=dist-landong&month=${thisMonth()}`);
  expect(csv.statusCode).toBe(200);
  expect(csv.body.length).toBeGreaterThan(20);
});

it('an action that fails rolls back its outcomes too', async () => {
  const s = await loginAs('officer-dist-landong');
  // Already confirmed: confirming again is an invalid transition and records nothing new.
  const before = await w.pool.query(`select count(*)::int as n from regulatory_events`);
  const r = await post(s, `/api/deviations/${CASES.landong}/actions`, {
    action: 'confirm',
    decision: 'no-penalty',
  });
  expect(r.statusCode).toBe(409);
  const after = await w.pool.query(`select count(*)::int as n from regulatory_events`);
  expect(after.rows[0].n).toBe(before.rows[0].n);
});

it("keeps the regulatory routes in the caller's district and closed to enterprise users", async () => {
  const officer = await loginAs('officer-dist-landong');
  const other = await get(
    officer,
    `/api/regulation/reports/monthly?district=dist-lanxi&month=${thisMonth()}`,
  );
  expect([403, 404]).toContain(other.statusCode);
  const ent = await loginAs('ent-0003-user');
  expect((await get(ent, '/api/regulation/complaints')).statusCode).toBe(403);
  const anon = await http(w.base, { method: 'GET', url: '/api/regulation/complaints' });
  expect(anon.statusCode).toBe(401);
  // A state change without the CSRF header is refused before the regulation sees it.
  const noCsrf = await http(w.base, {
    method: 'POST',
    url: '/api/regulation/complaints',
    payload: { channel: 'hotline', enterpriseId: 'ent-0002', urgency: 'normal', summary: '夜间异味' },
    headers: { cookie: officer.cookie },
  });
  expect(noCsrf.statusCode).toBe(403);
  const ok = await post(officer, '/api/regulation/complaints', {
    channel: 'hotline',
    enterpriseId: 'ent-0002',
    urgency: 'normal',
    summary: '夜间异味',
  });
  expect(ok.statusCode).toBe(201);
  const lanxi = await post(officer, '/api/regulation/complaints', {
    channel: 'web',
    enterpriseId: 'ent-0003',
    urgency: 'normal',
    summary: 'x',
  });
  expect([403, 404]).toContain(lanxi.statusCode);
});

it('a district officer runs a draw and an outreach campaign for its own district only; publication stays with the city', async () => {
  await w.pool.query(`insert into inspectors (id, name, district_id) values
    ('insp-r1', '检查员甲', 'dist-landong'), ('insp-r2', '检查员乙', 'dist-landong')`);
  const s = await loginAs('officer-dist-landong');
  const d = await post(s, '/api/regulation/draws', { period: '2026-Q3', seed: '澜东区-2026Q3-公开' });
  expect(d.statusCode).toBe(201);
  const draw = d.json() as { id: number; targets: { districtId: string; inspectorIds: string[] }[] };
  expect(draw.targets.length).toBeGreaterThan(0);
  expect(new Set(draw.targets.map((t) => t.districtId))).toEqual(new Set(['dist-landong']));
  const row = await w.pool.query(`select district_id, created_by from inspection_draws where id = $1`, [
    draw.id,
  ]);
  expect(row.rows[0].district_id).toBe('dist-landong');
  expect((await post(s, `/api/regulation/draws/${draw.id}/publish`, {})).statusCode).toBe(403);
  // The city's draw of the same period is its own.
  const city = await post(await loginAs('supervisor'), '/api/regulation/draws', {
    period: '2026-Q3',
    seed: '全市-2026Q3-公开',
  });
  expect(city.statusCode).toBe(201);

  const c = await post(s, '/api/regulation/campaigns', {
    name: '澜东区复工复产提醒',
    channel: 'sms',
    template: { zh: { body: '{{enterpriseName}}：请确保治污设施与生产同步运行。' } },
    audience: {},
  });
  expect(c.statusCode).toBe(201);
  const id = (c.json() as { campaignId: number }).campaignId;
  const reached = await w.pool.query(
    `select distinct e.district_id from campaign_messages m join enterprises e on e.id = m.enterprise_id where m.campaign_id = $1`,
    [id],
  );
  expect(reached.rows).toEqual([{ district_id: 'dist-landong' }]);
});
