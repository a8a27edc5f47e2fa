// District authority over the positive list: officers propose for their own district, a different
// city-level user decides, an approval changes the list where it is used (marks, draws, history).
import { shanghaiDate } from '@offsite/domain/calendar';
import { upsertUser } from '../src/auth.js';
import { goodStability } from './regulation-harness.js';
import { createWorld, loginAs as login, PASSWORD, sendAs, type Session, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld({
    regulation: () => ({ stability: goodStability }),
  });
  await upsertUser(w.pool, {
    username: 'supervisor-2',
    displayName: '市局监管员二',
    role: 'city-supervisor',
    districtId: null,
    password: PASSWORD,
  });
});
afterAll(async () => {
  await w?.close();
});

interface Proposal {
  id: string;
  enterpriseId: string;
  districtId: string;
  action: string;
  reason: string;
  validFrom: string;
  validUntil: string | null;
  state: string;
  proposedBy: string;
  decidedBy: string | null;
  decisionReason: string | null;
  decisionId: string | null;
  listed: boolean;
  eligibility: { eligible: boolean } | null;
}
interface Answer extends Partial<Proposal> {
  code?: string;
  field?: string;
  message?: string;
  in?: string;
  items?: Proposal[];
}
const sessions = new Map<string, Session>();
async function as(user: string): Promise<Session> {
  if (!sessions.has(user)) sessions.set(user, await login(w.base, user));
  return sessions.get(user)!;
}
const send = async (user: string, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, await as(user), method, url, payload);
const P = '/api/regulation/positive-list/proposals';
const propose = (user: string, body: object) => send(user, 'POST', P, body);
const decide = (user: string, id: string, approve: boolean, reason: string) =>
  send(user, 'POST', `${P}/${id}/decision`, { approve, reason });
const today = () => shanghaiDate(new Date());
async function listedIds(user: string): Promise<string[]> {
  const r = await sendAs<{ enterpriseId: string }[]>(
    w.base,
    await as(user),
    'GET',
    '/api/regulation/positive-list',
  );
  return r.body.map((d) => d.enterpriseId);
}
const audit = async (action: string, enterpriseId: string) =>
  (
    await w.pool.query(
      `select actor_name, district_id, before, after from audit_log where action = $1 and entity_id = $2 order by id`,
      [action, enterpriseId],
    )
  ).rows;

