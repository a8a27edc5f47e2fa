// Districts' submissions to the city enforcement detachment (支队): the monthly submission and the
// period summary. An officer submits their district's article, typical cases chosen from the
// district's own cases and the figures of the period (the monthly report's computation) as one
// version; submitting again makes a new version with a required reason. A version is a frozen
// snapshot: its figures and cases are stored in it and never recomputed, and the database refuses to
// change it (migration 095). The city's roles see every district's status for a period: submitted,
// late, missing or pending (./submissions-rules.ts). Every submit is audited in its transaction.
// An officer may save a draft (the article and the chosen cases) and come back to it: a draft is not a
// submission (the status ignores it), is not frozen, and is seen only in its district and by the city;
// submitting writes the version and removes the draft in one transaction. A monthly version's figures are
// the counts plus the month's 传输有效率 and emission loads (./submission-figures.ts), computed at submit.
import type { Queryable } from '@offsite/store';
import { transaction } from '@offsite/store';
import type pg from 'pg';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import type { Principal } from './principal.js';
import { submissionFigures, type MonthMeasuresSource } from './submission-figures.js';
import { ArticleError, sanitizeArticle } from './submissions-article.js';
import {
  submissionPeriod,
  submissionStatus,
  type SubmissionCalendar,
  type SubmissionKind,
  type SubmissionPeriod,
  type SubmissionStatus,
} from './submissions-rules.js';

export interface TypicalCase {
  id: string;
  enterpriseId: string;
  enterpriseName: string;
  rule: string;
  severity: string;
  openedAt: string;
}

export interface VersionSummary {
  id: string;
  version: number;
  submittedAt: string;
  submittedBy: string;
  reason: string | null;
  late: boolean;
}

export interface SubmissionVersion extends VersionSummary {
  kind: SubmissionKind;
  period: string;
  districtId: string;
  articleHtml: string;
  cases: TypicalCase[];
  figures: unknown;
  dueAt: string;
}

export interface SubmissionView {
  kind: SubmissionKind;
  period: string;
  districtId: string;
  districtName: string;
  dueOn: string;
  lateFrom: string;
  status: SubmissionStatus;
  versions: VersionSummary[];
  latest: SubmissionVersion | null;
  /** The district's saved draft, if any (not a submission: the status ignores it). */
  draft: SubmissionDraft | null;
}

export interface SubmissionDraft {
  articleHtml: string;
  caseIds: string[];
  savedBy: string;
  savedAt: string;
}

export interface StatusRow {
  districtId: string;
  districtName: string;
  status: SubmissionStatus;
  firstSubmittedAt: string | null;
  latestVersion: number | null;
  latestSubmittedAt: string | null;
}

export interface SubmissionInput {
  articleHtml: string;
  caseIds: string[];
  reason?: string;
}

export function invalid(field: string, zh: string, en: string): ConsoleError {
  return new ConsoleError('INVALID_INPUT', `字段 ${field}：${zh} / field ${field}: ${en}`, {
    details: { in: 'body', field },
  });
}

const isCity = (p: Principal): boolean =>
  p.role === 'admin' || p.role === 'city-supervisor' || p.role === 'viewer';

/** The district whose submission the principal asks about: an officer's own, any for the city. */
async function districtFor(
  db: Queryable,
  p: Principal,
  asked: string | undefined,
): Promise<{ id: string; name: string }> {
  if (p.role === 'enterprise')
    throw new ConsoleError('FORBIDDEN', '无权查看分局报送 / district submissions are internal');
  const id = asked ?? p.districtId;
  if (!id)
    throw new ConsoleError('INVALID_INPUT', '字段 district：缺失 / field district: required for city roles', {
      details: { in: 'querystring', field: 'district' },
    });
  if (!isCity(p) && id !== p.districtId)
    throw new ConsoleError('NOT_FOUND', '区县不存在 / district not found', {
      details: { in: 'querystring', field: 'district' },
    });
  const r = await db.query<{ name_zh: string }>(`select name_zh from districts where id = $1`, [id]);
  if (!r.rows[0])
    throw new ConsoleError('NOT_FOUND', '区县不存在 / district not found', {
      details: { in: 'querystring', field: 'district' },
    });
  return { id, name: r.rows[0].name_zh };
}

