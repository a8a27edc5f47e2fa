// Whistle-blower rewards (举报奖励) through the API against the real Postgres: proposed on a complaint
// with the amount in yuan, a reference (never personal data) and the basis; bad input refused with a
// bilingual field-named error and nothing saved or audited; scoped like complaints (another district's
// complaint and reward 404, enterprise users 403, viewers read only); approved by a second person only
// (self-approval refused), decided once; paid on a date neither in the future nor before the approval;
// every write audited; approved rewards counted in the district's monthly figures.
import { shanghaiDate, addDays } from '@offsite/domain/calendar';
import { upsertUser } from '../src/auth.js';
import {
  createWorld,
  expectRefused,
  listPositive,
  loginAs as login,
  PASSWORD,
  sendAs,
  type Session,
  type World,
} from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
  await listPositive(w.pool, ['ent-0002', 'ent-0003']);
  await upsertUser(w.pool, {
    username: 'officer-landong-2',
    displayName: '蓝东科员二',
    role: 'district-officer',
    districtId: 'dist-landong',
    password: PASSWORD,
  });
});
afterAll(async () => {
  await w?.close();
});

interface Reward {
  id: string;
  complaintId: string;
  amountYuan: string;
  whistleblowerRef: string;
  status: string;
  proposedBy: string;
  decidedBy: string | null;
  paidOn: string | null;
}
interface Answer extends Partial<Reward> {
  code?: string;
  field?: string;
  message?: string;
  items?: Reward[];
  complaint?: { id: number };
}
const loginAs = (u: string) => login(w.base, u);
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const today = shanghaiDate(Date.now());
/** The rewards and the audit log's length: what a refused request must leave as it was. */
const rewardsAndAudit = async () => [
  (await w.pool.query(`select * from whistleblower_rewards order by id`)).rows,
  (await w.pool.query(`select count(*)::int as n from audit_log`)).rows[0].n,
];

const refused = (s: Session, url: string, body: object, status: number, field: string) =>
  expectRefused(w.base, s, url, body, { status, field }, rewardsAndAudit);

