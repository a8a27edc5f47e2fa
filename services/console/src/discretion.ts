// Penalty discretion on a deviation case (轻微违法不罚 / 首违不罚), rectification-deadline extensions
// (酌情延长整改期限) and coercive measures (查封、扣押、限产、停产), in the console's own tables
// (migration 075). Each record names its decision maker and a second, different approver (city level,
// or as the policy says) and takes effect only when that approver approves it. Every write checks the
// case through the principal's scope, validates everything before it writes, and commits the record
// with its audit entry (and, on approval, its effect) in one transaction.
import { endOfShanghaiDay, shanghaiDate } from '@offsite/domain/calendar';
import { transaction, type Queryable } from '@offsite/store';
import type pg from 'pg';
import { appendAudit } from './audit.js';
import { lockCase } from './cases.js';
import { ConsoleError } from './errors.js';
import { recordOutcome } from './regulation/index.js';
import { regulationScope } from './regulation-scope.js';
import { canReview, scopeSql, type Principal } from './principal.js';

export interface DiscretionPolicy {
  /** A violation is the first when the enterprise had no confirmed case in this many months before. */
  firstViolationMonths: number;
  /** Who may approve: `city` (admin or city supervisor) or `district` (also an officer of the case's district). */
  approverLevel: 'city' | 'district';
}

export const DEFAULT_DISCRETION_POLICY: DiscretionPolicy = {
  firstViolationMonths: 24,
  approverLevel: 'city',
};

export const CRITERIA = ['firstViolation', 'minor', 'correctedInTime', 'noHarm', 'forceMajeure'] as const;
export type Criterion = (typeof CRITERIA)[number];
export const MEASURE_KINDS = ['seal-up', 'seizure', 'limit-production', 'suspend-production'] as const;
export type MeasureKind = (typeof MEASURE_KINDS)[number];
export const RECORD_KINDS = ['decisions', 'extensions', 'measures'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

const CRITERION_ZH: Record<Criterion, string> = {
  firstViolation: '首次违法',
  minor: '违法行为轻微',
  correctedInTime: '在期限内改正',
  noHarm: '未造成危害后果',
  forceMajeure: '不可抗力或疫情',
};

// Fixed table and column names per record kind: request input never reaches the SQL text.
const TABLE: Record<RecordKind, string> = {
  decisions: 'discretion_decisions',
  extensions: 'rectification_extensions',
  measures: 'coercive_measures',
};

/** A bilingual answer naming the field at fault (nothing has been written). */
function invalid(field: string, zh: string, en: string): ConsoleError {
  return new ConsoleError('INVALID_INPUT', `字段 ${field}：${zh} / field ${field}: ${en}`, {
    details: { in: 'body', field },
  });
}

export interface LegalBasis {
  code: string;
  kind: 'minor' | 'first-violation' | 'force-majeure';
  labelZh: string;
  labelEn: string;
  requiredCriteria: Criterion[];
}

export async function listLegalBases(db: Queryable): Promise<LegalBasis[]> {
  const r = await db.query<LegalBasis>(
    `select code, kind, label_zh as "labelZh", label_en as "labelEn", required_criteria as "requiredCriteria"
       from discretion_legal_bases where active order by sort, code`,
  );
  return r.rows;
}

interface CaseRef {
  id: string;
  enterpriseId: string;
  districtId: string;
  openedAt: Date;
  rectificationDue: string | null;
}

/** The case as the principal may see it (NOT_FOUND outside its scope); enterprise users see no discretion records. */
export async function caseInScope(db: Queryable, p: Principal, id: string): Promise<CaseRef> {
  if (p.role === 'enterprise') throw new ConsoleError('FORBIDDEN', 'discretion records are internal');
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'e', 'rc');
  const r = await db.query<CaseRef>(
    `select rc.deviation_id as id, rc.enterprise_id as "enterpriseId", e.district_id as "districtId",
            rc.opened_at as "openedAt", to_char(rc.rectification_due, 'YYYY-MM-DD') as "rectificationDue"
       from review_cases rc join enterprises e on e.id = rc.enterprise_id
      where rc.deviation_id = $1 and ${scope}`,
    params,
  );
  if (!r.rows[0]) throw new ConsoleError('NOT_FOUND', 'deviation not found');
  return r.rows[0];
}

