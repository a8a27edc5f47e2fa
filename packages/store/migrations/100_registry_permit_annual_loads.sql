-- Owner: registry. The permitted annual load (许可排放量) of an outlet and factor, kg per Asia/Shanghai calendar
-- year, from the permit: given on one of the factor's limit rows (the registry file's `limits[].annualLoadKg`; the
-- parser refuses a second one per outlet and factor). Null: the permit gives none.
alter table permit_limits add column annual_load_kg numeric check (annual_load_kg > 0);
comment on column permit_limits.annual_load_kg is
  'permitted annual load (许可排放量), kg per calendar year; at most one row per outlet and factor carries it';
