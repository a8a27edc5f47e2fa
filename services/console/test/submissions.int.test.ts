// Districts' monthly submissions and period summaries through the API, on the real Postgres: an
// officer submits the article (sanitised), typical cases of the district and the figures as one
// frozen version; a resubmission needs a reason and makes a new version; the database refuses to
// change a version; the city sees every district's status (submitted, late, missing, pending) with
// the boundary at the Shanghai midnight after the due day. Bad input gets a bilingual field-named
// 400 and nothing is saved.
import { submitSubmission, submissionStatusTable, getSubmission } from '../src/submissions.js';
import type { Principal } from '../src/principal.js';
import { CASES, createWorld, loginAs as login, sendAs, type Session, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w?.close();
});

const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

interface Version {
  id: string;
  version: number;
  reason: string | null;
  late: boolean;
  articleHtml: string;
  cases: { id: string; enterpriseName: string }[];
  figures: { offsiteChecks: number; deviationsTotal: number };
}
interface Answer extends Partial<Version> {
  code?: string;
  field?: string;
  message?: string;
  status?: string;
  versions?: { id: string; version: number; reason: string | null }[];
  latest?: Version | null;
  districts?: { districtId: string; status: string; latestVersion: number | null }[];
  items?: { id: string }[];
  figures?: Version['figures'];
  transmission?: unknown;
  loads?: unknown;
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const count = async (table: string) =>
  Number((await w.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n);

async function principal(username: string): Promise<Principal> {
  const r = await w.pool.query(
    `select id::text as "userId", username, display_name as "displayName", role, district_id as "districtId",
            enterprise_id as "enterpriseId" from console_users where username = $1`,
    [username],
  );
  return r.rows[0] as Principal;
}

/** The bilingual field-named 400, with no version and no audit row written. */
async function refused(s: Session, url: string, body: object, field: string): Promise<void> {
  const before = [await count('submission_versions'), await count('audit_log')];
  const r = await send(s, 'POST', url, body);
  expect(r.status).toBe(400);
  expect(r.body.field).toBe(field);
  expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
  expect(r.body.message).toMatch(/[a-z]{3,}/);
  expect([await count('submission_versions'), await count('audit_log')]).toEqual(before);
}

describe('monthly submission', () => {
  let landong: Session;
  let lanxi: Session;
  let city: Session;
  let v1: Version;
  beforeAll(async () => {
    [landong, lanxi, city] = await Promise.all([
      login(w.base, 'officer-dist-landong'),
      login(w.base, 'officer-dist-lanxi'),
      login(w.base, 'supervisor'),
    ]);
  });

  it('offers the district’s own cases only', async () => {
    const r = await send(landong, 'GET', '/api/submissions/monthly/2026-03/cases');
    expect(r.status).toBe(200);
    const ids = r.body.items!.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining([CASES.landong, CASES.landong2]));
    expect(ids).not.toContain(CASES.lanxi);
  });

  it('refuses bad input with a bilingual field-named 400 and saves nothing', async () => {
    const url = '/api/submissions/monthly/2026-03';
    await refused(landong, url, { caseIds: [] }, 'articleHtml');
    await refused(
      landong,
      url,
      { articleHtml: '<p> </p><script>alert(1)</script>', caseIds: [] },
      'articleHtml',
    );
    await refused(
      landong,
      url,
      { articleHtml: '<p>亮点</p><img src="https://x.example/a.png">', caseIds: [] },
      'articleHtml',
    );
    await refused(landong, url, { articleHtml: '<p>亮点</p>', caseIds: [CASES.lanxi] }, 'caseIds');
    await refused(landong, url, { articleHtml: '<p>亮点</p>', caseIds: ['no-such-case'] }, 'caseIds');
    await refused(
      landong,
      '/api/submissions/monthly/2026',
      { articleHtml: '<p>x</p>', caseIds: [] },
      'period',
    );
  });

  it('freezes the submission: the version keeps its figures and cases while the live figures move', async () => {
    const r = await send(landong, 'POST', '/api/submissions/monthly/2026-03', {
      articleHtml: `<h2>正面清单成效</h2><p onclick="x()">本月<strong>亮点</strong><script>alert(1)</script></p><img src="${PNG}" alt="现场">`,
      caseIds: [CASES.landong2, CASES.landong],
    });
    expect(r.status).toBe(201);
    v1 = r.body as Version;
    expect(v1.version).toBe(1);
    expect(v1.reason).toBeNull();
    expect(v1.late).toBe(true);
    expect(v1.articleHtml).toBe(
      `<h2>正面清单成效</h2><p>本月<strong>亮点</strong></p><img src="${PNG}" alt="现场" />`,
    );
    expect(v1.cases.map((c) => c.id)).toEqual([CASES.landong2, CASES.landong]);
    const live0 = await send(
      landong,
      'GET',
      '/api/regulation/reports/monthly?district=dist-landong&month=2026-03',
    );
    // The counts and the month's measures (传输有效率, loads) as the live figures show them.
    expect(v1.figures).toEqual({
      ...live0.body.figures,
      transmission: live0.body.transmission,
      loads: live0.body.loads,
    });
    await w.pool.query(
      `insert into regulatory_events (kind, source_ref, enterprise_id, district_id, occurred_at)
       values ('offsite-check', 'freeze-test', 'ent-0002', 'dist-landong', '2026-03-10T02:00:00Z')`,
    );
    const live = await send(
      landong,
      'GET',
      '/api/regulation/reports/monthly?district=dist-landong&month=2026-03',
    );
    expect(live.body.figures!.offsiteChecks).toBe(v1.figures.offsiteChecks + 1);
    const again = await send(city, 'GET', `/api/submissions/versions/${v1.id}`);
    expect(again.status).toBe(200);
    expect(again.body.figures).toEqual(v1.figures);
    expect(again.body.cases).toEqual(v1.cases);
  });

  it('a resubmission needs a reason and makes a new version; the first stays as it was', async () => {
    const url = '/api/submissions/monthly/2026-03';
    await refused(landong, url, { articleHtml: '<p>修订</p>', caseIds: [] }, 'reason');
    await refused(landong, url, { articleHtml: '<p>修订</p>', caseIds: [], reason: ' ' }, 'reason');
    const r = await send(landong, 'POST', url, {
      articleHtml: '<p>修订后的文章</p>',
      caseIds: [CASES.landong],
      reason: '补充典型案例 / a case added',
    });
    expect(r.status).toBe(201);
    expect(r.body.version).toBe(2);
    expect(r.body.figures!.offsiteChecks).toBe(v1.figures.offsiteChecks + 1);
    const view = await send(landong, 'GET', url);
    expect(view.body.versions!.map((v) => [v.version, v.reason])).toEqual([
      [1, null],
      [2, '补充典型案例 / a case added'],
    ]);
    expect(view.body.latest!.articleHtml).toBe('<p>修订后的文章</p>');
    expect(view.body.status).toBe('late');
    const first = await send(landong, 'GET', `/api/submissions/versions/${v1.id}`);
    expect(first.body).toEqual(v1);
  });

  it('keeps districts apart: another district’s version is not found, the city sees all', async () => {
    expect((await send(lanxi, 'GET', `/api/submissions/versions/${v1.id}`)).status).toBe(404);
    expect((await send(lanxi, 'GET', '/api/submissions/monthly/2026-03?district=dist-landong')).status).toBe(
      404,
    );
    const mine = await send(lanxi, 'GET', '/api/submissions/status?kind=monthly&period=2026-03');
    expect(mine.body.districts!.map((d) => d.districtId)).toEqual(['dist-lanxi']);
    const all = await send(city, 'GET', '/api/submissions/status?kind=monthly&period=2026-03');
    expect(all.status).toBe(200);
    const byId = Object.fromEntries(all.body.districts!.map((d) => [d.districtId, d]));
    expect(byId['dist-landong']).toMatchObject({ status: 'late', latestVersion: 2 });
    expect(byId['dist-lanxi']).toMatchObject({ status: 'missing', latestVersion: null });
    // The city reads; only a district officer submits.
    const r = await send(city, 'POST', '/api/submissions/monthly/2026-03', {
      articleHtml: '<p>x</p>',
      caseIds: [],
    });
    expect(r.status).toBe(403);
  });

  it('the database refuses to change or delete a version', async () => {
    await expect(
      w.pool.query(`update submission_versions set figures = '{}'::jsonb where id = $1`, [v1.id]),
    ).rejects.toThrow(/immutable/);
    await expect(w.pool.query(`delete from submission_versions where id = $1`, [v1.id])).rejects.toThrow(
      /immutable/,
    );
    await expect(w.pool.query(`truncate submission_versions`)).rejects.toThrow(/immutable/);
    const r = await send(city, 'GET', `/api/submissions/versions/${v1.id}`);
    expect(r.body).toEqual(v1);
  });
});

describe('the period summary works the same way', () => {
  it('submits, refuses a resubmission without reason, versions with one', async () => {
    const s = await login(w.base, 'officer-dist-kaifa');
    await refused(s, '/api/submissions/summary/2026-03', { articleHtml: '<p>x</p>', caseIds: [] }, 'period');
    const a = await send(s, 'POST', '/api/submissions/summary/2026', {
      articleHtml: '<p>年度总结</p>',
      caseIds: [],
    });
    expect(a.status).toBe(201);
    expect(a.body.version).toBe(1);
    await refused(
      s,
      '/api/submissions/summary/2026',
      { articleHtml: '<p>年度总结（修订）</p>', caseIds: [] },
      'reason',
    );
    const b = await send(s, 'POST', '/api/submissions/summary/2026', {
      articleHtml: '<p>年度总结（修订）</p>',
      caseIds: [],
      reason: '数据更正',
    });
    expect(b.body.version).toBe(2);
    const view = await send(s, 'GET', '/api/submissions/summary/2026');
    expect(view.body.versions!.map((v) => v.version)).toEqual([1, 2]);
  });
});

describe('status at the Asia/Shanghai boundary', () => {
  it('submitted up to 23:59:59.999 on the 25th, late from midnight; missing past due, pending before', async () => {
    const article = { articleHtml: '<p>亮点</p>', caseIds: [] };
    const beforeMidnight = new Date('2027-01-25T15:59:59.999Z');
    const midnight = new Date('2027-01-25T16:00:00.000Z');
    const landong = await principal('officer-dist-landong');
    const lanxi = await principal('officer-dist-lanxi');
    const city = await principal('supervisor');
    const cal = { summaryDue: '10-05', summaryFrom: '03-01', remindDaysBefore: 5 };
    const pending = await submissionStatusTable(w.pool, city, 'monthly', '2027-01', cal, beforeMidnight);
    expect(pending.dueOn).toBe('2027-01-25');
    expect(pending.districts.map((d) => d.status)).toEqual(['pending', 'pending', 'pending']);
    await submitSubmission(w.pool, landong, 'monthly', '2027-01', article, cal, beforeMidnight);
    await submitSubmission(w.pool, lanxi, 'monthly', '2027-01', article, cal, midnight);
    // A resubmission after the due day leaves an on-time first submission on time.
    await submitSubmission(
      w.pool,
      landong,
      'monthly',
      '2027-01',
      { ...article, reason: '更正' },
      cal,
      midnight,
    );
    const t = await submissionStatusTable(w.pool, city, 'monthly', '2027-01', cal, midnight);
    expect(Object.fromEntries(t.districts.map((d) => [d.districtId, d.status]))).toEqual({
      'dist-kaifa': 'missing',
      'dist-landong': 'submitted',
      'dist-lanxi': 'late',
    });
    const before = await submissionStatusTable(w.pool, city, 'monthly', '2027-01', cal, beforeMidnight);
    expect(before.districts.find((d) => d.districtId === 'dist-kaifa')!.status).toBe('pending');
    const v = await getSubmission(w.pool, landong, { kind: 'monthly', period: '2027-01' }, cal, midnight);
    expect(v.versions.map((x) => x.late)).toEqual([false, true]);
  });
});
