// Due-date reminders of districts' submissions: a BullMQ job scheduler ticks every hour (every console
// instance upserts the same scheduler; BullMQ keeps one next job), and each tick reminds the active
// officers of every district that has not submitted a period whose reminder window is open
// (./submissions-rules.ts: from 09:00, N days before the due day, to the end of the due day). The
// messages go the console's one way to the alerter (message.request.v1, kind `report-reminder`,
// through the regulation sink); the console never sends mail or SMS itself. Exactly once per district,
// kind and period: the tick inserts the `submission_reminders` row and requests the messages in one
// transaction, so a concurrent tick waits on the row and then finds it, a repeated tick finds it, and a
// failed request rolls the row back for the next tick. Message ids are deterministic, so a request
// repeated after a lost commit is sent once by the alerter.
import type { ConnectionOptions } from 'bullmq';
import { formatShanghai } from '@offsite/domain/calendar';
import type { Logger } from '@offsite/runtime';
import { createScheduledTick } from './regulation/queues.js';
import { transaction } from '@offsite/store';
import type pg from 'pg';
import {
  defaultSubmissionCalendar,
  periodsToRemind,
  type SubmissionCalendar,
  type SubmissionPeriod,
} from './submissions-rules.js';

export type ToInspector = (
  kind: 'report-reminder',
  rcpt: Officer,
  id: string,
  text: { subject: string; text: string; sms: string },
) => Promise<void>;

export interface SubmissionRemindersOptions {
  pool: Pick<pg.Pool, 'query' | 'connect'>;
  connection: ConnectionOptions;
  prefix?: string;
  /** Asks the alerter to deliver one message to an inspector (the regulation sink's). */
  toInspector: ToInspector;
  logger: Logger;
  calendar?: SubmissionCalendar;
  /** The scheduler's cron (default: every hour at minute 5, Asia/Shanghai). */
  schedule?: { pattern: string; tz: string };
  now?: () => Date;
}

export interface RemindedDistrict {
  kind: SubmissionPeriod['kind'];
  period: string;
  districtId: string;
  officers: number;
}

export interface SubmissionReminders {
  /** One tick: reminds what is due at `now` and not reminded yet; answers what it reminded. */
  tick(now?: Date): Promise<RemindedDistrict[]>;
  start(): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
}

interface Officer {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
}

export function renderSubmissionReminder(
  p: SubmissionPeriod,
  districtName: string,
): { subject: string; text: string; sms: string } {
  const due = formatShanghai(new Date(p.lateFrom.getTime() - 60_000));
  const what =
    p.kind === 'monthly'
      ? {
          zh: `${p.period} 月度报送（正面清单工作亮点文章、典型案例）`,
          en: `the ${p.period} monthly submission`,
        }
      : { zh: `${p.period} 年度工作总结`, en: `the ${p.period} period summary` };
  return {
    subject: `【报送提醒】${districtName} ${what.zh}尚未提交（截止 ${p.dueOn}）/ ${what.en} is due ${p.dueOn}`,
    text: [
      `${districtName}分局${what.zh}尚未提交，请于 ${due}（北京时间）前在非现场监管平台报送。`,
      '',
      `${districtName}: ${what.en} has not been submitted; it is due by ${due} (UTC+8).`,
    ].join('\n'),
    sms: `${districtName}${what.zh}尚未提交，请于${p.dueOn}前报送。`,
  };
}

export function createSubmissionReminders(o: SubmissionRemindersOptions): SubmissionReminders {
  const log = o.logger.child({ component: 'submission-reminders' });
  const cal = o.calendar ?? defaultSubmissionCalendar;
  const clock = o.now ?? (() => new Date());

  async function remindDistrict(p: SubmissionPeriod, d: { id: string; name_zh: string }, now: Date) {
    return transaction(o.pool, async (c) => {
      const officers = (
        await c.query<Officer>(
          `select id, name, phone, email from inspectors where district_id = $1 and is_officer and active order by id`,
          [d.id],
        )
      ).rows;
      const claimed = await c.query(
        `insert into submission_reminders (kind, period, district_id, due_at, requested_at, officers)
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning 1`,
        [p.kind, p.period, d.id, p.lateFrom, now, officers.length],
      );
      if (claimed.rowCount !== 1) return null;
      // Submitted meanwhile (between the tick's list and the claim): nothing to remind of.
      const submitted = await c.query(
        `select 1 from submission_versions where kind = $1 and period = $2 and district_id = $3 limit 1`,
        [p.kind, p.period, d.id],
      );
      if (submitted.rowCount) return null;
      if (officers.length === 0)
        log.warn({ districtId: d.id, period: p.period }, 'no active officer to remind');
      const text = renderSubmissionReminder(p, d.name_zh);
      for (const rcpt of officers)
        await o.toInspector(
          'report-reminder',
          rcpt,
          `regulation-submission-${p.kind}-${p.period}-${d.id}-${rcpt.id}`,
          text,
        );
      return { kind: p.kind, period: p.period, districtId: d.id, officers: officers.length };
    });
  }

  async function tick(now = clock()): Promise<RemindedDistrict[]> {
    const done: RemindedDistrict[] = [];
    for (const p of periodsToRemind(now, cal)) {
      const open = await o.pool.query<{ id: string; name_zh: string }>(
        `select d.id, d.name_zh from districts d
          where not exists (select 1 from submission_versions v
                             where v.kind = $1 and v.period = $2 and v.district_id = d.id)
            and not exists (select 1 from submission_reminders r
                             where r.kind = $1 and r.period = $2 and r.district_id = d.id)
          order by d.id`,
        [p.kind, p.period],
      );
      for (const d of open.rows) {
        const r = await remindDistrict(p, d, now);
        if (r) done.push(r);
      }
    }
    if (done.length > 0) log.info({ reminded: done }, 'submission reminders requested');
    return done;
  }

  const ticker = createScheduledTick({
    name: 'submission-reminders',
    schedulerId: 'submission-reminder',
    connection: o.connection,
    prefix: o.prefix,
    schedule: o.schedule ?? { pattern: '5 * * * *', tz: 'Asia/Shanghai' },
    run: async () => `reminded:${(await tick()).length}`,
    log,
  });
  return { tick, start: ticker.start, close: ticker.close };
}
