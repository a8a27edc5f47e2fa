// Escalation of overdue complaint verification tasks on real Postgres, Redis and Kafka (own schema,
// BullMQ prefix and topic): once a task's deadline passed unresolved, its assignee and the district's
// on-duty officers are reminded, and later the city supervisors, through the console's one way to the
// alerter (message.request.v1); exactly one message per recipient and level whether two console
// instances tick at the same moment or one ticks again; a resolved task is not escalated, an off-duty
// officer is not reminded, and a task given a new deadline is escalated again when that one passes.
import { randomBytes } from 'node:crypto';
import { shanghaiDate } from '@offsite/domain/calendar';
import { createSilentLogger } from '@offsite/runtime';
import { until } from '@offsite/testing';
import { upsertUser } from '../src/auth.js';
import { createRegulationSink } from '../src/regulation-work.js';
import { createTaskEscalations, type TaskEscalations } from '../src/verification-escalations.js';
import { createWorld, listPositive, loginAs, PASSWORD, sendAs, type Session, type World } from './fixture.js';
import { messageTopic, startTwo, type MessageTopic } from './message-topic.js';

const prefix = `test-escalations-${randomBytes(4).toString('hex')}`;
let t: MessageTopic;
let w: World;
let a: TaskEscalations;
let b: TaskEscalations;

