-- Owner: services/alerter (migrations 010-019). The alerter's read API: versioned views that other
-- services (the console's case pages, @offsite/regulation's reports) read instead of the alerter's
-- tables. The alerter may change its tables freely as long as these views keep their columns; a
-- column is removed or changed only in a new version (`…_v2`) created beside the old one.

-- One row per deviation case: its latest deviation.v1 revision and how the alerter planned it.
create view alerter_cases_v1 as
select deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
       suspected_falsification, in_resumption_window, opened_at, resolved_at,
       coalesce((event ->> 'windowStart')::timestamptz, opened_at) as window_start,
       (event ->> 'windowEnd')::timestamptz as window_end,
       coalesce(event -> 'evidence', '{}'::jsonb) as evidence,
       group_key, policy, suppressed_reason, created_at, updated_at
  from alert_cases;

-- Notifications (one per group, recipient, channel and round) with the addresses masked.
create view alerter_notifications_v1 as
select id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id, address_masked, channel,
       status, provider, attempts, sent_at, created_at
  from alert_notifications;

create view alerter_delivery_attempts_v1 as
select id, notification_id, attempt, provider, status, error_code, error_message, latency_ms, at
  from alert_delivery_attempts;

create view alerter_delivery_receipts_v1 as
select id, notification_id, provider, delivered, error_code, reported_at, received_at
  from alert_delivery_receipts;

-- Enterprises' acknowledgements through the alerter's acknowledgement page.
create view alerter_acknowledgements_v1 as
select group_key, recipient_id, cause, expected_fix_at, acknowledged_at
  from alert_acknowledgements;
