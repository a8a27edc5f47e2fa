/**
 * District authority over the positive list (正面清单, 各分局组织制定). A district officer proposes
 * adding an enterprise of their own district to the list, or removing one, with a reason; city staff
 * may propose for any district. A city-level user other than the proposer approves or rejects it with
 * a reason. An approval appends the decision to positive_list_decisions (linked to the proposal), the
 * one place the list is read from: the queue's and registry's marks, the draws' positive-list stratum
 * (off-site checks instead of visits) and complaints. Another district's enterprise or proposal is 404;
 * bad input is a bilingual, field-named 400 with nothing saved; every proposal and decision is audited.
 */
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
import type { Eligibility, EligibilityConfig } from '@offsite/regulation';
import { transaction } from '@offsite/store';
import { Type, type Static } from '@sinclair/typebox';
import { Obj } from './request-schema.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { listedSql } from './listed.js';
import { scopeSql, type Principal } from './principal.js';
import { fieldError } from './registry-edit.js';
import { computeEligibility, insertDecision, type StabilitySource } from './regulation/positive-list.js';
import { regulationScope } from './regulation-scope.js';

export const PROPOSAL_STATES = ['pending', 'approved', 'rejected'] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

export interface ProposalInput {
  enterpriseId: string;
  action: 'add' | 'remove';
  reason: string;
  /** `YYYY-MM-DD` (Asia/Shanghai); today when absent, never earlier. */
  validFrom?: string;
  /** Adds only: the last day on the list; open-ended when absent. */
  validUntil?: string;
}

export interface ProposalDeps {
  stability: StabilitySource;
  eligibilityConfig?: EligibilityConfig;
  /** Criteria judged as of this time (a replay or demo of a past day); absent: now. */
  eligibilityAsOf?: Date;
  now: () => Date;
}

export interface Proposal {
  id: string;
  enterpriseId: string;
  enterpriseNameZh: string;
  enterpriseNameEn: string | null;
  districtId: string;
  districtNameZh: string;
  districtNameEn: string | null;
  action: 'add' | 'remove';
  reason: string;
  validFrom: string;
  validUntil: string | null;
  eligibility: Eligibility | null;
  state: ProposalState;
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  /** The decision an approval recorded. */
  decisionId: string | null;
  /** On the list today (Asia/Shanghai). */
  listed: boolean;
}

const canPropose = (p: Principal) =>
  p.role === 'admin' || p.role === 'city-supervisor' || p.role === 'district-officer';
const canDecide = (p: Principal) => p.role === 'admin' || p.role === 'city-supervisor';

const isDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && addDays(v, 0) === v;

/** The input checked against the calendar (the schema checked the shapes); nothing is saved on an error. */
function checkDates(input: ProposalInput, today: string): { validFrom: string; validUntil: string | null } {
  const validFrom = input.validFrom ?? today;
  if (!isDate(validFrom))
    throw fieldError('validFrom', '不是有效日期（YYYY-MM-DD）', 'not a valid date (YYYY-MM-DD)');
  if (validFrom < today)
    throw fieldError(
      'validFrom',
      `不得早于今天（${today}）`,
      `must not be before today (${today}, Asia/Shanghai)`,
    );
  if (input.validUntil === undefined) return { validFrom, validUntil: null };
  if (input.action === 'remove')
    throw fieldError('validUntil', '移出申请不设有效期', 'a removal has no end of validity');
  if (!isDate(input.validUntil))
    throw fieldError('validUntil', '不是有效日期（YYYY-MM-DD）', 'not a valid date (YYYY-MM-DD)');
  if (input.validUntil < validFrom)
    throw fieldError('validUntil', '不得早于生效日期', 'must not be before validFrom');
  return { validFrom, validUntil: input.validUntil };
}

interface Subject {
  id: string;
  district_id: string;
  listed: boolean;
}

