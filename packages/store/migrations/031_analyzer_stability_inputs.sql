-- Analyzer (migration range 030–039): what the stability job needs besides InfluxDB, and the columns
-- the regulation package's EnterpriseStability reads (windowFrom, windowTo, metrics, lastReceivedAt).

-- Last time telemetry of an enterprise reached the analyzer (max receivedAt of its readings), written
-- with the checkpoints; "monitoring connected" in positive-list eligibility.
create table analyzer_last_seen (
  enterprise_id     text        primary key,
  last_received_at  timestamptz not null,
  updated_at        timestamptz not null default now()
);

alter table analyzer_stability add column last_received_at timestamptz;
comment on column analyzer_stability.metrics is
  'StabilityMetrics of @offsite/domain as JSON (expected, received, valid, transmissionRate, validityRate, effectiveTransmissionRate, compliantValidHours, judgedValidHours, complianceRate, exceedanceWindows, openSuspectedFalsifications, confirmedFalsifications).';

-- The latest revision of every deviation the analyzer emitted (upserted before the checkpoint, so a
-- replay rewrites the same rows). Input of the stability metrics (exceedance windows, falsification).
create table analyzer_deviations (
  id                       text        primary key,
  revision                 integer     not null check (revision >= 1),
  enterprise_id            text        not null,
  site_id                  text        not null,
  rule                     text        not null,
  domain_rule              text        not null,
  subject                  text        not null,
  factor                   text,
  state                    text        not null check (state in ('opened', 'updated', 'resolved')),
  severity                 text        not null,
  window_start             timestamptz not null,
  window_end               timestamptz,
  suspected_falsification  boolean     not null,
  retracted                boolean     not null default false,
  updated_at               timestamptz not null default now()
);
create index analyzer_deviations_enterprise_idx on analyzer_deviations (enterprise_id, window_start);
