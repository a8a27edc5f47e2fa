// Over 500 lines: the review queue, a case's detail and the review actions share one scope filter,
// row shape and case lock.
import type pg from 'pg';
import { transaction, type Queryable } from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { listedSql } from './listed.js';
import { canReview, scopeSql, type Principal } from './principal.js';
import { recordReviewOutcomes } from './outcomes.js';
import { recordReviewDecision } from './review-decisions.js';

import { REVIEW_STATES, type ReviewAction, type ReviewState } from './review-model.js';
export { REVIEW_STATES, type ReviewAction, type ReviewState };
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const SORT_KEYS = ['openedAt', 'severity', 'enterprise', 'rule', 'state', 'district'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

// Sort keys map to fixed SQL; user input never reaches the ORDER BY text.
const SORT_SQL: Record<SortKey, string> = {
  openedAt: 'rc.opened_at',
  severity: "array_position(array['info','low','medium','high','critical'], rc.severity)",
  enterprise: 'e.name_zh',
  rule: 'rc.rule',
  state: 'rc.review_state',
  district: 'e.district_id',
};

/** A case whose deviation is not resolved (alias `rc` of `review_cases`). */
export const OPEN_CASE_SQL = "rc.deviation_state <> 'resolved'";
/** A requested rectification whose deadline (a date in Asia/Shanghai) has passed. */
export const OVERDUE_CASE_SQL =
  "rc.review_state = 'rectification-requested' and rc.rectification_due < (now() at time zone 'Asia/Shanghai')::date";

export interface CaseFilter {
  district?: string;
  enterprise?: string;
  rule?: string;
  severity?: string;
  state?: string;
  from?: string;
  to?: string;
  /** Only cases whose deviation is not resolved. */
  open?: boolean;
  /** Only overdue rectifications. */
  overdue?: boolean;
  /** Free-text search in enterprise name, credit code or deviation id. */
  q?: string;
  sort: SortKey;
  order: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

export interface CaseSummary {
  id: string;
  enterpriseId: string;
  enterpriseName: string;
  enterpriseNameEn: string | null;
  districtId: string;
  /** The registry's district names, for display (the id stays the filter key). */
  districtNameZh: string;
  districtNameEn: string;
  siteId: string;
  rule: string;
  factor: string | null;
  severity: string;
  deviationState: string;
  reviewState: ReviewState;
  suspectedFalsification: boolean;
  windowStart: string;
  windowEnd: string | null;
  openedAt: string;
  assignee: string | null;
  /** The enterprise is on the positive list today. */
  listed: boolean;
}

const CASE_COLUMNS = `rc.deviation_id as id, rc.enterprise_id as "enterpriseId", e.name_zh as "enterpriseName",
  e.name_en as "enterpriseNameEn", e.district_id as "districtId", dd.name_zh as "districtNameZh",
  dd.name_en as "districtNameEn", rc.site_id as "siteId", rc.rule, rc.factor, rc.severity,
  rc.deviation_state as "deviationState", rc.review_state as "reviewState",
  rc.suspected_falsification as "suspectedFalsification", rc.window_start as "windowStart",
  rc.window_end as "windowEnd", rc.opened_at as "openedAt", au.username as assignee, ${listedSql('e')} as listed`;

function iso(v: unknown): string | null {
  return v instanceof Date ? v.toISOString() : v == null ? null : String(v);
}

/** One row as the principal may see it: an enterprise user is not told who is assigned. */
function summary(row: Record<string, unknown>, p: Principal): CaseSummary {
  return {
    ...(row as unknown as CaseSummary),
    assignee: p.role === 'enterprise' ? null : ((row.assignee as string | null) ?? null),
    windowStart: iso(row.windowStart)!,
    windowEnd: iso(row.windowEnd),
    openedAt: iso(row.openedAt)!,
  };
}

function filterSql(
  p: Principal,
  f: Omit<CaseFilter, 'sort' | 'order' | 'page' | 'pageSize'>,
  params: unknown[],
) {
  const where = [scopeSql(p, params, 'e', 'rc')];
  const eq = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    params.push(v);
    where.push(`${col} = $${params.length}`);
  };
  eq('e.district_id', f.district);
  eq('rc.enterprise_id', f.enterprise);
  eq('rc.rule', f.rule);
  eq('rc.severity', f.severity);
  eq('rc.review_state', f.state);
  if (f.from !== undefined) {
    params.push(f.from);
    where.push(`rc.opened_at >= $${params.length}::timestamptz`);
  }
  if (f.to !== undefined) {
    params.push(f.to);
    where.push(`rc.opened_at < $${params.length}::timestamptz`);
  }
  if (f.open) where.push(OPEN_CASE_SQL);
  if (f.overdue) where.push(OVERDUE_CASE_SQL);
  if (f.q !== undefined && f.q !== '') {
    // LIKE metacharacters in the search text are matched literally.
    params.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const n = params.length;
    where.push(
      `(e.name_zh ilike $${n} or coalesce(e.name_en, '') ilike $${n} or e.credit_code ilike $${n} or rc.deviation_id ilike $${n})`,
    );
  }
  return where.join(' and ');
}

export async function listCases(
  db: Queryable,
  p: Principal,
  f: CaseFilter,
): Promise<{ items: CaseSummary[]; total: number; page: number; pageSize: number }> {
  const params: unknown[] = [];
  const where = filterSql(p, f, params);
  const from = `from review_cases rc join enterprises e on e.id = rc.enterprise_id
                join districts dd on dd.id = e.district_id left join console_users au on au.id = rc.assignee_id where ${where}`;
  const total = await db.query<{ n: string }>(`select count(*)::text as n ${from}`, params);
  const order = f.order === 'asc' ? 'asc' : 'desc';
  const listParams = [...params, f.pageSize, (f.page - 1) * f.pageSize];
  const rows = await db.query(
    `select ${CASE_COLUMNS} ${from}
      order by ${SORT_SQL[f.sort]} ${order}, rc.deviation_id ${order}
      limit $${params.length + 1} offset $${params.length + 2}`,
    listParams,
  );
  return {
    items: rows.rows.map((row: Record<string, unknown>) => summary(row, p)),
    total: Number(total.rows[0]!.n),
    page: f.page,
    pageSize: f.pageSize,
  };
}

export interface CaseDetail extends CaseSummary {
  revision: number;
  resolvedAt: string | null;
  inResumptionWindow: boolean;
  evidence: unknown;
  rectificationDue: string | null;
  decision: string | null;
  dismissReason: string | null;
  enterpriseAck: { at: string; by: string | null; note: string | null } | null;
  comments: { id: string; author: string; body: string; at: string }[];
  /** The alerter's notification group and policy, or why nobody was notified. */
  alert: { groupKey: string | null; policy: string | null; suppressedReason: string | null };
  notifications: NotificationView[];
  /** Acknowledgements of the enterprise's contacts through the alerter's ack link. */
  acknowledgements: AcknowledgementView[];
}

export interface DeliveryAttemptView {
  attempt: number;
  provider: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  latencyMs: number | null;
  at: string;
}

export interface NotificationView {
  id: string;
  kind: string;
  round: number;
  recipientKind: string;
  addressMasked: string;
  channel: string;
  status: string;
  provider: string | null;
  attempts: number;
  sentAt: string | null;
  createdAt: string;
  deliveries: DeliveryAttemptView[];
  receipts: { provider: string; delivered: boolean; errorCode: string | null; at: string }[];
}

export interface AcknowledgementView {
  recipientId: string;
  contactName: string | null;
  cause: string;
  expectedFixAt: string | null;
  acknowledgedAt: string;
}

/**
 * Notifications that name the case, with their delivery attempts and receipts (oldest first).
 * `enterpriseOnly`: only those sent to the enterprise's contacts (not the supervisors').
 */
async function loadNotifications(
  db: Queryable,
  id: string,
  enterpriseOnly: boolean,
): Promise<NotificationView[]> {
  const n = await db.query(
    `select n.id, n.kind, n.round, n.recipient_kind as "recipientKind", n.address_masked as "addressMasked",
            n.channel, n.status, n.provider, n.attempts, n.sent_at as "sentAt", n.created_at as "createdAt"
       from alerter_notifications_v1 n where n.deviation_ids @> array[$1]::text[]
        and ($2::boolean is false or n.recipient_kind = 'enterprise-contact')
      order by n.created_at, n.id`,
    [id, enterpriseOnly],
  );
  if (n.rows.length === 0) return [];
  const ids = n.rows.map((r: Record<string, unknown>) => r.id as string);
  const a = await db.query(
    `select notification_id as "notificationId", attempt, provider, status, error_code as "errorCode",
            error_message as "errorMessage", latency_ms as "latencyMs", at
       from alerter_delivery_attempts_v1 where notification_id = any($1::text[]) order by at, id`,
    [ids],
  );
  const rc = await db.query(
    `select notification_id as "notificationId", provider, delivered, error_code as "errorCode",
            coalesce(reported_at, received_at) as at
       from alerter_delivery_receipts_v1 where notification_id = any($1::text[]) order by received_at, id`,
    [ids],
  );
  return n.rows.map((r: Record<string, unknown>) => ({
    id: r.id as string,
    kind: r.kind as string,
    round: r.round as number,
    recipientKind: r.recipientKind as string,
    addressMasked: r.addressMasked as string,
    channel: r.channel as string,
    status: r.status as string,
    provider: (r.provider as string | null) ?? null,
    attempts: r.attempts as number,
    sentAt: iso(r.sentAt),
    createdAt: iso(r.createdAt)!,
    deliveries: a.rows
      .filter((d: Record<string, unknown>) => d.notificationId === r.id)
      .map((d: Record<string, unknown>) => ({
        attempt: d.attempt as number,
        provider: d.provider as string,
        status: d.status as string,
        errorCode: (d.errorCode as string | null) ?? null,
        errorMessage: (d.errorMessage as string | null) ?? null,
        latencyMs: (d.latencyMs as number | null) ?? null,
        at: iso(d.at)!,
      })),
    receipts: (rc.rows as Record<string, unknown>[])
      .filter((d) => d.notificationId === r.id)
      .map((d) => ({
        provider: d.provider as string,
        delivered: d.delivered as boolean,
        errorCode: (d.errorCode as string | null) ?? null,
        at: iso(d.at)!,
      })),
  }));
}

async function loadAcknowledgements(
  db: Queryable,
  groupKey: string | null,
  enterpriseId: string,
): Promise<AcknowledgementView[]> {
  if (!groupKey) return [];
  const r = await db.query(
    `select a.recipient_id as "recipientId", c.name as "contactName", a.cause, a.expected_fix_at as "expectedFixAt",
            a.acknowledged_at as "acknowledgedAt"
       from alerter_acknowledgements_v1 a
       left join contacts c on c.id::text = a.recipient_id and c.enterprise_id = $2
      where a.group_key = $1 order by a.acknowledged_at`,
    [groupKey, enterpriseId],
  );
  return r.rows.map((x: Record<string, unknown>) => ({
    recipientId: x.recipientId as string,
    contactName: (x.contactName as string | null) ?? null,
    cause: x.cause as string,
    expectedFixAt: iso(x.expectedFixAt),
    acknowledgedAt: iso(x.acknowledgedAt)!,
  }));
}

/**
 * One case the principal may see, or NOT_FOUND (the same answer whether it exists elsewhere or not).
 * An enterprise user sees neither the internal review comments, nor notifications to supervisors,
 * nor who is assigned.
 */
export async function getCase(db: Queryable, p: Principal, id: string): Promise<CaseDetail> {
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'e', 'rc');
  const r = await db.query(
    `select ${CASE_COLUMNS}, rc.revision, rc.resolved_at as "resolvedAt", rc.in_resumption_window as "inResumptionWindow",
            rc.evidence, to_char(rc.rectification_due, 'YYYY-MM-DD') as "rectificationDue", rc.decision,
            rc.dismiss_reason as "dismissReason", rc.enterprise_ack_at as "ackAt", ack.username as "ackBy",
            rc.enterprise_ack_note as "ackNote", rc.group_key as "groupKey", rc.alert_policy as "alertPolicy",
            rc.suppressed_reason as "suppressedReason"
       from review_cases rc join enterprises e on e.id = rc.enterprise_id
       join districts dd on dd.id = e.district_id
       left join console_users au on au.id = rc.assignee_id
       left join console_users ack on ack.id = rc.enterprise_ack_by
      where rc.deviation_id = $1 and ${scope}`,
    params,
  );
  const row = r.rows[0] as Record<string, unknown> | undefined;
  if (!row) throw new ConsoleError('NOT_FOUND', 'deviation not found');
  const internal = p.role !== 'enterprise';
  const comments = internal
    ? await db.query(
        `select c.id::text as id, u.username as author, c.body, c.created_at as at
           from review_comments c join console_users u on u.id = c.author_id
          where c.deviation_id = $1 order by c.created_at, c.id`,
        [id],
      )
    : { rows: [] };
  const { ackAt, ackBy, ackNote, groupKey, alertPolicy, suppressedReason, ...rest } = row;
  const notifications = await loadNotifications(db, id, !internal);
  const acknowledgements = await loadAcknowledgements(
    db,
    (groupKey as string | null) ?? null,
    rest.enterpriseId as string,
  );
  return {
    ...summary(rest, p),
    revision: rest.revision as number,
    resolvedAt: iso(rest.resolvedAt),
    inResumptionWindow: rest.inResumptionWindow as boolean,
    evidence: rest.evidence,
    rectificationDue: rest.rectificationDue as string | null,
    decision: rest.decision as string | null,
    dismissReason: rest.dismissReason as string | null,
    enterpriseAck: ackAt
      ? { at: iso(ackAt)!, by: ackBy as string | null, note: ackNote as string | null }
      : null,
    comments: comments.rows.map((c: Record<string, unknown>) => ({
      id: c.id as string,
      author: c.author as string,
      body: c.body as string,
      at: iso(c.at)!,
    })),
    alert: {
      groupKey: (groupKey as string | null) ?? null,
      policy: (alertPolicy as string | null) ?? null,
      suppressedReason: (suppressedReason as string | null) ?? null,
    },
    notifications,
    acknowledgements,
  };
}