/** The enterprise, locked, if the principal may see it (another district's: 404). */
async function subject(c: pg.PoolClient, p: Principal, enterpriseId: string): Promise<Subject> {
  const params: unknown[] = [enterpriseId];
  const r = await c.query<Subject>(
    `select e.id, e.district_id, ${listedSql('e')} as listed
       from enterprises e where e.id = $1 and ${scopeSql(p, params, 'e')} for update of e`,
    params,
  );
  const e = r.rows[0];
  if (!e)
    throw new ConsoleError('NOT_FOUND', '企业不存在或不在本辖区 / enterprise not found', {
      details: { field: 'enterpriseId' },
    });
  return e;
}

/** Add: not yet listed and eligible now; remove: listed. Returns the evaluation of an add. */
async function checkListChange(
  c: pg.PoolClient,
  p: Principal,
  e: Subject,
  action: 'add' | 'remove',
  deps: ProposalDeps,
): Promise<Eligibility | null> {
  if (action === 'remove') {
    if (!e.listed)
      throw new ConsoleError(
        'INVALID_TRANSITION',
        '该企业不在正面清单中 / the enterprise is not on the positive list',
        {
          details: { field: 'action' },
        },
      );
    return null;
  }
  if (e.listed)
    throw new ConsoleError(
      'INVALID_TRANSITION',
      '该企业已在正面清单中 / the enterprise is already on the positive list',
      {
        details: { field: 'action' },
      },
    );
  const [ev] = await computeEligibility(
    c,
    { ...regulationScope(p), districtId: null },
    {
      stability: deps.stability,
      now: deps.now(),
      config: deps.eligibilityConfig,
      asOf: deps.eligibilityAsOf,
      enterpriseId: e.id,
    },
  );
  if (!ev) throw new ConsoleError('NOT_FOUND', '企业不存在 / enterprise not found');
  if (!ev.eligible) {
    const failed = ev.criteria.filter((x) => !x.pass);
    throw new ConsoleError(
      'NOT_ELIGIBLE',
      `不符合纳入条件：${failed.map((x) => x.requirement.zh).join('；')} / not eligible: ${failed
        .map((x) => x.requirement.en)
        .join('; ')}`,
      { details: { field: 'enterpriseId' } },
    );
  }
  return {
    enterpriseId: ev.enterpriseId,
    eligible: ev.eligible,
    evaluatedAt: ev.evaluatedAt,
    criteria: ev.criteria,
  };
}

const SELECT = `select pr.id::text as id, pr.enterprise_id as "enterpriseId", e.name_zh as "enterpriseNameZh",
    e.name_en as "enterpriseNameEn", e.district_id as "districtId", d.name_zh as "districtNameZh",
    d.name_en as "districtNameEn", pr.action, pr.reason, pr.valid_from::text as "validFrom",
    pr.valid_until::text as "validUntil", pr.eligibility, pr.state, pu.username as "proposedBy",
    pr.proposed_at as "proposedAt", du.username as "decidedBy", pr.decided_at as "decidedAt",
    pr.decision_reason as "decisionReason", dec.id::text as "decisionId", ${listedSql('e')} as listed
  from positive_list_change_proposals pr
  join enterprises e on e.id = pr.enterprise_id
  join districts d on d.id = e.district_id
  join console_users pu on pu.id = pr.proposed_by
  left join console_users du on du.id = pr.decided_by
  left join positive_list_decisions dec on dec.change_proposal_id = pr.id`;

type Row = Omit<Proposal, 'proposedAt' | 'decidedAt'> & { proposedAt: Date; decidedAt: Date | null };
const toProposal = (r: Row): Proposal => ({
  ...r,
  proposedAt: r.proposedAt.toISOString(),
  decidedAt: r.decidedAt?.toISOString() ?? null,
});

