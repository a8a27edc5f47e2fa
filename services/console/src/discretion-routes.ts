// Routes of penalty discretion, rectification extensions and coercive measures on a case
// (discretion.ts holds the rules and the writes).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import {
  CRITERIA,
  decideRecord,
  listLegalBases,
  MEASURE_KINDS,
  proposeDecision,
  proposeMeasure,
  RECORD_KINDS,
  requestExtension,
  type DecisionInput,
  type DiscretionPolicy,
  type RecordKind,
} from './discretion.js';
import { caseDiscretion } from './discretion-view.js';
import type { Principal } from './principal.js';

const CaseParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const UserId = Type.String({ pattern: '^[0-9]{1,18}$' });
const Reason = Type.String({ minLength: 2, maxLength: 2000, pattern: '\\S' });
const Day = Type.String({ format: 'date' });

const Decision = Type.Object(
  {
    basisCode: Type.String({ minLength: 1, maxLength: 64 }),
    criteria: Type.Object(
      Object.fromEntries(CRITERIA.map((k) => [k, Type.Boolean()])) as Record<
        (typeof CRITERIA)[number],
        ReturnType<typeof Type.Boolean>
      >,
      { additionalProperties: false },
    ),
    reason: Reason,
    approverId: UserId,
  },
  { additionalProperties: false },
);
const Extension = Type.Object(
  { newDue: Day, reason: Reason, approverId: UserId },
  { additionalProperties: false },
);
const Measure = Type.Object(
  {
    kind: Type.Union(MEASURE_KINDS.map((k) => Type.Literal(k))),
    reason: Reason,
    startsOn: Day,
    reviewOn: Day,
    approverId: UserId,
  },
  { additionalProperties: false },
);
const Approval = Type.Object(
  { approve: Type.Boolean(), note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export function registerDiscretionRoutes(
  app: FastifyInstance,
  d: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; policy: DiscretionPolicy },
): void {
  const tags = ['discretion'];
  const caseId = (req: FastifyRequest) => (req.params as { id: string }).id;
  app.get('/api/discretion/legal-bases', { schema: { tags } }, async (req) => {
    d.who(req);
    return { items: await listLegalBases(d.pool) };
  });
  app.get('/api/deviations/:id/discretion', { schema: { params: CaseParams, tags } }, async (req) =>
    caseDiscretion(d.pool, d.who(req), caseId(req), d.policy),
  );
  app.post(
    '/api/deviations/:id/discretion/decisions',
    { schema: { params: CaseParams, body: Decision, tags } },
    async (req) =>
      proposeDecision(d.pool, d.who(req), caseId(req), req.body as DecisionInput, d.policy, req.id),
  );
  app.post(
    '/api/deviations/:id/discretion/extensions',
    { schema: { params: CaseParams, body: Extension, tags } },
    async (req) =>
      requestExtension(
        d.pool,
        d.who(req),
        caseId(req),
        req.body as Static<typeof Extension>,
        d.policy,
        req.id,
      ),
  );
  app.post(
    '/api/deviations/:id/discretion/measures',
    { schema: { params: CaseParams, body: Measure, tags } },
    async (req) =>
      proposeMeasure(d.pool, d.who(req), caseId(req), req.body as Static<typeof Measure>, d.policy, req.id),
  );
  app.post(
    '/api/discretion/:kind/:recordId/approval',
    {
      schema: {
        params: Type.Object({
          kind: Type.Union(RECORD_KINDS.map((k) => Type.Literal(k))),
          recordId: Type.String({ pattern: '^[0-9]{1,18}$' }),
        }),
        body: Approval,
        tags,
      },
    },
    async (req) => {
      const q = req.params as { kind: RecordKind; recordId: string };
      return decideRecord(
        d.pool,
        d.who(req),
        q.kind,
        q.recordId,
        req.body as Static<typeof Approval>,
        req.id,
      );
    },
  );
}
