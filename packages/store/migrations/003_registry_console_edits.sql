-- Owner: registry. Rows the console's registry screens changed since the registry file last agreed
-- with them. The importer does not overwrite (or prune) such a row: it reports a conflict, keeps the
-- console's value, and forgets the mark once the file carries the same values. `key` is rendered as
-- the importer renders its keys (`mn`, `outlet/factor/basis`, `enterprise/role/name`, …).
create table registry_console_edits (
  table_name  text not null,
  key         text not null,
  edited_at   timestamptz not null default now(),
  edited_by   text not null,
  primary key (table_name, key)
);
