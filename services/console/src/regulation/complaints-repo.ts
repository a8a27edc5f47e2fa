// Complaints in Postgres: intake (with an on-site verification task for positive-list enterprises),
// assignment, status flow with an append-only event history, listing by scope. A complaint from the
// WeChat official account (complaint.intake.v1) is recorded once per intake id without an enterprise;
// only city-wide roles see it until an officer assigns the enterprise (then district scoping applies).
import {
  assertTransition,
  complaintDeadlines,
  defaultComplaintConfig,
  regulationError,
  requireCapability,
  type ComplaintChannel,
  type ComplaintDeadlineConfig,
  type ComplaintStatus,
  type ComplaintUrgency,
  type Scope,
} from '@offsite/regulation';
import { query, transaction, type Db, type Queryable } from './db.js';
import { currentPositiveList, enterpriseInScope } from './positive-list.js';

export interface Complaint {
  id: number;
  channel: ComplaintChannel;
  /** Null: came in through an intake (WeChat) and waits for an officer to assign the enterprise. */
  enterpriseId: string | null;
  districtId: string | null;
  urgency: ComplaintUrgency;
  summary: string;
  complainant: string | null;
  /** The sender on the channel (WeChat openid), masked: the full value never leaves the console's database. */
  sourceMasked: string | null;
  status: ComplaintStatus;
  assignee: string | null;
  receivedAt: string;
  ackDueAt: string;
  resolveDueAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  /** The on-site verification task of a positive-list enterprise's complaint (read from the lists and detail). */
  verificationTaskId: number | null;
}

interface ComplaintRow {
  id: string;
  channel: ComplaintChannel;
  enterprise_id: string | null;
  district_id: string | null;
  urgency: ComplaintUrgency;
  summary: string;
  complainant: string | null;
  source_ref: string | null;
  status: ComplaintStatus;
  assignee: string | null;
  received_at: Date;
  ack_due_at: Date;
  resolve_due_at: Date;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
  verification_task_id?: string | null;
}

const TASK_OF_ROW = `(select vt.id from verification_tasks vt where vt.complaint_id = complaints.id) as verification_task_id`;
const WITH_TASK = `select c.*, (select vt.id from verification_tasks vt where vt.complaint_id = c.id) as verification_task_id
  from complaints c`;

/** An openid shown to officers: its first 4 and last 2 characters (`oX2L…kL`); short ones fully hidden. */
export function maskSource(ref: string | null): string | null {
  if (ref === null) return null;
  return ref.length < 10 ? '…' : `${ref.slice(0, 4)}…${ref.slice(-2)}`;
}

function toComplaint(r: ComplaintRow): Complaint {
  return {
    id: Number(r.id),
    channel: r.channel,
    enterpriseId: r.enterprise_id,
    districtId: r.district_id,
    urgency: r.urgency,
    summary: r.summary,
    complainant: r.complainant,
    sourceMasked: maskSource(r.source_ref),
    status: r.status,
    assignee: r.assignee,
    receivedAt: r.received_at.toISOString(),
    ackDueAt: r.ack_due_at.toISOString(),
    resolveDueAt: r.resolve_due_at.toISOString(),
    acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    verificationTaskId: r.verification_task_id ? Number(r.verification_task_id) : null,
  };
}

export interface ComplaintInput {
  channel: ComplaintChannel;
  enterpriseId: string;
  urgency: ComplaintUrgency;
  summary: string;
  complainant?: string | null;
  assignee?: string | null;
  /** When the bureau received it (hotline call time); defaults to now. */
  receivedAt?: Date;
}

export interface VerificationTask {
  id: number;
  complaintId: number;
  enterpriseId: string;
  kind: 'on-site-verification';
  status: 'open' | 'done' | 'cancelled';
}

/** The on-site verification task of a complaint against a positive-list enterprise, in the caller's transaction. */
async function openVerificationTask(
  c: Queryable,
  complaintId: string,
  enterpriseId: string,
): Promise<VerificationTask | null> {
  const [t] = await query<{ id: string; status: VerificationTask['status'] }>(
    c,
    'create verification task',
    `insert into verification_tasks (complaint_id, enterprise_id, kind) values ($1, $2, 'on-site-verification') returning id, status`,
    [complaintId, enterpriseId],
  );
  return t
    ? {
        id: Number(t.id),
        complaintId: Number(complaintId),
        enterpriseId,
        kind: 'on-site-verification',
        status: t.status,
      }
    : null;
}

