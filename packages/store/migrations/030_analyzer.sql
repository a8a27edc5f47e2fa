-- Analyzer state (migration range 030–039, owned by services/analyzer).

-- One row per consumed partition: the engine snapshot and the offset of the next record to process,
-- written in one statement after every batch, so a restart or a rebalance resumes exactly there.
create table analyzer_checkpoints (
  group_id        text        not null,
  topic           text        not null,
  partition       integer     not null check (partition >= 0),
  next_offset     bigint      not null check (next_offset >= 0),
  -- Largest end of a reading's interval seen (event time, epoch ms); the watermark trails it.
  max_event_time  bigint,
  engine_state    jsonb       not null,
  -- Incremented on every save; a save names the version it read, so a member that lost the
  -- partition in a rebalance cannot overwrite the new owner's checkpoint.
  version         bigint      not null default 1,
  updated_at      timestamptz not null default now(),
  primary key (group_id, topic, partition)
);

-- Stability metrics (domain-rules §4) per outlet (site_id set) or per enterprise (site_id = ''),
-- recomputed on a schedule over a trailing window; the latest computation replaces the previous one.
create table analyzer_stability (
  enterprise_id     text        not null,
  site_id           text        not null default '',
  window_from       timestamptz not null,
  window_to         timestamptz not null,
  metrics           jsonb       not null,
  stably_compliant  boolean     not null,
  computed_at       timestamptz not null default now(),
  primary key (enterprise_id, site_id)
);

-- Rated window energy derived from history for meters the registry leaves unconfigured.
create table analyzer_rated_energy (
  meter_id      text             primary key,
  rated_kwh     double precision not null,
  windows_used  integer          not null,
  derived_at    timestamptz      not null default now()
);
