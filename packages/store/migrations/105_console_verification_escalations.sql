-- Owner: console. Escalation of overdue complaint verification tasks: one row per task and level,
-- claimed in the transaction that requests the level's messages from the alerter (message.request.v1),
-- so each task is escalated once per level and deadline whatever the number of console instances
-- ticking (a task given a new deadline is escalated again when that one passes).
-- Level `overdue`: the assignee and the district's on-duty officers, once the deadline passed;
-- level `city`: the city supervisors, a configurable time after the deadline.
create table verification_task_escalations (
  task_id       bigint not null references verification_tasks (id),
  level         text not null check (level in ('overdue', 'city')),
  due_at        timestamptz not null,
  requested_at  timestamptz not null,
  recipients    integer not null check (recipients >= 0),
  primary key (task_id, level, due_at)
);
