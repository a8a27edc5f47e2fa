// Registry upkeep routes: each change goes through requestChange (scope, checks, audit, approval of
// relaxing changes); see registry-edit.ts.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { refusePastDeclaration } from './portal-declarations.js';
import type { Principal } from './principal.js';
import { Nullable, Obj } from './request-schema.js';
import {
  decideChange,
  listChangeRequests,
  requestChange,
  type RegistryChange,
  type RegistryEditOptions,
} from './registry-edit.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Text = (max: number) => Type.String({ maxLength: max });

const Status = Obj({
  status: Type.Union([Type.Literal('shutdown'), Type.Literal('resuming'), Type.Literal('normal')]),
  effectiveFrom: Text(40),
  resumptionDate: Type.Optional(Text(10)),
  note: Type.Optional(Text(500)),
});
const Maintenance = Obj({
  deviceMn: Type.Optional(Text(40)),
  outletId: Type.Optional(Id),
  startsAt: Text(40),
  endsAt: Text(40),
  reason: Type.String({ minLength: 1, maxLength: 500 }),
});
const MaintenanceEnd = Obj({ endsAt: Type.Optional(Text(40)) });
const Device = Obj({
  newMn: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_-]{1,40}$' })),
  rotatePassword: Type.Optional(Type.Boolean()),
  realtimeIntervalS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  minuteIntervalS: Type.Optional(Type.Integer({ minimum: 60, maximum: 3600 })),
  enabled: Type.Optional(Type.Boolean()),
  protocolVersion: Type.Optional(Type.Union([Type.Literal(2005), Type.Literal(2017), Type.Literal(2025)])),
  sm4Key: Type.Optional(Nullable(Type.String({ pattern: '^[0-9a-fA-F]{32}$' }))),
});
const Meter = Obj({
  nameZh: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  ratedWindowKwh: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }))),
  servesMeterId: Type.Optional(Nullable(Id)),
  facilities: Type.Optional(Type.Array(Obj({ outletId: Id, code: Text(18) }), { maxItems: 20 })),
});
const ContactRole = Type.Union([
  Type.Literal('legal'),
  Type.Literal('env-manager'),
  Type.Literal('operator'),
  Type.Literal('contact'),
]);
const Contact = Obj({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: ContactRole,
  phone: Type.Optional(Nullable(Text(21))),
  email: Type.Optional(Nullable(Text(200))),
  language: Type.Optional(Type.Union([Type.Literal('zh'), Type.Literal('en')])),
  /** The contact's openid for the bureau's official account; null removes it, absent keeps it. Checked by the edit. */
  wechatOpenid: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
});
const Limit = Obj({
  outletId: Id,
  factorCode: Type.String({ pattern: '^[a-z][0-9a-z]{5}$' }),
  basis: Type.Union([Type.Literal('hourly'), Type.Literal('daily')]),
  value: Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }),
  lowerValue: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1e9 }))),
  unit: Type.Optional(Text(16)),
  converted: Type.Optional(Type.Boolean()),
  /** The permitted annual load (许可排放量, kg a year) of the outlet and factor; null removes it, absent keeps it. */
  annualLoadKg: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1e12 }))),
});
const Location = Obj({
  outletId: Type.Optional(Id),
  // The range and the city's bounds are checked by the edit, with bilingual field-named errors.
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
});
const Decision = Obj({ approve: Type.Boolean(), note: Type.String({ minLength: 1, maxLength: 1000 }) });

export function registerRegistryEditRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; edit: RegistryEditOptions },
): void {
  const tags = ['registry'];
  const change = async (req: FastifyRequest, enterpriseId: string, ch: RegistryChange) => {
    const p = o.who(req);
    if (p.role === 'enterprise') refusePastDeclaration(ch);
    return requestChange(o.pool, p, enterpriseId, ch, o.edit, req.id);
  };
  const P = (extra: Record<string, TSchema> = {}) => Obj({ id: Id, ...extra });
  type Params = { id: string; mn: string; meterId: string; windowId: string; contactId: string };

  app.post('/api/enterprises/:id/status', { schema: { params: P(), body: Status, tags } }, async (req) =>
    change(req, (req.params as Params).id, { kind: 'status', ...(req.body as Static<typeof Status>) }),
  );
  app.post(
    '/api/enterprises/:id/maintenance',
    { schema: { params: P(), body: Maintenance, tags } },
    async (req) =>
      change(req, (req.params as Params).id, {
        kind: 'maintenance',
        ...(req.body as Static<typeof Maintenance>),
      }),
  );
  app.post(
    '/api/enterprises/:id/maintenance/:windowId/end',
    { schema: { params: P({ windowId: Id }), body: MaintenanceEnd, tags } },
    async (req) => {
      const p = req.params as Params;
      return change(req, p.id, {
        kind: 'maintenance-end',
        id: p.windowId,
        ...(req.body as Static<typeof MaintenanceEnd>),
      });
    },
  );
  app.patch(
    '/api/enterprises/:id/devices/:mn',
    { schema: { params: P({ mn: Text(40) }), body: Device, tags } },
    async (req) => {
      const p = req.params as Params;
      return change(req, p.id, { kind: 'device', mn: p.mn, ...(req.body as Static<typeof Device>) });
    },
  );
  app.patch(
    '/api/enterprises/:id/meters/:meterId',
    { schema: { params: P({ meterId: Id }), body: Meter, tags } },
    async (req) => {
      const p = req.params as Params;
      return change(req, p.id, { kind: 'meter', id: p.meterId, ...(req.body as Static<typeof Meter>) });
    },
  );
  app.post('/api/enterprises/:id/contacts', { schema: { params: P(), body: Contact, tags } }, async (req) =>
    change(req, (req.params as Params).id, { kind: 'contact', ...(req.body as Static<typeof Contact>) }),
  );
  app.put(
    '/api/enterprises/:id/contacts/:contactId',
    { schema: { params: P({ contactId: Type.String({ pattern: '^[0-9]{1,15}$' }) }), body: Contact, tags } },
    async (req) => {
      const p = req.params as Params;
      return change(req, p.id, { kind: 'contact', id: p.contactId, ...(req.body as Static<typeof Contact>) });
    },
  );
  app.delete(
    '/api/enterprises/:id/contacts/:contactId',
    { schema: { params: P({ contactId: Type.String({ pattern: '^[0-9]{1,15}$' }) }), tags } },
    async (req) => {
      const p = req.params as Params;
      return change(req, p.id, { kind: 'contact-delete', id: p.contactId });
    },
  );
  app.put('/api/enterprises/:id/limits', { schema: { params: P(), body: Limit, tags } }, async (req) =>
    change(req, (req.params as Params).id, { kind: 'limit', ...(req.body as Static<typeof Limit>) }),
  );
  app.put('/api/enterprises/:id/location', { schema: { params: P(), body: Location, tags } }, async (req) =>
    change(req, (req.params as Params).id, { kind: 'location', ...(req.body as Static<typeof Location>) }),
  );

  app.get(
    '/api/registry-changes',
    {
      schema: {
        querystring: Obj({
          state: Type.Optional(
            Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')]),
          ),
        }),
        tags,
      },
    },
    async (req) => ({
      items: await listChangeRequests(o.pool, o.who(req), (req.query as { state?: 'pending' }).state),
    }),
  );
  app.post(
    '/api/registry-changes/:id/decision',
    { schema: { params: Obj({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) }), body: Decision, tags } },
    async (req) =>
      decideChange(
        o.pool,
        o.who(req),
        (req.params as { id: string }).id,
        req.body as Static<typeof Decision>,
        o.edit,
      ),
  );
}
