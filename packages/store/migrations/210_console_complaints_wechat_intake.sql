-- Owner: console. Complaints that come in through the WeChat official account (complaint.intake.v1,
-- passed on by the alerter): recorded once per intake id, before anyone knows the enterprise. Such a
-- complaint has no enterprise and no district until an officer assigns the enterprise; until then only
-- city-wide roles see it (district scoping filters on district_id).
alter table complaints alter column enterprise_id drop not null;
alter table complaints alter column district_id drop not null;
-- The intake event's id (`wechat:<account>:<MsgId>`): a redelivered message is the same complaint.
alter table complaints add column intake_id text unique;
-- The sender on the channel (WeChat: openid). Personal data: shown masked, never logged or exported.
alter table complaints add column source_ref text check (source_ref ~ '^[A-Za-z0-9_-]{1,64}$');
alter table complaints add constraint complaints_enterprise_and_district
  check ((enterprise_id is null) = (district_id is null));
-- Only a complaint from an intake may wait for its enterprise; the console's own form always names one.
alter table complaints add constraint complaints_unassigned_from_intake
  check (enterprise_id is not null or intake_id is not null);
create index complaints_unassigned_idx on complaints (received_at) where enterprise_id is null;
