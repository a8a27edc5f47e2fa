// District monthly reports and period summaries. Figures come from the supervision-outcome ledger
// (`regulatory_events`, recorded once per outcome by the console and alerter), the complaints and
// the inspection targets. Monthly reports are due on the 25th of the following month; officers of a
// district are reminded on the 20th if it has not been submitted.
import { addDays, monthRange, shanghaiDate, shanghaiTime } from './calendar.js';
import { toCsv } from './csv.js';
import { query, type Queryable } from './db.js';
import { regulationError } from './errors.js';
import { enterpriseInScope } from './positive-list.js';
import { requireCapability, type Scope } from './scope.js';

export type OutcomeKind =
  | 'offsite-check'
  | 'deviation'
  | 'reminder-sent'
  | 'reminder-acknowledged'
  | 'rectification'
  | 'penalty-waived'
  | 'case-referred';

export interface OutcomeEvent {
  kind: OutcomeKind;
  /** Unique per kind (a case id, a notification id): recording twice is a no-op. */
  sourceRef: string;
  enterpriseId: string;
  occurredAt: Date;
  /** Deviation rule (for `deviation`). */
  rule?: string | null;
  /** Deviation outcome: e.g. `confirmed`, `dismissed`, `explained` (for `deviation`). */
  outcome?: string | null;
  /** Rectification deadline and completion (for `rectification`); done null while open. */
  dueAt?: Date | null;
  doneAt?: Date | null;
}

/** Records an outcome; returns false when it was already recorded. */
export async function recordOutcome(db: Queryable, scope: Scope, e: OutcomeEvent): Promise<boolean> {
  requireCapability(scope, 'recordOutcome');
  const ent = await enterpriseInScope(db, scope, e.enterpriseId);
  const rows = await query(
    db,
    'record outcome',
    `insert into regulatory_events (kind, source_ref, enterprise_id, district_id, occurred_at, rule, outcome, due_at, done_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (kind, source_ref) do update set done_at = coalesce(excluded.done_at, regulatory_events.done_at)
       where regulatory_events.done_at is null and excluded.done_at is not null
     returning xmax = 0 as inserted`,
    [
      e.kind,
      e.sourceRef,
      ent.id,
      ent.districtId,
      e.occurredAt,
      e.rule ?? null,
      e.outcome ?? null,
      e.dueAt ?? null,
      e.doneAt ?? null,
    ],
  );
  return (rows[0] as { inserted?: boolean } | undefined)?.inserted === true;
}

export interface ReportFigures {
  offsiteChecks: number;
  deviations: { rule: string; outcome: string; count: number }[];
  deviationsTotal: number;
  remindersSent: number;
  remindersAcknowledged: number;
  rectifications: { total: number; inTime: number; late: number; open: number };
  penaltiesWaived: number;
  casesReferred: number;
  complaints: { received: number; acknowledgedInTime: number; resolvedInTime: number };
  inspections: { drawnOnSite: number; recorded: number; problemsFound: number };
}

