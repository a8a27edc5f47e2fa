-- Owner: services/analyzer (migrations 030-039). One row per scheduled job over the whole registry
-- (stability metrics, rated energy): the period of the schedule last claimed, by which instance, until
-- when its lease runs (renewed while the round runs) and when the round finished. An instance runs a
-- period only if it moves this row to it (or takes over an unfinished period whose lease ran out), so
-- each period runs in one instance however many run.
create table analyzer_job_leases (
  job           text        primary key,
  period_start  timestamptz not null,
  owner         text        not null,
  claimed_at    timestamptz not null default now(),
  lease_until   timestamptz not null,
  finished_at   timestamptz
);
