-- Owner: services/analyzer. The registered devices the analyzer watches for their first report, so a device
-- that never reported is flagged offline (the engine judges offline from a device's last data, which such a
-- device does not have). One row per device:
-- - `watch_from`: when the analyzer started watching it while enabled, or when it was registered if later; a
--   device disabled before it was flagged loses its row, so enabling it again restarts the clock;
-- - `reported_at`: the first report seen (receivedAt), written with the partitions' checkpoints;
-- - the offline deviation the analyzer opened for it (`deviation_id`, `revision`, `window_start`, `state`).
create table analyzer_device_watch (
  device_id      text        primary key,
  enterprise_id  text        not null,
  site_id        text        not null,
  watch_from     timestamptz not null,
  reported_at    timestamptz,
  deviation_id   text,
  revision       int         not null default 0,
  window_start   timestamptz,
  state          text        check (state in ('opened', 'resolved')),
  updated_at     timestamptz not null default now()
);
-- Devices of enterprises that already reported before this table existed count as reported: their history is
-- per enterprise only, and flagging them as never reported would be false.
insert into analyzer_device_watch (device_id, enterprise_id, site_id, watch_from, reported_at)
select d.mn, o.enterprise_id, o.id, s.last_received_at, s.last_received_at
  from devices d
  join outlets o on o.id = d.outlet_id
  join analyzer_last_seen s on s.enterprise_id = o.enterprise_id;
