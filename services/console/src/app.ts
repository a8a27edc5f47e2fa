// Over 500 lines: buildApp is the console's one Fastify composition (hooks, session check, security
// headers, rate limits, API docs and every route group, registered in order); the work is in the modules.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type, type Static } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import { registerDataRoutes } from './data-routes.js';
import { registerOverviewRoutes } from './overview.js';
import { registerReminderRoutes } from './overview-reminders.js';
import { registerComplianceRoutes } from './compliance.js';
import { registerDeviceCommandRoutes, type PublishCommand } from './device-commands.js';
import { registerTransmissionRoutes, type TransmissionSource } from './transmission.js';
import { monthMeasures } from './submission-figures.js';
import { registerRegulationRoutes, type RegulationRouteDeps } from './regulation/index.js';
import type { Logger } from '@offsite/runtime';
import { listAudit } from './audit.js';
import { csrfMatches, endSession, login, resolveSession, sessionExpiry, type SessionPolicy } from './auth.js';
import {
  applyAction,
  enterpriseAcknowledge,
  getCase,
  listCases,
  REVIEW_STATES,
  SEVERITIES,
  SORT_KEYS,
  type ReviewAction,
} from './cases.js';
import { bilingualMessage, ConsoleError } from './errors.js';
import { invalidInput, rejectNul } from './http-input.js';
import type { ArgonGate, LoginGuard } from './login-guard.js';
import { loadEvidence, type EvidenceSource } from './evidence.js';
import type { LiveHub } from './live.js';
import type { Principal } from './principal.js';
import { serveSpa } from './static-files.js';
import { getEnterprise, listDistricts, listEnterprises, patchEnterprise } from './registry.js';
import type { RegistryEditOptions } from './registry-edit.js';
import { registerRegistryEditRoutes } from './registry-routes.js';
import { registerUserRoutes } from './users-routes.js';
import { DEFAULT_DISCRETION_POLICY, type DiscretionPolicy } from './discretion.js';
import { registerDiscretionRoutes } from './discretion-routes.js';
import { registerVerificationTaskRoutes } from './verification-tasks.js';
import { registerRewardRoutes } from './whistleblower-rewards.js';
import { registerRiskRoutes, riskScoresOf } from './risk.js';
import { registerSubmissionRoutes, type SubmissionRouteDeps } from './submissions-routes.js';
import { registerPositiveListProposalRoutes } from './positive-list-proposals.js';
import { registerPortalDeclarationRoutes } from './portal-declarations.js';
import { registerPortalInvitationRoutes, type PortalInvitationOptions } from './portal-invitations.js';
import { registerPortalRoutes, type PortalEvidenceOptions } from './portal.js';
import { registerVideoEvidenceRoutes } from './video-evidence.js';
import { regulationScope } from './regulation-scope.js';
import { AJV_OPTIONS, Nullable, NullableEnum } from './request-schema.js';
import { analyzerStability, openCases } from './regulation-sources.js';

export const SESSION_COOKIE = 'offsite_session';
/** Remembers a browser that logged in to an account before (see login-guard.ts). */
export const DEVICE_COOKIE = 'offsite_device';

/**
 * Sent with every answer: scripts, styles and connections only from this origin (styles may be
 * inline: Vue, ECharts and Swagger UI set style attributes), never framed, no referrer, no sniffing.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; " +
    "frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A registered route as the router matches it (`url` is the pattern, e.g. `/api/deviations/:id`). */
export interface RegisteredRoute {
  method: string;
  url: string;
  public: boolean;
}