// Which review states each state-changing action may start from.
const FROM: Record<string, readonly ReviewState[]> = {
  acknowledge: ['new'],
  'request-rectification': ['new', 'acknowledged', 'inspection'],
  confirm: ['new', 'acknowledged', 'rectification-requested', 'inspection'],
  dismiss: ['new', 'acknowledged', 'inspection'],
  escalate: ['new', 'acknowledged', 'rectification-requested'],
  close: ['acknowledged', 'rectification-requested', 'inspection', 'confirmed', 'dismissed'],
  assign: ['new', 'acknowledged', 'rectification-requested', 'inspection', 'confirmed', 'dismissed'],
  comment: REVIEW_STATES,
};

const TO: Record<string, ReviewState | undefined> = {
  acknowledge: 'acknowledged',
  'request-rectification': 'rectification-requested',
  confirm: 'confirmed',
  dismiss: 'dismissed',
  escalate: 'inspection',
  close: 'closed',
};

interface Locked {
  deviation_id: string;
  district_id: string;
  enterprise_id: string;
  rule: string;
  severity: string;
  suspected_falsification: boolean;
  review_state: ReviewState;
  assignee_id: string | null;
  rectification_due: string | null;
  decision: string | null;
  dismiss_reason: string | null;
}

/**
 * Finds the case through the principal's scope (NOT_FOUND outside it, before anything is
 * written), makes sure its review-state row exists and locks that row for this transaction.
 */
