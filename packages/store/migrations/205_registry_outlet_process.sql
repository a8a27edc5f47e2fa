-- Owner: registry. The production process an outlet serves (工艺), a key such as `coal-boiler` or `cement-kiln`:
-- the peers cross-check compares an outlet with the other outlets of the same process in the city. Optional; an
-- outlet without one is in no peer group.
alter table outlets add column process text check (process ~ '^[a-z][a-z0-9-]{0,63}$');
comment on column outlets.process is
  'production process key (工艺) the outlet serves, e.g. coal-boiler; the peers cross-check''s group; null: none';
