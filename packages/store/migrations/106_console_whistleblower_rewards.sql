-- Owner: console. Whistle-blower rewards (举报奖励) on a complaint: the amount in fen (yuan × 100), a
-- reference to the whistle-blower that is no personal data (the complaint's acceptance number or the
-- like; the complaint keeps the complainant), its basis, the proposer, a second person's decision and
-- the payment date. The checks keep a record whole: a decision is never the proposer's, and only an
-- approved reward is paid.
create table whistleblower_rewards (
  id                 bigint generated always as identity primary key,
  complaint_id       bigint not null references complaints (id),
  district_id        text not null,
  amount_fen         bigint not null check (amount_fen > 0 and amount_fen <= 100000000),
  whistleblower_ref  text not null check (length(whistleblower_ref) between 1 and 64),
  basis              text not null check (length(basis) between 2 and 500),
  status             text not null default 'proposed' check (status in ('proposed', 'approved', 'rejected', 'paid')),
  proposed_by        text not null,
  proposed_at        timestamptz not null,
  decided_by         text,
  decided_at         timestamptz,
  decision_note      text check (decision_note is null or length(decision_note) <= 500),
  paid_on            date,
  paid_recorded_by   text,
  check (decided_by is null or decided_by <> proposed_by),
  check ((status = 'proposed') = (decided_by is null)),
  check ((status = 'paid') = (paid_on is not null))
);
create index whistleblower_rewards_complaint_idx on whistleblower_rewards (complaint_id);
create index whistleblower_rewards_district_idx on whistleblower_rewards (district_id, decided_at);