export async function lockCase(client: pg.PoolClient, p: Principal, id: string): Promise<Locked> {
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'e', 'rc');
  const seen = await client.query<{ deviation_id: string }>(
    `select rc.deviation_id from review_cases rc join enterprises e on e.id = rc.enterprise_id
      where rc.deviation_id = $1 and ${scope}`,
    params,
  );
  if (seen.rowCount === 0) throw new ConsoleError('NOT_FOUND', 'deviation not found');
  await client.query('insert into review_states (deviation_id) values ($1) on conflict do nothing', [id]);
  const r = await client.query<Locked>(
    `select rs.deviation_id, e.district_id, ac.enterprise_id, ac.rule, ac.severity, ac.suspected_falsification,
            rs.review_state, rs.assignee_id::text as assignee_id,
            to_char(rs.rectification_due, 'YYYY-MM-DD') as rectification_due, rs.decision, rs.dismiss_reason
       from review_states rs join alerter_cases_v1 ac on ac.deviation_id = rs.deviation_id
       join enterprises e on e.id = ac.enterprise_id
      where rs.deviation_id = $1 for update of rs`,
    [id],
  );
  return r.rows[0]!;
}

/**
 * Applies one review action in its own transaction: the case is found through the scoped query
 * (a case outside the principal's scope is NOT_FOUND), its review state locked, the transition
 * checked; the change, its audit entry, the report outcomes, a positive-list removal proposal
 * (serious violation or falsification confirmed) and the review-decision outbox row commit together.
 */