interface VersionRow {
  id: string;
  kind: SubmissionKind;
  period: string;
  district_id: string;
  version: number;
  article_html: string;
  cases: TypicalCase[];
  figures: unknown;
  reason: string | null;
  due_at: Date;
  submitted_by: string;
  submitted_at: Date;
}

const summaryOf = (r: VersionRow, p: SubmissionPeriod): VersionSummary => ({
  id: r.id,
  version: r.version,
  submittedAt: r.submitted_at.toISOString(),
  submittedBy: r.submitted_by,
  reason: r.reason,
  late: r.submitted_at >= p.lateFrom,
});

const fullOf = (r: VersionRow, p: SubmissionPeriod): SubmissionVersion => ({
  ...summaryOf(r, p),
  kind: r.kind,
  period: r.period,
  districtId: r.district_id,
  articleHtml: r.article_html,
  cases: r.cases,
  figures: r.figures,
  dueAt: r.due_at.toISOString(),
});

const COLUMNS = `id::text, kind, period, district_id, version, article_html, cases, figures, reason, due_at,
                 submitted_by, submitted_at`;

/** Which submission: the kind, the period and (for the city) the district. */
export interface SubmissionTarget {
  kind: SubmissionKind;
  period: string;
  district?: string | undefined;
}

export async function getSubmission(
  db: Queryable,
  p: Principal,
  { kind, period, district }: SubmissionTarget,
  cal: SubmissionCalendar,
  now: Date,
): Promise<SubmissionView> {
  const d = await districtFor(db, p, district);
  const per = submissionPeriod(kind, period, cal);
  const rows = (
    await db.query<VersionRow>(
      `select ${COLUMNS} from submission_versions where kind = $1 and period = $2 and district_id = $3
        order by version`,
      [kind, period, d.id],
    )
  ).rows;
  const last = rows.at(-1);
  const draft = (
    await db.query<{ article_html: string; case_ids: string[]; saved_by: string; saved_at: Date }>(
      `select article_html, case_ids, saved_by, saved_at from submission_drafts
        where kind = $1 and period = $2 and district_id = $3`,
      [kind, period, d.id],
    )
  ).rows[0];
  return {
    kind,
    period,
    districtId: d.id,
    districtName: d.name,
    dueOn: per.dueOn,
    lateFrom: per.lateFrom.toISOString(),
    status: submissionStatus(per, rows[0]?.submitted_at ?? null, now),
    versions: rows.map((r) => summaryOf(r, per)),
    latest: last ? fullOf(last, per) : null,
    draft: draft
      ? {
          articleHtml: draft.article_html,
          caseIds: draft.case_ids,
          savedBy: draft.saved_by,
          savedAt: draft.saved_at.toISOString(),
        }
      : null,
  };
}

export async function getSubmissionVersion(
  db: Queryable,
  p: Principal,
  id: string,
  cal: SubmissionCalendar,
): Promise<SubmissionVersion> {
  const r = (await db.query<VersionRow>(`select ${COLUMNS} from submission_versions where id = $1`, [id]))
    .rows[0];
  const visible = r && p.role !== 'enterprise' && (isCity(p) || r.district_id === p.districtId);
  if (!visible)
    throw new ConsoleError('NOT_FOUND', '报送版本不存在 / submission version not found', {
      details: { in: 'params', field: 'id' },
    });
  return fullOf(r, submissionPeriod(r.kind, r.period, cal));
}

