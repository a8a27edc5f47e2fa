-- Owner: console. The on-site verification task a complaint against a positive-list enterprise
-- creates: its assignment to an inspector (an `inspectors` row named after a console user) with a
-- deadline, and its on-site result. "Nothing found" closes it with a note; "violation found" closes it
-- and records the finding in `verification_findings`, the console's own inspection record (deviation
-- cases belong to the alerter and are opened from deviations only).
alter table verification_tasks
  add column assignee     text references inspectors (id),
  add column due_at       timestamptz,
  add column assigned_at  timestamptz,
  add column assigned_by  text,
  add column result       text check (result in ('violation-found', 'nothing-found')),
  add column note         text check (note is null or length(note) between 2 and 2000),
  add column resolved_at  timestamptz,
  add column resolved_by  text,
  add constraint verification_tasks_assigned check ((assignee is null) = (due_at is null)),
  add constraint verification_tasks_resolved check (
    (status = 'done') = (result is not null and note is not null and resolved_at is not null));

create index verification_tasks_open_idx on verification_tasks (due_at) where status = 'open';

create table verification_findings (
  id             bigint generated always as identity primary key,
  task_id        bigint not null unique references verification_tasks (id),
  complaint_id   bigint not null references complaints (id),
  enterprise_id  text not null references enterprises (id),
  district_id    text not null,
  description    text not null check (length(description) between 2 and 2000),
  found_by       text not null references inspectors (id),
  found_at       timestamptz not null,
  recorded_by    text not null
);
