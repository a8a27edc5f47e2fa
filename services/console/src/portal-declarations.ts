// The enterprise's declarations as its portal shows them: the shutdowns, resumptions, maintenance
// windows and early ends its users declared that waited for the bureau (registry_change_requests),
// each pending, confirmed, or rejected with the decision's reason. Officers confirm them on their
// Approvals page (GET /api/registry-changes, scoped to their district). An enterprise user never
// declares for the past: what it declares starts no earlier than now, less a grace for filling in
// the form (DECLARATION_GRACE_MS).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ConsoleError } from './errors.js';
import type { Principal } from './principal.js';
import { AWAITS_OFFICER, fieldError, instant, type RegistryChange } from './registry-edit.js';

/** How far before now an enterprise's declaration may start (the time the form took to fill in). */
export const DECLARATION_GRACE_MS = 15 * 60_000;

/** The field of a declaration that says when it takes effect, and its value, if it has one. */
function effectiveOf(ch: RegistryChange): [string, string] | null {
  if (ch.kind === 'status') return ['effectiveFrom', ch.effectiveFrom];
  if (ch.kind === 'maintenance') return ['startsAt', ch.startsAt];
  if (ch.kind === 'maintenance-end' && ch.endsAt) return ['endsAt', ch.endsAt];
  return null;
}

/** Refuses, naming the field, an enterprise's declaration that would take effect in the past. */
export function refusePastDeclaration(ch: RegistryChange, now: number = Date.now()): void {
  const e = effectiveOf(ch);
  if (!e) return;
  if (instant(e[0], e[1]).getTime() < now - DECLARATION_GRACE_MS)
    throw fieldError(
      e[0],
      '企业申报不能早于当前时间',
      'an enterprise cannot declare for the past; use the current or a later time',
    );
}

export interface Declaration {
  id: string;
  kind: 'status' | 'maintenance' | 'maintenance-end';
  change: Record<string, unknown>;
  state: 'pending' | 'confirmed' | 'rejected';
  /** Who decides: an officer of the district, or city staff (a window longer than the policy allows). */
  awaits: 'officer' | 'city';
  requestedBy: string;
  requestedAt: string;
  decidedAt: string | null;
  /** The reason given with a rejection (a confirmation's note stays with the bureau). */
  reason: string | null;
}

/** The declarations of the user's own enterprise (made by its portal users), newest first. */
export async function listDeclarations(pool: pg.Pool, p: Principal): Promise<Declaration[]> {
  if (p.role !== 'enterprise' || !p.enterpriseId)
    throw new ConsoleError('FORBIDDEN', '仅企业用户 / enterprise users only');
  const r = await pool.query<{
    id: string;
    kind: Declaration['kind'];
    change: Record<string, unknown>;
    state: 'pending' | 'approved' | 'rejected';
    relaxes: string;
    requestedBy: string;
    requestedAt: Date;
    decidedAt: Date | null;
    note: string | null;
  }>(
    `select r.id::text as id, r.kind, r.change, r.state, r.relaxes, u.username as "requestedBy",
            r.requested_at as "requestedAt", r.decided_at as "decidedAt", r.decision_note as note
       from registry_change_requests r join console_users u on u.id = r.requested_by
      where r.enterprise_id = $1 and u.role = 'enterprise' and u.enterprise_id = $1
        and r.kind in ('status', 'maintenance', 'maintenance-end')
      order by r.requested_at desc, r.id desc limit 200`,
    [p.enterpriseId],
  );
  return r.rows.map((x) => {
    const { kind: _kind, ...change } = x.change;
    return {
      id: x.id,
      kind: x.kind,
      change,
      state: x.state === 'approved' ? 'confirmed' : x.state,
      awaits: x.relaxes === AWAITS_OFFICER ? 'officer' : 'city',
      requestedBy: x.requestedBy,
      requestedAt: x.requestedAt.toISOString(),
      decidedAt: x.decidedAt?.toISOString() ?? null,
      reason: x.state === 'rejected' ? x.note : null,
    };
  });
}

export function registerPortalDeclarationRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal },
): void {
  app.get('/api/portal/declarations', { schema: { tags: ['portal'] } }, async (req) => ({
    items: await listDeclarations(o.pool, o.who(req)),
  }));
}