async function figures(
  db: Queryable,
  districtId: string | null,
  from: Date,
  to: Date,
): Promise<ReportFigures> {
  const p = [districtId, from, to];
  const ledger = `from regulatory_events where ($1::text is null or district_id = $1) and occurred_at >= $2 and occurred_at < $3`;
  const [counts] = await query<Record<string, number>>(
    db,
    'report counts',
    `select count(*) filter (where kind = 'offsite-check')::int as offsite_checks,
            count(*) filter (where kind = 'reminder-sent')::int as reminders_sent,
            count(*) filter (where kind = 'reminder-acknowledged')::int as reminders_acknowledged,
            count(*) filter (where kind = 'rectification')::int as rect_total,
            count(*) filter (where kind = 'rectification' and done_at is not null and done_at <= due_at)::int as rect_in_time,
            count(*) filter (where kind = 'rectification' and done_at is not null and done_at > due_at)::int as rect_late,
            count(*) filter (where kind = 'rectification' and done_at is null)::int as rect_open,
            count(*) filter (where kind = 'penalty-waived')::int as penalties_waived,
            count(*) filter (where kind = 'case-referred')::int as cases_referred
       ${ledger}`,
    p,
  );
  // Reminders the alerter delivered (its read API, migration 013): one per notification group and enterprise
  // contact that received at least one reminder or escalation in the period, whatever the number of
  // channels and rounds; acknowledged = the contact answered on the acknowledgement page in the
  // period. The group's enterprise (hence district) comes from its cases. The alerter does not write
  // the ledger, so ledger `reminder-*` rows (reminders made outside the alerter) add to these.
  const [alerts] = await query<{ sent: number; acknowledged: number }>(
    db,
    'report alerter reminders',
    `with groups as (
       select distinct c.group_key from alerter_cases_v1 c join enterprises e on e.id = c.enterprise_id
        where c.group_key is not null and ($1::text is null or e.district_id = $1))
     select (select count(*)::int from (
               select distinct n.group_key, n.recipient_id from alerter_notifications_v1 n join groups g using (group_key)
                where n.kind in ('reminder', 'escalation') and n.recipient_kind = 'enterprise-contact'
                  and n.status = 'sent' and n.sent_at >= $2 and n.sent_at < $3) s) as sent,
            (select count(*)::int from alerter_acknowledgements_v1 a join groups g using (group_key)
              where a.acknowledged_at >= $2 and a.acknowledged_at < $3) as acknowledged`,
    p,
  );
  const deviations = await query<{ rule: string; outcome: string; count: number }>(
    db,
    'report deviations',
    `select coalesce(rule, 'unknown') as rule, coalesce(outcome, 'open') as outcome, count(*)::int as count
       ${ledger} and kind = 'deviation' group by 1, 2 order by 1, 2`,
    p,
  );
  const [complaints] = await query<{ received: number; ack_in_time: number; resolved_in_time: number }>(
    db,
    'report complaints',
    `select count(*)::int as received,
            count(*) filter (where acknowledged_at is not null and acknowledged_at <= ack_due_at)::int as ack_in_time,
            count(*) filter (where resolved_at is not null and resolved_at <= resolve_due_at)::int as resolved_in_time
       from complaints where ($1::text is null or district_id = $1) and received_at >= $2 and received_at < $3`,
    p,
  );
  const [insp] = await query<{ recorded: number; problems: number }>(
    db,
    'report inspections',
    `select count(*)::int as recorded, count(*) filter (where result = 'problem-found')::int as problems
       from inspection_targets where ($1::text is null or district_id = $1) and recorded_at >= $2 and recorded_at < $3
        and result <> 'pending'`,
    p,
  );
  const [drawn] = await query<{ n: number }>(
    db,
    'report drawn',
    `select count(*)::int as n from inspection_targets t join inspection_draws d on d.id = t.draw_id
      where ($1::text is null or t.district_id = $1) and d.created_at >= $2 and d.created_at < $3 and t.mode = 'on-site'`,
    p,
  );
  const c = counts ?? {};
  const n = (k: string): number => c[k] ?? 0;
  return {
    offsiteChecks: n('offsite_checks'),
    deviations,
    deviationsTotal: deviations.reduce((s, d) => s + d.count, 0),
    remindersSent: n('reminders_sent') + (alerts?.sent ?? 0),
    remindersAcknowledged: n('reminders_acknowledged') + (alerts?.acknowledged ?? 0),
    rectifications: {
      total: n('rect_total'),
      inTime: n('rect_in_time'),
      late: n('rect_late'),
      open: n('rect_open'),
    },
    penaltiesWaived: n('penalties_waived'),
    casesReferred: n('cases_referred'),
    complaints: {
      received: complaints?.received ?? 0,
      acknowledgedInTime: complaints?.ack_in_time ?? 0,
      resolvedInTime: complaints?.resolved_in_time ?? 0,
    },
    inspections: {
      drawnOnSite: drawn?.n ?? 0,
      recorded: insp?.recorded ?? 0,
      problemsFound: insp?.problems ?? 0,
    },
  };
}

