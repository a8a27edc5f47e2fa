// Complaints in Postgres: intake (with an on-site verification task for positive-list enterprises),
// assignment, status flow with an append-only event history, listing by scope.
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
  enterpriseId: string;
  districtId: string;
  urgency: ComplaintUrgency;
  summary: string;
  complainant: string | null;
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
  enterprise_id: string;
  district_id: string;
  urgency: ComplaintUrgency;
  summary: string;
  complainant: string | null;
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

function toComplaint(r: ComplaintRow): Complaint {
  return {
    id: Number(r.id),
    channel: r.channel,
    enterpriseId: r.enterprise_id,
    districtId: r.district_id,
    urgency: r.urgency,
    summary: r.summary,
    complainant: r.complainant,
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
    let verificationTask: VerificationTask | null = null;
    // Listed enterprises are not visited except to verify a complaint (domain-rules §4, §6).
    if (listed) {
      const [t] = await query<{ id: string; status: VerificationTask['status'] }>(
        c,
        'create verification task',
        `insert into verification_tasks (complaint_id, enterprise_id, kind) values ($1, $2, 'on-site-verification') returning id, status`,
        [row.id, ent.id],
      );
      if (t)
        verificationTask = {
          id: Number(t.id),
          complaintId: Number(row.id),
          enterpriseId: ent.id,
          kind: 'on-site-verification',
          status: t.status,
        };
    }
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