export async function applyAction(
  pool: pg.Pool,
  p: Principal,
  id: string,
  a: ReviewAction,
  requestId?: string,
  now: Date = new Date(),
): Promise<{ id: string; reviewState: ReviewState; removalProposed?: boolean }> {
  if (!canReview(p)) throw new ConsoleError('FORBIDDEN', 'this role cannot act on deviations');
  return transaction(pool, async (client) => {
    const locked = await lockCase(client, p, id);
    const { district_id, enterprise_id, rule, severity, suspected_falsification, ...before } = locked;
    if (!FROM[a.action]!.includes(before.review_state)) {
      throw new ConsoleError(
        'INVALID_TRANSITION',
        `cannot ${a.action} a case in state ${before.review_state}`,
        {
          details: { state: before.review_state, action: a.action },
        },
      );
    }
    let after: Record<string, unknown> = { review_state: TO[a.action] ?? before.review_state };
    switch (a.action) {
      case 'assign': {
        // The assignee must be able to see the case: a reviewer city-wide or an officer of its district.
        const u = await client.query(
          `select 1 from console_users where id = $1 and not disabled and
             (role in ('admin', 'city-supervisor') or (role = 'district-officer' and district_id = $2))`,
          [a.assigneeId, district_id],
        );
        if (u.rowCount === 0) throw new ConsoleError('INVALID_INPUT', 'assignee cannot review this case');
        after = { assignee_id: a.assigneeId };
        await client.query('update review_states set assignee_id = $2 where deviation_id = $1', [
          id,
          a.assigneeId,
        ]);
        break;
      }
      case 'comment':
        after = { comment: a.body };
        await client.query(
          'insert into review_comments (deviation_id, author_id, body) values ($1, $2, $3)',
          [id, p.userId, a.body],
        );
        break;
      case 'request-rectification':
        after = { ...after, rectification_due: a.deadline, note: a.note ?? null };
        await client.query(
          'update review_states set review_state = $2, rectification_due = $3::date where deviation_id = $1',
          [id, after.review_state, a.deadline],
        );
        break;
      case 'confirm':
        after = { ...after, decision: a.decision, note: a.note ?? null };
        await client.query(
          'update review_states set review_state = $2, decision = $3 where deviation_id = $1',
          [id, after.review_state, a.decision],
        );
        break;
      case 'dismiss':
        after = { ...after, dismiss_reason: a.reason };
        await client.query(
          'update review_states set review_state = $2, dismiss_reason = $3 where deviation_id = $1',
          [id, after.review_state, a.reason],
        );
        break;
      default:
        if ('note' in a && a.note) after = { ...after, note: a.note };
        await client.query('update review_states set review_state = $2 where deviation_id = $1', [
          id,
          after.review_state,
        ]);
    }
    const effects = await recordReviewOutcomes(client, p, {
      caseId: id,
      enterpriseId: enterprise_id,
      rule,
      severity,
      suspectedFalsification: suspected_falsification,
      from: before.review_state,
      action: a,
      rectificationDue: before.rectification_due,
      now,
    });
    if (effects.removalProposalId !== null)
      after = { ...after, removal_proposal_id: effects.removalProposalId };
    await recordReviewDecision(client, {
      caseId: id,
      enterpriseId: enterprise_id,
      suspectedFalsification: suspected_falsification,
      action: a,
      reviewState: (after.review_state as ReviewState | undefined) ?? before.review_state,
    });
    await appendAudit(client, p, {
      action: `case.${a.action}`,
      entityType: 'deviation',
      entityId: id,
      districtId: district_id,
      before,
      after,
      ...(requestId ? { requestId } : {}),
    });
    return {
      id,
      reviewState: (after.review_state as ReviewState | undefined) ?? before.review_state,
      ...(effects.removalProposalId !== null ? { removalProposed: true } : {}),
    };
  });
}

