-- Owner: services/analyzer. The annual-load round's running year-to-date sums per outlet and permitted factor, so
-- a round reads only the hours since the last one (services/analyzer/src/annual-load-state.ts):
-- - `up_to`: the sums cover the hours of [year_start, up_to) (null: nothing carried, the next round reads the
--   year); `read_to`: the end of the hours the latest round began to read;
-- - the sums themselves (@offsite/domain `LoadSums`), with what they were computed with (`concentration_unit`,
--   `flow_factor`, `flow_unit`): a change of any of these, or of the year, reads the year again;
-- - `changed_from` / `changed_at`: the earliest hour of hourly data the analyzer saw arrive late (before
--   `read_to` less the hours each round reads again) and when: the outlet's year is read again until the mark
--   is old enough to be sure the data reached InfluxDB.
create table analyzer_annual_loads (
  site_id             text             not null,
  factor              text             not null,
  year_start          timestamptz      not null,
  read_to             timestamptz      not null,
  up_to               timestamptz,
  concentration_unit  text             not null,
  flow_factor         text             not null,
  flow_unit           text,
  computed_kg         double precision not null default 0,
  reported_kg         double precision,
  valid_hours         int              not null default 0,
  invalid_hours       int              not null default 0,
  check_hours         int              not null default 0,
  check_computed_kg   double precision not null default 0,
  check_reported_kg   double precision not null default 0,
  changed_from        timestamptz,
  changed_at          timestamptz,
  updated_at          timestamptz      not null default now(),
  primary key (site_id, factor)
);
