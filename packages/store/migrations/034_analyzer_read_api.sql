-- Owner: services/analyzer (migrations 030-039). The analyzer's read API: the stability metrics per
-- enterprise (`site_id = ''`) and outlet as @offsite/regulation's positive-list eligibility reads them.
-- Columns are removed or changed only in a new version created beside this one.
create view analyzer_stability_v1 as
select enterprise_id, site_id, window_from, window_to, metrics, stably_compliant, last_received_at, computed_at
  from analyzer_stability;
