-- Owner: console. Districts' submissions to the city enforcement detachment (支队): the monthly
-- submission (due on the 25th of its month) and the period summary (总结, due on a configurable day).
-- Each submit or resubmit writes one immutable version: the sanitised article, the typical cases as
-- they were when submitted, and the figures computed at that moment, so a version never changes after
-- the fact. A resubmission (version > 1) must give its reason. The trigger refuses every UPDATE and
-- DELETE of a version, whoever asks.
create table submission_versions (
  id            bigint generated always as identity primary key,
  kind          text not null check (kind in ('monthly', 'summary')),
  -- 'YYYY-MM' for a monthly submission, 'YYYY' for a period summary.
  period        text not null check (
                  (kind = 'monthly' and period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$') or
                  (kind = 'summary' and period ~ '^[0-9]{4}$')),
  district_id   text not null references districts (id),
  version       integer not null check (version >= 1),
  article_html  text not null check (length(article_html) between 1 and 6000000),
  cases         jsonb not null default '[]'::jsonb check (jsonb_typeof(cases) = 'array'),
  figures       jsonb not null check (jsonb_typeof(figures) = 'object'),
  reason        text check (reason is null or length(reason) between 2 and 2000),
  due_at        timestamptz not null,
  submitted_by  text not null,
  submitted_at  timestamptz not null,
  unique (kind, period, district_id, version),
  constraint submission_versions_reason check ((version = 1) = (reason is null))
);

create function submission_versions_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'submission versions are immutable (%), submit a new version instead', tg_op
    using errcode = 'integrity_constraint_violation';
end $$;

create trigger submission_versions_immutable
  before update or delete on submission_versions
  for each row execute function submission_versions_immutable();
create trigger submission_versions_no_truncate
  before truncate on submission_versions
  for each statement execute function submission_versions_immutable();

-- One due-date reminder per district, kind and period: the console instance that inserts the row
-- requests the messages in the same transaction, so a repeated or concurrent tick sends none.
create table submission_reminders (
  kind          text not null check (kind in ('monthly', 'summary')),
  period        text not null,
  district_id   text not null references districts (id),
  due_at        timestamptz not null,
  requested_at  timestamptz not null,
  officers      integer not null,
  primary key (kind, period, district_id)
);
