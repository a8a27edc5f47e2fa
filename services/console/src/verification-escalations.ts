// Escalation of overdue complaint verification tasks. A BullMQ job scheduler ticks every ten minutes
// (./regulation/queues.ts); each tick escalates the open tasks whose deadline passed:
// - level `overdue`, at the deadline: the assignee and the district's on-duty officers;
// - level `city`, `cityAfterHours` later: the city supervisors (市局/支队督办).
// Officers and supervisors come from the console's users model (`console_recipients_v1`: enabled,
// on duty, with an address); the assignee from the inspector roster. The console renders the message
// and asks the alerter to deliver it (message.request.v1, kind `complaint-reminder`, through the
// regulation sink); it never sends mail or SMS itself. Exactly once per task, level and deadline: the
// tick locks the task (shared), inserts the `verification_task_escalations` row and requests the
// messages in one transaction, so a concurrent tick waits on the row and then finds it, a repeated
// tick finds it, and a failed request rolls the row back for the next tick. A task given a new
// deadline is escalated again when that one passes. Message ids are deterministic, so a request
// repeated after a lost commit is sent once by the alerter.
import type { ConnectionOptions } from 'bullmq';
import { formatShanghai } from '@offsite/domain/calendar';
import type { Logger } from '@offsite/runtime';
import { transaction, type Queryable } from '@offsite/store';
import type pg from 'pg';
import { createScheduledTick } from './regulation/queues.js';

export const ESCALATION_LEVELS = ['overdue', 'city'] as const;
export type EscalationLevel = (typeof ESCALATION_LEVELS)[number];

interface Recipient {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
}

export type Deliver = (
  kind: 'complaint-reminder',
  rcpt: Recipient,
  id: string,
  text: { subject: string; text: string; sms: string },
) => Promise<void>;

export interface TaskEscalationsOptions {
  pool: Pick<pg.Pool, 'query' | 'connect'>;
  connection: ConnectionOptions;
  prefix?: string;
  /** Asks the alerter to deliver one message to one person (the regulation sink's). */
  deliver: Deliver;
  logger: Logger;
  /** Hours after the deadline at which an unresolved task reaches the city supervisors (default 72). */
  cityAfterHours?: number;
  /** The scheduler's cron (default: every ten minutes). */
  schedule?: { pattern: string; tz: string };
  now?: () => Date;
}

export interface Escalated {
  taskId: string;
  level: EscalationLevel;
  recipients: string[];
}

export interface TaskEscalations {
  /** One tick: escalates what is overdue at `now` and not escalated yet; answers what it escalated. */
  tick(now?: Date): Promise<Escalated[]>;
  start(): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}

interface TaskRow {
  id: string;
  complaint_id: string;
  district_id: string;
  district_name: string | null;
  enterprise_name: string;
  assignee: string | null;
  assignee_name: string | null;
  due_at: Date;
}

export function renderTaskEscalation(
  t: Pick<TaskRow, 'id' | 'complaint_id' | 'enterprise_name' | 'assignee_name' | 'district_name'>,
  level: EscalationLevel,
  dueAt: Date,
): { subject: string; text: string; sms: string } {
  const due = formatShanghai(dueAt);
  const who = t.assignee_name ?? '—';
  const district = t.district_name ?? '';
  const head =
    level === 'overdue'
      ? { zh: '核查任务逾期', en: 'overdue' }
      : { zh: '核查任务逾期督办', en: 'overdue, escalated to the city' };
  return {
    subject: `【${head.zh}】信访举报 #${t.complaint_id} ${t.enterprise_name} 现场核查任务 #${t.id}（期限 ${due}）/ Verification task #${t.id} ${head.en}`,
    text: [
      `${district}信访举报 #${t.complaint_id}（${t.enterprise_name}）的现场核查任务 #${t.id} 已超过办理期限 ${due}（北京时间），尚未办结。核查人员：${who}。`,
      level === 'city'
        ? '该任务已逾期较长时间，提请市局（支队）督办。'
        : '请尽快完成现场核查并在非现场监管平台登记结果。',
      '',
      `The on-site verification task #${t.id} of complaint #${t.complaint_id} (${t.enterprise_name}) passed its deadline ${due} (UTC+8) unresolved; inspector: ${who}.`,
      level === 'city'
        ? 'It has been overdue for long and is escalated to the city for supervision.'
        : 'Please verify on site and record the result in the off-site supervision console.',
    ].join('\n'),
    sms: `信访举报#${t.complaint_id}（${t.enterprise_name}）核查任务#${t.id}已逾期（期限${due}），${level === 'city' ? '提请督办' : '请尽快办结'}。`,
  };
}

