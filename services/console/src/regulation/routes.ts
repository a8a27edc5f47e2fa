// Over 500 lines: one Fastify plugin holding every regulation route with its JSON schema; the work is
// in the repositories it calls.
// Fastify plugin factory the console registers: JSON-schema-validated routes over the repository
// functions. The console resolves each request's user into a Scope; every query filters by it.
import { shanghaiMidnight } from '@offsite/domain/calendar';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bilingualMessage } from '../errors.js';
import {
  monthlyReportCsv,
  periodSummaryCsv,
  RegulationError,
  type ComplaintDeadlineConfig,
  type DrawConfig,
  type EligibilityConfig,
  type MonthlyReport,
  type ReportLoads,
  type ReportTransmission,
  type Scope,
} from '@offsite/regulation';
import {
  assignComplaintEnterprise,
  createComplaint,
  getComplaint,
  listComplaints,
  transitionComplaint,
} from './complaints-repo.js';
import type { Db } from './db.js';
import {
  createDraw,
  drawPublicationCsv,
  getDraw,
  listDraws,
  publishDraw,
  recordInspectionResult,
  verifyDraw,
  type OpenDeviationsSource,
  type RiskScoreSource,
} from './draws.js';
import { campaignStats, createCampaign, type OutreachDispatcher } from './outreach.js';
import {
  computeEligibility,
  currentPositiveList,
  decidePositiveList,
  listRemovalProposals,
  positiveListHistory,
  proposeRemoval,
  resolveRemovalProposal,
  type StabilitySource,
} from './positive-list.js';
import type { Reminders } from './reminders.js';
import { monthlyReport, periodSummary } from './reports.js';

export interface RegulationRouteDeps {
  db: Db;
  /** Resolves the authenticated user's role and district; throw (or reply 401) when unauthenticated. */
  scope: (request: FastifyRequest) => Scope | Promise<Scope>;
  stability: StabilitySource;
  openDeviations?: OpenDeviationsSource;
  /** The cross-checks' risk scores, a weight of the draws. */
  riskScores?: RiskScoreSource;
  reminders?: Pick<Reminders, 'scheduleComplaint' | 'cancelComplaint'>;
  outreach?: Pick<OutreachDispatcher, 'enqueueCampaign'>;
  eligibilityConfig?: EligibilityConfig;
  /** Positive-list criteria judged as of this time (a replay or demo of a past day); absent: now. */
  eligibilityAsOf?: Date;
  drawConfig?: DrawConfig;
  complaintConfig?: ComplaintDeadlineConfig;
  now?: () => Date;
  /** The district's 传输有效率 and emission loads of the month (absent: the figures have none). */
  measures?: (
    request: FastifyRequest,
    districtId: string,
    month: string,
  ) => Promise<{ transmission: ReportTransmission | null; loads: ReportLoads | null }>;
  /** Route prefix; default `/regulation`. */
  prefix?: string;
}

const id = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } as const;
// Row ids are bigint; beyond 2^53 - 1 a number is no longer exact, so larger ids are refused as input.
const intId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
const month = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } as const;
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;

function sendCsv(reply: FastifyReply, name: string, csv: string): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .send(csv);
}

