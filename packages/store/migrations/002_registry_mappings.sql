-- Registry fields the analyzer's treatment rules need, and loggers without real-time uploads.
--
-- 1. `devices.realtime_interval_s = 0` means "this logger sends no real-time (2011) data": it is
--    judged on its minute (2051) data at `minute_interval_s`. The column stays `integer not null`
--    (services read it as a number); only the lower bound of its check moves from 1 to 0.
-- 2. `meter_facilities`: the facility status series (`SBn-RS` of an outlet's data logger) of the
--    treatment facility a treatment meter powers; `RS = 0` while production runs is treatment idle.
-- 3. `outlet_production_meters`: the production meters whose running makes a zero at an outlet
--    suspicious. An outlet without rows here means "every production meter of its enterprise".
--
-- Meter roles and "same enterprise" are checked by the registry validator (the only writer); the
-- foreign keys keep the rows pointing at existing meters and outlets and go with them on delete.

alter table devices drop constraint devices_realtime_interval_s_check;
alter table devices add constraint devices_realtime_interval_s_check
  check (realtime_interval_s between 0 and 3600);
comment on column devices.realtime_interval_s is
  'Real-time (2011) upload cadence in seconds; 0 = the logger sends no real-time data (judged on its minute data).';

create table meter_facilities (
  meter_id    text not null references meters (id) on delete cascade,
  outlet_id   text not null references outlets (id) on delete cascade,
  -- Facility code as the logger reports it in `SBn-RS` (e.g. `SB1`).
  code        text not null check (code ~ '^SB[0-9A-Za-z]{1,16}$'),
  created_at  timestamptz not null default now(),
  primary key (meter_id, outlet_id, code)
);
create index meter_facilities_outlet_idx on meter_facilities (outlet_id);

create table outlet_production_meters (
  outlet_id   text not null references outlets (id) on delete cascade,
  meter_id    text not null references meters (id) on delete cascade,
  created_at  timestamptz not null default now(),
  primary key (outlet_id, meter_id)
);
create index outlet_production_meters_meter_idx on outlet_production_meters (meter_id);

-- Link rows have only key columns: they are inserted or deleted, never updated, so they need no
-- updated_at trigger; running services still hear about every change.
do $$
declare t text;
begin
  foreach t in array array['meter_facilities', 'outlet_production_meters']
  loop
    execute format('create trigger %I after insert or update or delete on %I for each row execute function registry_notify_change()',
                   t || '_notify', t);
    execute format('create trigger %I after truncate on %I for each statement execute function registry_notify_change()',
                   t || '_notify_truncate', t);
  end loop;
end $$;