/** The district's cases an officer may choose from: the newest 200 opened before the period's end. */
export async function candidateCases(
  db: Queryable,
  p: Principal,
  { kind, period, district }: SubmissionTarget,
  cal: SubmissionCalendar,
): Promise<TypicalCase[]> {
  const d = await districtFor(db, p, district);
  const per = submissionPeriod(kind, period, cal);
  return loadCases(db, d.id, per.to, null);
}

async function loadCases(
  db: Queryable,
  district: string,
  before: Date,
  ids: string[] | null,
): Promise<TypicalCase[]> {
  const r = await db.query<Omit<TypicalCase, 'openedAt'> & { openedAt: Date }>(
    `select c.deviation_id as id, c.enterprise_id as "enterpriseId", e.name_zh as "enterpriseName", c.rule,
            c.severity, c.opened_at as "openedAt"
       from review_cases c join enterprises e on e.id = c.enterprise_id
      where e.district_id = $1 and ($3::text[] is null or c.deviation_id = any($3)) and ($3::text[] is not null or c.opened_at < $2)
      order by c.opened_at desc, c.deviation_id limit 200`,
    [district, before, ids],
  );
  return r.rows.map((c) => ({ ...c, openedAt: c.openedAt.toISOString() }));
}

/** The officer's own district: only a district officer writes their district's submission or draft. */
function officerDistrict(p: Principal): string {
  if (p.role !== 'district-officer' || !p.districtId)
    throw new ConsoleError(
      'FORBIDDEN',
      '仅分局人员可报送 / only a district officer submits for their district',
    );
  return p.districtId;
}

function checkedArticle(html: string): ReturnType<typeof sanitizeArticle> {
  try {
    return sanitizeArticle(html);
  } catch (err) {
    if (err instanceof ArticleError) throw invalid('articleHtml', err.zh, err.en);
    throw err;
  }
}

/** The chosen cases, in their order, when every one is the district's; else INVALID_INPUT on caseIds. */
async function checkedCases(
  db: Queryable,
  district: string,
  before: Date,
  ids: string[],
): Promise<TypicalCase[]> {
  const cases = await loadCases(db, district, before, ids);
  const missing = ids.filter((id) => !cases.some((x) => x.id === id));
  if (missing.length > 0)
    throw invalid(
      'caseIds',
      `案件 ${missing.join('、')} 不是本区的案件`,
      `case ${missing.join(', ')} is not one of the district's cases`,
    );
  return ids.map((id) => cases.find((x) => x.id === id)!);
}

/** Saves (replaces) the officer's district's draft for a period; an empty article is allowed in a draft. */
export async function saveDraft(
  db: Queryable,
  p: Principal,
  kind: SubmissionKind,
  period: string,
  input: Omit<SubmissionInput, 'reason'>,
  cal: SubmissionCalendar,
  now: Date,
): Promise<SubmissionDraft> {
  const district = officerDistrict(p);
  const per = submissionPeriod(kind, period, cal);
  const html = input.articleHtml.trim() === '' ? '' : checkedArticle(input.articleHtml).html;
  await checkedCases(db, district, per.to, input.caseIds);
  await db.query(
    `insert into submission_drafts (kind, period, district_id, article_html, case_ids, saved_by, saved_at)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (kind, period, district_id) do update set article_html = excluded.article_html,
       case_ids = excluded.case_ids, saved_by = excluded.saved_by, saved_at = excluded.saved_at`,
    [kind, period, district, html, JSON.stringify(input.caseIds), p.username, now],
  );
  return { articleHtml: html, caseIds: input.caseIds, savedBy: p.username, savedAt: now.toISOString() };
}

/**
 * Submits (or resubmits, with a reason) the officer's district's submission for a period: one new frozen
 * version holding the article, the cases and the figures computed now; the district's draft is removed.
 */
