// The figures of districts' monthly submissions and period summaries over Postgres: from the
// supervision-outcome ledger (`regulatory_events`, recorded once per outcome by the console), the
// complaints, the inspection targets and the alerter's read API; the CSV is @offsite/regulation's.
// The figures have no due date or submission of their own: the submission (../submissions.ts) freezes
// them in its versions, and `monthlyReport` is their live preview.
import { monthRange } from '@offsite/domain/calendar';
import {
  regulationError,
  requireCapability,
  type MonthlyReport,
  type OutcomeEvent,
  type PeriodSummary,
  type ReportFigures,
  type Scope,
} from '@offsite/regulation';
import { query, type Queryable } from './db.js';
import { enterpriseInScope } from './positive-list.js';

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

/** A district's (or, with null, the city's) report figures over [from, to). */
export async function reportFigures(
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
  // Discretion records (migration 075) count in the month their approver approved them.
  const [disc] = await query<Record<string, number>>(
    db,
    'report discretion',
    `with d as (select b.kind from discretion_decisions x join discretion_legal_bases b on b.code = x.basis_code
                 where x.status = 'approved' and ($1::text is null or x.district_id = $1)
                   and x.approved_at >= $2 and x.approved_at < $3),
          m as (select kind from coercive_measures
                 where status = 'approved' and ($1::text is null or district_id = $1)
                   and approved_at >= $2 and approved_at < $3)
     select (select count(*) from d where kind = 'minor')::int as minor,
            (select count(*) from d where kind = 'first-violation')::int as first_violation,
            (select count(*) from d where kind = 'force-majeure')::int as force_majeure,
            (select count(*) from rectification_extensions
              where status = 'approved' and ($1::text is null or district_id = $1)
                and approved_at >= $2 and approved_at < $3)::int as extensions,
            (select count(*) from m where kind = 'seal-up')::int as seal_up,
            (select count(*) from m where kind = 'seizure')::int as seizure,
            (select count(*) from m where kind = 'limit-production')::int as limit_production,
            (select count(*) from m where kind = 'suspend-production')::int as suspend_production`,
    p,
  );
  // Whistle-blower rewards (migration 106) count in the month they were approved, paid or not.
  const [rewards] = await query<{ approved: number; fen: string }>(
    db,
    'report rewards',
    `select count(*)::int as approved, coalesce(sum(amount_fen), 0)::text as fen from whistleblower_rewards
      where status in ('approved', 'paid') and ($1::text is null or district_id = $1)
        and decided_at >= $2 and decided_at < $3`,
    p,
  );
  const dn = (k: string): number => disc?.[k] ?? 0;
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
    discretion: {
      noPenalty: {
        minor: dn('minor'),
        firstViolation: dn('first_violation'),
        forceMajeure: dn('force_majeure'),
      },
      extensions: dn('extensions'),
      coerciveMeasures: {
        sealUp: dn('seal_up'),
        seizure: dn('seizure'),
        limitProduction: dn('limit_production'),
        suspendProduction: dn('suspend_production'),
      },
    },
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
    rewards: { approved: rewards?.approved ?? 0, amountYuan: Number(rewards?.fen ?? 0) / 100 },
  };
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
  return {
    districtId,
    districtNameZh: nameZh,
    month,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    figures: await reportFigures(db, districtId, range.from, range.to),
  };
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
    rows.push({
      districtId: d.id,
      districtNameZh: d.name_zh,
      figures: await reportFigures(db, d.id, from, to),
    });
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    districts: rows,
    total: await reportFigures(db, scope.districtId, from, to),
  };
}