export async function createComplaint(
  db: Db,
  scope: Scope,
  input: ComplaintInput,
  deps: { now: Date; config?: ComplaintDeadlineConfig },
): Promise<{ complaint: Complaint; verificationTask: VerificationTask | null }> {
  requireCapability(scope, 'handleComplaint');
  const ent = await enterpriseInScope(db, scope, input.enterpriseId);
  const receivedAt = input.receivedAt ?? deps.now;
  const { ackDueAt, resolveDueAt } = complaintDeadlines(
    receivedAt,
    input.urgency,
    deps.config ?? defaultComplaintConfig,
  );
  const listed = (await currentPositiveList(db, { ...scope, districtId: ent.districtId }, deps.now)).some(
    (d) => d.enterpriseId === ent.id,
  );
  return transaction(db, 'create complaint', async (c) => {
    const [row] = await query<ComplaintRow>(
      c,
      'insert complaint',
      `insert into complaints (channel, enterprise_id, district_id, urgency, summary, complainant, assignee,
                               received_at, ack_due_at, resolve_due_at, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *`,
      [
        input.channel,
        ent.id,
        ent.districtId,
        input.urgency,
        input.summary,
        input.complainant ?? null,
        input.assignee ?? null,
        receivedAt,
        ackDueAt,
        resolveDueAt,
        scope.userId,
      ],
    );
    if (!row) throw regulationError('QUERY_FAILED', 'insert returned nothing');
    await c.query(
      `insert into complaint_events (complaint_id, from_status, to_status, actor) values ($1, null, 'received', $2)`,
      [row.id, scope.userId],
    );
    // Listed enterprises are not visited except to verify a complaint (domain-rules §4, §6).
    const verificationTask = listed ? await openVerificationTask(c, row.id, ent.id) : null;
    return {
      complaint: { ...toComplaint(row), verificationTaskId: verificationTask?.id ?? null },
      verificationTask,
    };
  });
}

export async function transitionComplaint(
  db: Db,
  scope: Scope,
  input: { complaintId: number; to: ComplaintStatus; note?: string; assignee?: string | null },
  now: Date,
): Promise<Complaint> {
  requireCapability(scope, 'handleComplaint');
  return transaction(db, 'transition complaint', async (c) => {
    const [cur] = await query<ComplaintRow>(
      c,
      'lock complaint',
      `select * from complaints where id = $1 and ($2::text is null or district_id = $2) for update`,
      [input.complaintId, scope.districtId],
    );
    if (!cur) throw regulationError('NOT_FOUND', `complaint ${input.complaintId} not found`);
    assertTransition(cur.status, input.to);
    // An intake's complaint is handled once its enterprise is known; before that it can only be rejected.
    if (cur.enterprise_id === null && input.to !== 'rejected')
      throw regulationError(
        'INVALID_TRANSITION',
        `complaint ${input.complaintId} has no enterprise yet: assign it first`,
        { details: { from: cur.status, to: input.to, allowed: ['rejected'] } },
      );
    const [row] = await query<ComplaintRow>(
      c,
      'update complaint',
      `update complaints set status = $2,
              acknowledged_at = case when $2 = 'acknowledged' then coalesce(acknowledged_at, $3) else acknowledged_at end,
              resolved_at = case when $2 = 'resolved' then $3 when $2 = 'investigating' then null else resolved_at end,
              assignee = coalesce($4, assignee)
        where id = $1 returning *, ${TASK_OF_ROW}`,
      [input.complaintId, input.to, now, input.assignee ?? null],
    );
    await c.query(
      `insert into complaint_events (complaint_id, from_status, to_status, actor, note, at) values ($1, $2, $3, $4, $5, $6)`,
      [input.complaintId, cur.status, input.to, scope.userId, input.note ?? null, now],
    );
    if (!row) throw regulationError('QUERY_FAILED', 'update returned nothing');
    return toComplaint(row);
  });
}

export async function assignComplaint(
  db: Queryable,
  scope: Scope,
  complaintId: number,
  assignee: string,
): Promise<Complaint> {
  requireCapability(scope, 'handleComplaint');
  const [row] = await query<ComplaintRow>(
    db,
    'assign complaint',
    `update complaints set assignee = $3 where id = $1 and ($2::text is null or district_id = $2)
     returning *, ${TASK_OF_ROW}`,
    [complaintId, scope.districtId, assignee],
  );
  if (!row) throw regulationError('NOT_FOUND', `complaint ${complaintId} not found`);
  return toComplaint(row);
}

export async function listComplaints(
  db: Queryable,
  scope: Scope,
  filter: { status?: ComplaintStatus; enterpriseId?: string } = {},
): Promise<Complaint[]> {
  const rows = await query<ComplaintRow>(
    db,
    'list complaints',
    `${WITH_TASK} where ($1::text is null or c.district_id = $1) and ($2::text is null or c.status = $2)
        and ($3::text is null or c.enterprise_id = $3) order by c.received_at desc, c.id desc limit 1000`,
    [scope.districtId, filter.status ?? null, filter.enterpriseId ?? null],
  );
  return rows.map(toComplaint);
}

