// Whistle-blower rewards (举报奖励) on a complaint: proposed with the amount in yuan, a reference to
// the whistle-blower that is no personal data (the complainant stays on the complaint, shown to its
// district only) and the basis; approved or rejected by a second person (never the proposer); and the
// payment date recorded once approved. Scoped like the complaints (an officer their district, the city
// everything, viewers read, enterprise users never); each write is one transaction with its audit row.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { shanghaiDate } from '@offsite/domain/calendar';
import { transaction, type Queryable } from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { canReview, scopeSql, type Principal } from './principal.js';

/** The largest reward one record may hold, in yuan. */
export const MAX_REWARD_YUAN = 1_000_000;

export interface RewardView {
  id: string;
  complaintId: string;
  districtId: string;
  enterpriseName: string;
  /** Yuan with two decimals, e.g. "500.00". */
  amountYuan: string;
  whistleblowerRef: string;
  basis: string;
  status: 'proposed' | 'approved' | 'rejected' | 'paid';
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  paidOn: string | null;
}

function invalid(field: string, zh: string, en: string): ConsoleError {
  return new ConsoleError('INVALID_INPUT', `字段 ${field}：${zh} / field ${field}: ${en}`, {
    details: { in: 'body', field },
  });
}

const notFound = (field: string, what: { zh: string; en: string }) =>
  new ConsoleError('NOT_FOUND', `${what.zh}不存在 / ${what.en} not found`, {
    details: { in: 'body', field },
  });

function requireStaff(p: Principal): void {
  if (p.role === 'enterprise')
    throw new ConsoleError('FORBIDDEN', '无权查看举报奖励 / whistle-blower rewards are internal');
}

function requireReviewer(p: Principal): void {
  if (!canReview(p))
    throw new ConsoleError('FORBIDDEN', '无权办理举报奖励 / this role cannot handle whistle-blower rewards');
}

/** "500", "500.5" or "500.50" yuan → fen; refuses anything else with a field-named error. */
export function parseYuan(input: string): number {
  const s = input.trim();
  const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(s);
  const fen = m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : NaN;
  if (!(fen > 0 && fen <= MAX_REWARD_YUAN * 100))
    throw invalid(
      'amountYuan',
      `金额须为大于 0、不超过 ${MAX_REWARD_YUAN} 元的数字，至多两位小数`,
      `the amount must be a number of yuan above 0 and at most ${MAX_REWARD_YUAN}, with at most two decimals`,
    );
  return fen;
}

/** A reference, not a person: letters, digits and . _ : / -, and no run of 11 or more digits (a phone or ID number). */
export function checkWhistleblowerRef(input: string): string {
  const s = input.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/.test(s) || /\d{11,}/.test(s))
    throw invalid(
      'whistleblowerRef',
      '须为举报受理编号等代号（字母、数字及 . _ : / -，不含姓名、电话或证件号）',
      'must be a reference such as the complaint’s acceptance number (letters, digits, . _ : / -), never a name, phone or ID number',
    );
  return s;
}

const SELECT = `
  select r.id::text as id, r.complaint_id::text as "complaintId", r.district_id as "districtId",
         e.name_zh as "enterpriseName", to_char(r.amount_fen / 100.0, 'FM9999990.00') as "amountYuan",
         r.whistleblower_ref as "whistleblowerRef", r.basis, r.status, r.proposed_by as "proposedBy",
         r.proposed_at as "proposedAt", r.decided_by as "decidedBy", r.decided_at as "decidedAt",
         r.decision_note as "decisionNote", to_char(r.paid_on, 'YYYY-MM-DD') as "paidOn"
    from whistleblower_rewards r
    join complaints c on c.id = r.complaint_id
    join enterprises e on e.id = c.enterprise_id`;

