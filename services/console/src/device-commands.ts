/**
 * A supervisor's commands to one data logger: read its time (1011), real-time interval (1061),
 * minute interval (1063), or request a period's history (2031/2051/2061). The console publishes the
 * request on `hj212.command.v1` (the hj212-gateway records and sends it over the logger's own
 * connection) and audits it; the outcome (reply, refusal, timeout) is read from the gateway's read
 * API `gateway_commands_v1`. Enterprise users may neither ask nor see; scope as everywhere else.
 */
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Hj212CommandV1 } from '@offsite/contracts';
import type { Queryable } from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { canReview, scopeSql, type Principal } from './principal.js';

export type PublishCommand = (request: Hj212CommandV1) => Promise<void>;

const HISTORY = new Set(['2031', '2051', '2061']);
/** The longest period one history request may ask for. */
const MAX_PERIOD_MS = 7 * 86_400_000;

export const CommandBody = Type.Object(
  {
    cn: Type.Union([
      Type.Literal('1011'),
      Type.Literal('1061'),
      Type.Literal('1063'),
      Type.Literal('2031'),
      Type.Literal('2051'),
      Type.Literal('2061'),
    ]),
    beginTime: Type.Optional(Type.String({ format: 'date-time' })),
    endTime: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type CommandBody = Static<typeof CommandBody>;

const invalid = (field: string, zh: string, en: string) =>
  new ConsoleError('INVALID_INPUT', `字段 ${field}：${zh} / invalid field ${field}: ${en}`, {
    details: { in: 'body', field },
  });

/** The device's district, when the principal may command it (and see it). */
async function deviceDistrict(db: Queryable, p: Principal, mn: string): Promise<string> {
  if (!canReview(p)) throw new ConsoleError('FORBIDDEN', 'this role cannot send commands to devices');
  const params: unknown[] = [mn];
  const r = await db.query<{ district_id: string }>(
    `select e.district_id from devices d join outlets o on o.id = d.outlet_id
       join enterprises e on e.id = o.enterprise_id where d.mn = $1 and ${scopeSql(p, params, 'e')}`,
    params,
  );
  const row = r.rows[0];
  if (!row) throw new ConsoleError('NOT_FOUND', 'device not found');
  return row.district_id;
}

/** The period of a history request, checked; null for a read. */
export function periodOf(body: CommandBody, nowMs: number): { begin: string; end: string } | null {
  if (!HISTORY.has(body.cn)) return null;
  if (!body.beginTime) throw invalid('beginTime', '请填写开始时间', 'beginTime is required');
  if (!body.endTime) throw invalid('endTime', '请填写结束时间', 'endTime is required');
  const begin = Date.parse(body.beginTime);
  const end = Date.parse(body.endTime);
  if (!(end >= begin)) throw invalid('endTime', '结束时间不能早于开始时间', 'endTime is before beginTime');
  if (end - begin > MAX_PERIOD_MS)
    throw invalid('endTime', '一次最多补遗 7 天', 'at most 7 days per request');
  if (begin > nowMs) throw invalid('beginTime', '开始时间不能晚于现在', 'beginTime is in the future');
  const utc = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { begin: utc(begin), end: utc(end) };
}

export async function requestDeviceCommand(
  pool: pg.Pool,
  p: Principal,
  mn: string,
  body: CommandBody,
  publish: PublishCommand,
): Promise<{ id: string }> {
  const districtId = await deviceDistrict(pool, p, mn);
  const period = periodOf(body, Date.now());
  const request: Hj212CommandV1 = {
    schema: 'hj212.command.v1',
    id: `console-${randomUUID()}`,
    mn,
    cn: body.cn,
    ...(period ? { beginTime: period.begin, endTime: period.end } : {}),
    requestedBy: `${p.userId} ${p.username}`,
    requestedAt: new Date().toISOString(),
  };
  // Published first: an audit row always stands for a request the gateway received.
  await publish(request);
  await appendAudit(pool, p, {
    action: 'device.command.request',
    entityType: 'device',
    entityId: mn,
    districtId,
    before: null,
    after: { id: request.id, cn: request.cn, beginTime: request.beginTime, endTime: request.endTime },
  });
  return { id: request.id };
}

/** The device's latest commands and their outcome, from the gateway's read API. */
export async function listDeviceCommands(db: Queryable, p: Principal, mn: string) {
  await deviceDistrict(db, p, mn);
  const r = await db.query(
    `select id, cn, trigger, requested_by as "requestedBy", requested_at as "requestedAt", status, attempts,
            begin_time as "beginTime", end_time as "endTime", qn_rtn as "qnRtn", exe_rtn as "exeRtn", reply, readings,
            finished_at as "finishedAt"
       from gateway_commands_v1 where mn = $1 order by requested_at desc limit 20`,
    [mn],
  );
  return r.rows;
}

export function registerDeviceCommandRoutes(
  app: FastifyInstance,
  deps: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; publish?: PublishCommand },
): void {
  const Params = Type.Object({
    mn: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  });
  app.get('/api/devices/:mn/commands', { schema: { params: Params, tags: ['registry'] } }, async (req) => ({
    items: await listDeviceCommands(deps.pool, deps.who(req), (req.params as { mn: string }).mn),
  }));
  app.post(
    '/api/devices/:mn/commands',
    { schema: { params: Params, body: CommandBody, tags: ['registry'] } },
    async (req, reply) => {
      const p = deps.who(req);
      if (!deps.publish) throw new ConsoleError('NOT_FOUND', 'device commands are off');
      const out = await requestDeviceCommand(
        deps.pool,
        p,
        (req.params as { mn: string }).mn,
        req.body as CommandBody,
        deps.publish,
      );
      return reply.code(202).send(out);
    },
  );
}