/** Who a level reaches: the assignee and the district's officers, or the city supervisors; one each. */
async function recipientsOf(c: Queryable, t: TaskRow, level: EscalationLevel): Promise<Recipient[]> {
  const cols = `select username as id, display_name as name, phone, email from console_recipients_v1`;
  const staff =
    level === 'overdue'
      ? await c.query<Recipient>(
          `${cols} where role = 'district-officer' and district_id = $1 order by username`,
          [t.district_id],
        )
      : await c.query<Recipient>(`${cols} where role = 'city-supervisor' order by username`);
  const all = [...staff.rows];
  if (level === 'overdue' && t.assignee) {
    const own = await c.query<Recipient>(
      `select id, name, phone, email from inspectors where id = $1 and active`,
      [t.assignee],
    );
    all.unshift(...own.rows);
  }
  const seen = new Set<string>();
  return all.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

export function createTaskEscalations(o: TaskEscalationsOptions): TaskEscalations {
  const log = o.logger.child({ component: 'task-escalations' });
  const clock = o.now ?? (() => new Date());
  const after: Record<EscalationLevel, number> = { overdue: 0, city: o.cityAfterHours ?? 72 };

  const SELECT = `
    select vt.id::text as id, vt.complaint_id::text as complaint_id, c.district_id, d.name_zh as district_name,
           e.name_zh as enterprise_name, vt.assignee, i.name as assignee_name, vt.due_at
      from verification_tasks vt
      join complaints c on c.id = vt.complaint_id
      join enterprises e on e.id = vt.enterprise_id
      left join districts d on d.id = c.district_id
      left join inspectors i on i.id = vt.assignee
     where vt.status = 'open' and vt.due_at is not null and vt.due_at + make_interval(hours => $2) < $1`;

  async function escalate(taskId: string, level: EscalationLevel, now: Date): Promise<Escalated | null> {
    return transaction(o.pool, async (c) => {
      // Still open and overdue at this level (not resolved or given a new deadline meanwhile); the
      // shared lock keeps an assignment or a resolution from changing it until this commits.
      const t = (
        await c.query<TaskRow>(`${SELECT} and vt.id = $3 for share of vt`, [now, after[level], taskId])
      ).rows[0];
      if (!t) return null;
      const recipients = await recipientsOf(c, t, level);
      const claimed = await c.query(
        `insert into verification_task_escalations (task_id, level, due_at, requested_at, recipients)
         values ($1, $2, $3, $4, $5) on conflict do nothing returning 1`,
        [taskId, level, t.due_at, now, recipients.length],
      );
      if (claimed.rowCount !== 1) return null;
      if (recipients.length === 0) log.warn({ taskId, level }, 'nobody to escalate the overdue task to');
      const text = renderTaskEscalation(t, level, t.due_at);
      for (const rcpt of recipients)
        await o.deliver(
          'complaint-reminder',
          rcpt,
          `regulation-task-${taskId}-${level}-${t.due_at.getTime()}-${rcpt.id}`,
          text,
        );
      return { taskId, level, recipients: recipients.map((r) => r.id) };
    });
  }

  async function tick(now = clock()): Promise<Escalated[]> {
    const done: Escalated[] = [];
    for (const level of ESCALATION_LEVELS) {
      const due = await o.pool.query<{ id: string }>(
        `${SELECT} and not exists (select 1 from verification_task_escalations x
                                   where x.task_id = vt.id and x.level = $3 and x.due_at = vt.due_at)
          order by vt.due_at, vt.id limit 500`,
        [now, after[level], level],
      );
      for (const t of due.rows) {
        const r = await escalate(t.id, level, now);
        if (r) done.push(r);
      }
    }
    if (done.length > 0) log.info({ escalated: done }, 'overdue verification tasks escalated');
    return done;
  }

  const ticker = createScheduledTick({
    name: 'verification-escalations',
    connection: o.connection,
    prefix: o.prefix,
    schedule: o.schedule ?? { pattern: '*/10 * * * *', tz: 'Asia/Shanghai' },
    run: async () => `escalated:${(await tick()).length}`,
    log,
  });
  return { tick, start: ticker.start, close: ticker.close };
}