export async function getComplaint(db: Queryable, scope: Scope, id: number): Promise<Complaint> {
  const [row] = await query<ComplaintRow>(
    db,
    'load complaint',
    `${WITH_TASK} where c.id = $1 and ($2::text is null or c.district_id = $2)`,
    [id, scope.districtId],
  );
  if (!row) throw regulationError('NOT_FOUND', `complaint ${id} not found`);
  return toComplaint(row);
}

/** A complaint passed on by the alerter (complaint.intake.v1), already validated against its schema. */
export interface IntakeComplaint {
  id: string;
  channel: ComplaintChannel;
  source: string;
  text: string;
  receivedAt: Date;
}

/**
 * Records an intake's complaint once (the intake id is unique): unassigned, urgency normal, deadlines
 * from the time the channel received it. Returns the new complaint, or null when this id was recorded
 * before (a redelivered message).
 */
export async function recordIntakeComplaint(
  db: Db,
  input: IntakeComplaint,
  config: ComplaintDeadlineConfig = defaultComplaintConfig,
): Promise<Complaint | null> {
  const { ackDueAt, resolveDueAt } = complaintDeadlines(input.receivedAt, 'normal', config);
  const actor = `intake:${input.channel}`;
  return transaction(db, 'record intake complaint', async (c) => {
    const [row] = await query<ComplaintRow>(
      c,
      'insert intake complaint',
      `insert into complaints (channel, enterprise_id, district_id, urgency, summary, source_ref, intake_id,
                               received_at, ack_due_at, resolve_due_at, created_by)
       values ($1, null, null, 'normal', $2, $3, $4, $5, $6, $7, $8)
       on conflict (intake_id) do nothing returning *`,
      [input.channel, input.text, input.source, input.id, input.receivedAt, ackDueAt, resolveDueAt, actor],
    );
    if (!row) return null;
    await c.query(
      `insert into complaint_events (complaint_id, from_status, to_status, actor, at) values ($1, null, 'received', $2, $3)`,
      [row.id, actor, input.receivedAt],
    );
    return toComplaint(row);
  });
}

/** The complaint an intake recorded under its id, or null. */
export async function complaintByIntakeId(db: Db, intakeId: string): Promise<Complaint | null> {
  const [row] = await query<ComplaintRow>(
    db,
    'complaint by intake id',
    `select * from complaints where intake_id = $1`,
    [intakeId],
  );
  return row ? toComplaint(row) : null;
}

/**
 * An officer names the enterprise of an unassigned complaint (one from an intake). The enterprise must
 * be in the officer's scope; the complaint then belongs to its district, gets an on-site verification
 * task when the enterprise is on the positive list, and the event history notes the assignment.
 */
export async function assignComplaintEnterprise(
  db: Db,
  scope: Scope,
  input: { complaintId: number; enterpriseId: string },
  now: Date,
): Promise<{ complaint: Complaint; verificationTask: VerificationTask | null }> {
  requireCapability(scope, 'handleComplaint');
  const ent = await enterpriseInScope(db, scope, input.enterpriseId);
  const listed = (await currentPositiveList(db, { ...scope, districtId: ent.districtId }, now)).some(
    (d) => d.enterpriseId === ent.id,
  );
  return transaction(db, 'assign complaint enterprise', async (c) => {
    const [cur] = await query<ComplaintRow>(
      c,
      'lock complaint',
      `select * from complaints where id = $1 and ($2::text is null or district_id = $2) for update`,
      [input.complaintId, scope.districtId],
    );
    if (!cur) throw regulationError('NOT_FOUND', `complaint ${input.complaintId} not found`);
    if (cur.enterprise_id !== null)
      throw regulationError(
        'INVALID_TRANSITION',
        `complaint ${input.complaintId} already belongs to enterprise ${cur.enterprise_id}`,
        { details: { enterpriseId: cur.enterprise_id } },
      );
    if (cur.status === 'rejected' || cur.status === 'closed')
      throw regulationError('INVALID_TRANSITION', `complaint ${input.complaintId} is ${cur.status}`, {
        details: { status: cur.status },
      });
    const [row] = await query<ComplaintRow>(
      c,
      'assign complaint enterprise',
      `update complaints set enterprise_id = $2, district_id = $3 where id = $1 returning *`,
      [input.complaintId, ent.id, ent.districtId],
    );
    if (!row) throw regulationError('QUERY_FAILED', 'update returned nothing');
    await c.query(
      `insert into complaint_events (complaint_id, from_status, to_status, actor, note, at) values ($1, $2, $2, $3, $4, $5)`,
      [row.id, row.status, scope.userId, `enterprise ${ent.id}`, now],
    );
    const verificationTask = listed ? await openVerificationTask(c, row.id, ent.id) : null;
    return {
      complaint: { ...toComplaint(row), verificationTaskId: verificationTask?.id ?? null },
      verificationTask,
    };
  });
}
