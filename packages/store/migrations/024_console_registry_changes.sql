-- Owner: console. Registry changes made in the console that relax supervision (a permit limit raised,
-- a device disabled, a maintenance window longer than the configured bound) wait here for a second
-- person at city level; the change is applied to the registry only when approved. `change` is the
-- request as the API received it (never a secret: a rotated PW is applied at once, never queued).
create table registry_change_requests (
  id             bigint generated always as identity primary key,
  enterprise_id  text not null references enterprises (id),
  district_id    text not null references districts (id),
  kind           text not null check (kind in ('status', 'maintenance', 'maintenance-end', 'device', 'meter',
                                               'contact', 'contact-delete', 'limit')),
  target         text not null,
  change         jsonb not null,
  -- Why this change needs approval, bilingual (e.g. 限值放宽 / limit raised).
  relaxes        text not null,
  before         jsonb,
  state          text not null default 'pending' check (state in ('pending', 'approved', 'rejected')),
  requested_by   bigint not null references console_users (id),
  requested_at   timestamptz not null default now(),
  decided_by     bigint references console_users (id),
  decided_at     timestamptz,
  decision_note  text,
  check ((state = 'pending') = (decided_at is null)),
  check (decided_by is null or decided_by <> requested_by)
);
create index registry_change_requests_pending_idx on registry_change_requests (district_id, requested_at)
  where state = 'pending';

-- People the alerter reaches (escalations, supervisor alerts): console users with their duty. On duty
-- by default; an admin takes someone off duty in the console. Contact addresses are the user's own.
alter table console_users
  add column email   text check (email is null or email ~ '^[^@\s]+@[^@\s]+$'),
  add column phone   text check (phone is null or phone ~ '^\+?[0-9]{5,20}$'),
  add column on_duty boolean not null default true,
  -- Also an inspector (检查人员) for random-inspection draws, whatever the main role.
  add column inspector boolean not null default false;

-- Read API for the alerter: who to notify, by role and district. Enabled, on-duty staff with an address.
create view console_recipients_v1 as
  select id::text as user_id, username, display_name, role, district_id, email, phone, 'zh'::text as language
    from console_users
   where not disabled and on_duty and role in ('city-supervisor', 'district-officer')
     and (email is not null or phone is not null);