/**
 * The enterprise acknowledges a case about itself (acknowledgement page; the portal adds its planned
 * fix time, checked by the caller).
 */
export async function enterpriseAcknowledge(
  pool: pg.Pool,
  p: Principal,
  id: string,
  note: string,
  plannedFixAt: Date | null = null,
): Promise<void> {
  if (p.role !== 'enterprise') throw new ConsoleError('FORBIDDEN', 'only enterprise users acknowledge here');
  return transaction(pool, async (client) => {
    const locked = await lockCase(client, p, id);
    const r = await client.query<{ enterprise_ack_at: Date | null }>(
      'select enterprise_ack_at from review_states where deviation_id = $1',
      [id],
    );
    await client.query(
      `update review_states set enterprise_ack_at = now(), enterprise_ack_by = $2, enterprise_ack_note = $3,
              enterprise_planned_fix_at = $4 where deviation_id = $1`,
      [id, p.userId, note, plannedFixAt],
    );
    await appendAudit(client, p, {
      action: 'case.enterprise-ack',
      entityType: 'deviation',
      entityId: id,
      districtId: locked.district_id,
      before: { enterprise_ack_at: r.rows[0]?.enterprise_ack_at ?? null },
      after: plannedFixAt ? { note, plannedFixAt: plannedFixAt.toISOString() } : { note },
    });
  });
}
