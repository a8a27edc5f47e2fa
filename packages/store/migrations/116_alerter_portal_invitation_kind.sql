-- Owner: services/alerter. The console's invitations to the enterprise portal are delivered as
-- message requests of their own kind (`portal-invitation`), e-mailed to the invitee.
alter table alert_notifications drop constraint alert_notifications_kind_check;
alter table alert_notifications add constraint alert_notifications_kind_check
  check (kind in ('reminder', 'escalation', 'resolved', 'supervisor-alert',
                  'complaint-reminder', 'report-reminder', 'outreach', 'portal-invitation'));
