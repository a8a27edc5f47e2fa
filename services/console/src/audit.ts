import type { Queryable } from '@offsite/store';
import type { Principal } from './principal.js';

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  districtId: string | null;
  before: unknown;
  after: unknown;
  requestId?: string;
}

/** Appends one row to the append-only audit log, inside the caller's transaction. */
/** `actor`: the console user, or (userId null) an operator acting through the `offsite` CLI. */
export async function appendAudit(
  db: Queryable,
  actor: Pick<Principal, 'username'> & { userId: string | null },
  e: AuditEntry,
): Promise<void> {
  await db.query(
    `insert into audit_log (actor_id, actor_name, action, entity_type, entity_id, district_id, before, after, request_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      actor.userId,
      actor.username,
      e.action,
      e.entityType,
      e.entityId,
      e.districtId,
      e.before === undefined ? null : JSON.stringify(e.before),
      e.after === undefined ? null : JSON.stringify(e.after),
      e.requestId ?? null,
    ],
  );
}

export interface AuditRow {
  id: string;
  at: string;
  actorName: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/** Audit entries the principal may see: city-wide roles all, officers their district's. */
export async function listAudit(
  db: Queryable,
  p: Principal,
  filter: { entityType?: string; entityId?: string; limit: number },
): Promise<AuditRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (p.role === 'enterprise') return [];
  if (p.role === 'district-officer') {
    params.push(p.districtId);
    where.push(`a.district_id = $${params.length}`);
  }
  if (filter.entityType) {
    params.push(filter.entityType);
    where.push(`a.entity_type = $${params.length}`);
  }
  if (filter.entityId) {
    params.push(filter.entityId);
    where.push(`a.entity_id = $${params.length}`);
  }
  params.push(filter.limit);
  const r = await db.query(
    `select a.id::text as id, a.at, a.actor_name as "actorName", a.action, a.entity_type as "entityType",
            a.entity_id as "entityId", a.before, a.after
       from audit_log a ${where.length ? `where ${where.join(' and ')}` : ''}
      order by a.at desc, a.id desc limit $${params.length}`,
    params,
  );
  return r.rows.map(
    (row: Record<string, unknown>) => ({ ...row, at: (row.at as Date).toISOString() }) as AuditRow,
  );
}
