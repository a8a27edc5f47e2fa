-- Owner: console. A district's draft of its monthly submission or period summary: the article and the
-- chosen typical cases as last saved, one per district, kind and period. A draft is not a submission (the
-- district's status comes from `submission_versions` only), is not frozen (saving again replaces it), and
-- carries no figures: those are computed live until a version freezes them. Submitting removes the draft
-- in the transaction that writes the version.
create table submission_drafts (
  kind          text not null check (kind in ('monthly', 'summary')),
  period        text not null check (
                  (kind = 'monthly' and period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$') or
                  (kind = 'summary' and period ~ '^[0-9]{4}$')),
  district_id   text not null references districts (id),
  article_html  text not null check (length(article_html) <= 6000000),
  case_ids      jsonb not null default '[]'::jsonb check (jsonb_typeof(case_ids) = 'array'),
  saved_by      text not null,
  saved_at      timestamptz not null,
  primary key (kind, period, district_id)
);
