-- Owner: console. The enterprise portal: invitations that bind a new enterprise user to one enterprise,
-- the planned fix time an enterprise gives with its acknowledgement, and rectification evidence files
-- (the bytes in a configured directory outside the web root, each file's SHA-256 here).
create table portal_invitations (
  id             bigint generated always as identity primary key,
  -- Only the sha256 of the one-time token is stored; the invitation link carries the token.
  token_hash     text not null unique,
  enterprise_id  text not null references enterprises (id),
  district_id    text not null references districts (id),
  display_name   text not null check (length(display_name) between 1 and 100),
  email          text,
  created_by     bigint not null references console_users (id),
  created_at     timestamptz not null default now(),
  expires_at     timestamptz not null,
  used_at        timestamptz,
  used_by        bigint references console_users (id),
  check ((used_at is null) = (used_by is null)),
  check (expires_at > created_at)
);
create index portal_invitations_enterprise_idx on portal_invitations (enterprise_id);

alter table review_states add column enterprise_planned_fix_at timestamptz;

create table portal_evidence (
  id             bigint generated always as identity primary key,
  deviation_id   text not null,
  enterprise_id  text not null references enterprises (id),
  district_id    text not null references districts (id),
  file_name      text not null check (length(file_name) between 1 and 200),
  media_type     text not null check (media_type in ('image/jpeg', 'image/png', 'application/pdf')),
  size_bytes     integer not null check (size_bytes > 0),
  sha256         text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  -- The file's name in the evidence directory (the id-independent random key it was written under).
  storage_key    text not null unique check (storage_key ~ '^[0-9a-f]{32}$'),
  note           text check (note is null or length(note) <= 500),
  uploaded_by    bigint not null references console_users (id),
  uploaded_at    timestamptz not null default now()
);
create index portal_evidence_deviation_idx on portal_evidence (deviation_id);