export interface ConsoleAppOptions {
  pool: pg.Pool;
  logger: Logger;
  session: SessionPolicy;
  /** Set the Secure flag on the session cookie (behind TLS). */
  secureCookies: boolean;
  loginRateLimit: { max: number; windowMs: number };
  /** Failed-login limits in Redis (per source, username, overall; remembered browsers apart). */
  loginGuard: LoginGuard;
  /** Bound on concurrent argon2 verifications. */
  argonGate: ArgonGate;
  evidence?: EvidenceSource;
  /** The monthly transmission statistics (传输有效率); absent: `/api/transmission` answers 503. */
  transmission?: TransmissionSource;
  live?: LiveHub;
  /** How often an open SSE stream re-checks its session besides at its expiry (default 30 s). */
  streamSessionCheckMs?: number;
  /** SSE streams open at once per session (default 4); one more is refused with 429 TOO_MANY_STREAMS. */
  streamsPerSession?: number;
  /** Registry edits: the maintenance-window length that needs a city-level approval (default 24 h). */
  registryEdit?: RegistryEditOptions;
  /** Built SPA (web/dist); served at / when present. */
  webRoot?: string;
  /**
   * Options of the regulatory routes (`/api/regulation/…`, @offsite/regulation). Stability comes
   * from the analyzer's table and open deviations from the alerter's cases unless given here.
   */
  regulation?: Partial<Omit<RegulationRouteDeps, 'db' | 'scope' | 'prefix'>>;
  /** Districts' submissions: their calendar (due days, reminder lead) and clock. */
  submissions?: Pick<SubmissionRouteDeps, 'calendar' | 'now'>;
  /** Publishes the review-decision outbox; kicked after every committed action (it also polls). */
  decisions?: { kick(): unknown };
  /** Penalty discretion: the first-violation period and who approves (default 24 months, city level). */
  discretion?: DiscretionPolicy;
  /** Publishes a supervisor's command to a data logger on hj212.command.v1; absent: the routes answer 404. */
  deviceCommands?: { publish: PublishCommand };
  /**
   * The enterprise portal: invitation lifetime (default 72 h); where evidence files are kept and how
   * large they may be (default: a folder in the OS temporary directory, 10 MiB; main.ts passes the configured ones).
   */
  portal?: Partial<PortalInvitationOptions> & { evidence?: PortalEvidenceOptions };
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    csrfToken?: string;
  }
  interface FastifyInstance {
    /** Every route registered on the app, for the route-variant regression tests. */
    registeredRoutes: readonly RegisteredRoute[];
  }
}