export async function registerRegulationRoutes(
  app: FastifyInstance,
  deps: RegulationRouteDeps,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const p = deps.prefix ?? '/regulation';
  const scopeOf = (req: FastifyRequest): Promise<Scope> => Promise.resolve(deps.scope(req));

  await app.register(async (r) => {
    r.setErrorHandler((err, _req, reply) => {
      if (err instanceof RegulationError) {
        return reply.status(err.statusCode).send({
          code: err.code,
          message: bilingualMessage(err.code, err.message),
          retryable: err.retryable,
          details: err.details,
        });
      }
      // Validation errors and the rest go to the host's error handler (the console answers them
      // bilingually, naming the field; Fastify's default answers 400 for validation).
      throw err;
    });

    // Positive list
    r.get(`${p}/positive-list/eligibility`, async (req) =>
      computeEligibility(deps.db, await scopeOf(req), {
        stability: deps.stability,
        now: now(),
        config: deps.eligibilityConfig,
        asOf: deps.eligibilityAsOf,
      }),
    );
    r.get(`${p}/positive-list`, async (req) => currentPositiveList(deps.db, await scopeOf(req), now()));
    r.get<{ Params: { enterpriseId: string } }>(
      `${p}/positive-list/:enterpriseId/history`,
      {
        schema: { params: { type: 'object', properties: { enterpriseId: id }, required: ['enterpriseId'] } },
      },
      async (req) => positiveListHistory(deps.db, await scopeOf(req), req.params.enterpriseId),
    );
    r.post<{
      Body: {
        enterpriseId: string;
        action: 'add' | 'remove';
        reason: string;
        validFrom: string;
        validUntil?: string;
      };
    }>(
      `${p}/positive-list/decisions`,
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['enterpriseId', 'action', 'reason', 'validFrom'],
            properties: {
              enterpriseId: id,
              action: { enum: ['add', 'remove'] },
              reason: text(2000),
              validFrom: date,
              validUntil: date,
            },
          },
        },
      },
      async (req, reply) =>
        reply.status(201).send(
          await decidePositiveList(deps.db, await scopeOf(req), req.body, {
            stability: deps.stability,
            now: now(),
            config: deps.eligibilityConfig,
            asOf: deps.eligibilityAsOf,
          }),
        ),
    );
    r.post<{
      Body: {
        enterpriseId: string;
        trigger: 'serious-violation' | 'falsification' | 'incident';
        sourceRef: string;
        note?: string;
      };
    }>(
      `${p}/positive-list/removal-proposals`,
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['enterpriseId', 'trigger', 'sourceRef'],
            properties: {
              enterpriseId: id,
              trigger: { enum: ['serious-violation', 'falsification', 'incident'] },
              sourceRef: text(200),
              note: text(2000),
            },
          },
        },
      },
      async (req, reply) => {
        const proposal = await proposeRemoval(deps.db, await scopeOf(req), req.body, now());
        return reply.status(proposal ? 201 : 200).send({ proposal });
      },
    );
    r.get(`${p}/positive-list/removal-proposals`, async (req) =>
      listRemovalProposals(deps.db, await scopeOf(req)),
    );
    r.post<{ Params: { id: number }; Body: { accept: boolean; reason: string } }>(
      `${p}/positive-list/removal-proposals/:id/resolve`,
      {
        schema: {
          params: { type: 'object', properties: { id: intId }, required: ['id'] },
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['accept', 'reason'],
            properties: { accept: { type: 'boolean' }, reason: text(2000) },
          },
        },
      },
      async (req) =>
        resolveRemovalProposal(
          deps.db,
          await scopeOf(req),
          { proposalId: req.params.id, ...req.body },
          now(),
        ),
    );

    // Random inspections
    r.post<{ Body: { period: string; seed: string } }>(
      `${p}/draws`,
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['period', 'seed'],
            properties: {
              period: { type: 'string', pattern: '^[0-9]{4}-(Q[1-4]|[0-9]{2}|H[12])$' },
              seed: text(200),
            },
          },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(
            await createDraw(
              deps.db,
              await scopeOf(req),
              { ...req.body, config: deps.drawConfig },
              { now: now(), openDeviations: deps.openDeviations, riskScores: deps.riskScores },
            ),
          ),
    );
    const period = { type: 'string', pattern: '^[0-9]{4}-(Q[1-4]|[0-9]{2}|H[12])$' } as const;
    r.get<{ Querystring: { period?: string; limit?: number } }>(
      `${p}/draws`,
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { period, limit: { type: 'integer', minimum: 1, maximum: 500 } },
          },
        },
      },
      async (req) => listDraws(deps.db, await scopeOf(req), req.query),
    );
    const drawParams = { type: 'object', properties: { id: intId }, required: ['id'] } as const;
    r.get<{ Params: { id: number } }>(`${p}/draws/:id`, { schema: { params: drawParams } }, async (req) =>
      getDraw(deps.db, await scopeOf(req), req.params.id),
    );
    r.get<{ Params: { id: number } }>(
      `${p}/draws/:id/verify`,
      { schema: { params: drawParams } },
      async (req) => {
        const v = await verifyDraw(deps.db, await scopeOf(req), req.params.id);
        return { matches: v.matches, inputsDigest: v.inputsDigest };
      },
    );
    r.get<{ Params: { id: number } }>(
      `${p}/draws/:id/publication.csv`,
      { schema: { params: drawParams } },
      async (req, reply) =>
        sendCsv(
          reply,
          `draw-${req.params.id}.csv`,
          await drawPublicationCsv(deps.db, await scopeOf(req), req.params.id),
        ),
    );
    r.post<{ Params: { id: number } }>(
      `${p}/draws/:id/publish`,
      { schema: { params: drawParams } },
      async (req) => publishDraw(deps.db, await scopeOf(req), req.params.id),
    );
    r.post<{
      Params: { id: number; enterpriseId: string };
      Body: { result: 'no-problem' | 'problem-found' | 'not-inspected'; note?: string; caseId?: string };
    }>(
      `${p}/draws/:id/targets/:enterpriseId/result`,
      {
        schema: {
          params: {
            type: 'object',
            properties: { id: intId, enterpriseId: id },
            required: ['id', 'enterpriseId'],
          },
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['result'],
            properties: {
              result: { enum: ['no-problem', 'problem-found', 'not-inspected'] },
              note: text(2000),
              caseId: text(100),
            },
          },
        },
      },
      async (req, reply) => {
        await recordInspectionResult(deps.db, await scopeOf(req), {
          drawId: req.params.id,
          enterpriseId: req.params.enterpriseId,
          ...req.body,
        });
        return reply.status(204).send();
      },
    );

    // Complaints
    r.post<{
      Body: {
        channel: 'hotline' | 'wechat' | 'web';
        enterpriseId: string;
        urgency: 'normal' | 'urgent';
        summary: string;
        complainant?: string;
        assignee?: string;
        receivedAt?: string;
      };
    }>(
      `${p}/complaints`,
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['channel', 'enterpriseId', 'urgency', 'summary'],
            properties: {
              channel: { enum: ['hotline', 'wechat', 'web'] },
              enterpriseId: id,
              urgency: { enum: ['normal', 'urgent'] },
              summary: text(4000),
              complainant: text(200),
              assignee: text(100),
              receivedAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
      async (req, reply) => {
        const { receivedAt, ...rest } = req.body;
        const out = await createComplaint(
          deps.db,
          await scopeOf(req),
          { ...rest, ...(receivedAt ? { receivedAt: new Date(receivedAt) } : {}) },
          { now: now(), config: deps.complaintConfig },
        );
        await deps.reminders?.scheduleComplaint(out.complaint);
        return reply.status(201).send(out);
      },
    );
    r.get<{ Querystring: { status?: 'received' } }>(
      `${p}/complaints`,
      {
        schema: {
          querystring: {
            type: 'object',
            properties: {
              status: {
                enum: ['received', 'acknowledged', 'investigating', 'resolved', 'closed', 'rejected'],
              },
            },
          },
        },
      },
      async (req) =>
        listComplaints(deps.db, await scopeOf(req), {
          ...(req.query.status ? { status: req.query.status } : {}),
        }),
    );
    r.get<{ Params: { id: number } }>(
      `${p}/complaints/:id`,
      { schema: { params: drawParams } },
      async (req) => getComplaint(deps.db, await scopeOf(req), req.params.id),
    );
    r.post<{ Params: { id: number }; Body: { to: 'acknowledged'; note?: string; assignee?: string } }>(
      `${p}/complaints/:id/transitions`,
      {
        schema: {
          params: drawParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['to'],
            properties: {
              to: { enum: ['acknowledged', 'investigating', 'resolved', 'closed', 'rejected'] },
              note: text(2000),
              assignee: text(100),
            },
          },
        },
      },
      async (req) => {
        const c = await transitionComplaint(
          deps.db,
          await scopeOf(req),
          { complaintId: req.params.id, ...req.body },
          now(),
        );
        if (c.status !== 'received') await deps.reminders?.cancelComplaint(c.id, 'acknowledge');
        if (['resolved', 'closed', 'rejected'].includes(c.status))
          await deps.reminders?.cancelComplaint(c.id, 'resolve');
        return c;
      },
    );
    // A complaint from the WeChat official account gets its enterprise (city-wide roles see it until then).
    r.post<{ Params: { id: number }; Body: { enterpriseId: string } }>(
      `${p}/complaints/:id/enterprise`,
      {
        schema: {
          params: drawParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['enterpriseId'],
            properties: { enterpriseId: id },
          },
        },
      },
      async (req) => {
        const out = await assignComplaintEnterprise(
          deps.db,
          await scopeOf(req),
          { complaintId: req.params.id, enterpriseId: req.body.enterpriseId },
          now(),
        );
        // Reminders go to the district's officers: scheduled once the district is known.
        await deps.reminders?.scheduleComplaint(out.complaint);
        return out;
      },
    );

    // Outreach
    r.post<{
      Body: {
        name: string;
        channel: 'sms' | 'email';
        template: { zh: { subject?: string; body: string }; en?: { subject?: string; body: string } };
        audience: { districtId?: string; industry?: string; resumedWithinDays?: number };
      };
    }>(
      `${p}/campaigns`,
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'channel', 'template', 'audience'],
            properties: {
              name: text(200),
              channel: { enum: ['sms', 'email'] },
              template: {
                type: 'object',
                additionalProperties: false,
                required: ['zh'],
                properties: Object.fromEntries(
                  ['zh', 'en'].map((l) => [
                    l,
                    {
                      type: 'object',
                      additionalProperties: false,
                      required: ['body'],
                      properties: { subject: text(200), body: text(2000) },
                    },
                  ]),
                ),
              },
              audience: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  districtId: id,
                  industry: text(64),
                  resumedWithinDays: { type: 'integer', minimum: 1, maximum: 366 },
                },
              },
            },
          },
        },
      },
      async (req, reply) => {
        const out = await createCampaign(deps.db, await scopeOf(req), req.body, now());
        if (deps.outreach) await deps.outreach.enqueueCampaign(out.campaignId);
        return reply.status(201).send(out);
      },
    );
    r.get<{ Params: { id: number } }>(
      `${p}/campaigns/:id/stats`,
      { schema: { params: drawParams } },
      async (req) => campaignStats(deps.db, await scopeOf(req), req.params.id),
    );

    // The figures of a district's month: the live preview of its monthly submission's figures section
    const reportOf = async (req: FastifyRequest, district: string, month: string): Promise<MonthlyReport> => {
      const report = await monthlyReport(deps.db, await scopeOf(req), district, month);
      return deps.measures ? { ...report, ...(await deps.measures(req, district, month)) } : report;
    };
    const reportQuery = {
      type: 'object',
      required: ['district', 'month'],
      properties: { district: id, month },
    } as const;
    r.get<{ Querystring: { district: string; month: string } }>(
      `${p}/reports/monthly`,
      { schema: { querystring: reportQuery } },
      async (req) => reportOf(req, req.query.district, req.query.month),
    );
    r.get<{ Querystring: { district: string; month: string } }>(
      `${p}/reports/monthly.csv`,
      { schema: { querystring: reportQuery } },
      async (req, reply) =>
        sendCsv(
          reply,
          `report-${req.query.district}-${req.query.month}.csv`,
          monthlyReportCsv(await reportOf(req, req.query.district, req.query.month)),
        ),
    );
    const summaryQuery = {
      type: 'object',
      required: ['from', 'to'],
      properties: { from: date, to: date },
    } as const;
    const summary = async (req: FastifyRequest<{ Querystring: { from: string; to: string } }>) =>
      periodSummary(
        deps.db,
        await scopeOf(req),
        shanghaiMidnight(req.query.from),
        shanghaiMidnight(req.query.to),
      );
    r.get<{ Querystring: { from: string; to: string } }>(
      `${p}/reports/summary`,
      { schema: { querystring: summaryQuery } },
      summary,
    );
    r.get<{ Querystring: { from: string; to: string } }>(
      `${p}/reports/summary.csv`,
      { schema: { querystring: summaryQuery } },
      async (req, reply) =>
        sendCsv(reply, `summary-${req.query.from}-${req.query.to}.csv`, periodSummaryCsv(await summary(req))),
    );
  });
}