describe('an officer proposes, the city decides, the list changes', () => {
  it('adds ent-0002 to the list after a city supervisor approves the Landong officer’s proposal', async () => {
    const made = await propose('officer-dist-landong', {
      enterpriseId: 'ent-0002',
      action: 'add',
      reason: '连续三个季度稳定达标，信用A级',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      enterpriseId: 'ent-0002',
      districtId: 'dist-landong',
      action: 'add',
      state: 'pending',
      proposedBy: 'officer-dist-landong',
      validFrom: today(),
      validUntil: null,
      listed: false,
      decisionId: null,
      eligibility: { eligible: true },
    });
    const id = made.body.id!;
    expect(await audit('positive-list.proposed', 'ent-0002')).toEqual([
      {
        actor_name: 'officer-dist-landong',
        district_id: 'dist-landong',
        before: { listed: false },
        after: {
          proposal: id,
          action: 'add',
          reason: '连续三个季度稳定达标，信用A级',
          validFrom: today(),
          validUntil: null,
        },
      },
    ]);

    // Pending: the list is unchanged everywhere it is read.
    expect(await listedIds('supervisor')).not.toContain('ent-0002');
    expect((await send('supervisor', 'GET', '/api/enterprises/ent-0002')).body).toMatchObject({
      listed: false,
    });

    // Its own officer cannot decide; the proposer cannot either, whatever their role.
    expect(await decide('officer-dist-landong', id, true, '同意')).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN' },
    });
    // A second proposal for the same enterprise waits for this one.
    expect(
      await propose('supervisor', { enterpriseId: 'ent-0002', action: 'add', reason: '重复申请' }),
    ).toMatchObject({ status: 409, body: { code: 'INVALID_TRANSITION', field: 'enterpriseId' } });

    const approved = await decide('supervisor', id, true, '经市局审核，符合纳入条件');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      state: 'approved',
      decidedBy: 'supervisor',
      decisionReason: '经市局审核，符合纳入条件',
      listed: true,
    });
    expect(approved.body.decisionId).toMatch(/^[0-9]+$/);
    // Decided once: a second decision is refused and changes nothing.
    expect(await decide('supervisor-2', id, false, '再次审批')).toMatchObject({
      status: 409,
      body: { code: 'INVALID_TRANSITION' },
    });

    // In effect where the list is used: the list, the registry's and queue's marks, the officer's view.
    expect(await listedIds('supervisor')).toContain('ent-0002');
    expect(await listedIds('officer-dist-landong')).toContain('ent-0002');
    expect((await send('officer-dist-landong', 'GET', '/api/enterprises/ent-0002')).body).toMatchObject({
      listed: true,
    });
    // The history says who proposed, who decided, when and why.
    const history = await sendAs<
      {
        action: string;
        reason: string;
        decidedBy: string;
        decidedAt: string;
        validFrom: string;
        changeProposalId: number | null;
        changeProposal: { proposedBy: string; proposedAt: string; reason: string } | null;
      }[]
    >(w.base, await as('officer-dist-landong'), 'GET', '/api/regulation/positive-list/ent-0002/history');
    expect(history.body).toEqual([
      expect.objectContaining({
        action: 'add',
        reason: '经市局审核，符合纳入条件',
        decidedBy: 'supervisor',
        decidedAt: expect.any(String),
        validFrom: today(),
        changeProposalId: Number(id),
        changeProposal: {
          proposedBy: 'officer-dist-landong',
          proposedAt: expect.any(String),
          reason: '连续三个季度稳定达标，信用A级',
        },
      }),
    ]);
    expect(await audit('positive-list.approved', 'ent-0002')).toEqual([
      {
        actor_name: 'supervisor',
        district_id: 'dist-landong',
        before: { proposal: id, state: 'pending', listed: false },
        after: {
          proposal: id,
          state: 'approved',
          reason: '经市局审核，符合纳入条件',
          decision: Number(approved.body.decisionId),
          action: 'add',
          validFrom: today(),
        },
      },
    ]);
  });

  it('a draw of the district after the approval checks the listed enterprise off-site, in the positive-list stratum', async () => {
    const r = await sendAs<{
      strata: { stratum: string; population: number; drawn: number }[];
      targets: { enterpriseId: string; stratum: string; mode: string }[];
    }>(w.base, await as('officer-dist-landong'), 'POST', '/api/regulation/draws', {
      period: '2026-Q4',
      seed: '澜东区-2026Q4-正面清单',
    });
    expect(r.status).toBe(201);
    expect(r.body.strata.find((s) => s.stratum === 'positive-list')).toMatchObject({
      population: 1,
      drawn: 1,
    });
    expect(r.body.targets.find((t) => t.enterpriseId === 'ent-0002')).toMatchObject({
      stratum: 'positive-list',
      mode: 'off-site',
    });
  });

  it('removes ent-0002 again on the officer’s proposal; a rejection leaves the list as it was', async () => {
    const removal = await propose('officer-dist-landong', {
      enterpriseId: 'ent-0002',
      action: 'remove',
      reason: '企业发生超标排放，拟移出',
    });
    expect(removal).toMatchObject({
      status: 201,
      body: { action: 'remove', state: 'pending', listed: true },
    });
    const rejected = await decide('supervisor-2', removal.body.id!, false, '超标已查明为仪器故障，不予移出');
    expect(rejected.body).toMatchObject({ state: 'rejected', decidedBy: 'supervisor-2', decisionId: null });
    expect(await listedIds('supervisor')).toContain('ent-0002');
    expect((await audit('positive-list.rejected', 'ent-0002')).map((a) => a.after)).toEqual([
      { proposal: removal.body.id, state: 'rejected', reason: '超标已查明为仪器故障，不予移出' },
    ]);

    const again = await propose('officer-dist-landong', {
      enterpriseId: 'ent-0002',
      action: 'remove',
      reason: '经核实存在数据造假',
    });
    expect((await decide('supervisor', again.body.id!, true, '同意移出')).body).toMatchObject({
      state: 'approved',
      listed: false,
    });
    expect(await listedIds('supervisor')).not.toContain('ent-0002');
    // An enterprise not on the list cannot be removed.
    expect(
      await propose('officer-dist-landong', {
        enterpriseId: 'ent-0002',
        action: 'remove',
        reason: '再次移出',
      }),
    ).toMatchObject({ status: 409, body: { code: 'INVALID_TRANSITION', field: 'action' } });
  });

  it('the city proposes too, and a different city user approves', async () => {
    const made = await propose('supervisor', {
      enterpriseId: 'ent-0001',
      action: 'add',
      reason: '市局直接提名',
      validUntil: '2099-12-31',
    });
    expect(made).toMatchObject({ status: 201, body: { proposedBy: 'supervisor', validUntil: '2099-12-31' } });
    expect(await decide('supervisor', made.body.id!, true, '本人审批')).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN', message: expect.stringMatching(/不能审批本人.* \/ .*second person/) },
    });
    expect(await listedIds('supervisor')).not.toContain('ent-0001');
    expect((await decide('admin', made.body.id!, true, '同意')).body).toMatchObject({
      state: 'approved',
      decidedBy: 'admin',
      listed: true,
    });
    expect(await listedIds('viewer')).toContain('ent-0001');
  });
});

