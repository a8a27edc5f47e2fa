-- Incremental analyzer checkpoints (services/analyzer, migration range 030–039).
-- analyzer_checkpoints.engine_state now holds the engine state without its readings buffers; the readings
-- are appended here, one row per checkpoint with the readings ingested since the previous one (a full
-- checkpoint replaces every row of the partition). Rows are written in the same statement as the state
-- row's version bump, so a fenced member writes none; a row whose newest reading is before the lateness
-- horizon is deleted by the checkpoint that moved past it.
create table analyzer_checkpoint_parts (
  id              bigserial   primary key,
  group_id        text        not null,
  topic           text        not null,
  partition       integer     not null check (partition >= 0),
  -- Newest dataTime (epoch ms) among the readings: the part is dropped once the horizon passes it.
  newest_data_time bigint     not null,
  reading_count   integer     not null,
  -- gzip of the JSON array of engine readings.
  readings        bytea       not null,
  created_at      timestamptz not null default now()
);
create index analyzer_checkpoint_parts_partition on analyzer_checkpoint_parts (group_id, topic, partition, id);
