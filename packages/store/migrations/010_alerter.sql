-- Alerter: deviation cases (latest revision per deviation id), notifications (one row per
-- (group, recipient, channel, round) = the BullMQ job id, written as `sending` before the provider
-- is called), every delivery attempt, and enterprise acknowledgements.

create table alert_cases (
  deviation_id            text primary key,
  revision                integer not null check (revision >= 1),
  state                   text not null check (state in ('opened', 'updated', 'resolved')),
  rule                    text not null,
  severity                text not null,
  enterprise_id           text not null,
  site_id                 text not null,
  factor                  text,
  suspected_falsification boolean not null,
  in_resumption_window    boolean not null,
  opened_at               timestamptz not null,
  resolved_at             timestamptz,
  event                   jsonb not null,
  -- Notification group (enterprise + policy + group-wait bucket); null until planned.
  group_key               text,
  policy                  text,
  -- Why no one was notified (maintenance window, inhibited by offline, no matching policy).
  suppressed_reason       text,
  created_at              timestamptz not null default now(),
  updated_at              timestamptz not null default now()
);
create index alert_cases_group_idx on alert_cases (group_key) where group_key is not null;
create index alert_cases_enterprise_idx on alert_cases (enterprise_id, state);

create table alert_notifications (
  id                   text primary key,
  group_key            text not null,
  deviation_ids        text[] not null,
  kind                 text not null check (kind in ('reminder', 'escalation', 'resolved', 'supervisor-alert')),
  round                integer not null check (round >= 1),
  recipient_kind       text not null check (recipient_kind in ('enterprise-contact', 'supervisor')),
  recipient_id         text not null,
  address_masked       text not null,
  channel              text not null check (channel in ('email', 'sms', 'outbox')),
  status               text not null check (status in ('sending', 'sent', 'failed')),
  provider             text,
  provider_message_id  text,
  attempts             integer not null default 0,
  sent_at              timestamptz,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now()
);
create index alert_notifications_group_idx on alert_notifications (group_key);

create table alert_delivery_attempts (
  id                   bigint generated always as identity primary key,
  notification_id      text not null references alert_notifications (id),
  attempt              integer not null,
  provider             text not null,
  provider_message_id  text,
  status               text not null check (status in ('sent', 'failed')),
  error_code           text,
  error_message        text,
  latency_ms           integer,
  at                   timestamptz not null default now()
);
create index alert_delivery_attempts_notification_idx on alert_delivery_attempts (notification_id);

create table alert_acknowledgements (
  group_key        text not null,
  recipient_id     text not null,
  cause            text not null check (length(cause) between 1 and 2000),
  expected_fix_at  timestamptz,
  acknowledged_at  timestamptz not null default now(),
  primary key (group_key, recipient_id)
);
