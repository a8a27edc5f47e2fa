import type { DeviationV1 } from '@offsite/contracts';

/** The slice of pg this module uses (a Pool or a client). */
export interface Db {
  query<R = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface CaseRow {
  deviation_id: string;
  revision: number;
  state: DeviationV1['state'];
  rule: string;
  severity: string;
  enterprise_id: string;
  site_id: string;
  suspected_falsification: boolean;
  in_resumption_window: boolean;
  opened_at: Date;
  resolved_at: Date | null;
  event: DeviationV1;
  group_key: string | null;
  policy: string | null;
  suppressed_reason: string | null;
}

/** Keeps the latest revision; returns the stored row only when this event was newer (else null). */
export async function upsertCase(db: Db, ev: DeviationV1): Promise<CaseRow | null> {
  const res = await db.query<CaseRow>(
    `insert into alert_cases (deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
        suspected_falsification, in_resumption_window, opened_at, resolved_at, event)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (deviation_id) do update set revision = excluded.revision, state = excluded.state,
        severity = excluded.severity, resolved_at = excluded.resolved_at, event = excluded.event,
        in_resumption_window = excluded.in_resumption_window, updated_at = now()
      where alert_cases.revision < excluded.revision
     returning *`,
    [
      ev.id,
      ev.revision,
      ev.state,
      ev.rule,
      ev.severity,
      ev.enterpriseId,
      ev.siteId,
      ev.factor ?? null,
      ev.suspectedFalsification,
      ev.inResumptionWindow,
      ev.openedAt,
      ev.resolvedAt ?? null,
      JSON.stringify(ev),
    ],
  );
  return res.rows[0] ?? null;
}

export async function getCase(db: Db, id: string): Promise<CaseRow | null> {
  return (await db.query<CaseRow>(`select * from alert_cases where deviation_id = $1`, [id])).rows[0] ?? null;
}

export async function setCaseGroup(db: Db, id: string, groupKey: string, policy: string): Promise<void> {
  await db.query(
    `update alert_cases set group_key = $2, policy = $3 where deviation_id = $1 and group_key is null`,
    [id, groupKey, policy],
  );
}

export async function setSuppressed(db: Db, id: string, reason: string): Promise<void> {
  await db.query(`update alert_cases set suppressed_reason = $2 where deviation_id = $1`, [id, reason]);
}

export async function casesInGroup(db: Db, groupKey: string): Promise<CaseRow[]> {
  return (
    await db.query<CaseRow>(
      `select * from alert_cases where group_key = $1 order by opened_at, deviation_id`,
      [groupKey],
    )
  ).rows;
}

export async function isAcknowledged(db: Db, groupKey: string): Promise<boolean> {
  return (
    ((await db.query(`select 1 from alert_acknowledgements where group_key = $1 limit 1`, [groupKey]))
      .rowCount ?? 0) > 0
  );
}

export async function hasNotifications(db: Db, groupKey: string): Promise<boolean> {
  return (
    ((
      await db.query(`select 1 from alert_notifications where group_key = $1 and status = 'sent' limit 1`, [
        groupKey,
      ])
    ).rowCount ?? 0) > 0
  );
}

/** Any notification row (sending, sent or failed): the group's first round has run at least in part. */
export async function hasAnyNotification(db: Db, groupKey: string): Promise<boolean> {
  return (
    ((await db.query(`select 1 from alert_notifications where group_key = $1 limit 1`, [groupKey]))
      .rowCount ?? 0) > 0
  );
}

export interface EnterpriseInfo {
  id: string;
  name_zh: string;
  name_en: string | null;
  district_id: string;
  supervision_class: string;
  resumption_date: string | null;
}

export async function enterpriseInfo(db: Db, id: string): Promise<EnterpriseInfo | null> {
  const r = await db.query<EnterpriseInfo>(
    `select e.id, e.name_zh, e.name_en, e.district_id, e.supervision_class,
            (select to_char(t.resumption_date, 'YYYY-MM-DD') from enterprise_status_timeline t
              where t.enterprise_id = e.id and t.resumption_date is not null
              order by t.effective_from desc limit 1) as resumption_date
       from enterprises e where e.id = $1`,
    [id],
  );
  return r.rows[0] ?? null;
}

/** Facility name: the outlet or meter the deviation is about (falls back to the id). */
export async function siteName(db: Db, siteId: string): Promise<{ zh: string; en?: string }> {
  const r = await db.query<{ name_zh: string; name_en: string | null }>(
    `select name_zh, name_en from outlets where id = $1 union all select name_zh, name_en from meters where id = $1 limit 1`,
    [siteId],
  );
  const row = r.rows[0];
  return row ? { zh: row.name_zh, ...(row.name_en ? { en: row.name_en } : {}) } : { zh: siteId };
}

export async function inMaintenance(
  db: Db,
  enterpriseId: string,
  siteId: string,
  at: string,
): Promise<boolean> {
  const r = await db.query(
    `select 1 from maintenance_windows w
      where w.enterprise_id = $1 and w.starts_at <= $3 and w.ends_at > $3
        and (w.outlet_id = $2 or w.device_mn in (select mn from devices where outlet_id = $2))
      limit 1`,
    [enterpriseId, siteId, at],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function siteOffline(db: Db, siteId: string): Promise<boolean> {
  const r = await db.query(
    `select 1 from alert_cases where site_id = $1 and rule = 'offline' and state <> 'resolved' limit 1`,
    [siteId],
  );
  return (r.rowCount ?? 0) > 0;
}

export interface ContactRow {
  id: string;
  name: string;
  role: string;
  phone: string | null;
  email: string | null;
  language: 'zh' | 'en';
}

export async function contactsByRole(db: Db, enterpriseId: string, roles: string[]): Promise<ContactRow[]> {
  if (roles.length === 0) return [];
  return (
    await db.query<ContactRow>(
      `select id::text as id, name, role, phone, email, language from contacts where enterprise_id = $1 and role = any($2) order by id`,
      [enterpriseId, roles],
    )
  ).rows;
}

/** Claims a send: returns false when it was already sent (a redelivered or stalled job). */
export async function claimSend(
  db: Db,
  n: {
    id: string;
    groupKey: string;
    deviationIds: string[];
    kind: string;
    round: number;
    recipientKind: string;
    recipientId: string;
    addressMasked: string;
    channel: string;
  },
): Promise<{ proceed: boolean; attempts: number }> {
  const r = await db.query<{ attempts: number }>(
    `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id, address_masked, channel, status, attempts)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'sending', 1)
     on conflict (id) do update set attempts = alert_notifications.attempts + 1, status = 'sending', updated_at = now()
      where alert_notifications.status <> 'sent'
     returning attempts`,
    [
      n.id,
      n.groupKey,
      n.deviationIds,
      n.kind,
      n.round,
      n.recipientKind,
      n.recipientId,
      n.addressMasked,
      n.channel,
    ],
  );
  const row = r.rows[0];
  return row ? { proceed: true, attempts: row.attempts } : { proceed: false, attempts: 0 };
}

export async function recordAttempt(
  db: Db,
  a: {
    notificationId: string;
    attempt: number;
    provider: string;
    providerMessageId?: string;
    status: 'sent' | 'failed';
    errorCode?: string;
    errorMessage?: string;
    latencyMs?: number;
  },
): Promise<void> {
  await db.query(
    `insert into alert_delivery_attempts (notification_id, attempt, provider, provider_message_id, status, error_code, error_message, latency_ms)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      a.notificationId,
      a.attempt,
      a.provider,
      a.providerMessageId ?? null,
      a.status,
      a.errorCode ?? null,
      a.errorMessage?.slice(0, 2000) ?? null,
      a.latencyMs ?? null,
    ],
  );
}

export async function markNotification(
  db: Db,
  id: string,
  status: 'sent' | 'failed',
  provider?: string,
  providerMessageId?: string,
): Promise<void> {
  await db.query(
    `update alert_notifications set status = $2, provider = coalesce($3, provider), provider_message_id = coalesce($4, provider_message_id),
       sent_at = case when $2 = 'sent' then now() else sent_at end, updated_at = now() where id = $1`,
    [id, status, provider ?? null, providerMessageId ?? null],
  );
}

export async function insertAck(
  db: Db,
  groupKey: string,
  recipientId: string,
  cause: string,
  expectedFixAt: string | null,
): Promise<boolean> {
  const r = await db.query(
    `insert into alert_acknowledgements (group_key, recipient_id, cause, expected_fix_at) values ($1, $2, $3, $4) on conflict do nothing`,
    [groupKey, recipientId, cause, expectedFixAt],
  );
  return (r.rowCount ?? 0) > 0;
}

export interface NotificationRow {
  id: string;
  deviation_ids: string[];
  round: number;
  recipient_kind: 'enterprise-contact' | 'supervisor';
  recipient_id: string;
  address_masked: string;
  channel: 'email' | 'sms' | 'outbox';
}

/**
 * Stores a delivery receipt (idempotent per provider message id and phone) and returns the
 * notification it belongs to, or null when it matches none of ours or was already stored.
 */
export async function insertReceipt(
  db: Db,
  r: {
    provider: string;
    providerMessageId: string;
    notificationId?: string;
    phone: string;
    delivered: boolean;
    errorCode?: string;
    errorMessage?: string;
    at: Date;
  },
): Promise<NotificationRow | null> {
  const n = (
    await db.query<NotificationRow>(
      `select id, deviation_ids, round, recipient_kind, recipient_id, address_masked, channel
         from alert_notifications
        where (provider = $1 and provider_message_id = $2) or id = $3
        order by (id = $3) desc limit 1`,
      [r.provider, r.providerMessageId, r.notificationId ?? null],
    )
  ).rows[0];
  if (!n) return null;
  const ins = await db.query(
    `insert into alert_delivery_receipts (notification_id, provider, provider_message_id, phone_masked, delivered, error_code, error_message, reported_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (provider, provider_message_id, phone_masked) do nothing`,
    [
      n.id,
      r.provider,
      r.providerMessageId,
      n.address_masked,
      r.delivered,
      r.errorCode ?? null,
      r.errorMessage?.slice(0, 2000) ?? null,
      Number.isNaN(r.at.getTime()) ? null : r.at.toISOString(),
    ],
  );
  return (ins.rowCount ?? 0) > 0 ? n : null;
}