export interface FirstViolationCheck {
  periodMonths: number;
  /** Start of the period looked at (the case's opening minus the period). */
  since: string;
  /** The enterprise's confirmed cases (confirmed, or closed with a decision) opened in the period before this one. */
  earlierConfirmed: { id: string; openedAt: string; rule: string }[];
  isFirst: boolean;
}

export async function firstViolationCheck(
  db: Queryable,
  c: Pick<CaseRef, 'id' | 'enterpriseId' | 'openedAt'>,
  months: number,
): Promise<FirstViolationCheck> {
  const r = await db.query<{ id: string; openedAt: Date; rule: string; since: Date }>(
    `select rc.deviation_id as id, rc.opened_at as "openedAt", rc.rule,
            $3::timestamptz - make_interval(months => $4) as since
       from review_cases rc
      where rc.enterprise_id = $1 and rc.deviation_id <> $2
        and (rc.review_state = 'confirmed' or rc.decision is not null)
        and rc.opened_at < $3 and rc.opened_at >= $3::timestamptz - make_interval(months => $4)
      order by rc.opened_at desc`,
    [c.enterpriseId, c.id, c.openedAt, months],
  );
  const since = new Date(c.openedAt);
  since.setUTCMonth(since.getUTCMonth() - months);
  return {
    periodMonths: months,
    since: since.toISOString(),
    earlierConfirmed: r.rows.map((x) => ({ id: x.id, openedAt: x.openedAt.toISOString(), rule: x.rule })),
    isFirst: r.rows.length === 0,
  };
}

/** Users who may approve a record on a case of this district under the policy. */
export async function eligibleApprovers(
  db: Queryable,
  districtId: string,
  policy: DiscretionPolicy,
): Promise<{ id: string; username: string; displayName: string; role: string }[]> {
  const r = await db.query(
    `select id::text as id, username, display_name as "displayName", role from console_users
      where not disabled and (role in ('admin', 'city-supervisor')
            or ($2::boolean and role = 'district-officer' and district_id = $1))
      order by role, username`,
    [districtId, policy.approverLevel === 'district'],
  );
  return r.rows as { id: string; username: string; displayName: string; role: string }[];
}

async function checkApprover(
  db: Queryable,
  p: Principal,
  approverId: string,
  districtId: string,
  policy: DiscretionPolicy,
): Promise<void> {
  if (approverId === p.userId)
    throw invalid(
      'approverId',
      '审批人不能是决定人本人',
      'the approver must be a different user from the decision maker',
    );
  const ok = (await eligibleApprovers(db, districtId, policy)).some((u) => u.id === approverId);
  if (!ok)
    throw invalid(
      'approverId',
      policy.approverLevel === 'city' ? '审批人须为市级监管人员' : '审批人须为市级人员或本区县执法人员',
      policy.approverLevel === 'city'
        ? 'the approver must be an active city-level user'
        : "the approver must be an active city-level user or an officer of the case's district",
    );
}

function requireReviewer(p: Principal): void {
  if (!canReview(p)) throw new ConsoleError('FORBIDDEN', 'this role cannot record discretion');
}

/** Today in Asia/Shanghai (YYYY-MM-DD): dates before it are in the past. */
const today = (now: Date): string => shanghaiDate(now.getTime());

export interface DecisionInput {
  basisCode: string;
  criteria: Record<Criterion, boolean>;
  reason: string;
  approverId: string;
}

/**
 * The shared shape of a proposal: in one transaction, the case found in the principal's scope and
 * locked, `check` (which throws on bad input before anything is written), the row inserted with its
 * case, maker and approver, and the audit entry.
 */
