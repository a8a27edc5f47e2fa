// The console's regulatory background work: complaint deadline reminders (one BullMQ queue,
// ./regulation/reminders.ts, which also retires the old monthly report's own scheduler at start-up),
// districts' submission due-date reminders
// (./submissions-reminders.ts), the escalation of overdue complaint verification tasks
// (./verification-escalations.ts), and outreach campaigns (a rate-limited BullMQ queue). The console renders each message and asks the alerter to deliver it
// (message.request.v1): the alerter sends, with its channels, its provider limits and its
// exactly-once claim. Message ids are deterministic, so a retried job repeats the same request and
// the alerter sends it once.
import type { ComplaintDeadlineConfig, OutreachMessage } from '@offsite/regulation';
import {
  createOutreachDispatcher,
  createReminders,
  type Db,
  type OutreachDispatcher,
  type Reminder,
  type RemindersOptions,
  type Reminders,
} from './regulation/index.js';
import type { MessageRequestV1 } from '@offsite/contracts';
import { formatShanghai } from '@offsite/domain/calendar';
import { maskAddress } from '@offsite/notify';
import type { Logger } from '@offsite/runtime';
import { createSubmissionReminders, type SubmissionReminders } from './submissions-reminders.js';
import type { SubmissionCalendar } from './submissions-rules.js';
import { createTaskEscalations, type TaskEscalations } from './verification-escalations.js';

/** Hands a message request to the alerter (resolves once Kafka acknowledged it). */
export type PublishMessage = (request: MessageRequestV1) => Promise<void>;

export type MessageKind = 'complaint-reminder' | 'report-reminder' | 'outreach';

export interface RegulationWorkOptions {
  db: Db;
  /** BullMQ connection (host, port, credentials, db); `maxRetriesPerRequest: null` for workers. */
  connection: RemindersOptions['connection'];
  /** BullMQ key prefix: one per deployment and per test. */
  queuePrefix: string;
  publish: PublishMessage;
  /** Outreach throttle across all console processes: at most `max` sends per `durationMs`. */
  outreachRate: { max: number; durationMs: number };
  outreachAttempts?: number;
  complaintConfig?: ComplaintDeadlineConfig;
  /** The calendar of districts' submissions, for their due-date reminders. */
  submissionCalendar?: SubmissionCalendar;
  /** Hours after its deadline at which an unresolved verification task reaches the city (default 72). */
  taskEscalationCityHours?: number;
  logger: Logger;
  /** Called once per message handed to the alerter, or that could not be (metrics). */
  onMessage?: (kind: MessageKind, medium: 'email' | 'sms', result: 'requested' | 'failed') => void;
  now?: () => Date;
}