type Row = Omit<RewardView, 'proposedAt' | 'decidedAt'> & { proposedAt: Date; decidedAt: Date | null };
const toView = (r: Row): RewardView => ({
  ...r,
  proposedAt: r.proposedAt.toISOString(),
  decidedAt: r.decidedAt ? r.decidedAt.toISOString() : null,
});

export async function listRewards(
  db: Queryable,
  p: Principal,
  f: { complaintId?: string },
): Promise<RewardView[]> {
  requireStaff(p);
  const params: unknown[] = [];
  const where = [scopeSql(p, params, 'c')];
  if (f.complaintId) where.push(`r.complaint_id = $${params.push(f.complaintId)}`);
  const r = await db.query<Row>(
    `${SELECT} where ${where.join(' and ')} order by r.id desc limit 1000`,
    params,
  );
  return r.rows.map(toView);
}

async function loadReward(db: Queryable, p: Principal, id: string): Promise<RewardView> {
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'c');
  const r = await db.query<Row>(`${SELECT} where r.id = $1 and ${scope} for update of r`, params);
  if (!r.rows[0])
    throw new ConsoleError('NOT_FOUND', '举报奖励记录不存在 / reward record not found', {
      details: { in: 'params', field: 'id' },
    });
  return toView(r.rows[0]);
}

export interface RewardProposal {
  complaintId: string;
  amountYuan: string;
  whistleblowerRef: string;
  basis: string;
}

export async function proposeReward(
  pool: pg.Pool,
  p: Principal,
  input: RewardProposal,
  now: Date,
  requestId?: string,
): Promise<RewardView> {
  requireStaff(p);
  requireReviewer(p);
  const amountFen = parseYuan(input.amountYuan);
  const ref = checkWhistleblowerRef(input.whistleblowerRef);
  const basis = input.basis.trim();
  if (basis.length < 2 || basis.length > 500)
    throw invalid(
      'basis',
      '须填写奖励依据（2–500 字）',
      'the basis of the reward is required (2–500 characters)',
    );
  return transaction(pool, async (c) => {
    const params: unknown[] = [input.complaintId];
    const scope = scopeSql(p, params, 'c');
    const complaint = (
      await c.query<{ district_id: string }>(
        `select c.district_id from complaints c where c.id = $1 and ${scope}`,
        params,
      )
    ).rows[0];
    if (!complaint) throw notFound('complaintId', { zh: '信访举报', en: 'complaint' });
    const ins = await c.query<{ id: string }>(
      `insert into whistleblower_rewards (complaint_id, district_id, amount_fen, whistleblower_ref, basis,
                                          proposed_by, proposed_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning id::text`,
      [input.complaintId, complaint.district_id, amountFen, ref, basis, p.username, now],
    );
    const after = await loadReward(c, p, ins.rows[0]!.id);
    await appendAudit(c, p, {
      action: 'whistleblower-reward.propose',
      entityType: 'whistleblower-reward',
      entityId: after.id,
      districtId: after.districtId,
      before: null,
      after,
      ...(requestId ? { requestId } : {}),
    });
    return after;
  });
}

async function changeReward(
  pool: pg.Pool,
  p: Principal,
  id: string,
  action: string,
  apply: (c: Queryable, before: RewardView) => Promise<void>,
  requestId?: string,
): Promise<RewardView> {
  requireStaff(p);
  requireReviewer(p);
  return transaction(pool, async (c) => {
    const before = await loadReward(c, p, id);
    await apply(c, before);
    const after = await loadReward(c, p, id);
    await appendAudit(c, p, {
      action: `whistleblower-reward.${action}`,
      entityType: 'whistleblower-reward',
      entityId: id,
      districtId: before.districtId,
      before,
      after,
      ...(requestId ? { requestId } : {}),
    });
    return after;
  });
}