export async function submitSubmission(
  pool: pg.Pool,
  p: Principal,
  kind: SubmissionKind,
  period: string,
  input: SubmissionInput,
  cal: SubmissionCalendar,
  now: Date,
  requestId?: string,
  measures?: MonthMeasuresSource,
): Promise<SubmissionVersion> {
  const district = officerDistrict(p);
  const per = submissionPeriod(kind, period, cal);
  const article = checkedArticle(input.articleHtml);
  const reason = input.reason?.trim() ?? '';
  // The measured figures (InfluxDB) before the transaction; the counts inside it, with the version.
  const measured = kind === 'monthly' && measures ? await measures(p, district, period) : null;
  return transaction(pool, async (c) => {
    // One submitter at a time per district and period: the version numbers follow each other.
    await c.query(`select pg_advisory_xact_lock(hashtext('submission:' || $1 || ':' || $2 || ':' || $3))`, [
      kind,
      period,
      district,
    ]);
    const prev = await c.query<{ n: number }>(
      `select coalesce(max(version), 0)::int as n from submission_versions
        where kind = $1 and period = $2 and district_id = $3`,
      [kind, period, district],
    );
    const version = (prev.rows[0]?.n ?? 0) + 1;
    if (version > 1 && reason.length < 2)
      throw invalid('reason', '重新报送须说明理由', 'a resubmission needs its reason');
    const ordered = await checkedCases(c, district, per.to, input.caseIds);
    const figures = {
      ...(await submissionFigures(c, undefined, p, district, per)),
      ...(measured ?? {}),
    };
    const r = await c.query<VersionRow>(
      `insert into submission_versions (kind, period, district_id, version, article_html, cases, figures, reason,
                                        due_at, submitted_by, submitted_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${COLUMNS}`,
      [
        kind,
        period,
        district,
        version,
        article.html,
        JSON.stringify(ordered),
        JSON.stringify(figures),
        version > 1 ? reason : null,
        per.lateFrom,
        p.username,
        now,
      ],
    );
    const row = r.rows[0]!;
    await c.query(`delete from submission_drafts where kind = $1 and period = $2 and district_id = $3`, [
      kind,
      period,
      district,
    ]);
    await appendAudit(c, p, {
      action: version > 1 ? 'submission.resubmit' : 'submission.submit',
      entityType: 'submission-version',
      entityId: row.id,
      districtId: district,
      before: null,
      after: { kind, period, version, reason: row.reason, cases: input.caseIds, images: article.images },
      ...(requestId ? { requestId } : {}),
    });
    return fullOf(row, per);
  });
}

/** Every district's status for a period (the city); an officer sees their own district's row. */
export async function submissionStatusTable(
  db: Queryable,
  p: Principal,
  kind: SubmissionKind,
  period: string,
  cal: SubmissionCalendar,
  now: Date,
): Promise<{
  kind: SubmissionKind;
  period: string;
  dueOn: string;
  lateFrom: string;
  districts: StatusRow[];
}> {
  if (p.role === 'enterprise')
    throw new ConsoleError('FORBIDDEN', '无权查看分局报送 / district submissions are internal');
  const per = submissionPeriod(kind, period, cal);
  const r = await db.query<{
    id: string;
    name_zh: string;
    first_at: Date | null;
    latest_version: number | null;
    latest_at: Date | null;
  }>(
    `select d.id, d.name_zh, min(v.submitted_at) as first_at, max(v.version) as latest_version,
            max(v.submitted_at) as latest_at
       from districts d
       left join submission_versions v on v.district_id = d.id and v.kind = $1 and v.period = $2
      where ($3::text is null or d.id = $3)
      group by d.id, d.name_zh order by d.id`,
    [kind, period, isCity(p) ? null : p.districtId],
  );
  return {
    kind,
    period,
    dueOn: per.dueOn,
    lateFrom: per.lateFrom.toISOString(),
    districts: r.rows.map((d) => ({
      districtId: d.id,
      districtName: d.name_zh,
      status: submissionStatus(per, d.first_at, now),
      firstSubmittedAt: d.first_at?.toISOString() ?? null,
      latestVersion: d.latest_version,
      latestSubmittedAt: d.latest_at?.toISOString() ?? null,
    })),
  };
}
