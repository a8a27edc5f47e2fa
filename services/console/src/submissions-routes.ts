// HTTP routes of districts' submissions (./submissions.ts) under /api/submissions.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Principal } from './principal.js';
import { MAX_ARTICLE_CHARS } from './submissions-article.js';
import { submissionFiguresCsv, type SubmissionFigures } from '@offsite/regulation';
import type { MonthMeasuresSource } from './submission-figures.js';
import {
  candidateCases,
  getSubmission,
  getSubmissionVersion,
  saveDraft,
  submissionStatusTable,
  submitSubmission,
  type SubmissionTarget,
} from './submissions.js';
import {
  defaultSubmissionCalendar,
  SUBMISSION_KINDS,
  type SubmissionCalendar,
  type SubmissionKind,
  validPeriod,
} from './submissions-rules.js';
import { ConsoleError } from './errors.js';

const Kind = Type.Union(SUBMISSION_KINDS.map((k) => Type.Literal(k)));
// A month (YYYY-MM) for monthly submissions, a year (YYYY) for summaries; checked against the kind too.
const Period = Type.String({ pattern: '^[0-9]{4}(-(0[1-9]|1[0-2]))?$' });
const PeriodParams = Type.Object({ kind: Kind, period: Period });
const DistrictQuery = Type.Object(
  { district: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);
const StatusQuery = Type.Object({ kind: Kind, period: Period }, { additionalProperties: false });
const VersionParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });
const CaseIds = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
  maxItems: 20,
  uniqueItems: true,
});
const Body = Type.Object(
  {
    articleHtml: Type.String({ minLength: 1, maxLength: MAX_ARTICLE_CHARS }),
    caseIds: CaseIds,
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const DraftBody = Type.Object(
  { articleHtml: Type.String({ maxLength: MAX_ARTICLE_CHARS }), caseIds: CaseIds },
  { additionalProperties: false },
);

/** The period, when it fits the kind (a month for monthly, a year for the summary). */
function checked(kind: SubmissionKind, period: string, where: string): string {
  if (validPeriod(kind, period)) return period;
  throw new ConsoleError(
    'INVALID_INPUT',
    `字段 period：${kind === 'monthly' ? '月度报送须为 YYYY-MM' : '总结须为 YYYY'} / field period: ${kind === 'monthly' ? 'a month, YYYY-MM' : 'a year, YYYY'}`,
    { details: { in: where, field: 'period' } },
  );
}

export interface SubmissionRouteDeps {
  pool: pg.Pool;
  who: (req: FastifyRequest) => Principal;
  calendar?: SubmissionCalendar;
  now?: () => Date;
  /** The month's 传输有效率 and emission loads, frozen into a monthly version (absent: none). */
  measures?: MonthMeasuresSource;
}

export function registerSubmissionRoutes(app: FastifyInstance, d: SubmissionRouteDeps): void {
  const tags = ['submissions'];
  const cal = d.calendar ?? defaultSubmissionCalendar;
  const now = d.now ?? (() => new Date());

  app.get('/api/submissions/status', { schema: { querystring: StatusQuery, tags } }, async (req) => {
    const q = req.query as Static<typeof StatusQuery>;
    return submissionStatusTable(
      d.pool,
      d.who(req),
      q.kind,
      checked(q.kind, q.period, 'querystring'),
      cal,
      now(),
    );
  });
  app.get('/api/submissions/versions/:id', { schema: { params: VersionParams, tags } }, async (req) =>
    getSubmissionVersion(d.pool, d.who(req), (req.params as Static<typeof VersionParams>).id, cal),
  );
  // The frozen figures of a version as CSV (the same columns as the live month's figures CSV).
  app.get(
    '/api/submissions/versions/:id/figures.csv',
    { schema: { params: VersionParams, tags } },
    async (req, reply) => {
      const v = await getSubmissionVersion(
        d.pool,
        d.who(req),
        (req.params as Static<typeof VersionParams>).id,
        cal,
      );
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="submission-${v.districtId}-${v.period}-v${v.version}.csv"`,
        )
        .send(submissionFiguresCsv(v.districtId, v.period, v.figures as SubmissionFigures));
    },
  );
  const target = (req: FastifyRequest): SubmissionTarget => {
    const { kind, period } = req.params as Static<typeof PeriodParams>;
    return {
      kind,
      period: checked(kind, period, 'params'),
      district: (req.query as Static<typeof DistrictQuery>).district,
    };
  };
  const byPeriod = { schema: { params: PeriodParams, querystring: DistrictQuery, tags } };
  app.get('/api/submissions/:kind/:period', byPeriod, async (req) =>
    getSubmission(d.pool, d.who(req), target(req), cal, now()),
  );
  app.get('/api/submissions/:kind/:period/cases', byPeriod, async (req) => ({
    items: await candidateCases(d.pool, d.who(req), target(req), cal),
  }));
  app.put(
    '/api/submissions/:kind/:period/draft',
    { schema: { params: PeriodParams, body: DraftBody, tags }, bodyLimit: MAX_ARTICLE_CHARS + 64 * 1024 },
    async (req) => {
      const { kind, period } = target(req);
      return saveDraft(d.pool, d.who(req), kind, period, req.body as Static<typeof DraftBody>, cal, now());
    },
  );
  app.post(
    '/api/submissions/:kind/:period',
    { schema: { params: PeriodParams, body: Body, tags }, bodyLimit: MAX_ARTICLE_CHARS + 64 * 1024 },
    async (req, reply) => {
      const { kind, period } = target(req);
      const v = await submitSubmission(
        d.pool,
        d.who(req),
        kind,
        period,
        req.body as Static<typeof Body>,
        cal,
        now(),
        req.id,
        d.measures,
      );
      return reply.code(201).send(v);
    },
  );
}
