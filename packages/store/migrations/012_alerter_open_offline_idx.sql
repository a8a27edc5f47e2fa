-- Alerter: every deviation it plans asks whether its site has an open offline case (offline inhibits
-- flatline and similar rules). Through alert_cases_enterprise_idx that read visits every case of the
-- enterprise; open offline cases are few, so a partial index answers it directly.

create index alert_cases_open_offline_idx on alert_cases (enterprise_id, site_id)
  where rule = 'offline' and state <> 'resolved';