describe('scope and roles', () => {
  it('an officer cannot propose for, see or decide another district’s enterprise', async () => {
    // ent-0003 is in Lanxi.
    expect(
      await propose('officer-dist-landong', { enterpriseId: 'ent-0003', action: 'add', reason: '跨区申请' }),
    ).toMatchObject({ status: 404, body: { code: 'NOT_FOUND', field: 'enterpriseId' } });
    expect(
      (
        await w.pool.query(
          `select count(*)::int as n from positive_list_change_proposals where enterprise_id = 'ent-0003'`,
        )
      ).rows[0],
    ).toEqual({ n: 0 });
    const lanxi = await propose('officer-dist-lanxi', {
      enterpriseId: 'ent-0003',
      action: 'add',
      reason: '信用B级，稳定达标',
    });
    expect(lanxi.status).toBe(201);
    const seen = (await send('officer-dist-landong', 'GET', P)).body.items!;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.districtId === 'dist-landong')).toBe(true);
    expect((await send('supervisor', 'GET', `${P}?state=pending`)).body.items!.map((p) => p.id)).toContain(
      lanxi.body.id,
    );
    expect(await decide('officer-dist-landong', lanxi.body.id!, true, '同意')).toMatchObject({ status: 403 });
    expect(await decide('officer-dist-lanxi', lanxi.body.id!, true, '同意')).toMatchObject({ status: 403 });
    // Viewers read; they neither propose nor decide.
    expect((await send('viewer', 'GET', P)).status).toBe(200);
    expect(
      await propose('viewer', { enterpriseId: 'ent-0003', action: 'remove', reason: '只读用户' }),
    ).toMatchObject({ status: 403 });
    expect(await decide('viewer', lanxi.body.id!, false, '只读用户')).toMatchObject({ status: 403 });
    // Enterprise users see no proposals at all.
    expect((await send('ent-0003-user', 'GET', P)).body).toEqual({ items: [] });
    expect((await decide('supervisor', lanxi.body.id!, false, '请补充材料')).body.state).toBe('rejected');
  });
});

describe('bad input: a bilingual, field-named 400 and nothing saved', () => {
  const count = async () =>
    (await w.pool.query(`select count(*)::int as n from positive_list_change_proposals`)).rows[0].n as number;
  const audits = async () =>
    (await w.pool.query(`select count(*)::int as n from audit_log where action like 'positive-list.%'`))
      .rows[0].n as number;

  it.each([
    ['a blank reason', { enterpriseId: 'ent-0001', action: 'remove', reason: '   ' }, 'reason'],
    ['no reason', { enterpriseId: 'ent-0001', action: 'remove' }, 'reason'],
    ['an unknown action', { enterpriseId: 'ent-0001', action: 'suspend', reason: 'x' }, 'action'],
    [
      'a date that does not exist',
      { enterpriseId: 'ent-0004', action: 'add', reason: 'x', validFrom: '2099-02-30' },
      'validFrom',
    ],
    [
      'a date in the past',
      { enterpriseId: 'ent-0004', action: 'add', reason: 'x', validFrom: '2020-01-01' },
      'validFrom',
    ],
    [
      'a date without dashes',
      { enterpriseId: 'ent-0004', action: 'add', reason: 'x', validFrom: '20990101' },
      'validFrom',
    ],
    [
      'an end before the start',
      {
        enterpriseId: 'ent-0004',
        action: 'add',
        reason: 'x',
        validFrom: '2099-06-01',
        validUntil: '2099-05-31',
      },
      'validUntil',
    ],
    [
      'an end of validity on a removal',
      { enterpriseId: 'ent-0001', action: 'remove', reason: 'x', validUntil: '2099-01-01' },
      'validUntil',
    ],
    ['an unknown field', { enterpriseId: 'ent-0001', action: 'remove', reason: 'x', listed: true }, 'listed'],
  ])('refuses %s', async (_what, body, field) => {
    const [n, a] = [await count(), await audits()];
    const r = await propose('officer-dist-landong', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'INVALID_INPUT', field });
    // Both languages, each naming the field.
    const [zh, en] = r.body.message!.split(' / ');
    expect(zh).toMatch(new RegExp(`${field}.*[\\u4e00-\\u9fff]`));
    expect(en).toContain(field);
    expect([await count(), await audits()]).toEqual([n, a]);
  });

  it('refuses to propose an enterprise that does not meet the criteria, saying which', async () => {
    // ent-0004 (Lanxi) has credit rating C and a serious violation this year.
    const n = await count();
    const r = await propose('officer-dist-lanxi', {
      enterpriseId: 'ent-0004',
      action: 'add',
      reason: '申请纳入',
    });
    expect(r).toMatchObject({ status: 409, body: { code: 'NOT_ELIGIBLE', field: 'enterpriseId' } });
    expect(r.body.message).toMatch(/不符合纳入条件：.*信用.* \/ not eligible: .*credit/);
    expect(await count()).toBe(n);
  });

  it('refuses a decision without a reason', async () => {
    const made = await propose('officer-dist-landong', {
      enterpriseId: 'ent-0001',
      action: 'remove',
      reason: '拟移出',
    });
    expect(made.status).toBe(201);
    const r = await send('supervisor', 'POST', `${P}/${made.body.id}/decision`, {
      approve: true,
      reason: '',
    });
    expect(r).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT', field: 'reason' } });
    expect((await send('supervisor', 'GET', `${P}?state=pending`)).body.items!.map((p) => p.id)).toContain(
      made.body.id,
    );
    expect(await listedIds('supervisor')).toContain('ent-0001');
  });
});