describe('whistle-blower rewards', () => {
  let landong: Session;
  let landong2: Session;
  let lanxi: Session;
  let city: Session;
  let complaintId: string;
  let foreignComplaint: string;
  let reward: Reward;
  beforeAll(async () => {
    [landong, landong2, lanxi, city] = await Promise.all([
      loginAs('officer-dist-landong'),
      loginAs('officer-landong-2'),
      loginAs('officer-dist-lanxi'),
      loginAs('supervisor'),
    ]);
    const complain = async (s: Session, enterpriseId: string) =>
      String(
        (
          await send(s, 'POST', '/api/regulation/complaints', {
            channel: 'hotline',
            enterpriseId,
            urgency: 'normal',
            summary: '夜间偷排 night-time discharge',
            complainant: '张先生 13800000001',
          })
        ).body.complaint!.id,
      );
    complaintId = await complain(landong, 'ent-0002');
    foreignComplaint = await complain(lanxi, 'ent-0003');
  });

  const proposal = () => ({
    complaintId,
    amountYuan: '2000.5',
    whistleblowerRef: '12369-2027-000123',
    basis: '举报属实，查实偷排 report verified',
  });

  it('refuses bad proposals with a bilingual field-named error and saves nothing', async () => {
    const url = '/api/whistleblower-rewards';
    for (const amountYuan of ['0', '-5', '1.234', 'abc', '1000000.01', ' '])
      await refused(landong, url, { ...proposal(), amountYuan }, 400, 'amountYuan');
    for (const whistleblowerRef of ['13800000001', '张三', 'a b', '110101199003071234'])
      await refused(landong, url, { ...proposal(), whistleblowerRef }, 400, 'whistleblowerRef');
    await refused(landong, url, { ...proposal(), basis: ' ' }, 400, 'basis');
    const { basis: _basis, ...noBasis } = proposal();
    await refused(landong, url, noBasis, 400, 'basis');
    // Another district's complaint does not exist for this officer.
    await refused(landong, url, { ...proposal(), complaintId: foreignComplaint }, 404, 'complaintId');
    const viewer = await loginAs('viewer');
    expect((await send(viewer, 'POST', url, proposal())).status).toBe(403);
    const ent = await loginAs('ent-0003-user');
    expect((await send(ent, 'GET', url)).status).toBe(403);
    expect((await rewardsAndAudit())[0]).toEqual([]);
  });

  it('is proposed, refused to its proposer, approved by a second person once, and paid', async () => {
    const r = await send(landong, 'POST', '/api/whistleblower-rewards', proposal());
    expect(r.status).toBe(201);
    reward = r.body as Reward;
    expect(reward).toMatchObject({
      complaintId,
      amountYuan: '2000.50',
      whistleblowerRef: '12369-2027-000123',
      status: 'proposed',
      proposedBy: 'officer-dist-landong',
    });
    expect(JSON.stringify(reward)).not.toContain('13800000001');
    const decide = `/api/whistleblower-rewards/${reward.id}/decision`;
    await refused(landong, decide, { approve: true }, 403, 'approve');
    // A rejection needs its reason.
    await refused(landong2, decide, { approve: false }, 400, 'note');
    // Scope: another district's officer does not find it, and does not list it.
    expect((await send(lanxi, 'POST', decide, { approve: true })).status).toBe(404);
    expect((await send(lanxi, 'GET', '/api/whistleblower-rewards')).body.items).toEqual([]);
    // Payment before approval is refused.
    const pay = `/api/whistleblower-rewards/${reward.id}/payment`;
    expect((await send(city, 'POST', pay, { paidOn: today })).status).toBe(409);

    const ok = await send(landong2, 'POST', decide, { approve: true, note: '同意' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', decidedBy: 'officer-landong-2' });
    expect((await send(city, 'POST', decide, { approve: false, note: 'late' })).status).toBe(409);

    await refused(city, pay, { paidOn: addDays(today, 1) }, 400, 'paidOn');
    await refused(city, pay, { paidOn: addDays(today, -1) }, 400, 'paidOn');
    await refused(city, pay, { paidOn: '2027-02-30' }, 400, 'paidOn');
    const paid = await send(city, 'POST', pay, { paidOn: today });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', paidOn: today });
    expect((await send(city, 'POST', pay, { paidOn: today })).status).toBe(409);

    const listed = await send(city, 'GET', `/api/whistleblower-rewards?complaintId=${complaintId}`);
    expect(listed.body.items!.map((x) => [x.id, x.status])).toEqual([[reward.id, 'paid']]);
    const audit = await w.pool.query(
      `select action, actor_name from audit_log where entity_type = 'whistleblower-reward' and entity_id = $1 order by id`,
      [reward.id],
    );
    expect(audit.rows).toEqual([
      { action: 'whistleblower-reward.propose', actor_name: 'officer-dist-landong' },
      { action: 'whistleblower-reward.approve', actor_name: 'officer-landong-2' },
      { action: 'whistleblower-reward.paid', actor_name: 'supervisor' },
    ]);
  });

  it('counts approved rewards in the district’s monthly figures', async () => {
    // A second reward, rejected: not counted.
    const second = await send(landong, 'POST', '/api/whistleblower-rewards', {
      ...proposal(),
      amountYuan: '300',
    });
    await send(city, 'POST', `/api/whistleblower-rewards/${second.body.id}/decision`, {
      approve: false,
      note: '线索不实',
    });
    const month = today.slice(0, 7);
    const report = await sendAs<{ figures: { rewards: { approved: number; amountYuan: number } } }>(
      w.base,
      city,
      'GET',
      `/api/regulation/reports/monthly?district=dist-landong&month=${month}`,
    );
    expect(report.status).toBe(200);
    expect(report.body.figures.rewards).toEqual({ approved: 1, amountYuan: 2000.5 });
    const other = await sendAs<{ figures: { rewards: { approved: number } } }>(
      w.base,
      city,
      'GET',
      `/api/regulation/reports/monthly?district=dist-lanxi&month=${month}`,
    );
    expect(other.body.figures.rewards.approved).toBe(0);
  });
});