async function propose(
  pool: pg.Pool,
  p: Principal,
  caseId: string,
  r: {
    kind: 'decision' | 'extension' | 'measure';
    approverId: string;
    policy: DiscretionPolicy;
    requestId: string | undefined;
    /** Validates and returns the record's own columns (name → value) and what the audit adds. */
    check(db: pg.PoolClient, c: CaseRef): Promise<{ columns: Record<string, unknown>; audit?: object }>;
  },
): Promise<{ id: string; status: 'pending' }> {
  requireReviewer(p);
  return transaction(pool, async (db) => {
    const c = await caseInScope(db, p, caseId);
    await lockCase(db, p, caseId);
    const { columns, audit } = await r.check(db, c);
    await checkApprover(db, p, r.approverId, c.districtId, r.policy);
    const all: Record<string, unknown> = {
      deviation_id: caseId,
      enterprise_id: c.enterpriseId,
      district_id: c.districtId,
      ...columns,
      decided_by: p.userId,
      approver_id: r.approverId,
    };
    const names = Object.keys(all);
    const table = TABLE[`${r.kind}s` as RecordKind];
    const row = await db.query<{ id: string }>(
      `insert into ${table} (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})
       returning id::text as id`,
      Object.values(all),
    );
    const id = row.rows[0]!.id;
    await appendAudit(db, p, {
      action: `discretion.${r.kind}.propose`,
      entityType: 'deviation',
      entityId: caseId,
      districtId: c.districtId,
      before: r.kind === 'extension' ? { rectificationDue: c.rectificationDue } : null,
      after: { id, ...columns, approverId: r.approverId, ...audit },
      ...(r.requestId ? { requestId: r.requestId } : {}),
    });
    return { id, status: 'pending' as const };
  });
}

export async function proposeDecision(
  pool: pg.Pool,
  p: Principal,
  caseId: string,
  input: DecisionInput,
  policy: DiscretionPolicy,
  requestId?: string,
): Promise<{ id: string; status: 'pending' }> {
  return propose(pool, p, caseId, {
    kind: 'decision',
    approverId: input.approverId,
    policy,
    requestId,
    async check(db, c) {
      const basis = (await listLegalBases(db)).find((b) => b.code === input.basisCode);
      if (!basis) throw invalid('basisCode', '法律依据不在可选清单中', 'not a legal basis on the list');
      const missing = basis.requiredCriteria.find((k) => !input.criteria[k]);
      if (missing)
        throw invalid(
          `criteria.${missing}`,
          `所选法律依据要求“${CRITERION_ZH[missing]}”`,
          `the chosen legal basis requires ${missing}`,
        );
      const first = await firstViolationCheck(db, c, policy.firstViolationMonths);
      const earlier = first.earlierConfirmed.map((x) => x.id);
      if (input.criteria.firstViolation && !first.isFirst)
        throw invalid(
          'criteria.firstViolation',
          `该企业在${first.periodMonths}个月内已有确认案件（${earlier.join('、')}），不属首次违法`,
          `the enterprise has confirmed cases within ${first.periodMonths} months (${earlier.join(', ')}): not a first violation`,
        );
      const live = await db.query(
        `select 1 from discretion_decisions where deviation_id = $1 and status <> 'rejected'`,
        [caseId],
      );
      if (live.rowCount)
        throw new ConsoleError(
          'INVALID_TRANSITION',
          '该案件已有待审批或已生效的裁量决定 / this case already has a pending or approved discretion decision',
        );
      const k = input.criteria;
      return {
        columns: {
          basis_code: basis.code,
          first_violation: k.firstViolation,
          minor: k.minor,
          corrected_in_time: k.correctedInTime,
          no_harm: k.noHarm,
          force_majeure: k.forceMajeure,
          earlier_confirmed: earlier.length,
          period_months: first.periodMonths,
          reason: input.reason,
        },
      };
    },
  });
}

export interface ExtensionInput {
  newDue: string;
  reason: string;
  approverId: string;
}

export async function requestExtension(
  pool: pg.Pool,
  p: Principal,
  caseId: string,
  input: ExtensionInput,
  policy: DiscretionPolicy,
  requestId?: string,
  now: Date = new Date(),
): Promise<{ id: string; status: 'pending' }> {
  return propose(pool, p, caseId, {
    kind: 'extension',
    approverId: input.approverId,
    policy,
    requestId,
    async check(db, c) {
      if (!c.rectificationDue)
        throw invalid(
          'newDue',
          '该案件尚未责令整改，没有可延长的整改期限',
          'the case has no rectification deadline to extend',
        );
      if (input.newDue < today(now))
        throw invalid('newDue', '新的整改期限已经过去', 'the new deadline is in the past');
      if (input.newDue <= c.rectificationDue)
        throw invalid(
          'newDue',
          `新的整改期限须晚于当前期限 ${c.rectificationDue}`,
          `the new deadline must be after the current one, ${c.rectificationDue}`,
        );
      const pending = await db.query(
        `select 1 from rectification_extensions where deviation_id = $1 and status = 'pending'`,
        [caseId],
      );
      if (pending.rowCount)
        throw new ConsoleError(
          'INVALID_TRANSITION',
          '该案件已有待审批的延期申请 / this case already has an extension waiting for approval',
        );
      return { columns: { previous_due: c.rectificationDue, new_due: input.newDue, reason: input.reason } };
    },
  });
}

