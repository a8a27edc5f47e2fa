import type { DeviationV1 } from '@offsite/contracts';

/** The slice of pg this module uses (a Pool or a client). */
export interface Db {
  query<R = Record<string, unknown>>(
    text: string | Prepared,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * Session settings for every alerter connection. A send is claimed in a committed transaction before the
 * provider is called (exactly once per round), so the commit must be on disk when it returns, whatever the
 * server's default: the development servers run with `synchronous_commit = off`, which would let a
 * Postgres crash forget a claim whose message already went out.
 */
export const ALERTER_PG_SETTINGS: Readonly<Record<string, string>> = { synchronous_commit: 'on' };

/**
 * A named (prepared) statement: on each pooled connection Postgres parses and plans it once, and
 * later runs send only the parameters. Used for the statements every notification runs.
 */
export interface Prepared {
  name: string;
  text: string;
}
const prepared = (name: string, text: string): Prepared => ({ name: `alerter-${name}`, text });

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

export interface EnterpriseInfo {
  id: string;
  name_zh: string;
  name_en: string | null;
  district_id: string;
  supervision_class: string;
  resumption_date: string | null;
}

const enterpriseSql = (id: string) => `select e.id, e.name_zh, e.name_en, e.district_id, e.supervision_class,
    (select to_char(t.resumption_date, 'YYYY-MM-DD') from enterprise_status_timeline t
      where t.enterprise_id = e.id and t.resumption_date is not null
      order by t.effective_from desc limit 1) as resumption_date
  from enterprises e where e.id = ${id}`;

export interface PlanContext {
  ent: EnterpriseInfo | null;
  inMaintenance: boolean;
  siteOffline: boolean;
}

/** The policy inputs about an enterprise, a site at a time (parameter placeholders given). */
const planContextColumns = (ent: string, site: string, at: string, checkOffline: string) =>
  `(select to_jsonb(x) from (${enterpriseSql(ent)}) x) as ctx_ent,
   exists (select 1 from maintenance_windows w
            where w.enterprise_id = ${ent} and w.starts_at <= ${at} and w.ends_at > ${at}
              and (w.outlet_id = ${site} or w.device_mn in (select mn from devices where outlet_id = ${site})))
     as ctx_in_maintenance,
   ${checkOffline}::boolean and exists (select 1 from alert_cases
     -- the site's enterprise too: alert_cases has no site index, the enterprise one narrows the scan
     where enterprise_id = ${ent} and site_id = ${site} and rule = 'offline' and state <> 'resolved')
     as ctx_site_offline`;

type WithContext<R> = R & {
  ctx_ent: EnterpriseInfo | null;
  ctx_in_maintenance: boolean;
  ctx_site_offline: boolean;
};

function splitContext<R>(row: WithContext<R>): { row: R; ctx: PlanContext } {
  const { ctx_ent, ctx_in_maintenance, ctx_site_offline, ...rest } = row;
  return {
    row: rest as R,
    ctx: { ent: ctx_ent, inMaintenance: ctx_in_maintenance, siteOffline: ctx_site_offline },
  };
}

const UPSERT_CASES = prepared(
  'upsert-cases',
  `with v as (
       select * from jsonb_to_recordset($1::jsonb) as x(deviation_id text, revision integer, state text, rule text,
          severity text, enterprise_id text, site_id text, factor text, suspected_falsification boolean,
          in_resumption_window boolean, opened_at timestamptz, resolved_at timestamptz, event jsonb,
          window_start timestamptz, check_offline boolean)
     ), up as (
       insert into alert_cases (deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
          suspected_falsification, in_resumption_window, opened_at, resolved_at, event)
       select deviation_id, revision, state, rule, severity, enterprise_id, site_id, factor,
          suspected_falsification, in_resumption_window, opened_at, resolved_at, event from v
       on conflict (deviation_id) do update set revision = excluded.revision, state = excluded.state,
          severity = excluded.severity, resolved_at = excluded.resolved_at, event = excluded.event,
          in_resumption_window = excluded.in_resumption_window, updated_at = now()
        where alert_cases.revision < excluded.revision
       -- Named columns, not *: a prepared statement's result type must not change under a migration.
       returning deviation_id, revision, state, rule, severity, enterprise_id, site_id, suspected_falsification,
          in_resumption_window, opened_at, resolved_at, event, group_key, policy, suppressed_reason)
     select up.*, ${planContextColumns('up.enterprise_id', 'up.site_id', 'v.window_start', 'v.check_offline')}
       from up join v on v.deviation_id = up.deviation_id`,
);

/**
 * Keeps the latest revision of each deviation (ids distinct within a call); for each, the stored
 * row only when this event was newer (else null), with what planning needs to know (enterprise,
 * maintenance, offline site) read in the same round trip.
 */
export async function upsertCases(
  db: Db,
  evs: DeviationV1[],
): Promise<({ row: CaseRow; ctx: PlanContext } | null)[]> {
  const res = await db.query<WithContext<CaseRow>>(UPSERT_CASES, [
    JSON.stringify(
      evs.map((ev) => ({
        deviation_id: ev.id,
        revision: ev.revision,
        state: ev.state,
        rule: ev.rule,
        severity: ev.severity,
        enterprise_id: ev.enterpriseId,
        site_id: ev.siteId,
        factor: ev.factor ?? null,
        suspected_falsification: ev.suspectedFalsification,
        in_resumption_window: ev.inResumptionWindow,
        opened_at: ev.openedAt,
        resolved_at: ev.resolvedAt ?? null,
        event: ev,
        window_start: ev.windowStart,
        check_offline: ev.rule !== 'offline',
      })),
    ),
  ]);
  const byId = new Map(res.rows.map((r) => [r.deviation_id, r]));
  return evs.map((ev) => {
    const r = byId.get(ev.id);
    return r ? splitContext(r) : null;
  });
}

export async function getCase(db: Db, id: string): Promise<CaseRow | null> {
  return (await db.query<CaseRow>(`select * from alert_cases where deviation_id = $1`, [id])).rows[0] ?? null;
}

/** Groups (and policy entries) of planned cases, many in one statement; a case keeps its first group. */
export async function setCaseGroups(
  db: Db,
  items: { deviationId: string; groupKey: string; policy: string }[],
): Promise<void> {
  await db.query(
    prepared(
      'set-case-groups',
      `update alert_cases c set group_key = x."groupKey", policy = x.policy
         from jsonb_to_recordset($1::jsonb) as x("deviationId" text, "groupKey" text, policy text)
        where c.deviation_id = x."deviationId" and c.group_key is null`,
    ),
    [JSON.stringify(items)],
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

/** What planning needs about an enterprise and a site, in one round trip. */
export async function planContext(
  db: Db,
  enterpriseId: string,
  siteId: string,
  at: string,
  checkOffline: boolean,
): Promise<PlanContext> {
  const r = await db.query<WithContext<object>>(`select ${planContextColumns('$1', '$2', '$3', '$4')}`, [
    enterpriseId,
    siteId,
    at,
    checkOffline,
  ]);
  return splitContext(r.rows[0]!).ctx;
}

export interface GroupContext {
  cases: CaseRow[];
  acked: boolean;
  /** The enterprise of the group's cases (null when unknown to the registry or no cases). */
  ent: EnterpriseInfo | null;
  /** Every contact of that enterprise, by id; the policy's roles are chosen by the caller. */
  contacts: ContactRow[];
  /**
   * The console's on-duty city supervisors and the officers of the enterprise's district, from the
   * console's read API `console_recipients_v1` (read when the round is planned: a new officer is
   * reached from the next round on).
   */
  staff: StaffRow[];
  /** Facility names of the cases' sites (outlets, else meters). */
  sites: Map<string, { zh: string; en?: string }>;
}

// Correlated per group key, so one statement serves every plan job running at the same time.
const GROUP_CONTEXTS = prepared(
  'group-contexts',
  `select g.key as group_key,
          coalesce((select jsonb_agg(to_jsonb(c) order by c.opened_at, c.deviation_id)
                      from alert_cases c where c.group_key = g.key), '[]') as cases,
          exists (select 1 from alert_acknowledgements a where a.group_key = g.key) as acked,
          (select to_jsonb(x) from (${enterpriseSql('e0.enterprise_id')}) x) as ent,
          coalesce((select jsonb_agg(jsonb_build_object('id', k.id::text, 'name', k.name, 'role', k.role,
                      'phone', k.phone, 'email', k.email, 'wechat_openid', k.wechat_openid,
                      'language', k.language) order by k.id)
                      from contacts k where k.enterprise_id = e0.enterprise_id), '[]') as contacts,
          coalesce((select jsonb_agg(jsonb_build_object('id', r.username, 'name', r.display_name, 'role', r.role,
                      'email', r.email, 'phone', r.phone, 'language', r.language) order by r.username)
                      from console_recipients_v1 r
                     where r.role = 'city-supervisor'
                        or r.district_id = (select district_id from enterprises where id = e0.enterprise_id)), '[]') as staff,
          coalesce((select jsonb_agg(s) from (
             select id, name_zh, name_en from outlets
              where id in (select site_id from alert_cases where group_key = g.key)
             union all
             select id, name_zh, name_en from meters
              where id in (select site_id from alert_cases where group_key = g.key)
                and id not in (select id from outlets
                                where id in (select site_id from alert_cases where group_key = g.key))) s),
            '[]') as sites
     from unnest($1::text[]) as g(key)
     left join lateral (select enterprise_id from alert_cases where group_key = g.key limit 1) e0 on true`,
);

/**
 * Everything a notification round needs about each group, in one round trip for many groups: its
 * cases, whether it was acknowledged, the enterprise, its contacts and the facility names.
 */
export async function groupContexts(db: Db, groupKeys: string[]): Promise<GroupContext[]> {
  const r = await db.query<{
    group_key: string;
    cases: (Omit<CaseRow, 'opened_at' | 'resolved_at'> & { opened_at: string; resolved_at: string | null })[];
    acked: boolean;
    ent: EnterpriseInfo | null;
    contacts: ContactRow[];
    staff: StaffRow[];
    sites: { id: string; name_zh: string; name_en: string | null }[];
  }>(GROUP_CONTEXTS, [groupKeys]);
  const byKey = new Map(r.rows.map((row) => [row.group_key, row]));
  return groupKeys.map((key) => {
    const row = byKey.get(key)!;
    const sites = new Map<string, { zh: string; en?: string }>();
    for (const x of row.sites) sites.set(x.id, { zh: x.name_zh, ...(x.name_en ? { en: x.name_en } : {}) });
    const cases = row.cases.map((c) => ({
      ...c,
      opened_at: new Date(c.opened_at),
      resolved_at: c.resolved_at ? new Date(c.resolved_at) : null,
    }));
    for (const c of cases) if (!sites.has(c.site_id)) sites.set(c.site_id, { zh: c.site_id });
    return { cases, acked: row.acked, ent: row.ent, contacts: row.contacts, staff: row.staff, sites };
  });
}

/** One group's context (see `groupContexts`). */
export async function groupContext(db: Db, groupKey: string): Promise<GroupContext> {
  return (await groupContexts(db, [groupKey]))[0]!;
}

/** A console user the alerter reaches (console_recipients_v1); `id` is the username. */
export interface StaffRow {
  id: string;
  name: string;
  role: 'city-supervisor' | 'district-officer';
  email: string | null;
  phone: string | null;
  language: 'zh' | 'en';
}

export interface ContactRow {
  id: string;
  name: string;
  role: string;
  phone: string | null;
  email: string | null;
  wechat_openid: string | null;
  language: 'zh' | 'en';
}

export interface SendClaim {
  id: string;
  groupKey: string;
  deviationIds: string[];
  kind: string;
  round: number;
  recipientKind: string;
  recipientId: string;
  addressMasked: string;
  channel: string;
}

const CLAIM_SENDS = prepared(
  'claim-sends',
  `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id, address_masked, channel, status, attempts)
     select id, "groupKey", "deviationIds", kind, round, "recipientKind", "recipientId", "addressMasked", channel, 'sending', 1
       from jsonb_to_recordset($1::jsonb) as x(id text, "groupKey" text, "deviationIds" text[], kind text, round integer,
            "recipientKind" text, "recipientId" text, "addressMasked" text, channel text)
     on conflict (id) do update set attempts = alert_notifications.attempts + 1, status = 'sending', updated_at = now()
      where alert_notifications.status <> 'sent'
     returning id, attempts`,
);

/**
 * Claims sends before their provider calls, many in one statement (ids distinct within a call):
 * a claim does not proceed when that notification was already sent (a redelivered or stalled job).
 */
export async function claimSends(
  db: Db,
  claims: SendClaim[],
): Promise<{ proceed: boolean; attempts: number }[]> {
  const r = await db.query<{ id: string; attempts: number }>(CLAIM_SENDS, [JSON.stringify(claims)]);
  const got = new Map(r.rows.map((row) => [row.id, row.attempts]));
  return claims.map((c) => {
    const attempts = got.get(c.id);
    return attempts === undefined ? { proceed: false, attempts: 0 } : { proceed: true, attempts };
  });
}

/** Successful sends, many at once: the `sent` attempt rows and the notifications marked `sent`. */
export async function recordSent(
  db: Db,
  sent: {
    notificationId: string;
    attempt: number;
    provider: string;
    providerMessageId: string;
    latencyMs: number;
  }[],
): Promise<void> {
  await db.query(
    prepared(
      'record-sent',
      `with v as (
       select * from jsonb_to_recordset($1::jsonb) as x("notificationId" text, attempt integer, provider text,
              "providerMessageId" text, "latencyMs" integer)
     ), a as (
       insert into alert_delivery_attempts (notification_id, attempt, provider, provider_message_id, status, latency_ms)
       select "notificationId", attempt, provider, "providerMessageId", 'sent', "latencyMs" from v
     )
     update alert_notifications n set status = 'sent', provider = v.provider, provider_message_id = v."providerMessageId",
            sent_at = now(), updated_at = now()
       from v where n.id = v."notificationId"`,
    ),
    [JSON.stringify(sent)],
  );
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
  channel: 'email' | 'sms' | 'wechat' | 'outbox';
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
): Promise<{ outcome: 'new'; notification: NotificationRow } | { outcome: 'repeat' | 'unknown' }> {
  const n = (
    await db.query<NotificationRow>(
      `select id, deviation_ids, round, recipient_kind, recipient_id, address_masked, channel
         from alert_notifications
        where (provider = $1 and provider_message_id = $2) or id = $3
        order by (id = $3) desc limit 1`,
      [r.provider, r.providerMessageId, r.notificationId ?? null],
    )
  ).rows[0];
  if (!n) return { outcome: 'unknown' };
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
  // A provider repeating a receipt matches the row its first push stored.
  return (ins.rowCount ?? 0) > 0 ? { outcome: 'new', notification: n } : { outcome: 'repeat' };
}