export interface MonthlyReport {
  districtId: string;
  districtNameZh: string;
  month: string;
  from: string;
  to: string;
  /** 25th of the following month, end of day Asia/Shanghai. */
  dueAt: string;
  /** 20th of the following month, 09:00 Asia/Shanghai. */
  remindAt: string;
  submitted: { by: string; at: string } | null;
  figures: ReportFigures;
}

export function reportDeadlines(month: string): { dueAt: Date; remindAt: Date } {
  const next = monthRange(month).nextFirstDay;
  return { dueAt: shanghaiTime(addDays(next, 24), 23, 59), remindAt: shanghaiTime(addDays(next, 19), 9) };
}

async function districtInScope(db: Queryable, scope: Scope, districtId: string): Promise<string> {
  if (scope.districtId !== null && scope.districtId !== districtId) {
    throw regulationError('OUT_OF_SCOPE', `district ${districtId} not found`);
  }
  const [row] = await query<{ name_zh: string }>(
    db,
    'load district',
    `select name_zh from districts where id = $1`,
    [districtId],
  );
  if (!row) throw regulationError('NOT_FOUND', `district ${districtId} not found`);
  return row.name_zh;
}

export async function monthlyReport(
  db: Queryable,
  scope: Scope,
  districtId: string,
  month: string,
): Promise<MonthlyReport> {
  const nameZh = await districtInScope(db, scope, districtId);
  const range = monthRange(month);
  const { dueAt, remindAt } = reportDeadlines(month);
  const [sub] = await query<{ submitted_by: string; submitted_at: Date }>(
    db,
    'load submission',
    `select submitted_by, submitted_at from district_reports where district_id = $1 and month = $2::date`,
    [districtId, range.firstDay],
  );
  return {
    districtId,
    districtNameZh: nameZh,
    month,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    dueAt: dueAt.toISOString(),
    remindAt: remindAt.toISOString(),
    submitted: sub ? { by: sub.submitted_by, at: sub.submitted_at.toISOString() } : null,
    figures: await figures(db, districtId, range.from, range.to),
  };
}

export async function submitMonthlyReport(
  db: Queryable,
  scope: Scope,
  districtId: string,
  month: string,
): Promise<void> {
  requireCapability(scope, 'submitReport');
  await districtInScope(db, scope, districtId);
  await query(
    db,
    'submit report',
    `insert into district_reports (district_id, month, submitted_by) values ($1, $2::date, $3) on conflict do nothing`,
    [districtId, monthRange(month).firstDay, scope.userId],
  );
}

export interface PeriodSummary {
  from: string;
  to: string;
  districts: { districtId: string; districtNameZh: string; figures: ReportFigures }[];
  total: ReportFigures;
}

export async function periodSummary(
  db: Queryable,
  scope: Scope,
  from: Date,
  to: Date,
): Promise<PeriodSummary> {
  if (!(from < to)) throw regulationError('INVALID_INPUT', 'period summary needs from < to');
  const districts = await query<{ id: string; name_zh: string }>(
    db,
    'list districts',
    `select id, name_zh from districts where ($1::text is null or id = $1) order by id`,
    [scope.districtId],
  );
  const rows = [];
  for (const d of districts)
    rows.push({ districtId: d.id, districtNameZh: d.name_zh, figures: await figures(db, d.id, from, to) });
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    districts: rows,
    total: await figures(db, scope.districtId, from, to),
  };
}

