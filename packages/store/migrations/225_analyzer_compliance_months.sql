-- Owner: services/analyzer. The valid-hour compliance counts (domain-rules §4: compliant valid hours ÷ judged
-- valid hours; invalid hours and hours in declared maintenance are not judged) per Asia/Shanghai month, per
-- enterprise (site_id = '') and outlet, written by the stability job for each month its trailing window
-- overlaps. [hours_from, hours_to) is the part of the month judged: a later run replaces a row only when it
-- starts no later (the month at the window's start keeps the fuller figure an earlier run made).
create table analyzer_compliance_months (
  enterprise_id          text        not null,
  site_id                text        not null default '',
  month                  text        not null check (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  hours_from             timestamptz not null,
  hours_to               timestamptz not null check (hours_to > hours_from),
  compliant_valid_hours  integer     not null check (compliant_valid_hours >= 0),
  judged_valid_hours     integer     not null check (judged_valid_hours >= compliant_valid_hours),
  computed_at            timestamptz not null default now(),
  primary key (enterprise_id, site_id, month)
);
create index analyzer_compliance_months_month_idx on analyzer_compliance_months (month, site_id);

-- The analyzer's read API of the monthly figure (the console's overview and its list read it). Columns are
-- removed or changed only in a new version created beside this one.
create view analyzer_compliance_months_v1 as
select enterprise_id, site_id, month, hours_from, hours_to, compliant_valid_hours, judged_valid_hours, computed_at
  from analyzer_compliance_months;
