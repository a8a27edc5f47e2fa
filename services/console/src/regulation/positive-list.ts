// Positive list (正面清单): eligibility for every enterprise in scope, supervisors' decisions
// (append-only history), and removal proposals raised at once by serious events.
import { shanghaiDate } from '@offsite/domain/calendar';
import {
  defaultEligibilityConfig,
  evaluateEligibility,
  regulationError,
  requireCapability,
  type CreditRating,
  type Eligibility,
  type EligibilityConfig,
  type EnterpriseStability,
  type Scope,
} from '@offsite/regulation';
import { query, transaction, type Db, type Queryable } from './db.js';

/**
 * The analyzer's stability metrics per enterprise (its Postgres table, migrations 030–039, or any
 * other source). Enterprises without metrics are absent from the map.
 */
export type StabilitySource = (
  enterpriseIds: readonly string[],
) => Promise<ReadonlyMap<string, EnterpriseStability>>;

export interface EnterpriseEligibility extends Eligibility {
  nameZh: string;
  districtId: string;
  listed: boolean;
}

interface SubjectRow {
  id: string;
  name_zh: string;
  district_id: string;
  industry: string;
  credit_rating: CreditRating | null;
  devices: number;
  violations: { occurredOn: string; kind: string; serious: boolean }[];
}

export interface EligibilityDeps {
  stability: StabilitySource;
  now: Date;
  config?: EligibilityConfig;
  /**
   * Judge the criteria as of this time instead of `now`: a replay or demo of a past day, whose stability figures
   * were computed as of that day. Production leaves it out: the real clock is right.
   */
  asOf?: Date;
}

export async function computeEligibility(
  db: Queryable,
  scope: Scope,
  deps: EligibilityDeps & { enterpriseId?: string },
): Promise<EnterpriseEligibility[]> {
  const rows = await query<SubjectRow>(
    db,
    'load eligibility subjects',
    `select e.id, e.name_zh, e.district_id, e.industry, e.credit_rating,
            (select count(*)::int from outlets o join devices d on d.outlet_id = o.id
              where o.enterprise_id = e.id and d.enabled) as devices,
            coalesce((select json_agg(json_build_object('occurredOn', v.occurred_on::text, 'kind', v.kind, 'serious', v.serious))
                        from violations v where v.enterprise_id = e.id), '[]'::json) as violations
       from enterprises e
      where ($1::text is null or e.district_id = $1) and ($2::text is null or e.id = $2)
      order by e.id`,
    [scope.districtId, deps.enterpriseId ?? null],
  );
  const stability = await deps.stability(rows.map((r) => r.id));
  const listed = new Set((await currentPositiveList(db, scope, deps.now)).map((l) => l.enterpriseId));
  return rows.map((r) => ({
    ...evaluateEligibility(
      {
        enterpriseId: r.id,
        industry: r.industry,
        creditRating: r.credit_rating,
        monitoringDevices: r.devices,
        violations: r.violations,
      },
      stability.get(r.id) ?? null,
      deps.asOf ?? deps.now,
      deps.config ?? defaultEligibilityConfig,
    ),
    nameZh: r.name_zh,
    districtId: r.district_id,
    listed: listed.has(r.id),
  }));
}

export interface PositiveListDecision {
  id: number;
  enterpriseId: string;
  action: 'add' | 'remove';
  reason: string;
  validFrom: string;
  validUntil: string | null;
  decidedBy: string;
  decidedAt: string;
  eligibility: Eligibility | null;
  /** The removal proposal raised by a serious event that this decision accepted. */
  proposalId: number | null;
  /** The district's (or city's) change proposal this decision approved (positive_list_change_proposals). */
  changeProposalId: number | null;
}

interface DecisionRow {
  id: string;
  enterprise_id: string;
  action: 'add' | 'remove';
  reason: string;
  valid_from: string;
  valid_until: string | null;
  decided_by: string;
  decided_at: Date;
  eligibility: Eligibility | null;
  proposal_id: string | null;
  change_proposal_id: string | null;
}

const DECISION_COLUMNS = `d.id, d.enterprise_id, d.action, d.reason, d.valid_from::text as valid_from,
  d.valid_until::text as valid_until, d.decided_by, d.decided_at, d.eligibility, d.proposal_id, d.change_proposal_id`;
const idOrNull = (v: string | null): number | null => (v === null ? null : Number(v));

function toDecision(r: DecisionRow): PositiveListDecision {
  return {
    id: Number(r.id),
    enterpriseId: r.enterprise_id,
    action: r.action,
    reason: r.reason,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at.toISOString(),
    eligibility: r.eligibility,
    proposalId: idOrNull(r.proposal_id),
    changeProposalId: idOrNull(r.change_proposal_id),
  };
}

/**
 * Appends one decision to the list's history (inside the caller's transaction when it passes a
 * client). `decidedBy` is the deciding user's username.
 */
