// Invitations to the enterprise portal: a district officer (for its district's enterprises) or city
// staff invite a person to become an enterprise user bound to exactly one enterprise. The link carries
// a one-time random token (only its sha256 is stored) that expires; the invitee picks a username and
// password, which creates the account and uses up the invitation in one transaction. Both audited.
// With an e-mail address, the invitation is e-mailed through the alerter (message.request.v1, kind
// `portal-invitation`, id `portal-invitation-<id>`): requested inside the transaction that creates
// the invitation, so a failed request leaves no invitation and a repeated request (the same id) is
// sent once by the alerter. The token is in the message only; it is never logged.
import { createHash, randomBytes } from 'node:crypto';
import type { MessageRequestV1 } from '@offsite/contracts';
import { formatShanghai } from '@offsite/domain/calendar';
import { maskAddress } from '@offsite/notify';
import { Type, type Static } from '@sinclair/typebox';
import { Obj } from './request-schema.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { transaction } from '@offsite/store';
import { appendAudit } from './audit.js';
import { ConsoleError } from './errors.js';
import { scopeSql, type Principal } from './principal.js';
import { asConsoleError } from './users-routes.js';
import { hashedAccount, insertAccount } from './users.js';

export interface PortalInvitationOptions {
  /** How long an invitation link stays valid (hours). */
  invitationHours: number;
  /** The console's address as the invitee reaches it (the e-mailed link starts with it). */
  publicUrl?: string;
  /** Hands a message request to the alerter (resolves once Kafka acknowledged it); absent: no e-mail. */
  publish?: (request: MessageRequestV1) => Promise<void>;
}

/** The invitation e-mail: Chinese first, English below. */
export function renderInvitation(i: {
  enterpriseName: string;
  displayName: string;
  link: string;
  expiresAt: Date;
}): { subject: string; text: string; sms: string } {
  const until = formatShanghai(i.expiresAt);
  return {
    subject: `【非现场监管】${i.enterpriseName} 企业门户账号邀请 / Invitation to the enterprise portal`,
    text: [
      `${i.displayName}，您好：`,
      `生态环境部门邀请您开通 ${i.enterpriseName} 在非现场监管平台企业门户的账号。请在 ${until}（北京时间）前打开以下链接，设置用户名和密码：`,
      i.link,
      '链接只能使用一次。如非本人申请，请忽略本邮件。',
      '',
      `${i.displayName}, the ecology and environment bureau invites you to an account of ${i.enterpriseName} on the off-site supervision enterprise portal. Open the link above before ${until} (UTC+8) to choose a username and password. The link works once; if you did not expect it, ignore this e-mail.`,
    ].join('\n'),
    sms: `${i.enterpriseName}企业门户账号邀请已发送至您的邮箱，请在${until}前完成开通。`,
  };
}

