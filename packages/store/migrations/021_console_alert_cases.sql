-- Console: deviation cases come from the alerter (`alert_cases`, migration 010), which upserts one
-- row per deviation id from deviation.v1. The console keeps only its review state next to it
-- (`review_states`, same key), so the queue shows every case the pipeline produced. The former
-- `review_cases` table (020, filled only by tests and demos) is folded into the alerter's table and
-- replaced by a view of the same name and columns, which the analyzer reads for confirmed
-- falsifications.

create table review_states (
  deviation_id        text primary key references alert_cases (deviation_id),
  review_state        text not null default 'new' check (review_state in (
                        'new', 'acknowledged', 'rectification-requested', 'inspection', 'confirmed',
                        'dismissed', 'closed')),
  assignee_id         bigint references console_users (id),
  rectification_due   date,
  decision            text check (decision in ('no-penalty', 'penalty', 'judicial-referral')),
  dismiss_reason      text,
  enterprise_ack_at   timestamptz,
  enterprise_ack_by   bigint references console_users (id),
  enterprise_ack_note text,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);
create index review_states_state_idx on review_states (review_state);
create trigger review_states_touch before update on review_states
  for each row execute function registry_touch_updated_at();

-- Keep what the console held before: its cases become alerter cases (unless the alerter already
-- has them), their review state moves to review_states.
insert into alert_cases (deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
                         suspected_falsification, in_resumption_window, opened_at, resolved_at, event)
select rc.deviation_id, rc.revision, rc.deviation_state, rc.rule, rc.severity, rc.enterprise_id, rc.site_id,
       rc.factor, rc.suspected_falsification, rc.in_resumption_window, rc.opened_at, rc.resolved_at,
       jsonb_strip_nulls(jsonb_build_object(
         'schema', 'deviation.v1', 'id', rc.deviation_id, 'rule', rc.rule, 'state', rc.deviation_state,
         'revision', rc.revision, 'severity', rc.severity, 'enterpriseId', rc.enterprise_id,
         'siteId', rc.site_id, 'factor', rc.factor,
         'windowStart', to_char(rc.window_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'windowEnd', to_char(rc.window_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'openedAt', to_char(rc.opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'resolvedAt', to_char(rc.resolved_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'suspectedFalsification', rc.suspected_falsification,
         'inResumptionWindow', rc.in_resumption_window, 'evidence', rc.evidence,
         'emittedAt', to_char(rc.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
  from review_cases rc
on conflict (deviation_id) do nothing;

insert into review_states (deviation_id, review_state, assignee_id, rectification_due, decision, dismiss_reason,
                           enterprise_ack_at, enterprise_ack_by, enterprise_ack_note, created_at, updated_at)
select deviation_id, review_state, assignee_id, rectification_due, decision, dismiss_reason,
       enterprise_ack_at, enterprise_ack_by, enterprise_ack_note, created_at, updated_at
  from review_cases;

alter table review_comments drop constraint review_comments_deviation_id_fkey;
alter table review_comments add constraint review_comments_case_fkey
  foreign key (deviation_id) references alert_cases (deviation_id);

drop table review_cases;
drop function review_cases_notify();

-- One row per case: the alerter's latest revision and the console's review state.
create view review_cases as
select ac.deviation_id, ac.enterprise_id, ac.site_id, ac.rule, ac.factor, ac.severity,
       ac.state as deviation_state, ac.revision,
       coalesce((ac.event ->> 'windowStart')::timestamptz, ac.opened_at) as window_start,
       (ac.event ->> 'windowEnd')::timestamptz as window_end,
       ac.opened_at, ac.resolved_at, ac.suspected_falsification, ac.in_resumption_window,
       coalesce(ac.event -> 'evidence', '{}'::jsonb) as evidence,
       ac.group_key, ac.policy as alert_policy, ac.suppressed_reason,
       coalesce(rs.review_state, 'new') as review_state, rs.assignee_id, rs.rectification_due, rs.decision,
       rs.dismiss_reason, rs.enterprise_ack_at, rs.enterprise_ack_by, rs.enterprise_ack_note,
       ac.created_at, greatest(ac.updated_at, rs.updated_at) as updated_at
  from alert_cases ac left join review_states rs on rs.deviation_id = ac.deviation_id;

-- The detail page lists the notifications of a case: they name their cases in deviation_ids.
create index if not exists alert_notifications_deviation_ids_idx on alert_notifications using gin (deviation_ids);

-- Live updates (SSE): every change of a case, its review state, its notifications or the
-- enterprise's acknowledgement notifies `console_cases_changed` with the deviation id.
create function console_case_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('console_cases_changed', new.deviation_id);
  return null;
end $$;
create trigger alert_cases_console_notify after insert or update on alert_cases
  for each row execute function console_case_notify();
create trigger review_states_console_notify after insert or update on review_states
  for each row execute function console_case_notify();

create function console_notification_notify() returns trigger language plpgsql as $$
declare
  id text;
begin
  foreach id in array new.deviation_ids loop
    perform pg_notify('console_cases_changed', id);
  end loop;
  return null;
end $$;
create trigger alert_notifications_console_notify after insert or update of status on alert_notifications
  for each row execute function console_notification_notify();

create function console_ack_notify() returns trigger language plpgsql as $$
declare
  id text;
begin
  for id in select deviation_id from alert_cases where group_key = new.group_key loop
    perform pg_notify('console_cases_changed', id);
  end loop;
  return null;
end $$;
create trigger alert_acknowledgements_console_notify after insert on alert_acknowledgements
  for each row execute function console_ack_notify();
