-- Owner: services/console (migrations 020-029). The outbox of review decisions: every review action
-- that sets a case's review state adds one row in the action's own transaction; the console's relay
-- publishes the rows in `sequence` order to Kafka `review.decision.v1` and stamps `published_at` after
-- Kafka acknowledged them. A crash between the two republishes the row (same event id), and consumers
-- keep the highest `sequence` per case, so a decision is never lost and never applied twice.
create table review_decision_outbox (
  sequence                 bigint generated always as identity primary key,
  deviation_id             text not null,
  enterprise_id            text not null,
  action                   text not null check (action in (
                             'acknowledge', 'request-rectification', 'confirm', 'dismiss', 'escalate', 'close')),
  review_state             text not null check (review_state in (
                             'new', 'acknowledged', 'rectification-requested', 'inspection', 'confirmed',
                             'dismissed', 'closed')),
  decision                 text check (decision in ('no-penalty', 'penalty', 'judicial-referral')),
  suspected_falsification  boolean not null,
  decided_at               timestamptz not null default now(),
  published_at             timestamptz
);
create index review_decision_outbox_pending_idx on review_decision_outbox (sequence) where published_at is null;

-- Cases decided before the outbox existed: their current state is published once, so a consumer
-- that starts from the topic's beginning knows every decided case.
insert into review_decision_outbox (deviation_id, enterprise_id, action, review_state, decision,
                                    suspected_falsification, decided_at)
select deviation_id, enterprise_id,
       case review_state when 'acknowledged' then 'acknowledge' when 'rectification-requested' then 'request-rectification'
                         when 'inspection' then 'escalate' when 'confirmed' then 'confirm'
                         when 'dismissed' then 'dismiss' else 'close' end,
       review_state, decision, suspected_falsification, updated_at
  from review_cases
 where review_state <> 'new'
 order by updated_at, deviation_id;
