// Penalty discretion, rectification extensions and coercive measures through the API, against the
// real Postgres: the four-eyes approval, the computed first-violation check, bad input (a clear
// bilingual field-named error and nothing saved), district scope, the audit log and the monthly figures.
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import {
  CASES,
  createWorld,
  insertAlertCase,
  loginAs as login,
  sendAs,
  type Session,
  type World,
} from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w?.close();
});

interface Answer {
  id?: string;
  status?: string;
  code?: string;
  field?: string;
  message?: string;
  items?: { code: string; labelZh: string; labelEn: string; requiredCriteria: string[] }[];
  firstViolation?: { isFirst: boolean; periodMonths: number; earlierConfirmed: { id: string }[] };
  decisions?: {
    id: string;
    status: string;
    basisCode: string;
    approver: string;
    criteria: Record<string, boolean>;
  }[];
  extensions?: { status: string; previousDue: string; newDue: string }[];
  measures?: { kind: string; status: string; reviewOn: string }[];
  approvers?: { username: string }[];
  rectificationDue?: string | null;
  figures?: { penaltiesWaived: number; discretion: Record<string, unknown> };
}
const loginAs = (u: string) => login(w.base, u);
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const count = async (table: string) =>
  Number((await w.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n);
const userId = async (username: string): Promise<string> =>
  (await w.pool.query(`select id::text as id from console_users where username = $1`, [username])).rows[0].id;

const today = shanghaiDate(Date.now());
const month = today.slice(0, 7);
const criteria = (on: Partial<Record<string, boolean>>) => ({
  firstViolation: false,
  minor: false,
  correctedInTime: false,
  noHarm: false,
  forceMajeure: false,
  ...on,
});
const url = (id: string, part = '') => `/api/deviations/${id}/discretion${part}`;

/** The bilingual, field-named 400 and nothing written to the discretion tables or the audit log. */
async function refused(s: Session, path: string, body: object, field: string): Promise<string> {
  const before = await Promise.all(
    ['discretion_decisions', 'rectification_extensions', 'coercive_measures', 'audit_log'].map(count),
  );
  const r = await send(s, 'POST', path, body);
  expect(r.status).toBe(400);
  expect(r.body).toMatchObject({ code: 'INVALID_INPUT', field });
  expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
  expect(r.body.message).toMatch(/[a-z]{3,}/);
  expect(r.body.message).toContain(field);
  const after = await Promise.all(
    ['discretion_decisions', 'rectification_extensions', 'coercive_measures', 'audit_log'].map(count),
  );
  expect(after).toEqual(before);
  return r.body.message!;
}

describe('penalty discretion on a case', () => {
  it('lists the legal bases with bilingual labels and the criteria each requires', async () => {
    const s = await loginAs('officer-dist-landong');
    const r = await send(s, 'GET', '/api/discretion/legal-bases');
    expect(r.status).toBe(200);
    const minor = r.body.items!.find((b) => b.code === 'apl-33-1-minor')!;
    expect(minor.labelZh).toContain('行政处罚法');
    expect(minor.labelEn).toContain('Administrative Penalty Law');
    expect(minor.requiredCriteria).toEqual(['minor', 'correctedInTime', 'noHarm']);
  });

  it('refuses a decision without its criteria or basis, or approved by its own maker; nothing saved', async () => {
    const s = await loginAs('officer-dist-landong');
    const supervisor = await userId('supervisor');
    const good = {
      basisCode: 'apl-33-1-minor',
      criteria: criteria({ minor: true, correctedInTime: true, noHarm: true }),
      reason: '超标时间短，已当日整改',
      approverId: supervisor,
    };
    const msg = await refused(
      s,
      url(CASES.landong, '/decisions'),
      { ...good, criteria: criteria({ minor: true, correctedInTime: true }) },
      'criteria.noHarm',
    );
    expect(msg).toContain('未造成危害后果');
    await refused(s, url(CASES.landong, '/decisions'), { ...good, basisCode: 'no-such-basis' }, 'basisCode');
    const { basisCode: _b, ...noBasis } = good;
    await refused(s, url(CASES.landong, '/decisions'), noBasis, 'basisCode');
    const { criteria: _c, ...noCriteria } = good;
    await refused(s, url(CASES.landong, '/decisions'), noCriteria, 'criteria');
    await refused(
      s,
      url(CASES.landong, '/decisions'),
      { ...good, approverId: await userId('officer-dist-landong') },
      'approverId',
    );
    // The policy (default) wants a city-level approver: another district's officer is not one.
    await refused(
      s,
      url(CASES.landong, '/decisions'),
      { ...good, approverId: await userId('officer-dist-lanxi') },
      'approverId',
    );
  });

  it('checks a first-violation claim against the enterprise’s earlier confirmed cases', async () => {
    const s = await loginAs('officer-dist-landong');
    // An earlier case of ent-0002, confirmed with a penalty a month before the landong case.
    await insertAlertCase(w.pool, {
      schema: 'deviation.v1',
      id: 'dev-landong-earlier',
      enterpriseId: 'ent-0002',
      siteId: 'out-0002-g1',
      rule: 'exceedance',
      factor: 'a21026',
      severity: 'medium',
      emittedAt: '2026-02-01T04:00:05.000Z',
      revision: 1,
      state: 'opened',
      windowStart: '2026-02-01T02:00:00.000Z',
      windowEnd: '2026-02-01T04:00:00.000Z',
      openedAt: '2026-02-01T04:00:00.000Z',
      suspectedFalsification: false,
      inResumptionWindow: false,
      evidence: { summary: 'earlier', values: [], params: {} },
    });
    let g = await send(s, 'GET', url(CASES.landong));
    expect(g.body.firstViolation).toMatchObject({ isFirst: true, periodMonths: 24, earlierConfirmed: [] });
    const c = await send(s, 'POST', '/api/deviations/dev-landong-earlier/actions', {
      action: 'confirm',
      decision: 'penalty',
    });
    expect(c.status).toBe(200);
    g = await send(s, 'GET', url(CASES.landong));
    expect(g.body.firstViolation).toMatchObject({
      isFirst: false,
      earlierConfirmed: [{ id: 'dev-landong-earlier' }],
    });
    const msg = await refused(
      s,
      url(CASES.landong, '/decisions'),
      {
        basisCode: 'apl-33-1-first',
        criteria: criteria({ firstViolation: true, correctedInTime: true }),
        reason: '首次违法',
        approverId: await userId('supervisor'),
      },
      'criteria.firstViolation',
    );
    expect(msg).toContain('dev-landong-earlier');
  });

  it('takes effect only when the named, different approver approves; audited; counted in the month', async () => {
    const officer = await loginAs('officer-dist-landong');
    const supervisor = await loginAs('supervisor');
    const admin = await loginAs('admin');
    const p = await send(officer, 'POST', url(CASES.landong, '/decisions'), {
      basisCode: 'apl-33-1-minor',
      criteria: criteria({ minor: true, correctedInTime: true, noHarm: true }),
      reason: '超标时间短，已当日整改',
      approverId: await userId('supervisor'),
    });
    expect(p).toMatchObject({ status: 200, body: { status: 'pending' } });
    const report = async () =>
      (await send(supervisor, 'GET', `/api/regulation/reports/monthly?district=dist-landong&month=${month}`))
        .body.figures!;
    expect((await report()).discretion).toMatchObject({ noPenalty: { minor: 0 } });
    // A second proposal while one is pending is refused.
    const again = await send(officer, 'POST', url(CASES.landong, '/decisions'), {
      basisCode: 'apl-33-1-minor',
      criteria: criteria({ minor: true, correctedInTime: true, noHarm: true }),
      reason: '重复',
      approverId: await userId('supervisor'),
    });
    expect(again.status).toBe(409);
    // Only the named approver decides (not even the admin, not the maker).
    for (const s of [admin, officer])
      expect(
        (await send(s, 'POST', `/api/discretion/decisions/${p.body.id}/approval`, { approve: true })).status,
      ).toBe(403);
    const ok = await send(supervisor, 'POST', `/api/discretion/decisions/${p.body.id}/approval`, {
      approve: true,
      note: '同意',
    });
    expect(ok).toMatchObject({ status: 200, body: { status: 'approved' } });
    expect(
      (await send(supervisor, 'POST', `/api/discretion/decisions/${p.body.id}/approval`, { approve: true }))
        .status,
    ).toBe(409);
    const g = await send(officer, 'GET', url(CASES.landong));
    expect(g.body.decisions).toEqual([
      expect.objectContaining({
        status: 'approved',
        basisCode: 'apl-33-1-minor',
        approver: 'supervisor',
        criteria: criteria({ minor: true, correctedInTime: true, noHarm: true }),
      }),
    ]);
    const f = await report();
    expect(f.discretion).toMatchObject({ noPenalty: { minor: 1, firstViolation: 0, forceMajeure: 0 } });
    expect(f.penaltiesWaived).toBe(1);
    const audit = await w.pool.query(
      `select action, actor_name from audit_log where entity_id = $1 and action like 'discretion.%' order by id`,
      [CASES.landong],
    );
    expect(audit.rows).toEqual([
      { action: 'discretion.decision.propose', actor_name: 'officer-dist-landong' },
      { action: 'discretion.decision.approve', actor_name: 'supervisor' },
    ]);
  });

  it('extends a rectification deadline with a reason once approved; past or earlier dates are refused', async () => {
    const officer = await loginAs('officer-dist-landong');
    const supervisor = await loginAs('supervisor');
    const approverId = await userId('supervisor');
    const id = CASES.landong2;
    await refused(
      officer,
      url(id, '/extensions'),
      { newDue: addDays(today, 10), reason: '设备待货', approverId },
      'newDue',
    );
    const due = addDays(today, 5);
    expect(
      (
        await send(officer, 'POST', `/api/deviations/${id}/actions`, {
          action: 'request-rectification',
          deadline: due,
        })
      ).status,
    ).toBe(200);
    await refused(
      officer,
      url(id, '/extensions'),
      { newDue: addDays(today, -1), reason: '设备待货', approverId },
      'newDue',
    );
    await refused(officer, url(id, '/extensions'), { newDue: due, reason: '设备待货', approverId }, 'newDue');
    await refused(
      officer,
      url(id, '/extensions'),
      { newDue: addDays(today, 20), reason: '', approverId },
      'reason',
    );
    const newDue = addDays(today, 20);
    const x = await send(officer, 'POST', url(id, '/extensions'), {
      newDue,
      reason: '治理设备待货，酌情延长',
      approverId,
    });
    expect(x).toMatchObject({ status: 200, body: { status: 'pending' } });
    expect((await send(officer, 'GET', url(id))).body.rectificationDue).toBe(due);
    await send(supervisor, 'POST', `/api/discretion/extensions/${x.body.id}/approval`, { approve: true });
    const g = await send(officer, 'GET', url(id));
    expect(g.body.rectificationDue).toBe(newDue);
    expect(g.body.extensions).toEqual([
      expect.objectContaining({ status: 'approved', previousDue: due, newDue }),
    ]);
    const ledger = await w.pool.query(
      `select to_char(due_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as due from regulatory_events
        where kind = 'rectification' and source_ref = $1`,
      [id],
    );
    expect(ledger.rows).toEqual([{ due: newDue }]);
    const report = await send(
      supervisor,
      'GET',
      `/api/regulation/reports/monthly?district=dist-landong&month=${month}`,
    );
    expect(report.body.figures!.discretion).toMatchObject({ extensions: 1 });
  });

  it('records a coercive measure with its approval and review date; a rejected one is not counted', async () => {
    const officer = await loginAs('officer-dist-landong');
    const supervisor = await loginAs('supervisor');
    const approverId = await userId('supervisor');
    const base = { kind: 'seal-up', reason: '超标排放，查封治污设施旁路阀', startsOn: today, approverId };
    await refused(
      officer,
      url(CASES.landong, '/measures'),
      { ...base, reviewOn: addDays(today, -2) },
      'reviewOn',
    );
    await refused(
      officer,
      url(CASES.landong, '/measures'),
      { ...base, kind: 'demolish', reviewOn: today },
      'kind',
    );
    const m = await send(officer, 'POST', url(CASES.landong, '/measures'), {
      ...base,
      reviewOn: addDays(today, 30),
    });
    expect(m.status).toBe(200);
    const r = await send(officer, 'POST', url(CASES.landong, '/measures'), {
      ...base,
      kind: 'suspend-production',
      reviewOn: addDays(today, 30),
    });
    await send(supervisor, 'POST', `/api/discretion/measures/${m.body.id}/approval`, { approve: true });
    await send(supervisor, 'POST', `/api/discretion/measures/${r.body.id}/approval`, {
      approve: false,
      note: '不必停产',
    });
    const g = await send(officer, 'GET', url(CASES.landong));
    expect(g.body.measures!.map((x) => [x.kind, x.status])).toEqual([
      ['seal-up', 'approved'],
      ['suspend-production', 'rejected'],
    ]);
    const report = await send(
      supervisor,
      'GET',
      `/api/regulation/reports/monthly?district=dist-landong&month=${month}`,
    );
    expect(report.body.figures!.discretion).toMatchObject({
      coerciveMeasures: { sealUp: 1, seizure: 0, limitProduction: 0, suspendProduction: 0 },
    });
    const csv = await send(
      supervisor,
      'GET',
      `/api/regulation/reports/monthly?district=dist-lanxi&month=${month}`,
    );
    expect(csv.body.figures!.discretion).toMatchObject({ coerciveMeasures: { sealUp: 0 } });
  });

  it('keeps an officer to their district, enterprise users out and viewers read-only', async () => {
    const lanxi = await loginAs('officer-dist-lanxi');
    const approverId = await userId('supervisor');
    expect((await send(lanxi, 'GET', url(CASES.landong))).status).toBe(404);
    expect(
      (
        await send(lanxi, 'POST', url(CASES.landong, '/measures'), {
          kind: 'seizure',
          reason: '越权',
          startsOn: today,
          reviewOn: today,
          approverId,
        })
      ).status,
    ).toBe(404);
    const pending = await w.pool.query(`select id::text as id from coercive_measures limit 1`);
    expect(
      (
        await send(lanxi, 'POST', `/api/discretion/measures/${pending.rows[0].id}/approval`, {
          approve: true,
        })
      ).status,
    ).toBe(404);
    expect((await send(lanxi, 'GET', url(CASES.lanxi))).status).toBe(200);
    const ent = await loginAs('ent-0003-user');
    expect((await send(ent, 'GET', url(CASES.lanxi))).status).toBe(403);
    const viewer = await loginAs('viewer');
    const v = await send(viewer, 'GET', url(CASES.landong));
    expect(v.status).toBe(200);
    expect(v.body.approvers).toEqual([]);
    expect(
      (
        await send(viewer, 'POST', url(CASES.lanxi, '/measures'), {
          kind: 'seizure',
          reason: '只读',
          startsOn: today,
          reviewOn: today,
          approverId,
        })
      ).status,
    ).toBe(403);
  });
});