export interface MeasureInput {
  kind: MeasureKind;
  reason: string;
  startsOn: string;
  reviewOn: string;
  approverId: string;
}

export async function proposeMeasure(
  pool: pg.Pool,
  p: Principal,
  caseId: string,
  input: MeasureInput,
  policy: DiscretionPolicy,
  requestId?: string,
  now: Date = new Date(),
): Promise<{ id: string; status: 'pending' }> {
  return propose(pool, p, caseId, {
    kind: 'measure',
    approverId: input.approverId,
    policy,
    requestId,
    async check() {
      if (input.reviewOn < today(now))
        throw invalid('reviewOn', '复查日期已经过去', 'the review date is in the past');
      if (input.reviewOn < input.startsOn)
        throw invalid(
          'reviewOn',
          '复查日期不能早于开始日期',
          'the review date must not be before the start date',
        );
      return {
        columns: {
          kind: input.kind,
          reason: input.reason,
          starts_on: input.startsOn,
          review_on: input.reviewOn,
        },
      };
    },
  });
}

/**
 * The named approver approves or rejects a pending record. Approval puts it in force: a decision
 * counts as a waived penalty in the report ledger; an extension moves the case's rectification
 * deadline (and the ledger's); a measure is in force from its start date until its review.
 */
export async function decideRecord(
  pool: pg.Pool,
  p: Principal,
  kind: RecordKind,
  recordId: string,
  input: { approve: boolean; note?: string },
  requestId?: string,
  now: Date = new Date(),
): Promise<{ id: string; status: 'approved' | 'rejected' }> {
  requireReviewer(p);
  return transaction(pool, async (db) => {
    const r = await db.query<{
      deviation_id: string;
      approver_id: string;
      status: string;
      new_due?: string;
    }>(
      `select deviation_id, approver_id::text as approver_id, status${kind === 'extensions' ? ", to_char(new_due, 'YYYY-MM-DD') as new_due" : ''}
         from ${TABLE[kind]} where id = $1 for update`,
      [recordId],
    );
    const row = r.rows[0];
    if (!row) throw new ConsoleError('NOT_FOUND', 'record not found');
    // Outside the principal's scope the record does not exist.
    const c = await caseInScope(db, p, row.deviation_id);
    if (row.approver_id !== p.userId)
      throw new ConsoleError('FORBIDDEN', '只有指定的审批人可以审批 / only the named approver may decide');
    if (row.status !== 'pending')
      throw new ConsoleError('INVALID_TRANSITION', `已审批（${row.status}） / already ${row.status}`);
    const status = input.approve ? ('approved' as const) : ('rejected' as const);
    await db.query(
      `update ${TABLE[kind]} set status = $2, approval_note = $3, approved_at = $4 where id = $1`,
      [recordId, status, input.note ?? null, now],
    );
    if (input.approve && kind === 'decisions')
      await recordOutcome(db, regulationScope(p), {
        kind: 'penalty-waived',
        sourceRef: c.id,
        enterpriseId: c.enterpriseId,
        occurredAt: now,
      });
    if (input.approve && kind === 'extensions') {
      await db.query('update review_states set rectification_due = $2::date where deviation_id = $1', [
        c.id,
        row.new_due,
      ]);
      await db.query(
        `update regulatory_events set due_at = $2 where kind = 'rectification' and source_ref = $1 and done_at is null`,
        [c.id, endOfShanghaiDay(row.new_due!)],
      );
    }
    await appendAudit(db, p, {
      action: `discretion.${kind === 'decisions' ? 'decision' : kind === 'extensions' ? 'extension' : 'measure'}.${input.approve ? 'approve' : 'reject'}`,
      entityType: 'deviation',
      entityId: c.id,
      districtId: c.districtId,
      before: {
        id: recordId,
        status: 'pending',
        ...(row.new_due ? { rectificationDue: c.rectificationDue } : {}),
      },
      after: { id: recordId, status, note: input.note ?? null },
      ...(requestId ? { requestId } : {}),
    });
    return { id: recordId, status };
  });
}