const FIGURE_COLUMNS: { key: string; zh: string; get: (f: ReportFigures) => number }[] = [
  { key: 'offsiteChecks', zh: '非现场检查', get: (f) => f.offsiteChecks },
  { key: 'deviationsTotal', zh: '异常线索', get: (f) => f.deviationsTotal },
  { key: 'remindersSent', zh: '提醒发送', get: (f) => f.remindersSent },
  { key: 'remindersAcknowledged', zh: '提醒已确认', get: (f) => f.remindersAcknowledged },
  { key: 'rectificationsTotal', zh: '整改总数', get: (f) => f.rectifications.total },
  { key: 'rectifiedInTime', zh: '按期整改', get: (f) => f.rectifications.inTime },
  { key: 'rectifiedLate', zh: '逾期整改', get: (f) => f.rectifications.late },
  { key: 'rectificationsOpen', zh: '未完成整改', get: (f) => f.rectifications.open },
  { key: 'penaltiesWaived', zh: '轻微违法免罚', get: (f) => f.penaltiesWaived },
  { key: 'casesReferred', zh: '移送案件', get: (f) => f.casesReferred },
  { key: 'complaintsReceived', zh: '信访举报受理', get: (f) => f.complaints.received },
  { key: 'complaintsResolvedInTime', zh: '信访按期办结', get: (f) => f.complaints.resolvedInTime },
  { key: 'inspectionsRecorded', zh: '随机抽查已检查', get: (f) => f.inspections.recorded },
  { key: 'inspectionProblemsFound', zh: '抽查发现问题', get: (f) => f.inspections.problemsFound },
];

export function monthlyReportCsv(r: MonthlyReport): string {
  const rows: (string | number)[][] = FIGURE_COLUMNS.map((c) => [
    r.districtId,
    r.month,
    c.key,
    c.zh,
    c.get(r.figures),
  ]);
  for (const d of r.figures.deviations)
    rows.push([
      r.districtId,
      r.month,
      `deviations:${d.rule}:${d.outcome}`,
      `异常线索（${d.rule} / ${d.outcome}）`,
      d.count,
    ]);
  return toCsv(['区县 District', '月份 Month', '指标 Metric', '指标名称 Name', '数值 Value'], rows);
}

export function periodSummaryCsv(s: PeriodSummary): string {
  const header = ['区县 District', '区县名称 Name', ...FIGURE_COLUMNS.map((c) => `${c.zh} ${c.key}`)];
  const rows = s.districts.map((d) => [
    d.districtId,
    d.districtNameZh,
    ...FIGURE_COLUMNS.map((c) => c.get(d.figures)),
  ]);
  rows.push(['total', '合计', ...FIGURE_COLUMNS.map((c) => c.get(s.total))]);
  return toCsv(header, rows);
}

export interface ReportReminder {
  districtId: string;
  month: string;
  dueAt: string;
  officers: { id: string; name: string; phone: string | null; email: string | null }[];
}

/**
 * Districts whose report for the previous month is not submitted, with their officers, when `now`
 * is on or after the reminder time (20th, 09:00) and before the due date. Called by the scheduled
 * reminder job; also safe to call on any day (returns nothing outside the window).
 */
export async function dueReportReminders(db: Queryable, now: Date): Promise<ReportReminder[]> {
  const today = shanghaiDate(now);
  const prev = monthRange(today.slice(0, 7));
  const prevMonth = addDays(prev.firstDay, -1).slice(0, 7);
  const { dueAt, remindAt } = reportDeadlines(prevMonth);
  if (now < remindAt || now > dueAt) return [];
  const rows = await query<{ id: string; officers: ReportReminder['officers'] }>(
    db,
    'due report reminders',
    `select d.id,
            coalesce((select json_agg(json_build_object('id', i.id, 'name', i.name, 'phone', i.phone, 'email', i.email) order by i.id)
                        from inspectors i where i.district_id = d.id and i.is_officer and i.active), '[]'::json) as officers
       from districts d
      where not exists (select 1 from district_reports r where r.district_id = d.id and r.month = $1::date)
      order by d.id`,
    [`${prevMonth}-01`],
  );
  return rows.map((r) => ({
    districtId: r.id,
    month: prevMonth,
    dueAt: dueAt.toISOString(),
    officers: r.officers,
  }));
}
