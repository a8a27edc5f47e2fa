-- Owner: services/analyzer (migrations 030-039). The latest review decision of each deviation case,
-- kept from the console's `review.decision.v1` events (a row moves only to a higher `sequence`, so a
-- repeated or older event changes nothing). The stability metrics count the suspected falsifications
-- a supervisor confirmed.
create table analyzer_review_decisions (
  deviation_id             text        primary key,
  sequence                 bigint      not null check (sequence >= 1),
  enterprise_id            text        not null,
  review_state             text        not null,
  suspected_falsification  boolean     not null,
  decided_at               timestamptz not null,
  updated_at               timestamptz not null default now()
);
