-- Alerter: SMS delivery receipts posted by the providers (Aliyun SmsReport, Tencent callback),
-- one row per (provider, provider message id, recipient); a provider that repeats a receipt
-- does not add a row.

create table alert_delivery_receipts (
  id                   bigint generated always as identity primary key,
  notification_id      text not null references alert_notifications (id),
  provider             text not null,
  provider_message_id  text not null,
  phone_masked         text not null,
  delivered            boolean not null,
  error_code           text,
  error_message        text,
  reported_at          timestamptz,
  received_at          timestamptz not null default now(),
  unique (provider, provider_message_id, phone_masked)
);
create index alert_delivery_receipts_notification_idx on alert_delivery_receipts (notification_id);
