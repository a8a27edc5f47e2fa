// Complaint verification tasks through the API, against the real Postgres: a complaint against a
// positive-list enterprise creates a task that is listed by scope, linked both ways to its complaint,
// assigned to an inspector with a deadline, marked overdue, and resolved with the on-site result
// (a violation found is recorded as an inspection finding; nothing found needs a note). Bad input
// gets a bilingual field-named error and nothing is saved; every write is audited.
import { addDays, shanghaiDate } from '@offsite/domain/calendar';
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
  await listPositive(w.pool, ['ent-0001', 'ent-0002', 'ent-0003']);
  for (const [username, district] of [
    ['insp-landong', 'dist-landong'],
    ['insp-lanxi', 'dist-lanxi'],
  ] as const) {
    await upsertUser(w.pool, {
      username,
      displayName: `核查员 ${district}`,
      role: 'district-officer',
      districtId: district,
      password: PASSWORD,
    });
    await w.pool.query(`update console_users set inspector = true where username = $1`, [username]);
  }
});
afterAll(async () => {
  await w?.close();
});

interface Task {
  id: string;
  complaintId: string;
  districtId: string;
  status: string;
  assignee: string | null;
  dueAt: string | null;
  overdue: boolean;
  result: string | null;
  note: string | null;
  finding: { description: string; foundBy: string } | null;
}
interface Answer extends Partial<Task> {
  code?: string;
  field?: string;
  message?: string;
  items?: Task[];
  complaint?: { id: number; verificationTaskId: number | null };
  verificationTask?: { id: number } | null;
  verificationTaskId?: number | null;
}
const loginAs = (u: string) => login(w.base, u);
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const count = async (table: string) =>
  Number((await w.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n);
const today = shanghaiDate(Date.now());
const resolve = (s: Session, taskId: string, result: string, note: string) =>
  send(s, 'POST', `/api/verification-tasks/${taskId}/resolution`, { result, note });

async function complain(s: Session, enterpriseId: string): Promise<{ complaintId: number; taskId: string }> {
  const r = await send(s, 'POST', '/api/regulation/complaints', {
    channel: 'hotline',
    enterpriseId,
    urgency: 'normal',
    summary: '夜间异味 night-time odour',
  });
  expect(r.status).toBe(201);
  expect(r.body.verificationTask).not.toBeNull();
  expect(r.body.complaint?.verificationTaskId).toBe(r.body.verificationTask!.id);
  return { complaintId: r.body.complaint!.id, taskId: String(r.body.verificationTask!.id) };
}

/** The bilingual field-named error, with no task column, finding or audit row changed. */
async function refused(s: Session, url: string, body: object, status: number, field: string): Promise<void> {
  const snapshot = async () => [
    (await w.pool.query(`select * from verification_tasks order by id`)).rows,
    await count('verification_findings'),
    await count('audit_log'),
  ];
  await expectRefused(w.base, s, url, body, { status, field }, snapshot);
}

describe('complaint verification tasks', () => {
  let landong: Session;
  let lanxi: Session;
  let city: Session;
  let a: { complaintId: number; taskId: string };
  let b: { complaintId: number; taskId: string };
  let x: { complaintId: number; taskId: string };
  beforeAll(async () => {
    [landong, lanxi, city] = await Promise.all([
      loginAs('officer-dist-landong'),
      loginAs('officer-dist-lanxi'),
      loginAs('supervisor'),
    ]);
    a = await complain(landong, 'ent-0001');
    b = await complain(landong, 'ent-0002');
    x = await complain(lanxi, 'ent-0003');
  });

  it('lists tasks by scope and links them to their complaint both ways', async () => {
    const mine = await send(landong, 'GET', '/api/verification-tasks');
    expect(mine.status).toBe(200);
    expect(mine.body.items!.map((t) => t.id).sort()).toEqual([a.taskId, b.taskId].sort());
    expect(mine.body.items!.every((t) => t.districtId === 'dist-landong')).toBe(true);
    const all = await send(city, 'GET', '/api/verification-tasks');
    expect(all.body.items!.map((t) => t.id)).toEqual(expect.arrayContaining([a.taskId, b.taskId, x.taskId]));
    const byComplaint = await send(city, 'GET', `/api/verification-tasks?complaintId=${a.complaintId}`);
    expect(byComplaint.body.items!.map((t) => [t.id, t.complaintId])).toEqual([
      [a.taskId, String(a.complaintId)],
    ]);
    const complaint = await send(landong, 'GET', `/api/regulation/complaints/${a.complaintId}`);
    expect(complaint.body.verificationTaskId).toBe(Number(a.taskId));
    // Another district's task does not exist for this officer.
    const foreign = await send(landong, 'GET', `/api/verification-tasks/${x.taskId}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.field).toBe('id');
    const ent = await send(await loginAs('ent-0003-user'), 'GET', '/api/verification-tasks');
    expect(ent.status).toBe(403);
  });

  it('refuses bad input with a bilingual field-named error and saves nothing', async () => {
    const assign = `/api/verification-tasks/${a.taskId}/assignment`;
    await refused(landong, assign, { assignee: 'insp-landong', dueOn: addDays(today, -1) }, 400, 'dueOn');
    await refused(landong, assign, { assignee: 'nobody', dueOn: today }, 400, 'assignee');
    await refused(landong, assign, { assignee: 'insp-lanxi', dueOn: today }, 400, 'assignee');
    await refused(landong, assign, { assignee: 'insp-landong' }, 400, 'dueOn');
    await refused(
      landong,
      `/api/verification-tasks/${x.taskId}/assignment`,
      { assignee: 'insp-landong', dueOn: today },
      404,
      'id',
    );
    await refused(
      city,
      `/api/verification-tasks/${a.taskId}/resolution`,
      { result: 'nothing-found' },
      400,
      'note',
    );
    await refused(
      city,
      `/api/verification-tasks/${a.taskId}/resolution`,
      { result: 'nothing-found', note: '   ' },
      400,
      'note',
    );
  });

  it('assigns, marks overdue, and closes with nothing found and a note', async () => {
    const r = await send(landong, 'POST', `/api/verification-tasks/${a.taskId}/assignment`, {
      assignee: 'insp-landong',
      dueOn: today,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ assignee: 'insp-landong', overdue: false, status: 'open' });
    // A deadline that has passed (set in the database: the API refuses past deadlines) shows as overdue.
    await w.pool.query(`update verification_tasks set due_at = now() - interval '1 hour' where id = $1`, [
      a.taskId,
    ]);
    const overdue = await send(landong, 'GET', '/api/verification-tasks?status=overdue');
    expect(overdue.body.items!.map((t) => [t.id, t.overdue])).toEqual([[a.taskId, true]]);
    const inspector = await loginAs('insp-landong');
    const done = await resolve(inspector, a.taskId, 'nothing-found', '现场未见异常 nothing abnormal on site');
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: 'done',
      result: 'nothing-found',
      overdue: false,
      finding: null,
    });
    const again = await resolve(landong, a.taskId, 'violation-found', 'second try');
    expect(again.status).toBe(409);
    const audit = await w.pool.query(
      `select action, actor_name from audit_log where entity_type = 'verification-task' and entity_id = $1 order by id`,
      [a.taskId],
    );
    expect(audit.rows).toEqual([
      { action: 'verification-task.assign', actor_name: 'officer-dist-landong' },
      { action: 'verification-task.nothing-found', actor_name: 'insp-landong' },
    ]);
  });

  it('records a violation found as an inspection finding linked to the task', async () => {
    const unassigned = await resolve(landong, b.taskId, 'violation-found', '废水直排 direct discharge');
    expect(unassigned.status).toBe(409);
    expect(await count('verification_findings')).toBe(0);
    await send(landong, 'POST', `/api/verification-tasks/${b.taskId}/assignment`, {
      assignee: 'insp-landong',
      dueOn: addDays(today, 3),
    });
    const r = await resolve(landong, b.taskId, 'violation-found', '废水直排 direct discharge');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'done',
      result: 'violation-found',
      finding: { description: '废水直排 direct discharge', foundBy: 'insp-landong' },
    });
    const f = await w.pool.query(
      `select complaint_id::int as c, district_id from verification_findings where task_id = $1`,
      [b.taskId],
    );
    expect(f.rows).toEqual([{ c: b.complaintId, district_id: 'dist-landong' }]);
  });
});