const NewInvitation = Obj({
  enterpriseId: Type.String({ minLength: 1, maxLength: 64 }),
  displayName: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
  email: Type.Optional(Type.String({ maxLength: 200, pattern: '^[^@\\s]+@[^@\\s]+$' })),
});
const TokenParams = Obj({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }) });
const Accept = Obj({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const gone = () =>
  new ConsoleError('NOT_FOUND', '邀请链接无效、已使用或已过期 / invitation link unknown, used or expired', {
    details: { in: 'params', field: 'token' },
  });

/** Who may invite: admins, city supervisors, and district officers (their district's enterprises). */
function inviter(p: Principal): Principal {
  if (p.role === 'admin' || p.role === 'city-supervisor' || p.role === 'district-officer') return p;
  throw new ConsoleError('FORBIDDEN', '无权邀请企业用户 / this role cannot invite enterprise users');
}

interface OpenInvitation {
  id: string;
  enterprise_id: string;
  district_id: string;
  display_name: string;
  email: string | null;
  expires_at: Date;
  created_by: string;
  enterprise_name: string;
}

async function openInvitation(db: pg.PoolClient | pg.Pool, token: string, lock: boolean) {
  const r = await db.query<OpenInvitation>(
    `select i.id::text as id, i.enterprise_id, i.district_id, i.display_name, i.email, i.expires_at,
            i.created_by::text as created_by, e.name_zh as enterprise_name
       from portal_invitations i join enterprises e on e.id = i.enterprise_id
      where i.token_hash = $1 and i.used_at is null and i.expires_at > now()
      ${lock ? 'for update of i' : ''}`,
    [sha256(token)],
  );
  const inv = r.rows[0];
  if (!inv) throw gone();
  return inv;
}

export function registerPortalInvitationRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; options: PortalInvitationOptions },
): void {
  const tags = ['portal'];
  app.post('/api/portal/invitations', { schema: { body: NewInvitation, tags } }, async (req, reply) => {
    const p = inviter(o.who(req));
    const b = req.body as Static<typeof NewInvitation>;
    const token = randomBytes(32).toString('base64url');
    const out = await transaction(o.pool, async (db) => {
      const params: unknown[] = [b.enterpriseId];
      const ent = await db.query<{ id: string; district_id: string }>(
        `select e.id, e.district_id from enterprises e where e.id = $1 and ${scopeSql(p, params, 'e')}`,
        params,
      );
      const e = ent.rows[0];
      if (!e)
        throw new ConsoleError('NOT_FOUND', '企业不存在 / enterprise not found', {
          details: { in: 'body', field: 'enterpriseId' },
        });
      const r = await db.query<{ id: string; expires_at: Date }>(
        `insert into portal_invitations (token_hash, enterprise_id, district_id, display_name, email, created_by, expires_at)
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7))
         returning id::text as id, expires_at`,
        [
          sha256(token),
          e.id,
          e.district_id,
          b.displayName.trim(),
          b.email ?? null,
          p.userId,
          o.options.invitationHours,
        ],
      );
      const inv = r.rows[0]!;
      const emailed = Boolean(b.email && o.options.publish);
      if (b.email && o.options.publish) {
        const name = await db.query<{ name_zh: string }>('select name_zh from enterprises where id = $1', [
          e.id,
        ]);
        const link = `${(o.options.publicUrl ?? '').replace(/\/+$/, '')}/#/invite/${token}`;
        await o.options.publish({
          schema: 'message.request.v1',
          id: `portal-invitation-${inv.id}`,
          kind: 'portal-invitation',
          channel: 'email',
          recipient: {
            kind: 'enterprise-contact',
            id: `invitation-${inv.id}`,
            name: b.displayName.trim(),
            address: b.email,
          },
          language: 'zh',
          ...renderInvitation({
            enterpriseName: name.rows[0]?.name_zh ?? e.id,
            displayName: b.displayName.trim(),
            link,
            expiresAt: inv.expires_at,
          }),
          requestedAt: new Date().toISOString(),
        });
        req.log.info(
          { invitationId: inv.id, to: maskAddress(b.email) },
          'portal invitation e-mail requested from the alerter',
        );
      }
      await appendAudit(db, p, {
        action: 'portal.invitation.create',
        entityType: 'portal_invitation',
        entityId: inv.id,
        districtId: e.district_id,
        before: null,
        after: {
          enterpriseId: e.id,
          displayName: b.displayName.trim(),
          email: b.email ?? null,
          emailed,
          expiresAt: inv.expires_at,
        },
        requestId: req.id,
      });
      return { id: inv.id, enterpriseId: e.id, expiresAt: inv.expires_at.toISOString(), emailed };
    });
    reply.code(201);
    // The token is answered once, to the inviter who hands the link over; never logged or stored in clear.
    return { ...out, token, link: `/#/invite/${token}` };
  });

  app.get(
    '/api/portal/invitations',
    {
      schema: {
        querystring: Obj({ enterpriseId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
        tags,
      },
    },
    async (req) => {
      const p = inviter(o.who(req));
      const q = req.query as { enterpriseId?: string };
      const params: unknown[] = [];
      const scope = scopeSql(p, params, 'e');
      params.push(q.enterpriseId ?? null);
      const r = await o.pool.query(
        `select i.id::text as id, i.enterprise_id as "enterpriseId", e.name_zh as "enterpriseName",
                i.display_name as "displayName", i.email, i.created_at as "createdAt", i.expires_at as "expiresAt",
                u.username as "usedBy", i.used_at as "usedAt"
           from portal_invitations i join enterprises e on e.id = i.enterprise_id
           left join console_users u on u.id = i.used_by
          where ${scope} and ($${params.length}::text is null or i.enterprise_id = $${params.length})
          order by i.created_at desc limit 200`,
        params,
      );
      return { items: r.rows };
    },
  );

  // Public: the invitee has no session yet. The token is 256 random bits; requests are rate-limited.
  const publicConfig = { public: true, rateLimit: { max: 20, timeWindow: 60_000 } };
  app.get(
    '/api/portal/invitations/:token',
    { schema: { params: TokenParams, tags }, config: publicConfig },
    async (req) => {
      const inv = await openInvitation(o.pool, (req.params as Static<typeof TokenParams>).token, false);
      return {
        enterpriseName: inv.enterprise_name,
        displayName: inv.display_name,
        expiresAt: inv.expires_at,
      };
    },
  );
  app.post(
    '/api/portal/invitations/:token/accept',
    { schema: { params: TokenParams, body: Accept, tags }, config: publicConfig },
    async (req, reply) => {
      const { token } = req.params as Static<typeof TokenParams>;
      const b = req.body as Static<typeof Accept>;
      // Checked (and hashed) before the invitation is locked: argon2 is slow.
      const peek = await openInvitation(o.pool, token, false);
      const account = {
        username: b.username,
        displayName: peek.display_name,
        role: 'enterprise' as const,
        enterpriseId: peek.enterprise_id,
        password: b.password,
        email: peek.email,
        onDuty: false,
      };
      const hash = await hashedAccount(account).catch((err: unknown) => {
        throw asConsoleError(err);
      });
      const user = await transaction(o.pool, async (db) => {
        const inv = await openInvitation(db, token, true);
        const inviterRow = await db.query<{ username: string }>(
          'select username from console_users where id = $1',
          [inv.created_by],
        );
        const by = { userId: inv.created_by, username: inviterRow.rows[0]?.username ?? 'unknown' };
        const u = await insertAccount(db, { ...account, enterpriseId: inv.enterprise_id }, hash, by).catch(
          (err: unknown) => {
            throw asConsoleError(err);
          },
        );
        await db.query('update portal_invitations set used_at = now(), used_by = $2 where id = $1', [
          inv.id,
          u.id,
        ]);
        await appendAudit(
          db,
          { userId: u.id, username: u.username },
          {
            action: 'portal.invitation.accept',
            entityType: 'portal_invitation',
            entityId: inv.id,
            districtId: inv.district_id,
            before: null,
            after: { userId: u.id, username: u.username, enterpriseId: inv.enterprise_id },
            requestId: req.id,
          },
        );
        return u;
      });
      reply.code(201);
      return { user: { username: user.username, enterpriseId: user.enterpriseId } };
    },
  );
}
