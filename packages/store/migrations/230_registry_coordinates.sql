-- Owner: registry. Where an enterprise (its site) and an outlet (its stack or discharge point) are: WGS-84 degrees,
-- optional, both or neither. The registry import and the console's registry edit refuse a position outside the
-- city's configured bounds (OFFSITE_CITY_BOUNDS); the columns hold the WGS-84 range only.
alter table enterprises
  add column latitude double precision check (latitude between -90 and 90),
  add column longitude double precision check (longitude between -180 and 180),
  add constraint enterprises_position_both check ((latitude is null) = (longitude is null));
alter table outlets
  add column latitude double precision check (latitude between -90 and 90),
  add column longitude double precision check (longitude between -180 and 180),
  add constraint outlets_position_both check ((latitude is null) = (longitude is null));
comment on column enterprises.latitude is 'WGS-84 latitude of the enterprise''s site, degrees north; null: not recorded';
comment on column enterprises.longitude is 'WGS-84 longitude of the enterprise''s site, degrees east; null: not recorded';
comment on column outlets.latitude is 'WGS-84 latitude of the outlet, degrees north; null: not recorded';
comment on column outlets.longitude is 'WGS-84 longitude of the outlet, degrees east; null: not recorded';
