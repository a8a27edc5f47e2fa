-- Owner: analyzer. The big-data cross-checks (大数据分析) and the risk score they build.
-- `analyzer_cross_checks`: one row per check, outlet and judged day — what the check found (`flagged`, `clear`) or why it
-- could not judge (`not-judged` with `reason`, e.g. too few baseline hours), its numbers (`details`) and the deviation it
-- opened. A rerun of the same day overwrites the row with the same judgement.
create table analyzer_cross_checks (
  check_name     text        not null,
  site_id        text        not null,
  day_start      timestamptz not null,
  enterprise_id  text        not null,
  status         text        not null check (status in ('flagged', 'clear', 'not-judged')),
  reason         text,
  details        jsonb       not null,
  deviation_id   text,
  judged_at      timestamptz not null default now(),
  primary key (check_name, site_id, day_start)
);
create index analyzer_cross_checks_enterprise_idx on analyzer_cross_checks (enterprise_id, day_start);

-- `analyzer_risk_components`: each check's share of an enterprise's risk score (points) and its reasons in words
-- (`reasons`: [{ check, points, zh, en }]); a later check adds its own rows. Rewritten by each round of the check.
create table analyzer_risk_components (
  enterprise_id  text        not null,
  check_name     text        not null,
  points         int         not null check (points >= 0),
  reasons        jsonb       not null,
  as_of          timestamptz not null,
  computed_at    timestamptz not null default now(),
  primary key (enterprise_id, check_name)
);

-- The analyzer's read API of the risk score: per enterprise the sum of its checks' points (at most 100) and their
-- reasons, highest points first. Columns are removed or changed only in a new version created beside this one.
create view analyzer_risk_v1 as
select c.enterprise_id,
       least(100, sum(c.points))::int as score,
       (select coalesce(jsonb_agg(r order by (r ->> 'points')::int desc, r ->> 'check'), '[]'::jsonb)
          from analyzer_risk_components c2, jsonb_array_elements(c2.reasons) r
         where c2.enterprise_id = c.enterprise_id and c2.points > 0) as reasons,
       max(c.as_of) as as_of,
       max(c.computed_at) as computed_at
  from analyzer_risk_components c
 where c.points > 0
 group by c.enterprise_id;
