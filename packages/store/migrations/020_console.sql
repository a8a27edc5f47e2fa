-- Console (services/console): users, sessions, the review state of deviation cases, comments and the
-- append-only audit log. Migration numbers 020-029 belong to the console.

create table console_users (
  id             bigint generated always as identity primary key,
  username       text not null unique check (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
  display_name   text not null check (length(display_name) between 1 and 100),
  role           text not null check (role in ('admin', 'city-supervisor', 'district-officer', 'viewer', 'enterprise')),
  -- A district officer sees only its district; an enterprise user only its enterprise.
  district_id    text references districts (id),
  enterprise_id  text references enterprises (id),
  -- argon2id PHC string.
  password_hash  text not null,
  disabled       boolean not null default false,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  check ((role = 'district-officer') = (district_id is not null)),
  check ((role = 'enterprise') = (enterprise_id is not null))
);

-- Only the sha256 of the session token is stored; the cookie carries the token.
create table console_sessions (
  token_hash    text primary key,
  user_id       bigint not null references console_users (id) on delete cascade,
  csrf_token    text not null,
  created_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now(),
  expires_at    timestamptz not null
);
create index console_sessions_user_idx on console_sessions (user_id);
create index console_sessions_expiry_idx on console_sessions (expires_at);

-- Deviation cases as the console reviews them: the latest deviation.v1 revision plus the review
-- state. (The alerter keeps its own cases and notifications; the console reads those when present.)
create table review_cases (
  deviation_id            text primary key,
  enterprise_id           text not null references enterprises (id),
  site_id                 text not null,
  rule                    text not null,
  factor                  text,
  severity                text not null check (severity in ('info', 'low', 'medium', 'high', 'critical')),
  deviation_state         text not null check (deviation_state in ('opened', 'updated', 'resolved')),
  revision                integer not null check (revision >= 1),
  window_start            timestamptz not null,
  window_end              timestamptz,
  opened_at               timestamptz not null,
  resolved_at             timestamptz,
  suspected_falsification boolean not null default false,
  in_resumption_window    boolean not null default false,
  evidence                jsonb not null default '{}'::jsonb,
  -- Review workflow.
  review_state            text not null default 'new' check (review_state in (
                            'new', 'acknowledged', 'rectification-requested', 'inspection', 'confirmed',
                            'dismissed', 'closed')),
  assignee_id             bigint references console_users (id),
  rectification_due       date,
  decision                text check (decision in ('no-penalty', 'penalty', 'judicial-referral')),
  dismiss_reason          text,
  enterprise_ack_at       timestamptz,
  enterprise_ack_by       bigint references console_users (id),
  enterprise_ack_note     text,
  created_at              timestamptz not null default now(),
  updated_at              timestamptz not null default now()
);
create index review_cases_enterprise_idx on review_cases (enterprise_id, opened_at desc);
create index review_cases_queue_idx on review_cases (review_state, opened_at desc);

create table review_comments (
  id            bigint generated always as identity primary key,
  deviation_id  text not null references review_cases (deviation_id),
  author_id     bigint not null references console_users (id),
  body          text not null check (length(body) between 1 and 4000),
  created_at    timestamptz not null default now()
);
create index review_comments_case_idx on review_comments (deviation_id, created_at);

-- Append-only audit log of every state change: who, when, what, before/after. The district is
-- copied in so that the audit view can be scoped without joining rows that may change later.
create table audit_log (
  id           bigint generated always as identity primary key,
  at           timestamptz not null default now(),
  actor_id     bigint references console_users (id),
  actor_name   text not null,
  action       text not null,
  entity_type  text not null,
  entity_id    text not null,
  district_id  text,
  before       jsonb,
  after        jsonb,
  request_id   text
);
create index audit_log_entity_idx on audit_log (entity_type, entity_id, at);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();

create trigger console_users_touch before update on console_users
  for each row execute function registry_touch_updated_at();
create trigger review_cases_touch before update on review_cases
  for each row execute function registry_touch_updated_at();

-- Live updates for the review queue (SSE): payload is the deviation id.
create function review_cases_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('review_cases_changed', new.deviation_id);
  return null;
end $$;
create trigger review_cases_notify after insert or update on review_cases
  for each row execute function review_cases_notify();