/** Proposals the principal may see (officers: their district's), newest first; enterprise users none. */
export async function listProposals(
  db: pg.Pool | pg.PoolClient,
  p: Principal,
  filter: { state?: ProposalState; id?: string } = {},
): Promise<Proposal[]> {
  if (p.role === 'enterprise') return [];
  const params: unknown[] = [];
  const where = [scopeSql(p, params, 'e')];
  if (filter.state) {
    params.push(filter.state);
    where.push(`pr.state = $${params.length}`);
  }
  if (filter.id) {
    params.push(filter.id);
    where.push(`pr.id = $${params.length}`);
  }
  const r = await db.query<Row>(
    `${SELECT} where ${where.join(' and ')} order by pr.proposed_at desc, pr.id desc limit 500`,
    params,
  );
  return r.rows.map(toProposal);
}

/** Opens a proposal as `p` (audited). One open proposal per enterprise at a time. */
export async function createProposal(
  pool: pg.Pool,
  p: Principal,
  input: ProposalInput,
  deps: ProposalDeps,
  requestId?: string,
): Promise<Proposal> {
  if (!canPropose(p))
    throw new ConsoleError(
      'FORBIDDEN',
      '只有区县分局和市局人员可以提出申请 / only district officers and city staff propose',
    );
  const { validFrom, validUntil } = checkDates(input, shanghaiDate(deps.now()));
  return transaction(pool, async (c) => {
    const e = await subject(c, p, input.enterpriseId);
    const open = await c.query(
      `select 1 from positive_list_change_proposals where enterprise_id = $1 and state = 'pending'`,
      [e.id],
    );
    if (open.rowCount)
      throw new ConsoleError(
        'INVALID_TRANSITION',
        '该企业已有待审批的申请 / the enterprise already has a pending proposal',
        {
          details: { field: 'enterpriseId' },
        },
      );
    const eligibility = await checkListChange(c, p, e, input.action, deps);
    const r = await c.query<{ id: string }>(
      `insert into positive_list_change_proposals (enterprise_id, action, reason, valid_from, valid_until, eligibility, proposed_by)
       values ($1, $2, $3, $4::date, $5::date, $6, $7) returning id::text`,
      [
        e.id,
        input.action,
        input.reason.trim(),
        validFrom,
        validUntil,
        eligibility ? JSON.stringify(eligibility) : null,
        p.userId,
      ],
    );
    const id = r.rows[0]!.id;
    await appendAudit(c, p, {
      action: 'positive-list.proposed',
      entityType: 'enterprise',
      entityId: e.id,
      districtId: e.district_id,
      before: { listed: e.listed },
      after: { proposal: id, action: input.action, reason: input.reason.trim(), validFrom, validUntil },
      ...(requestId ? { requestId } : {}),
    });
    return (await listProposals(c, p, { id }))[0]!;
  });
}

/**
 * Approves or rejects a pending proposal as `p`: city staff only, never the proposer. An approval
 * checks the list again as it is now (an add must still be eligible) and records the decision,
 * effective on the later of the proposal's first day and today. Audited.
 */
