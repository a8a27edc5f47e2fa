-- Owner: services/console (its discretion records, migrations 075-079). Penalty discretion on a
-- deviation case (轻微违法不罚 / 首违不罚), rectification-deadline extensions (酌情延长整改期限) and
-- coercive measures (查封、扣押、限产、停产). Every record names its decision maker and a second,
-- different approver; it takes effect only when that approver approves it. `deviation_id` names a
-- case of the review_cases view (the console checks it, in scope, before writing).

-- The legal bases a no-penalty decision may cite, with the criteria each requires (all of them must
-- hold). Edited by the bureau through SQL or a later migration; `active = false` retires a basis
-- without breaking decisions that cite it.
create table discretion_legal_bases (
  code               text primary key check (code ~ '^[a-z0-9][a-z0-9.-]{0,63}$'),
  kind               text not null check (kind in ('minor', 'first-violation', 'force-majeure')),
  label_zh           text not null,
  label_en           text not null,
  required_criteria  text[] not null check (required_criteria <@ array[
                       'firstViolation', 'minor', 'correctedInTime', 'noHarm', 'forceMajeure']::text[]
                       and cardinality(required_criteria) >= 1),
  active             boolean not null default true,
  sort               integer not null default 0
);

insert into discretion_legal_bases (code, kind, label_zh, label_en, required_criteria, sort) values
  ('apl-33-1-minor', 'minor',
   '《行政处罚法》第三十三条第一款：违法行为轻微并及时改正，没有造成危害后果的，不予行政处罚',
   'Administrative Penalty Law art. 33(1): minor violation, promptly corrected, no harmful consequence — no penalty',
   array['minor', 'correctedInTime', 'noHarm'], 10),
  ('apl-33-1-first', 'first-violation',
   '《行政处罚法》第三十三条第一款：初次违法且危害后果轻微并及时改正的，可以不予行政处罚',
   'Administrative Penalty Law art. 33(1): first violation, slight consequence, promptly corrected — may be exempt',
   array['firstViolation', 'correctedInTime'], 20),
  ('local-minor-list', 'minor',
   '本市生态环境轻微违法行为不予行政处罚清单',
   'The city''s list of minor ecological-environment violations exempt from penalty',
   array['minor', 'correctedInTime', 'noHarm'], 30),
  ('force-majeure', 'force-majeure',
   '不可抗力或疫情防控等客观原因（本市生态环境行政处罚裁量基准）',
   'Force majeure or epidemic control (the city''s discretion benchmark)',
   array['forceMajeure', 'noHarm'], 40);

create table discretion_decisions (
  id                 bigint generated always as identity primary key,
  deviation_id       text not null,
  -- Copied from the case when recorded, for scoped lists and the district's monthly figures.
  enterprise_id      text not null references enterprises (id),
  district_id        text not null references districts (id),
  basis_code         text not null references discretion_legal_bases (code),
  first_violation    boolean not null,
  minor              boolean not null,
  corrected_in_time  boolean not null,
  no_harm            boolean not null,
  force_majeure      boolean not null,
  -- The first-violation check as computed when the decision was made: the enterprise's earlier
  -- confirmed cases within the configured period.
  earlier_confirmed  integer not null check (earlier_confirmed >= 0),
  period_months      integer not null check (period_months >= 1),
  reason             text not null check (length(reason) between 2 and 2000),
  decided_by         bigint not null references console_users (id),
  approver_id        bigint not null references console_users (id) check (approver_id <> decided_by),
  status             text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  approval_note      text,
  approved_at        timestamptz,
  created_at         timestamptz not null default now()
);
-- One decision waiting or in force per case; a rejected one may be followed by another.
create unique index discretion_decisions_one_live on discretion_decisions (deviation_id) where status <> 'rejected';

create table rectification_extensions (
  id                 bigint generated always as identity primary key,
  deviation_id       text not null,
  -- Copied from the case when recorded, for scoped lists and the district's monthly figures.
  enterprise_id      text not null references enterprises (id),
  district_id        text not null references districts (id),
  previous_due       date not null,
  new_due            date not null check (new_due > previous_due),
  reason             text not null check (length(reason) between 2 and 2000),
  decided_by         bigint not null references console_users (id),
  approver_id        bigint not null references console_users (id) check (approver_id <> decided_by),
  status             text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  approval_note      text,
  approved_at        timestamptz,
  created_at         timestamptz not null default now()
);
create unique index rectification_extensions_one_pending on rectification_extensions (deviation_id) where status = 'pending';

create table coercive_measures (
  id                 bigint generated always as identity primary key,
  deviation_id       text not null,
  -- Copied from the case when recorded, for scoped lists and the district's monthly figures.
  enterprise_id      text not null references enterprises (id),
  district_id        text not null references districts (id),
  kind               text not null check (kind in ('seal-up', 'seizure', 'limit-production', 'suspend-production')),
  reason             text not null check (length(reason) between 2 and 2000),
  starts_on          date not null,
  review_on          date not null check (review_on >= starts_on),
  decided_by         bigint not null references console_users (id),
  approver_id        bigint not null references console_users (id) check (approver_id <> decided_by),
  status             text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  approval_note      text,
  approved_at        timestamptz,
  created_at         timestamptz not null default now()
);
create index discretion_decisions_case_idx on discretion_decisions (deviation_id);
create index rectification_extensions_case_idx on rectification_extensions (deviation_id);
create index coercive_measures_case_idx on coercive_measures (deviation_id);
create index discretion_decisions_approved_idx on discretion_decisions (approved_at) where status = 'approved';
create index rectification_extensions_approved_idx on rectification_extensions (approved_at) where status = 'approved';
create index coercive_measures_approved_idx on coercive_measures (approved_at) where status = 'approved';