const Id = Type.String({ minLength: 1, maxLength: 128 });
const ListQuery = Type.Object(
  {
    district: Type.Optional(Type.String({ maxLength: 64 })),
    enterprise: Type.Optional(Type.String({ maxLength: 64 })),
    rule: Type.Optional(Type.String({ maxLength: 64 })),
    severity: Type.Optional(Type.Union(SEVERITIES.map((s) => Type.Literal(s)))),
    state: Type.Optional(Type.Union(REVIEW_STATES.map((s) => Type.Literal(s)))),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    open: Type.Optional(Type.Boolean()),
    overdue: Type.Optional(Type.Boolean()),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    sort: Type.Union(
      SORT_KEYS.map((s) => Type.Literal(s)),
      { default: 'openedAt' },
    ),
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
    page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    pageSize: Type.Integer({ minimum: 1, maximum: 200, default: 25 }),
  },
  { additionalProperties: false },
);
const Note = Type.Optional(Type.String({ maxLength: 2000 }));
const Action = Type.Union([
  Type.Object({ action: Type.Literal('acknowledge') }, { additionalProperties: false }),
  Type.Object(
    { action: Type.Literal('assign'), assigneeId: Type.String({ pattern: '^[0-9]{1,18}$' }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('comment'), body: Type.String({ minLength: 1, maxLength: 4000 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('request-rectification'), deadline: Type.String({ format: 'date' }), note: Note },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      action: Type.Literal('confirm'),
      decision: Type.Union([
        Type.Literal('no-penalty'),
        Type.Literal('penalty'),
        Type.Literal('judicial-referral'),
      ]),
      note: Note,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      action: Type.Literal('dismiss'),
      reason: Type.String({ minLength: 2, maxLength: 2000, pattern: '\\S' }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('escalate'), note: Note }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('close'), note: Note }, { additionalProperties: false }),
]);
const Bulk = Type.Object(
  { ids: Type.Array(Id, { minItems: 1, maxItems: 200, uniqueItems: true }), action: Action },
  { additionalProperties: false },
);
const Login = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

/** What an error answer tells besides code and message: the field it names (`in`, `field`), if any. */
function fieldOf(err: ConsoleError): Record<string, unknown> {
  if (err.code === 'INVALID_INPUT') return { ...err.details };
  const d = err.details;
  return d && typeof d.field === 'string' ? { in: d.in, field: d.field } : {};
}

/** Fastify wants pino's full surface; the injected logger may have only the project's five methods. */
function fastifyLogger(l: Logger): FastifyBaseLogger {
  const full = l as Logger & Partial<FastifyBaseLogger>;
  if (typeof full.fatal === 'function' && typeof full.trace === 'function')
    return full as unknown as FastifyBaseLogger;
  return {
    level: 'info',
    info: l.info.bind(l),
    warn: l.warn.bind(l),
    error: l.error.bind(l),
    debug: l.debug.bind(l),
    fatal: l.error.bind(l),
    trace: l.debug.bind(l),
    silent: () => undefined,
    child: (bindings: Record<string, unknown>) => fastifyLogger(l.child(bindings)),
  } as unknown as FastifyBaseLogger;
}

export async function buildApp(o: ConsoleAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: fastifyLogger(o.logger),
    disableRequestLogging: true,
    trustProxy: false,
    // Ids longer than this get 414 from the router; shorter ones reach the route's schema (400).
    routerOptions: { maxParamLength: 1024 },
    ajv: { customOptions: AJV_OPTIONS },
  });

  // Every route needs a live session unless its config says `public` (login, the API docs). Decided
  // on the route the router matched, never on the raw URL (`/%61pi/…` and `/api/…` match the same route).
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (r) => {
    if (r.url === '/docs' || r.url.startsWith('/docs/')) r.config = { ...r.config, public: true };
    for (const method of [r.method].flat())
      routes.push({ method, url: r.url, public: r.config?.public === true });
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  await app.register(cookie);
  // Request rate per client and username, counted in Redis so every instance shares it.
  await app.register(rateLimit, {
    global: false,
    redis: o.loginGuard.redis,
    nameSpace: `${o.loginGuard.prefix}:login-rate:`,
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Offsite console API',
        description: '非现场监管 — review API for flagged deviations',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ConsoleError)
      return reply
        .code(err.statusCode)
        .send({ code: err.code, message: bilingualMessage(err.code, err.message), ...fieldOf(err) });
    const e = err as {
      validation?: Parameters<typeof invalidInput>[0];
      validationContext?: string;
      statusCode?: number;
      message?: string;
    };
    if (e.validation) return reply.code(400).send(invalidInput(e.validation, e.validationContext));
    if (e.statusCode === 429)
      return reply.code(429).send({
        code: 'RATE_LIMITED',
        message: '尝试次数过多，请稍后再试 / too many attempts, try again later',
      });
    if (e.statusCode && e.statusCode < 500)
      return reply
        .code(e.statusCode)
        .send({ code: 'BAD_REQUEST', message: bilingualMessage('BAD_REQUEST', e.message ?? '') });
    req.log.error({ err }, 'request failed');
    // Never echo database or Influx error text to the client.
    return reply
      .code(500)
      .send({ code: 'INTERNAL', message: bilingualMessage('INTERNAL', 'internal error') });
  });

  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: o.secureCookies,
    path: '/',
  };

  // Every matched route that is not public needs a live session; every state change the CSRF header.
  // No matched route (the not-found handler: SPA files, 404 for the rest) carries no data. Checked
  // on the matched route before the body is read, so a stranger's body is never parsed and nothing
  // about a route's input is told to a stranger.
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (req.is404 || req.routeOptions.url === undefined || req.routeOptions.config?.public === true) return;
    const token = req.cookies[SESSION_COOKIE];
    const s = token ? await resolveSession(o.pool, token, o.session) : undefined;
    if (!s) throw new ConsoleError('UNAUTHENTICATED', 'login required');
    if (
      req.method !== 'GET' &&
      req.method !== 'HEAD' &&
      !csrfMatches(s.csrfToken, req.headers['x-csrf-token'])
    ) {
      throw new ConsoleError('CSRF_INVALID', 'missing or wrong CSRF token');
    }
    req.principal = s.principal;
    req.csrfToken = s.csrfToken;
  });
  app.addHook('preValidation', async (req: FastifyRequest) => {
    rejectNul({ params: req.params, querystring: req.query, body: req.body });
  });
  // Handlers fail closed: no principal, no answer (whatever let the request through).
  const who = (req: FastifyRequest): Principal => {
    if (!req.principal) throw new ConsoleError('UNAUTHENTICATED', 'login required');
    return req.principal;
  };

  app.post(
    '/api/login',
    {
      schema: { body: Login, tags: ['session'] },
      config: {
        public: true,
        rateLimit: {
          // After body parsing, so the key can include the username.
          hook: 'preHandler',
          max: o.loginRateLimit.max,
          timeWindow: o.loginRateLimit.windowMs,
          // Per client and username, so one attacker cannot lock everyone out and cannot spray one account.
          keyGenerator: (req: FastifyRequest) =>
            `${req.ip}|${String((req.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase()}`,
        },
      },
    },
    async (req, reply) => {
      const b = req.body as Static<typeof Login>;
      const deviceToken = req.cookies[DEVICE_COOKIE];
      const r = await o.loginGuard.reserve({ ip: req.ip, username: b.username, deviceToken });
      if ('refused' in r) {
        reply.header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)));
        throw new ConsoleError(
          'RATE_LIMITED',
          '登录失败次数过多，请稍后再试 / too many failed logins, try again later',
        );
      }
      let s: Awaited<ReturnType<typeof login>>;
      try {
        s = await login(o.pool, b.username, b.password, o.session, o.argonGate);
      } catch (err) {
        await r.settle('not-tried');
        if (err instanceof ConsoleError && err.code === 'BUSY') reply.header('retry-after', '1');
        throw err;
      }
      await r.settle(s ? 'succeeded' : 'failed');
      if (!s)
        return reply
          .code(401)
          .send({ code: 'LOGIN_FAILED', message: '用户名或密码错误 / wrong username or password' });
      reply.setCookie(SESSION_COOKIE, s.token, cookieOptions);
      const device = await o.loginGuard.remember(b.username, deviceToken, r.trusted);
      reply.setCookie(DEVICE_COOKIE, device, {
        ...cookieOptions,
        path: '/api/login',
        maxAge: Math.floor(o.loginGuard.deviceTtlMs / 1000),
      });
      return { user: s.principal, csrfToken: s.csrfToken };
    },
  );
  /** Open SSE streams by session token, ended at logout and when the app closes. */
  const streams = new Map<string, Set<(why: 'session-ended' | 'shutdown') => void>>();
  app.addHook('preClose', async () => {
    for (const own of [...streams.values()]) for (const end of [...own]) end('shutdown');
  });
  app.post('/api/logout', { schema: { tags: ['session'] } }, async (req, reply) => {
    who(req);
    const token = req.cookies[SESSION_COOKIE];
    if (token) {
      await endSession(o.pool, token);
      for (const end of [...(streams.get(token) ?? [])]) end('session-ended');
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });
  app.get('/api/session', { schema: { tags: ['session'] } }, async (req) => ({
    user: who(req),
    csrfToken: req.csrfToken,
  }));

  app.get('/api/deviations', { schema: { querystring: ListQuery, tags: ['deviations'] } }, async (req) =>
    listCases(o.pool, who(req), req.query as Static<typeof ListQuery>),
  );
  app.get(
    '/api/deviations/:id',
    { schema: { params: Type.Object({ id: Id }), tags: ['deviations'] } },
    async (req) => getCase(o.pool, who(req), (req.params as { id: string }).id),
  );
  app.get(
    '/api/deviations/:id/evidence',
    { schema: { params: Type.Object({ id: Id }), tags: ['deviations'] } },
    async (req) => {
      const c = await getCase(o.pool, who(req), (req.params as { id: string }).id);
      if (!o.evidence) throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'InfluxDB is not configured');
      return loadEvidence(o.pool, o.evidence, c);
    },
  );
  app.post(
    '/api/deviations/:id/actions',
    { schema: { params: Type.Object({ id: Id }), body: Action, tags: ['deviations'] } },
    async (req) => {
      const r = await applyAction(
        o.pool,
        who(req),
        (req.params as { id: string }).id,
        req.body as ReviewAction,
        req.id,
      );
      o.decisions?.kick();
      return r;
    },
  );
  app.post('/api/deviations/bulk', { schema: { body: Bulk, tags: ['deviations'] } }, async (req) => {
    const b = req.body as Static<typeof Bulk>;
    const results = [];
    for (const id of b.ids) {
      try {
        const r = await applyAction(o.pool, who(req), id, b.action as ReviewAction, req.id);
        results.push({ id, ok: true, reviewState: r.reviewState });
        o.decisions?.kick();
      } catch (err) {
        if (!(err instanceof ConsoleError)) throw err;
        if (err.code === 'FORBIDDEN') throw err;
        results.push({ id, ok: false, code: err.code });
      }
    }
    return { results };
  });
  app.post(
    '/api/deviations/:id/enterprise-ack',
    {
      schema: {
        params: Type.Object({ id: Id }),
        body: Type.Object({ note: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
        tags: ['enterprise'],
      },
    },
    async (req) => {
      await enterpriseAcknowledge(
        o.pool,
        who(req),
        (req.params as { id: string }).id,
        (req.body as { note: string }).note,
      );
      return { ok: true };
    },
  );

  app.get(
    '/api/audit',
    {
      schema: {
        querystring: Type.Object(
          {
            entityType: Type.Optional(Type.String({ maxLength: 64 })),
            entityId: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          },
          { additionalProperties: false },
        ),
        tags: ['audit'],
      },
    },
    async (req) => {
      const p = who(req);
      const q = req.query as { entityType?: string; entityId?: string; limit: number };
      // An entity outside the principal's scope has no visible audit trail.
      if (q.entityType === 'deviation' && q.entityId) await getCase(o.pool, p, q.entityId);
      return { items: await listAudit(o.pool, p, q) };
    },
  );
  app.get('/api/users/assignable', { schema: { tags: ['users'] } }, async (req) => {
    const p = who(req);
    const params: unknown[] = [];
    let scope = 'true';
    if (p.role === 'district-officer') {
      params.push(p.districtId);
      scope = `(role in ('admin', 'city-supervisor') or district_id = $1)`;
    } else if (p.role === 'enterprise' || p.role === 'viewer') return { items: [] };
    const r = await o.pool.query(
      `select id::text as id, username, display_name as "displayName", role, district_id as "districtId"
         from console_users where not disabled and role in ('admin', 'city-supervisor', 'district-officer') and ${scope}
        order by username`,
      params,
    );
    return { items: r.rows };
  });

  app.get('/api/districts', { schema: { tags: ['registry'] } }, async (req) => ({
    items: await listDistricts(o.pool, who(req)),
  }));
  app.get(
    '/api/enterprises',
    {
      schema: {
        querystring: Type.Object(
          { q: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        tags: ['registry'],
      },
    },
    async (req) => ({ items: await listEnterprises(o.pool, who(req), (req.query as { q?: string }).q) }),
  );
  app.get(
    '/api/enterprises/:id',
    { schema: { params: Type.Object({ id: Id }), tags: ['registry'] } },
    async (req) => getEnterprise(o.pool, who(req), (req.params as { id: string }).id),
  );
  const Patch = Type.Object(
    {
      nameZh: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      nameEn: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
      supervisionClass: Type.Optional(
        Type.Union([Type.Literal('key'), Type.Literal('special'), Type.Literal('general')]),
      ),
      creditRating: Type.Optional(NullableEnum(['A', 'B', 'C', 'D'] as const)),
      address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    },
    { additionalProperties: false },
  );
  app.patch(
    '/api/enterprises/:id',
    { schema: { params: Type.Object({ id: Id }), body: Patch, tags: ['registry'] } },
    async (req) => {
      await patchEnterprise(
        o.pool,
        who(req),
        (req.params as { id: string }).id,
        req.body as Static<typeof Patch>,
      );
      return { ok: true };
    },
  );
  registerUserRoutes(app, { pool: o.pool, who });
  registerDiscretionRoutes(app, { pool: o.pool, who, policy: o.discretion ?? DEFAULT_DISCRETION_POLICY });
  registerVerificationTaskRoutes(app, { pool: o.pool, who });
  registerRewardRoutes(app, { pool: o.pool, who });
  registerVideoEvidenceRoutes(app, { pool: o.pool, who });
  registerRiskRoutes(app, { pool: o.pool, who });
  // The month's 传输有效率 and emission loads: the submissions freeze them, the month's figures show them live.
  const measures = monthMeasures({ pool: o.pool, transmission: o.transmission, evidence: o.evidence });
  registerSubmissionRoutes(app, { pool: o.pool, who, measures, ...o.submissions });
  registerRegistryEditRoutes(app, {
    pool: o.pool,
    who,
    edit: o.registryEdit ?? { maintenanceApprovalHours: 24 },
  });

  // Live updates: one SSE stream per client; each change is sent only if this principal can see the
  // case. The stream ends with its session: at logout, at expiry (idle or absolute; the stream itself
  // does not keep the session alive) and when a periodic check finds it gone (another instance's logout).
  app.get('/api/stream', { schema: { tags: ['deviations'] } }, async (req, reply) => {
    const p = who(req);
    const token = req.cookies[SESSION_COOKIE]!;
    if (!o.live) throw new ConsoleError('NOT_FOUND', 'live updates are off');
    const live = o.live;
    // Every stream runs a case query per change, so one session may hold only a few; the new one is
    // refused (evicting the oldest would let tabs knock each other off in a reconnect loop).
    const perSession = o.streamsPerSession ?? 4;
    if ((streams.get(token)?.size ?? 0) >= perSession)
      throw new ConsoleError(
        'TOO_MANY_STREAMS',
        `此会话已打开 ${perSession} 个实时更新连接 / this session already has ${perSession} live-update streams open`,
      );
    reply.hijack();
    reply.raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    reply.raw.write(': connected\n\n');
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const unsubscribe = live.subscribe((e) => {
      if (e.kind === 'resync') {
        reply.raw.write('event: resync\ndata: {}\n\n');
        return;
      }
      getCase(o.pool, p, e.id).then(
        (c) =>
          ended ||
          reply.raw.write(
            `event: case\ndata: ${JSON.stringify({ id: c.id, reviewState: c.reviewState, severity: c.severity })}\n\n`,
          ),
        () => undefined,
      );
    });
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 25_000);
    const own = streams.get(token) ?? new Set<(why: 'session-ended' | 'shutdown') => void>();
    streams.set(token, own);
    const cleanup = () => {
      ended = true;
      clearInterval(ping);
      clearTimeout(timer);
      unsubscribe();
      own.delete(end);
      if (own.size === 0 && streams.get(token) === own) streams.delete(token);
    };
    // At shutdown the stream just ends: the browser reconnects (to another instance).
    function end(why: 'session-ended' | 'shutdown' = 'session-ended'): void {
      if (ended) return;
      cleanup();
      reply.raw.end(why === 'session-ended' ? 'event: session-ended\ndata: {}\n\n' : undefined);
    }
    own.add(end);
    const checkEvery = o.streamSessionCheckMs ?? 30_000;
    const check = (): void => {
      sessionExpiry(o.pool, token).then(
        (expires) => {
          if (ended) return;
          if (!expires) return end();
          timer = setTimeout(check, Math.min(Math.max(expires.getTime() - Date.now(), 0) + 50, checkEvery));
        },
        (err: unknown) => {
          // Postgres unreachable: try again later rather than end a stream whose session may be fine.
          req.log.warn({ err }, 'stream session check failed');
          if (!ended) timer = setTimeout(check, checkEvery);
        },
      );
    };
    check();
    req.raw.on('close', cleanup);
  });

  registerDeviceCommandRoutes(app, { pool: o.pool, who, publish: o.deviceCommands?.publish });
  registerDataRoutes(app, { pool: o.pool, who, source: o.evidence });
  registerPositiveListProposalRoutes(app, {
    pool: o.pool,
    who,
    stability: o.regulation?.stability ?? analyzerStability(o.pool),
    eligibilityConfig: o.regulation?.eligibilityConfig,
    eligibilityAsOf: o.regulation?.eligibilityAsOf,
    now: o.regulation?.now,
  });
  registerTransmissionRoutes(app, { pool: o.pool, who, source: o.transmission });
  registerPortalInvitationRoutes(app, { pool: o.pool, who, options: { invitationHours: 72, ...o.portal } });
  registerPortalRoutes(app, {
    pool: o.pool,
    who,
    evidence: o.portal?.evidence ?? {
      dir: join(tmpdir(), 'offsite-portal-evidence'),
      maxBytes: 10 * 1024 * 1024,
    },
  });
  registerPortalDeclarationRoutes(app, { pool: o.pool, who });
  registerOverviewRoutes(app, { pool: o.pool, who, source: o.transmission });
  registerReminderRoutes(app, { pool: o.pool, who });
  registerComplianceRoutes(app, { pool: o.pool, who });

  // Regulatory features behind the same session, CSRF and scope: the hook above has already
  // resolved the principal; its district becomes the regulation's scope.
  await registerRegulationRoutes(app, {
    db: o.pool,
    scope: (req) => regulationScope(who(req)),
    stability: analyzerStability(o.pool),
    openDeviations: openCases(o.pool),
    riskScores: (ids) => riskScoresOf(o.pool, ids),
    measures: (req: FastifyRequest, district: string, month: string) => measures(who(req), district, month),
    ...o.regulation,
    prefix: '/api/regulation',
  });

  if (o.webRoot && existsSync(o.webRoot)) {
    serveSpa(app, o.webRoot);
  }
  return app;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
}
