-- Owner: video-gateway. The alarms of the bureau's video platforms the gateway accepted, and their
-- snapshots. An alarm and its snapshot commit together in one transaction before the alarm is produced
-- to video-alarm.v1 (nothing half-stored); `produced_at` is stamped once Kafka acknowledged it, and only
-- then does the platform get its 2xx. A redelivered alarm (same platform and event id, same body) finds
-- its row: produced, it is answered as a duplicate without a second event; not yet produced (Kafka failed
-- the first time), it is produced now. The same event id with another body is refused.
create table video_snapshots (
  sha256        text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
  content_type  text not null check (content_type in ('image/jpeg', 'image/png')),
  size          integer not null check (size between 1 and 2097152),
  bytes         bytea not null,
  created_at    timestamptz not null default now(),
  check (octet_length(bytes) = size)
);
comment on table video_snapshots is
  'Snapshots of video alarms, content-addressed by SHA-256 (the same image is stored once)';

create table video_alarms (
  id                 text primary key check (id ~ '^va-[0-9a-f]{64}$'),
  platform           text not null,
  platform_event_id  text not null,
  body_sha256        text not null check (body_sha256 ~ '^[0-9a-f]{64}$'),
  enterprise_id      text not null,
  outlet_id          text not null,
  camera_id          text not null,
  alarm_type         text not null check (alarm_type in
                       ('discharge-outside-hours', 'visible-smoke', 'treatment-idle', 'camera-tampered', 'other')),
  alarm_time         timestamptz not null,
  description        text,
  snapshot_sha256    text references video_snapshots (sha256),
  event              jsonb not null,
  received_at        timestamptz not null,
  produced_at        timestamptz,
  unique (platform, platform_event_id)
);
create index video_alarms_outlet_time_idx on video_alarms (outlet_id, alarm_time);
comment on table video_alarms is
  'Video platform alarms accepted by the video-gateway; produced_at: when Kafka acknowledged the video-alarm.v1 event';

-- Read API: the alarms and their snapshots, for the console's case evidence.
create view video_alarms_v1 as
  select a.id, a.platform, a.platform_event_id, a.enterprise_id, a.outlet_id, a.camera_id, a.alarm_type,
         a.alarm_time, a.description, a.received_at, a.snapshot_sha256,
         s.content_type as snapshot_content_type, s.size as snapshot_size
    from video_alarms a left join video_snapshots s on s.sha256 = a.snapshot_sha256
   where a.produced_at is not null;
create view video_snapshots_v1 as
  select sha256, content_type, size, bytes from video_snapshots;
