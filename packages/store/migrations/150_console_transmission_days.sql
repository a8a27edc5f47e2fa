-- Owner: services/console. The stored transmission figures (传输有效率) per device and closed Asia/Shanghai day
-- (services/console/src/transmission-days.ts), so a month's statistics read InfluxDB only for the days not stored:
-- - `received` / `valid`: the device's received and valid slot counts over its expected slots that start in
--   the day (@offsite/domain `deviceDaySlots`, `countDeviceSlots`);
-- - `plan_key`: a digest of what those slots were (enterprise, cadence and the slot runs after registration and
--   declared maintenance): a figure whose key differs from the current registry's is computed again;
-- - `late_version`: the sum of the device's late-data counters (console_transmission_late) of the days the
--   figure read, taken before it read InfluxDB: a figure whose sum differs is computed again.
create table console_transmission_days (
  device_mn     text        not null,
  day           date        not null,
  plan_key      text        not null,
  late_version  bigint      not null,
  received      int         not null check (received >= 0),
  valid         int         not null check (valid >= 0 and valid <= received),
  computed_at   timestamptz not null default now(),
  primary key (device_mn, day)
);

-- Owner: services/console. Minute data that reached InfluxDB late (the influx-writer's `telemetry-late.v1`
-- events): per device and Asia/Shanghai day of the data time, a counter raised by each event and the latest
-- arrival. A stored figure of that day is reused only while the counter is unchanged.
create table console_transmission_late (
  device_mn     text        not null,
  day           date        not null,
  version       bigint      not null default 1,
  last_written  timestamptz not null,
  primary key (device_mn, day)
);
