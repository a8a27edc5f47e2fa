-- Regulatory features (@offsite/regulation, migrations 040–049): positive-list decisions and removal
-- proposals, the inspector roster and recusals, seeded random-inspection draws and their targets,
-- complaints with their status history and verification tasks, outreach campaigns and messages,
-- the supervision-outcome ledger the reports read, and district monthly report submissions.
-- Every instant is timestamptz (UTC); months and validity periods are Asia/Shanghai calendar dates.

-- Positive list (正面清单): an append-only history of supervisors' decisions. The current list is the
-- latest decision per enterprise when it is an `add` whose validity period covers the day.
create table positive_list_decisions (
  id             bigint generated always as identity primary key,
  enterprise_id  text not null references enterprises (id),
  action         text not null check (action in ('add', 'remove')),
  reason         text not null check (length(reason) between 1 and 2000),
  valid_from     date not null,
  valid_until    date,
  decided_by     text not null,
  decided_at     timestamptz not null default now(),
  -- The eligibility evaluation shown to the supervisor when deciding (criteria with values).
  eligibility    jsonb,
  proposal_id    bigint,
  check (valid_until is null or valid_until >= valid_from),
  check (action = 'add' or valid_until is null)
);
create index positive_list_decisions_enterprise_idx on positive_list_decisions (enterprise_id, id desc);

create function regulation_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only', tg_table_name using errcode = '55000';
end $$;
create trigger positive_list_decisions_append_only before update or delete on positive_list_decisions
  for each row execute function regulation_refuse_change();

-- A confirmed serious violation, confirmed falsification or incident proposes removal at once; a
-- supervisor accepts (which records a `remove` decision) or dismisses it.
create table positive_list_removal_proposals (
  id             bigint generated always as identity primary key,
  enterprise_id  text not null references enterprises (id),
  trigger        text not null check (trigger in ('serious-violation', 'falsification', 'incident')),
  -- What caused it (a case id, a violation id): one proposal per cause.
  source_ref     text not null check (length(source_ref) between 1 and 200),
  note           text,
  status         text not null default 'open' check (status in ('open', 'accepted', 'dismissed')),
  proposed_by    text not null,
  proposed_at    timestamptz not null default now(),
  resolved_by    text,
  resolved_at    timestamptz,
  unique (enterprise_id, trigger, source_ref)
);

-- Inspector roster (执法检查人员名录) and declared recusals (回避).
create table inspectors (
  id           text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name         text not null check (length(name) between 1 and 100),
  district_id  text references districts (id),
  phone        text,
  email        text,
  -- Officers receive the district monthly-report reminders.
  is_officer   boolean not null default false,
  active       boolean not null default true,
  created_at   timestamptz not null default now()
);
create table inspector_recusals (
  inspector_id   text not null references inspectors (id),
  enterprise_id  text not null references enterprises (id),
  reason         text not null,
  declared_at    timestamptz not null default now(),
  primary key (inspector_id, enterprise_id)
);

-- Random-inspection draws (双随机、一公开). `seed` is published; `inputs_digest` is the sha256 of the
-- canonical inputs, so anyone re-running the draw can check they used the same population and roster.
create table inspection_draws (
  id              bigint generated always as identity primary key,
  period          text not null check (period ~ '^[0-9]{4}-(Q[1-4]|[0-9]{2}|H[12])$'),
  district_id     text references districts (id),
  seed            text not null check (length(seed) between 1 and 200),
  config          jsonb not null,
  -- The canonical inputs (population, roster, recusals), so the published draw can be re-run.
  inputs          jsonb not null,
  inputs_digest   text not null,
  algorithm       text not null,
  created_by      text not null,
  created_at      timestamptz not null default now(),
  published_at    timestamptz
);
create unique index inspection_draws_period_scope_idx on inspection_draws (period, coalesce(district_id, ''));

create table inspection_targets (
  draw_id        bigint not null references inspection_draws (id),
  enterprise_id  text not null references enterprises (id),
  district_id    text not null,
  stratum        text not null check (stratum in ('key', 'special', 'general', 'positive-list')),
  mode           text not null check (mode in ('on-site', 'off-site')),
  weight         double precision not null check (weight > 0),
  rank           integer not null,
  inspector_ids  text[] not null,
  result         text not null default 'pending'
                 check (result in ('pending', 'no-problem', 'problem-found', 'not-inspected')),
  result_note    text,
  case_id        text,
  recorded_by    text,
  recorded_at    timestamptz,
  primary key (draw_id, enterprise_id)
);

