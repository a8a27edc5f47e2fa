-- Registry: the enterprises the bureau supervises off-site, their outlets, monitoring devices and
-- HJ 212 credentials, electricity meters, permit limits, contacts, status timeline, violations and
-- declared maintenance windows. Ids are text chosen by the registry file (e.g. `ent-0001`).
-- Every instant is timestamptz (stored as UTC); calendar dates (Asia/Shanghai) are `date`.
-- Objects are created unqualified: they land in the first schema of the search_path.

create table districts (
  id          text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name_zh     text not null check (length(name_zh) between 1 and 100),
  name_en     text not null check (length(name_en) between 1 and 200),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table enterprises (
  id                 text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  name_zh            text not null check (length(name_zh) between 1 and 200),
  name_en            text,
  -- Unified social credit code (统一社会信用代码, GB 32100-2015); the check character is validated in code.
  credit_code        text not null unique
                     check (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
  district_id        text not null references districts (id),
  industry           text not null check (length(industry) between 1 and 64),
  -- National economic industry classification (GB/T 4754), optional.
  industry_code      text check (industry_code ~ '^[A-T]?[0-9]{2,4}$'),
  supervision_class  text not null check (supervision_class in ('key', 'special', 'general')),
  credit_rating      text check (credit_rating in ('A', 'B', 'C', 'D')),
  -- Current status; equals the status of the latest timeline entry (kept in step by the importer).
  status             text not null default 'normal' check (status in ('shutdown', 'resuming', 'normal')),
  address            text,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
create index enterprises_district_idx on enterprises (district_id);

create table enterprise_status_timeline (
  enterprise_id    text not null references enterprises (id),
  status           text not null check (status in ('shutdown', 'resuming', 'normal')),
  effective_from   timestamptz not null,
  -- Date production resumed (复工复产日期); required for `resuming`.
  resumption_date  date,
  note             text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  primary key (enterprise_id, effective_from),
  check (status <> 'resuming' or resumption_date is not null)
);

create table outlets (
  id             text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  enterprise_id  text not null references enterprises (id),
  kind           text not null check (kind in ('gas', 'water')),
  name_zh        text not null check (length(name_zh) between 1 and 200),
  name_en        text,
  -- Reference O2 (基准氧含量, %) used to convert (折算) gas concentrations; gas outlets only.
  ref_o2_pct     numeric(4, 2) check (ref_o2_pct >= 0 and ref_o2_pct < 21),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  unique (enterprise_id, id),
  check (kind = 'gas' or ref_o2_pct is null)
);
create index outlets_enterprise_idx on outlets (enterprise_id);

create table devices (
  -- HJ 212 MN (监测点编码). Field devices use non-hex and short MNs too, hence the loose pattern.
  mn                   text primary key check (mn ~ '^[0-9A-Za-z_-]{1,40}$'),
  outlet_id            text not null references outlets (id),
  password             text not null check (length(password) between 1 and 64),
  sm4_key              text check (sm4_key ~ '^[0-9a-fA-F]{32}$'),
  protocol_version     smallint not null check (protocol_version in (2005, 2017, 2025)),
  realtime_interval_s  integer not null default 30 check (realtime_interval_s between 1 and 3600),
  minute_interval_s    integer not null default 600 check (minute_interval_s between 60 and 3600 and minute_interval_s % 60 = 0),
  model                text,
  enabled              boolean not null default true,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now()
);
create index devices_outlet_idx on devices (outlet_id);
comment on column devices.password is
  'SECRET: HJ 212 PW, kept in clear because the gateway compares the PW each packet carries. Never log, never export in snapshots.';
comment on column devices.sm4_key is
  'SECRET: SM4 key (128-bit, hex) for HJ 212-2025 encrypted segments. Never log, never export in snapshots.';

create table meters (
  id                    text primary key check (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  enterprise_id         text not null references enterprises (id),
  role                  text not null check (role in ('production', 'treatment', 'total')),
  name_zh               text not null check (length(name_zh) between 1 and 200),
  name_en               text,
  -- Energy of a fully running 15-minute window; when null the analyzer derives it from history.
  rated_window_kwh      numeric(12, 3) check (rated_window_kwh > 0),
  -- Treatment meter -> the production meter whose pollution it treats (same enterprise).
  serves_meter_id       text,
  -- Reference to the MQTT client credentials (e.g. a broker username or a secret-store key), not the secret.
  mqtt_credentials_ref  text,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  unique (enterprise_id, id),
  foreign key (enterprise_id, serves_meter_id) references meters (enterprise_id, id),
  check (role = 'treatment' or serves_meter_id is null),
  check (serves_meter_id is null or serves_meter_id <> id)
);
create index meters_enterprise_idx on meters (enterprise_id);
create index meters_serves_idx on meters (serves_meter_id) where serves_meter_id is not null;

create table permit_limits (
  outlet_id     text not null references outlets (id),
  factor_code   text not null check (factor_code ~ '^[a-z][0-9a-z]{5}$'),
  basis         text not null check (basis in ('hourly', 'daily')),
  value         numeric(14, 4) not null check (value > 0),
  -- Lower bound where the permit gives a band (pH 6-9).
  lower_value   numeric(14, 4),
  unit          text not null,
  -- Whether the limit applies to the converted (折算) concentration at the outlet's reference O2.
  converted     boolean not null default false,
  range_min     numeric(14, 4),
  range_max     numeric(14, 4),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  primary key (outlet_id, factor_code, basis),
  check (lower_value is null or lower_value < value),
  check (range_min is null or range_max is null or range_min < range_max)
);

create table contacts (
  id             bigint generated always as identity primary key,
  enterprise_id  text not null references enterprises (id),
  name           text not null check (length(name) between 1 and 100),
  role           text not null check (role in ('legal', 'env-manager', 'operator', 'contact')),
  phone          text,
  email          text,
  language       text not null default 'zh' check (language in ('zh', 'en')),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  unique (enterprise_id, role, name),
  check (phone is not null or email is not null)
);

create table violations (
  id             text primary key check (length(id) between 1 and 100),
  enterprise_id  text not null references enterprises (id),
  occurred_on    date not null,
  kind           text not null check (kind in (
                   'exceedance', 'treatment-not-running', 'falsification', 'unpermitted-discharge',
                   'monitoring-fault', 'crime', 'incident', 'other')),
  serious        boolean not null,
  description    text not null,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);
create index violations_enterprise_idx on violations (enterprise_id, occurred_on desc);

create table maintenance_windows (
  id             text primary key check (length(id) between 1 and 100),
  enterprise_id  text not null references enterprises (id),
  device_mn      text references devices (mn),
  outlet_id      text references outlets (id),
  starts_at      timestamptz not null,
  ends_at        timestamptz not null,
  reason         text not null,
  -- `registry`: from the registry file (the importer may prune it); `console`: declared online.
  source         text not null default 'registry' check (source in ('registry', 'console')),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  check (num_nonnulls(device_mn, outlet_id) = 1),
  check (ends_at > starts_at)
);
create index maintenance_windows_device_idx on maintenance_windows (device_mn, starts_at) where device_mn is not null;
create index maintenance_windows_outlet_idx on maintenance_windows (outlet_id, starts_at) where outlet_id is not null;
create index maintenance_windows_enterprise_idx on maintenance_windows (enterprise_id, starts_at);

-- Keep updated_at honest on updates.
create function registry_touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;

-- Tell running services (LISTEN registry_changed) that the registry changed. The payload is the
-- schema-qualified table name, e.g. `public.devices`. Row triggers fire only for rows that really
-- changed, and Postgres folds identical notifications of one transaction into one.
create function registry_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('registry_changed', tg_table_schema || '.' || tg_table_name);
  return null;
end $$;

do $$
declare t text;
begin
  foreach t in array array['districts', 'enterprises', 'enterprise_status_timeline', 'outlets', 'devices',
                           'meters', 'permit_limits', 'contacts', 'violations', 'maintenance_windows']
  loop
    execute format('create trigger %I before update on %I for each row execute function registry_touch_updated_at()',
                   t || '_touch', t);
    execute format('create trigger %I after insert or update or delete on %I for each row execute function registry_notify_change()',
                   t || '_notify', t);
    execute format('create trigger %I after truncate on %I for each statement execute function registry_notify_change()',
                   t || '_notify_truncate', t);
  end loop;
end $$;