export async function insertDecision(
  db: Queryable,
  decidedBy: string,
  d: {
    enterpriseId: string;
    action: 'add' | 'remove';
    reason: string;
    validFrom: string;
    validUntil?: string | null;
    eligibility?: Eligibility | null;
    proposalId?: number | null;
    changeProposalId?: number | null;
  },
): Promise<PositiveListDecision> {
  const [row] = await query<DecisionRow>(
    db,
    'record positive list decision',
    `insert into positive_list_decisions as d (enterprise_id, action, reason, valid_from, valid_until, decided_by,
       eligibility, proposal_id, change_proposal_id)
     values ($1, $2, $3, $4::date, $5::date, $6, $7, $8, $9)
     returning ${DECISION_COLUMNS}`,
    [
      d.enterpriseId,
      d.action,
      d.reason,
      d.validFrom,
      d.action === 'add' ? (d.validUntil ?? null) : null,
      decidedBy,
      d.eligibility ? JSON.stringify(d.eligibility) : null,
      d.proposalId ?? null,
      d.changeProposalId ?? null,
    ],
  );
  if (!row) throw regulationError('QUERY_FAILED', 'insert returned nothing');
  return toDecision(row);
}

/** Enterprises on the list today (Asia/Shanghai): latest decision is an `add` whose period covers today. */
export async function currentPositiveList(
  db: Queryable,
  scope: Scope,
  now: Date,
): Promise<PositiveListDecision[]> {
  const rows = await query<DecisionRow>(
    db,
    'load positive list',
    `select * from (
       select distinct on (d.enterprise_id) ${DECISION_COLUMNS}
         from positive_list_decisions d join enterprises e on e.id = d.enterprise_id
        where ($1::text is null or e.district_id = $1) and d.valid_from <= $2::date
        order by d.enterprise_id, d.id desc) latest
      where action = 'add' and (valid_until is null or valid_until::date >= $2::date)
      order by enterprise_id`,
    [scope.districtId, shanghaiDate(now)],
  );
  return rows.map(toDecision);
}

/** A decision in the history, with the change proposal it approved: who proposed it, when and why. */
export interface PositiveListHistoryEntry extends PositiveListDecision {
  changeProposal: { proposedBy: string; proposedAt: string; reason: string } | null;
}

export async function positiveListHistory(
  db: Queryable,
  scope: Scope,
  enterpriseId: string,
): Promise<PositiveListHistoryEntry[]> {
  await enterpriseInScope(db, scope, enterpriseId);
  const rows = await query<
    DecisionRow & { proposed_by: string | null; proposed_at: Date | null; proposal_reason: string | null }
  >(
    db,
    'load positive list history',
    `select ${DECISION_COLUMNS}, u.username as proposed_by, p.proposed_at, p.reason as proposal_reason
       from positive_list_decisions d
       left join positive_list_change_proposals p on p.id = d.change_proposal_id
       left join console_users u on u.id = p.proposed_by
      where d.enterprise_id = $1 order by d.id`,
    [enterpriseId],
  );
  return rows.map((r) => ({
    ...toDecision(r),
    changeProposal:
      r.proposed_at && r.proposal_reason !== null
        ? {
            proposedBy: r.proposed_by ?? '',
            proposedAt: r.proposed_at.toISOString(),
            reason: r.proposal_reason,
          }
        : null,
  }));
}

export interface DecisionInput {
  enterpriseId: string;
  action: 'add' | 'remove';
  reason: string;
  validFrom: string;
  validUntil?: string | null;
  proposalId?: number | null;
}

/**
 * Record a supervisor's decision. Adding requires the enterprise to be eligible now; the evaluation
 * is stored with the decision so the history shows what the supervisor saw.
 */
export async function decidePositiveList(
  db: Db,
  scope: Scope,
  input: DecisionInput,
  deps: EligibilityDeps,
): Promise<PositiveListDecision> {
  requireCapability(scope, 'decidePositiveList');
  await enterpriseInScope(db, scope, input.enterpriseId);
  let eligibility: Eligibility | null = null;
  if (input.action === 'add') {
    const [ev] = await computeEligibility(db, scope, { ...deps, enterpriseId: input.enterpriseId });
    if (!ev) throw regulationError('NOT_FOUND', `enterprise ${input.enterpriseId} not found`);
    if (!ev.eligible) {
      throw regulationError(
        'NOT_ELIGIBLE',
        `enterprise ${input.enterpriseId} is not eligible for the positive list`,
        {
          details: { failed: ev.criteria.filter((c) => !c.pass).map((c) => c.code) },
        },
      );
    }
    eligibility = {
      enterpriseId: ev.enterpriseId,
      eligible: ev.eligible,
      evaluatedAt: ev.evaluatedAt,
      criteria: ev.criteria,
    };
  }
  return insertDecision(db, scope.userId, {
    enterpriseId: input.enterpriseId,
    action: input.action,
    reason: input.reason,
    validFrom: input.validFrom,
    validUntil: input.validUntil ?? null,
    eligibility,
    proposalId: input.proposalId ?? null,
  });
}

export type RemovalTrigger = 'serious-violation' | 'falsification' | 'incident';

export interface RemovalProposal {
  id: number;
  enterpriseId: string;
  trigger: RemovalTrigger;
  sourceRef: string;
  note: string | null;
  status: 'open' | 'accepted' | 'dismissed';
  proposedBy: string;
  proposedAt: string;
}

