// On-site verification tasks of complaints against positive-list enterprises: the scoped list (an
// officer their district, the city everything) with overdue marking, assignment to an inspector with a
// deadline, and the on-site result. Every write is audited in its own transaction.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { endOfShanghaiDay, shanghaiDate } from '@offsite/domain/calendar';
import { transaction, type Queryable } from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { canReview, scopeSql, type Principal } from './principal.js';

export const TASK_RESULTS = ['violation-found', 'nothing-found'] as const;
export type TaskResult = (typeof TASK_RESULTS)[number];

export interface VerificationTaskView {
  id: string;
  complaintId: string;
  complaintSummary: string;
  complaintStatus: string;
  enterpriseId: string;
  enterpriseName: string;
  districtId: string;
  status: 'open' | 'done' | 'cancelled';
  assignee: string | null;
  assigneeName: string | null;
  dueAt: string | null;
  overdue: boolean;
  result: TaskResult | null;
  note: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  createdAt: string;
  /** The console's inspection record of a violation found on site. */
  finding: { id: string; description: string; foundBy: string; foundAt: string } | null;
}

function invalid(field: string, zh: string, en: string): ConsoleError {
  return new ConsoleError('INVALID_INPUT', `字段 ${field}：${zh} / field ${field}: ${en}`, {
    details: { in: 'body', field },
  });
}

function notFound(): ConsoleError {
  return new ConsoleError('NOT_FOUND', '核查任务不存在 / verification task not found', {
    details: { in: 'params', field: 'id' },
  });
}

function requireStaff(p: Principal): void {
  if (p.role === 'enterprise')
    throw new ConsoleError('FORBIDDEN', '无权查看核查任务 / verification tasks are internal');
}

const SELECT = `
  select vt.id::text as id, vt.complaint_id::text as "complaintId", c.summary as "complaintSummary",
         c.status as "complaintStatus", vt.enterprise_id as "enterpriseId", e.name_zh as "enterpriseName",
         c.district_id as "districtId", vt.status, vt.assignee, i.name as "assigneeName", vt.due_at as "dueAt",
         (vt.status = 'open' and vt.due_at is not null and vt.due_at < $1) as overdue,
         vt.result, vt.note, vt.resolved_at as "resolvedAt", vt.resolved_by as "resolvedBy",
         vt.created_at as "createdAt",
         case when f.id is null then null else json_build_object('id', f.id::text, 'description', f.description,
           'foundBy', f.found_by, 'foundAt', f.found_at) end as finding
    from verification_tasks vt
    join complaints c on c.id = vt.complaint_id
    join enterprises e on e.id = vt.enterprise_id
    left join inspectors i on i.id = vt.assignee
    left join verification_findings f on f.task_id = vt.id`;

type Row = Omit<VerificationTaskView, 'dueAt' | 'resolvedAt' | 'createdAt'> & {
  dueAt: Date | null;
  resolvedAt: Date | null;
  createdAt: Date;
};
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const toView = (r: Row): VerificationTaskView => ({
  ...r,
  dueAt: iso(r.dueAt),
  resolvedAt: iso(r.resolvedAt),
  createdAt: r.createdAt.toISOString(),
});

export interface TaskFilter {
  status?: 'open' | 'done' | 'overdue';
  complaintId?: string;
}

export async function listVerificationTasks(
  db: Queryable,
  p: Principal,
  f: TaskFilter,
  now: Date,
): Promise<VerificationTaskView[]> {
  requireStaff(p);
  const params: unknown[] = [now];
  const where = [scopeSql(p, params, 'c')];
  if (f.status === 'overdue') where.push(`vt.status = 'open' and vt.due_at < $1`);
  else if (f.status) where.push(`vt.status = $${params.push(f.status)}`);
  if (f.complaintId) where.push(`vt.complaint_id = $${params.push(f.complaintId)}`);
  const r = await db.query<Row>(
    `${SELECT} where ${where.join(' and ')}
      order by (vt.status = 'open') desc, vt.due_at asc nulls first, vt.id desc limit 1000`,
    params,
  );
  return r.rows.map(toView);
}

async function loadTask(
  db: Queryable,
  p: Principal,
  id: string,
  now: Date,
  lock = false,
): Promise<VerificationTaskView> {
  requireStaff(p);
  const params: unknown[] = [now, id];
  const scope = scopeSql(p, params, 'c');
  const r = await db.query<Row>(
    `${SELECT} where vt.id = $2 and ${scope}${lock ? ' for update of vt' : ''}`,
    params,
  );
  if (!r.rows[0]) throw notFound();
  return toView(r.rows[0]);
}

export const getVerificationTask = (db: Queryable, p: Principal, id: string, now: Date) =>
  loadTask(db, p, id, now);

