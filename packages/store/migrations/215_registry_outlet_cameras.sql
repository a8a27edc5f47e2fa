-- Owner: registry. The cameras of the bureau's video platforms that watch an outlet: the video-gateway
-- links each alarm it accepts to an enterprise and an outlet through this table, and refuses an alarm
-- from a camera it does not list. A camera is named by its platform's own id (a GB/T 28181 device id is
-- 20 digits), unique per platform; the registry file lists them as `outlets[].cameras[]`.
create table outlet_cameras (
  platform    text not null check (platform ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  camera_id   text not null check (camera_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  outlet_id   text not null references outlets (id) on delete cascade,
  created_at  timestamptz not null default now(),
  primary key (platform, camera_id)
);
create index outlet_cameras_outlet_idx on outlet_cameras (outlet_id);
comment on table outlet_cameras is
  'Cameras of a video platform that watch an outlet (registry file: outlets[].cameras[]); read by the video-gateway';

create trigger outlet_cameras_notify after insert or update or delete on outlet_cameras
  for each row execute function registry_notify_change();
create trigger outlet_cameras_notify_truncate after truncate on outlet_cameras
  for each statement execute function registry_notify_change();