-- Complaints (信访举报).
create table complaints (
  id               bigint generated always as identity primary key,
  channel          text not null check (channel in ('hotline', 'wechat', 'web')),
  enterprise_id    text not null references enterprises (id),
  district_id      text not null,
  urgency          text not null check (urgency in ('normal', 'urgent')),
  summary          text not null check (length(summary) between 1 and 4000),
  -- Personal data of the complainant: shown only to the assignee's district; never exported.
  complainant      text,
  status           text not null default 'received'
                   check (status in ('received', 'acknowledged', 'investigating', 'resolved', 'closed', 'rejected')),
  assignee         text,
  received_at      timestamptz not null,
  ack_due_at       timestamptz not null,
  resolve_due_at   timestamptz not null,
  acknowledged_at  timestamptz,
  resolved_at      timestamptz,
  created_by       text not null,
  created_at       timestamptz not null default now()
);
create index complaints_district_idx on complaints (district_id, status);

create table complaint_events (
  id            bigint generated always as identity primary key,
  complaint_id  bigint not null references complaints (id),
  from_status   text,
  to_status     text not null,
  actor         text not null,
  note          text,
  at            timestamptz not null default now()
);
create trigger complaint_events_append_only before update or delete on complaint_events
  for each row execute function regulation_refuse_change();

create table verification_tasks (
  id             bigint generated always as identity primary key,
  complaint_id   bigint not null unique references complaints (id),
  enterprise_id  text not null references enterprises (id),
  kind           text not null check (kind in ('on-site-verification')),
  status         text not null default 'open' check (status in ('open', 'done', 'cancelled')),
  created_at     timestamptz not null default now()
);

-- Outreach campaigns (bulk SMS/email) and one row per message, which carries the delivery status.
create table campaigns (
  id           bigint generated always as identity primary key,
  name         text not null check (length(name) between 1 and 200),
  channel      text not null check (channel in ('sms', 'email')),
  template     jsonb not null,
  audience     jsonb not null,
  district_id  text,
  created_by   text not null,
  created_at   timestamptz not null default now()
);
create table campaign_messages (
  id             bigint generated always as identity primary key,
  campaign_id    bigint not null references campaigns (id),
  enterprise_id  text not null references enterprises (id),
  contact_id     bigint not null,
  address        text not null,
  language       text not null,
  subject        text,
  body           text not null,
  status         text not null default 'queued' check (status in ('queued', 'sent', 'failed')),
  attempts       integer not null default 0,
  last_error     text,
  provider_ref   text,
  sent_at        timestamptz,
  unique (campaign_id, contact_id)
);
create index campaign_messages_campaign_idx on campaign_messages (campaign_id, status);

-- Supervision-outcome ledger the reports aggregate. The console and alerter record each outcome once
-- (`source_ref` makes recording idempotent): off-site checks, deviations closed with their outcome,
-- reminders sent / acknowledged, rectifications with due and done times, penalties waived, referrals.
create table regulatory_events (
  id             bigint generated always as identity primary key,
  kind           text not null check (kind in ('offsite-check', 'deviation', 'reminder-sent', 'reminder-acknowledged',
                                               'rectification', 'penalty-waived', 'case-referred')),
  source_ref     text not null check (length(source_ref) between 1 and 200),
  enterprise_id  text not null references enterprises (id),
  district_id    text not null,
  occurred_at    timestamptz not null,
  rule           text,
  outcome        text,
  due_at         timestamptz,
  done_at        timestamptz,
  unique (kind, source_ref)
);
create index regulatory_events_district_idx on regulatory_events (district_id, occurred_at);

-- Monthly district reports: `month` is the first day of the reported month; due the 25th of the next.
create table district_reports (
  district_id   text not null references districts (id),
  month         date not null check (extract(day from month) = 1),
  submitted_by  text not null,
  submitted_at  timestamptz not null default now(),
  primary key (district_id, month)
);
