-- Owner: console. The old monthly report's own submission record goes: a district's monthly
-- submission (095, `submission_versions`) is the one submission, with the one due date (the 25th of
-- its month) and its reminders; the report's figures are that submission's figures section. Nothing
-- reads or writes `district_reports` any more. Its rows (who pressed the old report's submit button,
-- and when) are kept in the audit log as one entry per row before the table is dropped.
insert into audit_log (at, actor_name, action, entity_type, entity_id, district_id, before, after)
select r.submitted_at, r.submitted_by, 'district-report.retired', 'district-report',
       r.district_id || ':' || to_char(r.month, 'YYYY-MM'), r.district_id,
       jsonb_build_object('month', to_char(r.month, 'YYYY-MM'), 'submittedBy', r.submitted_by,
                          'submittedAt', r.submitted_at),
       null
  from district_reports r;

drop table district_reports;
