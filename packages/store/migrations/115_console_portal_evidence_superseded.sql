-- Owner: console. Rectification evidence is never erased: when an enterprise withdraws a file or
-- replaces it (while its case is open), the row is marked superseded — when, by whom, and by which
-- file if replaced — and the file is kept. Officers still see it; the enterprise's portal does not.
alter table portal_evidence
  add column superseded_at timestamptz,
  add column superseded_by bigint references console_users (id),
  add column replaced_by   bigint references portal_evidence (id),
  add constraint portal_evidence_superseded_check check ((superseded_at is null) = (superseded_by is null)),
  add constraint portal_evidence_replaced_check check (replaced_by is null or superseded_at is not null);
