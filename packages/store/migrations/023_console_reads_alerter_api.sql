-- Owner: services/console (migrations 020-029). The console's case view reads the alerter's read API
-- (`alerter_cases_v1`, migration 013) instead of its table, and the review tables no longer hold
-- foreign keys into the alerter's table: a review state is created only for a case the view shows.
create or replace view review_cases as
select ac.deviation_id, ac.enterprise_id, ac.site_id, ac.rule, ac.factor, ac.severity,
       ac.state as deviation_state, ac.revision, ac.window_start, ac.window_end,
       ac.opened_at, ac.resolved_at, ac.suspected_falsification, ac.in_resumption_window, ac.evidence,
       ac.group_key, ac.policy as alert_policy, ac.suppressed_reason,
       coalesce(rs.review_state, 'new') as review_state, rs.assignee_id, rs.rectification_due, rs.decision,
       rs.dismiss_reason, rs.enterprise_ack_at, rs.enterprise_ack_by, rs.enterprise_ack_note,
       ac.created_at, greatest(ac.updated_at, rs.updated_at) as updated_at
  from alerter_cases_v1 ac left join review_states rs on rs.deviation_id = ac.deviation_id;

alter table review_states drop constraint review_states_deviation_id_fkey;
alter table review_comments drop constraint review_comments_case_fkey;
