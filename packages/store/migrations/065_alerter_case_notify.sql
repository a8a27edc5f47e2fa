-- Owner: services/alerter (migrations 010-019, 065). The alerter announces every change of a case it
-- holds on the Postgres channel `alerter_cases_changed`, part of its read API beside `alerter_cases_v1`:
-- the payload is the deviation id, sent after the transaction that changed it commits, when
-- - its row in alert_cases is inserted or updated (a new revision, grouping, suppression);
-- - a notification naming it (deviation_ids) is inserted or changes status;
-- - an enterprise acknowledges the group it belongs to (once per case of the group).
-- Listeners (the console's live updates) re-read `alerter_cases_v1`. These replace the triggers another
-- service had put on these tables (migration 021).
drop trigger alert_cases_console_notify on alert_cases;
drop trigger alert_notifications_console_notify on alert_notifications;
drop trigger alert_acknowledgements_console_notify on alert_acknowledgements;

create function alerter_case_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('alerter_cases_changed', new.deviation_id);
  return null;
end $$;
create trigger alert_cases_changed_notify after insert or update on alert_cases
  for each row execute function alerter_case_notify();

create function alerter_notification_notify() returns trigger language plpgsql as $$
declare
  id text;
begin
  foreach id in array new.deviation_ids loop
    perform pg_notify('alerter_cases_changed', id);
  end loop;
  return null;
end $$;
create trigger alert_notifications_changed_notify after insert or update of status on alert_notifications
  for each row execute function alerter_notification_notify();

create function alerter_ack_notify() returns trigger language plpgsql as $$
declare
  id text;
begin
  for id in select deviation_id from alert_cases where group_key = new.group_key loop
    perform pg_notify('alerter_cases_changed', id);
  end loop;
  return null;
end $$;
create trigger alert_acknowledgements_changed_notify after insert on alert_acknowledgements
  for each row execute function alerter_ack_notify();
