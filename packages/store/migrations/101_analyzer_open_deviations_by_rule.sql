-- Owner: analyzer. The open deviations of one rule and window start (the annual-load round finds those of the year
-- whose permit was removed from the registry, to resolve them) without scanning the whole deviation log.
create index analyzer_deviations_open_rule_idx on analyzer_deviations (domain_rule, window_start)
  where state <> 'resolved';
