-- Owner: analyzer. Remote-sensing (遥感) hotspot and plume detections imported from files: each file once per
-- content (sha256), accepted whole or refused whole. A refused file is kept as a rejection record with every
-- problem (row, field, English and Chinese); an accepted one with its detections, each matched to the registry's
-- enterprises within the radius, and the deviations its suspicious matches opened.
create table analyzer_rs_files (
  id           bigserial primary key,
  sha256       text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  file_name    text not null,
  format       text check (format in ('csv', 'geojson')),
  bytes        integer not null check (bytes >= 0),
  status       text not null check (status in ('accepted', 'rejected')),
  -- Rejected: [{ where, field, en, zh }]; accepted: null.
  issues       jsonb,
  detections   integer not null default 0,
  imported_by  text not null,
  imported_at  timestamptz not null default now()
);
-- An accepted file is stored once; the same bytes again are answered with the first import.
create unique index analyzer_rs_files_accepted_idx on analyzer_rs_files (sha256) where status = 'accepted';

create table analyzer_rs_detections (
  id             text primary key,
  file_id        bigint not null references analyzer_rs_files (id),
  detected_at    timestamptz not null,
  latitude       double precision not null check (latitude between -90 and 90),
  longitude      double precision not null check (longitude between -180 and 180),
  confidence     double precision not null check (confidence between 0 and 1),
  kind           text not null check (kind in ('hotspot', 'plume')),
  -- [{ enterpriseId, nearest, distanceM, status, suspicious }]: the enterprises within the radius, nearest first.
  matches        jsonb not null default '[]',
  deviation_ids  text[] not null default '{}',
  judged_at      timestamptz
);
create index analyzer_rs_detections_time_idx on analyzer_rs_detections (detected_at);
comment on table analyzer_rs_files is 'Remote-sensing detection files: accepted (with detections) or rejected (with issues)';
comment on table analyzer_rs_detections is 'Remote-sensing detections, their matches to enterprises and the deviations they opened';