interface ProposalRow {
  id: string;
  enterprise_id: string;
  trigger: RemovalTrigger;
  source_ref: string;
  note: string | null;
  status: RemovalProposal['status'];
  proposed_by: string;
  proposed_at: Date;
}

function toProposal(r: ProposalRow): RemovalProposal {
  return {
    id: Number(r.id),
    enterpriseId: r.enterprise_id,
    trigger: r.trigger,
    sourceRef: r.source_ref,
    note: r.note,
    status: r.status,
    proposedBy: r.proposed_by,
    proposedAt: r.proposed_at.toISOString(),
  };
}

/**
 * Called by the console when a supervisor confirms a serious violation, a falsification or an
 * incident. If the enterprise is on the list, a removal proposal is opened at once (one per cause;
 * calling again returns the same proposal). Returns null when the enterprise is not listed.
 */
export async function proposeRemoval(
  db: Queryable,
  scope: Scope,
  input: { enterpriseId: string; trigger: RemovalTrigger; sourceRef: string; note?: string },
  now: Date,
): Promise<RemovalProposal | null> {
  requireCapability(scope, 'proposeRemoval');
  await enterpriseInScope(db, scope, input.enterpriseId);
  const listed = await currentPositiveList(db, { ...scope, districtId: null }, now);
  if (!listed.some((l) => l.enterpriseId === input.enterpriseId)) return null;
  const rows = await query<ProposalRow>(
    db,
    'propose removal',
    `with ins as (
       insert into positive_list_removal_proposals (enterprise_id, trigger, source_ref, note, proposed_by)
       values ($1, $2, $3, $4, $5)
       on conflict (enterprise_id, trigger, source_ref) do nothing
       returning *)
     select * from ins
     union all
     select * from positive_list_removal_proposals
      where enterprise_id = $1 and trigger = $2 and source_ref = $3 and not exists (select 1 from ins)`,
    [input.enterpriseId, input.trigger, input.sourceRef, input.note ?? null, scope.userId],
  );
  const row = rows[0];
  return row ? toProposal(row) : null;
}

export async function listRemovalProposals(
  db: Queryable,
  scope: Scope,
  status: RemovalProposal['status'] | null = 'open',
): Promise<RemovalProposal[]> {
  const rows = await query<ProposalRow>(
    db,
    'list removal proposals',
    `select p.* from positive_list_removal_proposals p join enterprises e on e.id = p.enterprise_id
      where ($1::text is null or e.district_id = $1) and ($2::text is null or p.status = $2)
      order by p.id`,
    [scope.districtId, status],
  );
  return rows.map(toProposal);
}

/** Accept (records a `remove` decision effective today) or dismiss an open proposal. */
export async function resolveRemovalProposal(
  db: Db,
  scope: Scope,
  input: { proposalId: number; accept: boolean; reason: string },
  now: Date,
): Promise<{ proposal: RemovalProposal; decision: PositiveListDecision | null }> {
  requireCapability(scope, 'decidePositiveList');
  return transaction(db, 'resolve removal proposal', async (c) => {
    const [row] = await query<ProposalRow>(
      c,
      'lock proposal',
      `select p.* from positive_list_removal_proposals p join enterprises e on e.id = p.enterprise_id
        where p.id = $1 and ($2::text is null or e.district_id = $2) for update of p`,
      [input.proposalId, scope.districtId],
    );
    if (!row) throw regulationError('NOT_FOUND', `removal proposal ${input.proposalId} not found`);
    if (row.status !== 'open') {
      throw regulationError(
        'INVALID_TRANSITION',
        `removal proposal ${input.proposalId} is already ${row.status}`,
      );
    }
    const status = input.accept ? 'accepted' : 'dismissed';
    const [updated] = await query<ProposalRow>(
      c,
      'update proposal',
      `update positive_list_removal_proposals set status = $2, resolved_by = $3, resolved_at = now() where id = $1 returning *`,
      [input.proposalId, status, scope.userId],
    );
    let decision: PositiveListDecision | null = null;
    if (input.accept) {
      decision = await insertDecision(c, scope.userId, {
        enterpriseId: row.enterprise_id,
        action: 'remove',
        reason: input.reason,
        validFrom: shanghaiDate(now),
        proposalId: input.proposalId,
      });
    }
    return { proposal: toProposal(updated ?? row), decision };
  });
}

/** Throws OUT_OF_SCOPE (shown as 404) when the enterprise does not exist or is outside the scope. */
export async function enterpriseInScope(
  db: Queryable,
  scope: Scope,
  enterpriseId: string,
): Promise<{ id: string; districtId: string; nameZh: string }> {
  const [row] = await query<{ id: string; district_id: string; name_zh: string }>(
    db,
    'check enterprise scope',
    `select id, district_id, name_zh from enterprises where id = $1 and ($2::text is null or district_id = $2)`,
    [enterpriseId, scope.districtId],
  );
  if (!row) throw regulationError('OUT_OF_SCOPE', `enterprise ${enterpriseId} not found`);
  return { id: row.id, districtId: row.district_id, nameZh: row.name_zh };
}
