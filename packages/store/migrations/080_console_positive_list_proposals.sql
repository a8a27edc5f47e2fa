-- Owner: console. District authority over the positive list (正面清单, 各分局组织制定): an officer
-- proposes adding an enterprise of their own district to the list, or removing it, with a reason (city
-- staff may propose too); a city-level user other than the proposer approves or rejects it with a
-- reason. An approval records the decision in positive_list_decisions (with `change_proposal_id`), the
-- one place the list is read from (queue and registry marks, draws, complaints).
create table positive_list_change_proposals (
  id               bigint generated always as identity primary key,
  enterprise_id    text not null references enterprises (id),
  action           text not null check (action in ('add', 'remove')),
  reason           text not null check (length(reason) between 1 and 2000),
  -- Asia/Shanghai calendar dates; an approval takes effect on the later of valid_from and its own day.
  valid_from       date not null,
  valid_until      date,
  -- The eligibility evaluation the proposer saw (adds only).
  eligibility      jsonb,
  state            text not null default 'pending' check (state in ('pending', 'approved', 'rejected')),
  proposed_by      bigint not null references console_users (id),
  proposed_at      timestamptz not null default now(),
  decided_by       bigint references console_users (id),
  decided_at       timestamptz,
  decision_reason  text check (decision_reason is null or length(decision_reason) between 1 and 2000),
  check ((state = 'pending') = (decided_at is null)),
  check ((state = 'pending') = (decision_reason is null)),
  check (decided_by is null or decided_by <> proposed_by),
  check (valid_until is null or valid_until >= valid_from),
  check (action = 'add' or valid_until is null)
);
-- One open proposal per enterprise at a time.
create unique index positive_list_change_proposals_pending_idx on positive_list_change_proposals (enterprise_id)
  where state = 'pending';
create index positive_list_change_proposals_state_idx on positive_list_change_proposals (state, proposed_at desc);

alter table positive_list_decisions
  add column change_proposal_id bigint unique references positive_list_change_proposals (id);