export function decideReward(
  pool: pg.Pool,
  p: Principal,
  id: string,
  input: { approve: boolean; note?: string | undefined },
  now: Date,
  requestId?: string,
): Promise<RewardView> {
  return changeReward(
    pool,
    p,
    id,
    input.approve ? 'approve' : 'reject',
    async (c, before) => {
      if (before.proposedBy === p.username)
        throw new ConsoleError(
          'FORBIDDEN',
          '不能审批自己提出的举报奖励，须由另一人审批 / a reward is approved by someone other than its proposer',
          { details: { in: 'body', field: 'approve' } },
        );
      if (before.status !== 'proposed')
        throw new ConsoleError('INVALID_TRANSITION', '该举报奖励已审批 / the reward was already decided');
      const note = input.note?.trim() || null;
      if (!input.approve && !note)
        throw invalid('note', '不予批准须说明理由', 'a rejection needs its reason');
      await c.query(
        `update whistleblower_rewards set status = $2, decided_by = $3, decided_at = $4, decision_note = $5
          where id = $1`,
        [id, input.approve ? 'approved' : 'rejected', p.username, now, note],
      );
    },
    requestId,
  );
}

export function recordRewardPayment(
  pool: pg.Pool,
  p: Principal,
  id: string,
  input: { paidOn: string },
  now: Date,
  requestId?: string,
): Promise<RewardView> {
  return changeReward(
    pool,
    p,
    id,
    'paid',
    async (c, before) => {
      if (before.status !== 'approved')
        throw new ConsoleError(
          'INVALID_TRANSITION',
          '只有已批准且未发放的奖励可登记发放 / only an approved, unpaid reward can be paid',
        );
      if (input.paidOn > shanghaiDate(now))
        throw invalid('paidOn', '发放日期不能晚于今天', 'the payment date is in the future');
      if (input.paidOn < shanghaiDate(new Date(before.decidedAt!)))
        throw invalid('paidOn', '发放日期不能早于批准日期', 'the payment date is before the approval');
      await c.query(
        `update whistleblower_rewards set status = 'paid', paid_on = $2, paid_recorded_by = $3 where id = $1`,
        [id, input.paidOn, p.username],
      );
    },
    requestId,
  );
}

const Params = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });
const ListQuery = Type.Object(
  { complaintId: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })) },
  { additionalProperties: false },
);
const Proposal = Type.Object(
  {
    complaintId: Type.String({ pattern: '^[0-9]{1,18}$' }),
    amountYuan: Type.String({ minLength: 1, maxLength: 20 }),
    whistleblowerRef: Type.String({ minLength: 1, maxLength: 64 }),
    basis: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
const Decision = Type.Object(
  { approve: Type.Boolean(), note: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
const Payment = Type.Object({ paidOn: Type.String({ format: 'date' }) }, { additionalProperties: false });

export function registerRewardRoutes(
  app: FastifyInstance,
  d: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; now?: () => Date },
): void {
  const tags = ['whistleblower-rewards'];
  const now = d.now ?? (() => new Date());
  const id = (req: FastifyRequest) => (req.params as Static<typeof Params>).id;
  app.get('/api/whistleblower-rewards', { schema: { querystring: ListQuery, tags } }, async (req) => ({
    items: await listRewards(d.pool, d.who(req), req.query as Static<typeof ListQuery>),
  }));
  app.post('/api/whistleblower-rewards', { schema: { body: Proposal, tags } }, async (req, reply) => {
    const r = await proposeReward(d.pool, d.who(req), req.body as RewardProposal, now(), req.id);
    return reply.code(201).send(r);
  });
  app.post(
    '/api/whistleblower-rewards/:id/decision',
    { schema: { params: Params, body: Decision, tags } },
    async (req) =>
      decideReward(d.pool, d.who(req), id(req), req.body as Static<typeof Decision>, now(), req.id),
  );
  app.post(
    '/api/whistleblower-rewards/:id/payment',
    { schema: { params: Params, body: Payment, tags } },
    async (req) =>
      recordRewardPayment(d.pool, d.who(req), id(req), req.body as Static<typeof Payment>, now(), req.id),
  );
}
