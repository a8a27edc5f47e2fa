-- Owner: services/alerter (migrations 010-019). The alerter also delivers messages other services
-- request on message.request.v1 (the console's complaint and monthly-report reminders to inspectors,
-- outreach to enterprise contacts): their notifications carry the request's kind and recipient kind,
-- the request id as their group and no deviation.
alter table alert_notifications drop constraint alert_notifications_kind_check;
alter table alert_notifications add constraint alert_notifications_kind_check
  check (kind in ('reminder', 'escalation', 'resolved', 'supervisor-alert',
                  'complaint-reminder', 'report-reminder', 'outreach'));
alter table alert_notifications drop constraint alert_notifications_recipient_kind_check;
alter table alert_notifications add constraint alert_notifications_recipient_kind_check
  check (recipient_kind in ('enterprise-contact', 'supervisor', 'inspector'));
