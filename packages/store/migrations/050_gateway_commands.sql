-- Owner: services/hj212-gateway (migrations 050-059). The centre's commands to data loggers: clock
-- calibration (1012), data backfill (补遗: history requests 2031/2051/2061 with BeginTime/EndTime) and a
-- supervisor's reads (1011 time, 1061 real-time interval, 1063 minute interval). A row is a request;
-- the gateway instance holding the logger's authenticated connection claims it (lease), sends it with a
-- fresh QN per attempt, and records every step in gateway_command_events (the audit trail).
create table gateway_commands (
  id text primary key,
  mn text not null,
  cn text not null check (cn in ('1011', '1012', '1061', '1063', '2031', '2051', '2061')),
  -- BeginTime/EndTime (UTC) of a history request
  begin_time timestamptz,
  end_time timestamptz,
  trigger text not null check (trigger in ('clock-drift', 'logger-asked', 'offline-closed', 'supervisor')),
  -- the supervisor (console user id and name) or the deviation that asked for it
  requested_by text,
  requested_at timestamptz not null default now(),
  expires_at timestamptz not null,
  status text not null default 'queued'
    check (status in ('queued', 'claimed', 'sent', 'fulfilled', 'refused', 'failed', 'timed-out', 'expired')),
  attempts integer not null default 0,
  max_attempts integer not null,
  next_attempt_at timestamptz not null default now(),
  instance text,
  lease_until timestamptz,
  qn text,
  qn_rtn text,
  exe_rtn text,
  -- what the logger answered to a read (SystemTime, RtdInterval, MinInterval)
  reply jsonb,
  -- data packets that came back for a history request
  readings integer not null default 0,
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index gateway_commands_due on gateway_commands (next_attempt_at) where status = 'queued';
create index gateway_commands_mn on gateway_commands (mn, requested_at desc);

create table gateway_command_events (
  command_id text not null references gateway_commands (id) on delete cascade,
  seq bigserial,
  at timestamptz not null default now(),
  event text not null,
  instance text,
  detail jsonb not null default '{}',
  primary key (command_id, seq)
);

-- Read API (the console shows a device's commands and their outcome). Columns are removed or changed
-- only in a new version created beside this one.
create view gateway_commands_v1 as
select id, mn, cn, begin_time, end_time, trigger, requested_by, requested_at, expires_at, status, attempts,
       qn, qn_rtn, exe_rtn, reply, readings, updated_at, finished_at
  from gateway_commands;