export async function assignVerificationTask(
  pool: pg.Pool,
  p: Principal,
  id: string,
  input: { assignee: string; dueOn: string },
  now: Date,
  requestId?: string,
): Promise<VerificationTaskView> {
  if (!canReview(p))
    throw new ConsoleError('FORBIDDEN', '无权分派核查任务 / this role cannot assign verification tasks');
  if (input.dueOn < shanghaiDate(now))
    throw invalid('dueOn', '期限不能早于今天', 'the deadline is in the past');
  return transaction(pool, async (c) => {
    const before = await loadTask(c, p, id, now, true);
    if (before.status !== 'open')
      throw new ConsoleError(
        'INVALID_TRANSITION',
        '核查任务已办结 / the verification task is already closed',
      );
    // An inspector is an active roster row named after an enabled console user of the task's district.
    const ins = await c.query<{ id: string }>(
      `select i.id from inspectors i join console_users u on u.username = i.id
        where i.id = $1 and i.active and not u.disabled and (u.inspector or u.role = 'district-officer')
          and (i.district_id is null or i.district_id = $2)`,
      [input.assignee, before.districtId],
    );
    if (!ins.rows[0])
      throw invalid('assignee', '不是本区的核查人员', 'not an inspector of the task’s district');
    const dueAt = endOfShanghaiDay(input.dueOn);
    await c.query(
      `update verification_tasks set assignee = $2, due_at = $3, assigned_at = $4, assigned_by = $5 where id = $1`,
      [id, input.assignee, dueAt, now, p.username],
    );
    const after = await loadTask(c, p, id, now);
    await appendAudit(c, p, {
      action: 'verification-task.assign',
      entityType: 'verification-task',
      entityId: id,
      districtId: before.districtId,
      before: { assignee: before.assignee, dueAt: before.dueAt },
      after: { assignee: after.assignee, dueAt: after.dueAt },
      ...(requestId ? { requestId } : {}),
    });
    return after;
  });
}

export async function resolveVerificationTask(
  pool: pg.Pool,
  p: Principal,
  id: string,
  input: { result: TaskResult; note: string },
  now: Date,
  requestId?: string,
): Promise<VerificationTaskView> {
  const note = input.note.trim();
  if (note.length < 2) throw invalid('note', '须填写核查情况说明', 'a note on what was found is required');
  return transaction(pool, async (c) => {
    const before = await loadTask(c, p, id, now, true);
    // The city, the district's officers and the assigned inspector record the result.
    if (!canReview(p) && p.username !== before.assignee)
      throw new ConsoleError(
        'FORBIDDEN',
        '无权办结核查任务 / this user cannot resolve the verification task',
      );
    if (before.status !== 'open')
      throw new ConsoleError(
        'INVALID_TRANSITION',
        '核查任务已办结 / the verification task is already closed',
      );
    if (!before.assignee)
      throw new ConsoleError('INVALID_TRANSITION', '核查任务尚未分派 / assign the verification task first', {
        details: { in: 'body', field: 'assignee' },
      });
    await c.query(
      `update verification_tasks set status = 'done', result = $2, note = $3, resolved_at = $4, resolved_by = $5
        where id = $1`,
      [id, input.result, note, now, p.username],
    );
    if (input.result === 'violation-found')
      await c.query(
        `insert into verification_findings (task_id, complaint_id, enterprise_id, district_id, description,
                                            found_by, found_at, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          before.complaintId,
          before.enterpriseId,
          before.districtId,
          note,
          before.assignee,
          now,
          p.username,
        ],
      );
    const after = await loadTask(c, p, id, now);
    await appendAudit(c, p, {
      action: `verification-task.${input.result}`,
      entityType: 'verification-task',
      entityId: id,
      districtId: before.districtId,
      before: { status: before.status },
      after: { status: after.status, result: after.result, note, findingId: after.finding?.id ?? null },
      ...(requestId ? { requestId } : {}),
    });
    return after;
  });
}

const Params = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });
const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('overdue')])),
    complaintId: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
  },
  { additionalProperties: false },
);
const Assignment = Type.Object(
  { assignee: Type.String({ minLength: 1, maxLength: 64 }), dueOn: Type.String({ format: 'date' }) },
  { additionalProperties: false },
);
const Resolution = Type.Object(
  {
    result: Type.Union(TASK_RESULTS.map((r) => Type.Literal(r))),
    note: Type.String({ minLength: 2, maxLength: 2000, pattern: '\\S' }),
  },
  { additionalProperties: false },
);

export function registerVerificationTaskRoutes(
  app: FastifyInstance,
  d: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; now?: () => Date },
): void {
  const tags = ['verification-tasks'];
  const now = d.now ?? (() => new Date());
  const id = (req: FastifyRequest) => (req.params as Static<typeof Params>).id;
  app.get('/api/verification-tasks', { schema: { querystring: ListQuery, tags } }, async (req) => ({
    items: await listVerificationTasks(d.pool, d.who(req), req.query as Static<typeof ListQuery>, now()),
  }));
  app.get('/api/verification-tasks/:id', { schema: { params: Params, tags } }, async (req) =>
    getVerificationTask(d.pool, d.who(req), id(req), now()),
  );
  app.post(
    '/api/verification-tasks/:id/assignment',
    { schema: { params: Params, body: Assignment, tags } },
    async (req) =>
      assignVerificationTask(
        d.pool,
        d.who(req),
        id(req),
        req.body as Static<typeof Assignment>,
        now(),
        req.id,
      ),
  );
  app.post(
    '/api/verification-tasks/:id/resolution',
    { schema: { params: Params, body: Resolution, tags } },
    async (req) =>
      resolveVerificationTask(
        d.pool,
        d.who(req),
        id(req),
        req.body as Static<typeof Resolution>,
        now(),
        req.id,
      ),
  );
}
