-- Owner: services/alerter. WeChat official-account template messages are a channel of their own (`wechat`).
alter table alert_notifications drop constraint alert_notifications_channel_check;
alter table alert_notifications add constraint alert_notifications_channel_check
  check (channel in ('email', 'sms', 'wechat', 'outbox'));