export async function decideProposal(
  pool: pg.Pool,
  p: Principal,
  id: string,
  decision: { approve: boolean; reason: string },
  deps: ProposalDeps,
  requestId?: string,
): Promise<Proposal> {
  if (!canDecide(p))
    throw new ConsoleError('FORBIDDEN', '须由市局人员审批 / only city staff approve or reject proposals');
  const reason = decision.reason.trim();
  return transaction(pool, async (c) => {
    const params: unknown[] = [id];
    const r = await c.query<{
      enterprise_id: string;
      action: 'add' | 'remove';
      valid_from: string;
      valid_until: string | null;
      state: ProposalState;
      proposed_by: string;
    }>(
      `select pr.enterprise_id, pr.action, pr.valid_from::text as valid_from, pr.valid_until::text as valid_until,
              pr.state, pr.proposed_by::text as proposed_by
         from positive_list_change_proposals pr join enterprises e on e.id = pr.enterprise_id
        where pr.id = $1 and ${scopeSql(p, params, 'e')} for update of pr`,
      params,
    );
    const pr = r.rows[0];
    if (!pr) throw new ConsoleError('NOT_FOUND', '申请不存在 / proposal not found');
    if (pr.state !== 'pending')
      throw new ConsoleError(
        'INVALID_TRANSITION',
        `此申请已${pr.state === 'approved' ? '批准' : '驳回'} / the proposal is already ${pr.state}`,
      );
    if (pr.proposed_by === p.userId)
      throw new ConsoleError(
        'FORBIDDEN',
        '不能审批本人提出的申请 / a second person must decide a proposal you made',
      );
    const e = await subject(c, p, pr.enterprise_id);
    let decisionId: number | null = null;
    let validFrom: string | null = null;
    if (decision.approve) {
      const eligibility = await checkListChange(c, p, e, pr.action, deps);
      const today = shanghaiDate(deps.now());
      validFrom = pr.valid_from > today ? pr.valid_from : today;
      if (pr.valid_until !== null && pr.valid_until < validFrom)
        throw new ConsoleError(
          'INVALID_TRANSITION',
          `申请的有效期已于 ${pr.valid_until} 结束，请驳回后重新申请 / the proposed validity ended on ${pr.valid_until}: reject it and propose again`,
        );
      const d = await insertDecision(c, p.username, {
        enterpriseId: e.id,
        action: pr.action,
        reason,
        validFrom,
        validUntil: pr.valid_until,
        eligibility,
        changeProposalId: Number(id),
      });
      decisionId = d.id;
    }
    const state: ProposalState = decision.approve ? 'approved' : 'rejected';
    await c.query(
      `update positive_list_change_proposals set state = $2, decided_by = $3, decided_at = now(), decision_reason = $4
        where id = $1`,
      [id, state, p.userId, reason],
    );
    await appendAudit(c, p, {
      action: `positive-list.${state}`,
      entityType: 'enterprise',
      entityId: e.id,
      districtId: e.district_id,
      before: { proposal: id, state: 'pending', listed: e.listed },
      after: {
        proposal: id,
        state,
        reason,
        ...(decisionId !== null ? { decision: decisionId, action: pr.action, validFrom } : {}),
      },
      ...(requestId ? { requestId } : {}),
    });
    return (await listProposals(c, p, { id }))[0]!;
  });
}

// At least one visible character: a blank reason is refused by name.
const Reason = Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Body = Obj({
  enterpriseId: Type.String({ minLength: 1, maxLength: 64 }),
  action: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
  reason: Reason,
  validFrom: Type.Optional(DateString),
  validUntil: Type.Optional(DateString),
});
const Decision = Obj({ approve: Type.Boolean(), reason: Reason });
const Params = Obj({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) });
const Query = Obj({ state: Type.Optional(Type.Union(PROPOSAL_STATES.map((s) => Type.Literal(s)))) });

/** `/api/regulation/positive-list/proposals`: list (state filter), propose, decide. */
export function registerPositiveListProposalRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal } & Omit<ProposalDeps, 'now'> & {
      now?: () => Date;
    },
): void {
  const deps: ProposalDeps = { ...o, now: o.now ?? (() => new Date()) };
  const base = '/api/regulation/positive-list/proposals';
  const tags = ['positive-list'];
  app.get(base, { schema: { querystring: Query, tags } }, async (req) => ({
    items: await listProposals(o.pool, o.who(req), req.query as Static<typeof Query>),
  }));
  app.post(base, { schema: { body: Body, tags } }, async (req, reply) =>
    reply
      .code(201)
      .send(await createProposal(o.pool, o.who(req), req.body as Static<typeof Body>, deps, req.id)),
  );
  app.post(`${base}/:id/decision`, { schema: { params: Params, body: Decision, tags } }, async (req) =>
    decideProposal(
      o.pool,
      o.who(req),
      (req.params as Static<typeof Params>).id,
      req.body as Static<typeof Decision>,
      deps,
      req.id,
    ),
  );
}