export interface RegulationWork {
  reminders: Reminders;
  outreach: OutreachDispatcher;
  /** Due-date reminders of districts' submissions (hourly scheduler). */
  submissions: SubmissionReminders;
  /** Escalation of overdue complaint verification tasks (scheduler every ten minutes). */
  escalations: TaskEscalations;
  /** Removes the retired monthly report scheduler, then starts the workers and schedulers. */
  start(): Promise<void>;
  /** Stops the workers (waiting for running jobs) and the queues, within `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

export interface Recipient {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
}

const STAGE = {
  acknowledge: { zh: '受理', en: 'acknowledgement' },
  resolve: { zh: '办结', en: 'resolution' },
} as const;

/** Renders a complaint reminder for one recipient: Chinese first, English below (zh-CN is the working language). */
export function renderRegulationReminder(
  r: Reminder,
  ctx: { enterpriseName?: string; summary?: string; urgency?: string },
): { subject: string; text: string; sms: string } {
  const due = formatShanghai(new Date(r.dueAt));
  const s = STAGE[r.stage];
  const named = ctx.enterpriseName ?? r.enterpriseId;
  const ent = named ?? '企业待指定';
  const entEn = named ?? 'enterprise not yet named';
  const state = r.overdue
    ? { zh: `已超过${s.zh}时限`, en: `${s.en} deadline passed` }
    : { zh: `${s.zh}时限临近`, en: `${s.en} deadline approaching` };
  const summary = (ctx.summary ?? '').slice(0, 100);
  return {
    subject: `【信访举报】#${r.complaintId} ${ent}：${state.zh}（${due}）/ Complaint #${r.complaintId}: ${state.en}`,
    text: [
      `信访举报 #${r.complaintId}（${ent}）${state.zh}，${s.zh}时限：${due}（北京时间）。`,
      summary ? `内容：${summary}` : '',
      ...(named ? [] : ['该投诉来自微信等渠道，尚未指定被投诉企业，请尽快研判并指定。']),
      '请登录非现场监管平台及时处理。',
      '',
      `Complaint #${r.complaintId} (${entEn}): ${state.en}, due ${due} (UTC+8).`,
      ...(named ? [] : ['It came in through WeChat or another channel: name the enterprise it concerns.']),
      'Please handle it in the off-site supervision console.',
    ]
      .filter((l, i, a) => l !== '' || a[i - 1] !== '')
      .join('\n'),
    sms: `信访举报#${r.complaintId}（${ent}）${state.zh}，时限${due}，请及时处理。`,
  };
}

export interface RegulationSinkOptions {
  db: Pick<Db, 'query'>;
  publish: PublishMessage;
  logger: Logger;
  onMessage?: RegulationWorkOptions['onMessage'];
  now?: () => Date;
}

export interface RegulationSink {
  /** Delivers a complaint reminder to its recipients (throws to retry the job). */
  reminder(r: Reminder): Promise<void>;
  /** Hands one outreach message to the alerter. */
  outreach(m: OutreachMessage): Promise<{ providerRef?: string }>;
  /** Asks the alerter to deliver one rendered message to an inspector (email if they have one, else SMS). */
  toInspector(
    kind: MessageKind,
    rcpt: Recipient,
    id: string,
    text: { subject: string; text: string; sms: string },
  ): Promise<void>;
}

/**
 * Turns the regulation package's reminders and outreach messages into message requests for the
 * alerter: complaint reminders to the assignee (if on the roster) or else the district's active
 * officers, report reminders to the officers; email when the person has an address, SMS otherwise.
 */
export function createRegulationSink(o: RegulationSinkOptions): RegulationSink {
  const log = o.logger.child({ component: 'regulation-work' });
  const onMessage = o.onMessage ?? (() => {});

  const now = o.now ?? (() => new Date());

  async function request(
    kind: MessageKind,
    r: Omit<MessageRequestV1, 'schema' | 'kind' | 'requestedAt'>,
  ): Promise<void> {
    try {
      await o.publish({ schema: 'message.request.v1', kind, ...r, requestedAt: now().toISOString() });
      onMessage(kind, r.channel, 'requested');
    } catch (err) {
      onMessage(kind, r.channel, 'failed');
      throw err; // the BullMQ job fails and is retried with backoff
    }
  }

  async function deliver(
    kind: MessageKind,
    rcpt: Recipient,
    id: string,
    text: { subject: string; text: string; sms: string },
  ) {
    const channel = rcpt.email ? 'email' : 'sms';
    const address = rcpt.email ?? rcpt.phone;
    if (!address) {
      log.warn({ kind, recipient: rcpt.id }, 'recipient has neither email nor phone; not reminded');
      return;
    }
    await request(kind, {
      id,
      channel,
      recipient: { kind: 'inspector', id: rcpt.id, name: rcpt.name, address },
      language: 'zh',
      ...text,
    });
    log.info({ kind, recipient: rcpt.id, to: maskAddress(address), id }, 'regulatory reminder requested');
  }

  async function recipientsFor(assignee: string | null, districtId: string | null): Promise<Recipient[]> {
    if (assignee) {
      const own = await o.db.query<Recipient>(
        `select id, name, phone, email from inspectors where id = $1 and active`,
        [assignee],
      );
      if (own.rows.length > 0) return own.rows;
    }
    // No district yet (a complaint from an intake whose enterprise nobody named): the city supervisors
    // on duty, who triage those.
    if (districtId === null) {
      const city = await o.db.query<Recipient>(
        `select username as id, display_name as name, phone, email from console_users
          where role = 'city-supervisor' and on_duty and not disabled order by username`,
      );
      return city.rows;
    }
    // Unassigned (or assigned to someone not on the roster): the district's officers.
    const officers = await o.db.query<Recipient>(
      `select id, name, phone, email from inspectors where district_id = $1 and is_officer and active order by id`,
      [districtId],
    );
    return officers.rows;
  }

  async function sink(r: Reminder): Promise<void> {
    const ctx = await o.db.query<{ enterprise_name: string | null; summary: string; urgency: string }>(
      `select e.name_zh as enterprise_name, c.summary, c.urgency
         from complaints c left join enterprises e on e.id = c.enterprise_id where c.id = $1`,
      [r.complaintId],
    );
    const c = ctx.rows[0];
    const text = renderRegulationReminder(r, {
      ...(c ? { summary: c.summary, urgency: c.urgency } : {}),
      ...(c?.enterprise_name ? { enterpriseName: c.enterprise_name } : {}),
    });
    const recipients = await recipientsFor(r.assignee, r.districtId);
    if (recipients.length === 0)
      log.warn({ complaintId: r.complaintId, districtId: r.districtId }, 'no active officer to remind');
    const when = `${r.overdue ? 'due' : 'lead'}-${new Date(r.dueAt).getTime()}`;
    for (const rcpt of recipients)
      await deliver(
        'complaint-reminder',
        rcpt,
        `regulation-complaint-${r.complaintId}-${r.stage}-${when}-${rcpt.id}`,
        text,
      );
  }

  async function send(m: OutreachMessage): Promise<{ providerRef?: string }> {
    await request('outreach', {
      id: m.ref,
      channel: m.channel,
      recipient: { kind: 'enterprise-contact', id: m.contactId, address: m.to },
      language: m.language,
      subject: m.subject ?? m.body.slice(0, 30),
      text: m.body,
      sms: m.body,
    });
    return {};
  }

  return { reminder: sink, outreach: send, toInspector: deliver };
}

export function createRegulationWork(o: RegulationWorkOptions): RegulationWork {
  const log = o.logger.child({ component: 'regulation-work' });
  const out = createRegulationSink(o);

  const reminders = createReminders({
    connection: o.connection,
    queueName: 'regulation-reminders',
    prefix: o.queuePrefix,
    db: o.db,
    sink: out.reminder,
    logger: log,
    ...(o.complaintConfig ? { config: o.complaintConfig } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const outreach = createOutreachDispatcher({
    connection: o.connection,
    queueName: 'regulation-outreach',
    prefix: o.queuePrefix,
    db: o.db,
    send: out.outreach,
    rate: o.outreachRate,
    ...(o.outreachAttempts ? { attempts: o.outreachAttempts } : {}),
    logger: log,
  });

  const submissions = createSubmissionReminders({
    pool: o.db,
    connection: o.connection,
    prefix: o.queuePrefix,
    toInspector: out.toInspector,
    logger: log,
    ...(o.submissionCalendar ? { calendar: o.submissionCalendar } : {}),
    ...(o.now ? { now: o.now } : {}),
  });

  const escalations = createTaskEscalations({
    pool: o.db,
    connection: o.connection,
    prefix: o.queuePrefix,
    deliver: out.toInspector,
    logger: log,
    ...(o.taskEscalationCityHours !== undefined ? { cityAfterHours: o.taskEscalationCityHours } : {}),
    ...(o.now ? { now: o.now } : {}),
  });

  return {
    reminders,
    outreach,
    submissions,
    escalations,
    async start() {
      await reminders.retireMonthlyReportScheduler();
      reminders.startWorker();
      outreach.startWorker();
      await submissions.start();
      await escalations.start();
      log.info({ prefix: o.queuePrefix, outreachRate: o.outreachRate }, 'regulation workers started');
    },
    async close(timeoutMs = 15_000) {
      const started = Date.now();
      const left = (): number => Math.max(100, timeoutMs - (Date.now() - started));
      const results = await Promise.allSettled([
        reminders.close(left()),
        outreach.close(left()),
        submissions.close(left()),
        escalations.close(left()),
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
