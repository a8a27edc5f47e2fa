-- Owner: services/analyzer. When a case was first confirmed, kept whatever its later review state: a
-- confirmed falsification or exceedance still counts in the stability metrics after the case is closed,
-- dismissed on reconsideration or reopened. Set from the first `confirmed` decision consumed (an older
-- `confirmed` event arriving after a newer decision still sets it); never cleared.
alter table analyzer_review_decisions add column confirmed_at timestamptz;
update analyzer_review_decisions set confirmed_at = decided_at where review_state = 'confirmed';