beforeAll(async () => {
  t = await messageTopic('task-escalations');
  w = await createWorld();
  await listPositive(w.pool, ['ent-0001', 'ent-0002', 'ent-0003']);
  // An inspector who is not an officer (reached as the assignee, by SMS), and an off-duty officer.
  await upsertUser(w.pool, {
    username: 'insp-esc',
    displayName: '核查员 蓝东',
    role: 'viewer',
    password: PASSWORD,
  });
  await w.pool.query(
    `update console_users set inspector = true, phone = '13800000001' where username = 'insp-esc'`,
  );
  await upsertUser(w.pool, {
    username: 'officer-landong-away',
    displayName: '休假科员',
    role: 'district-officer',
    districtId: 'dist-landong',
    email: 'away@qinglan.example',
    password: PASSWORD,
  });
  await w.pool.query(`update console_users set on_duty = false where username = 'officer-landong-away'`);
  // Two console instances: each its own sink and scheduler over the same database, Redis prefix and topic.
  const instance = () =>
    createTaskEscalations({
      pool: w.pool,
      connection: t.connection,
      prefix,
      deliver: createRegulationSink({ db: w.pool, publish: t.publish, logger: createSilentLogger() })
        .toInspector,
      logger: createSilentLogger(),
      cityAfterHours: 72,
      // The scheduled ticks' clock: before every deadline (the test's ticks name their moment).
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
  [a, b] = await startTwo(instance);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await w?.close();
  await t?.close();
});

it('both instances keep one scheduler', async () => {
  expect(await t.schedulers('verification-escalations', prefix)).toEqual([
    ['verification-escalations', '*/10 * * * *', 'Asia/Shanghai'],
  ]);
});

describe('overdue verification tasks', () => {
  const DUE = new Date('2027-03-01T15:59:59.999Z'); // the end of 2027-03-01 in Asia/Shanghai
  const tasks: Record<'landong' | 'resolved' | 'lanxi', string> = { landong: '', resolved: '', lanxi: '' };
  beforeAll(async () => {
    const [landong, lanxi] = await Promise.all([
      loginAs(w.base, 'officer-dist-landong'),
      loginAs(w.base, 'officer-dist-lanxi'),
    ]);
    const open = async (s: Session, enterpriseId: string, assignee: string) => {
      const c = await sendAs<{ verificationTask: { id: number } }>(
        w.base,
        s,
        'POST',
        '/api/regulation/complaints',
        {
          channel: 'hotline',
          enterpriseId,
          urgency: 'normal',
          summary: '夜间异味 night-time odour',
        },
      );
      expect(c.status).toBe(201);
      const id = String(c.body.verificationTask.id);
      const r = await sendAs(w.base, s, 'POST', `/api/verification-tasks/${id}/assignment`, {
        assignee,
        dueOn: shanghaiDate(Date.now()),
      });
      expect(r.status).toBe(200);
      return id;
    };
    tasks.landong = await open(landong, 'ent-0002', 'insp-esc');
    tasks.resolved = await open(landong, 'ent-0001', 'insp-esc');
    tasks.lanxi = await open(lanxi, 'ent-0003', 'officer-dist-lanxi');
    const done = await sendAs(
      w.base,
      landong,
      'POST',
      `/api/verification-tasks/${tasks.resolved}/resolution`,
      {
        result: 'nothing-found',
        note: '现场未见异常 nothing abnormal',
      },
    );
    expect(done.status).toBe(200);
    // Deadlines in the past are set in the database (the API refuses them).
    await w.pool.query(`update verification_tasks set due_at = $1 where id = any($2::bigint[])`, [
      DUE,
      Object.values(tasks),
    ]);
  });

  const sorted = (xs: { taskId: string; level: string; recipients: string[] }[]) =>
    xs.map((x) => [x.taskId, x.level, x.recipients]).sort((p, q) => String(p).localeCompare(String(q)));

  it('escalates each task and level once, to the right people, whatever the ticks', async () => {
    expect(await a.tick(new Date('2027-03-01T15:59:00Z'))).toEqual([]);
    const at = new Date('2027-03-01T16:10:00Z');
    const [ra, rb] = await Promise.all([a.tick(at), b.tick(at)]);
    expect(sorted([...ra, ...rb])).toEqual(
      sorted([
        { taskId: tasks.landong, level: 'overdue', recipients: ['insp-esc', 'officer-dist-landong'] },
        { taskId: tasks.lanxi, level: 'overdue', recipients: ['officer-dist-lanxi'] },
      ]),
    );
    expect(await b.tick(new Date('2027-03-02T10:00:00Z'))).toEqual([]);
    // 72 hours after the deadline the city supervisors; two instances again, then once more.
    const later = new Date('2027-03-04T16:10:00Z');
    const [ca, cb] = await Promise.all([a.tick(later), b.tick(later)]);
    expect(sorted([...ca, ...cb])).toEqual(
      sorted([
        { taskId: tasks.landong, level: 'city', recipients: ['supervisor'] },
        { taskId: tasks.lanxi, level: 'city', recipients: ['supervisor'] },
      ]),
    );
    expect(await a.tick(new Date('2027-03-05T00:00:00Z'))).toEqual([]);

    await until(async () => t.records.length >= 5, 10_000, 'the escalations on the topic');
    const sent = t.records;
    expect(sent).toHaveLength(5);
    expect(new Set(sent.map((m) => m.id)).size).toBe(5);
    const to = sent
      .map((m) => `${m.id.split('-').slice(2, 4).join('-')}:${m.recipient.id}:${m.channel}`)
      .sort();
    expect(to).toEqual(
      [
        `${tasks.landong}-overdue:insp-esc:sms`,
        `${tasks.landong}-overdue:officer-dist-landong:email`,
        `${tasks.lanxi}-overdue:officer-dist-lanxi:email`,
        `${tasks.landong}-city:supervisor:email`,
        `${tasks.lanxi}-city:supervisor:email`,
      ].sort(),
    );
    for (const m of sent) {
      expect(m.kind).toBe('complaint-reminder');
      expect(m.text).toContain('2027-03-01 23:59');
      expect(m.subject).toMatch(/核查任务逾期.*Verification task #\d+ overdue/);
    }
    expect(sent.find((m) => m.id.includes('-city-'))!.text).toContain('督办');
    const rows = await w.pool.query(
      `select task_id::text, level, recipients from verification_task_escalations order by task_id, level`,
    );
    expect(rows.rows).toEqual(
      expect.arrayContaining([{ task_id: tasks.landong, level: 'overdue', recipients: 2 }]),
    );
    expect(rows.rows.some((r) => r.task_id === tasks.resolved)).toBe(false);
  });

  it('escalates a task again when its new deadline passes too', async () => {
    const NEW = new Date('2027-03-10T15:59:59.999Z');
    await w.pool.query(`update verification_tasks set due_at = $1 where id = $2`, [NEW, tasks.landong]);
    expect(await a.tick(new Date('2027-03-09T00:00:00Z'))).toEqual([]);
    const again = await a.tick(new Date('2027-03-10T16:10:00Z'));
    expect(sorted(again)).toEqual(
      sorted([{ taskId: tasks.landong, level: 'overdue', recipients: ['insp-esc', 'officer-dist-landong'] }]),
    );
    await until(async () => t.records.length >= 7, 10_000, 'the second escalation on the topic');
    expect(t.records.slice(5).every((m) => m.text.includes('2027-03-10 23:59'))).toBe(true);
  });
});
