/**
 * The overview's reminders: one definition of "a reminder sent in the month" that the overview counts
 * (overview.ts) and `GET /api/reminders` lists, so the list's total is the figure that links to it.
 *
 * A reminder is an alerter group and an enterprise contact with at least one `reminder` notification sent
 * (status `sent`) to that contact in the month (Asia/Shanghai); it is acknowledged when the contact acknowledged
 * the group (at any time). Supervisors' copies are not reminders here: they cannot acknowledge, and the
 * monthly report (regulation/reports.ts) and the guide count enterprise contacts only. The
 * rows come from the alerter's read API (`alerter_notifications_v1`, `alerter_acknowledgements_v1`,
 * `alerter_delivery_receipts_v1`, `alerter_cases_v1`); the console writes none of them. Addresses are the
 * alerter's masked ones (`address_masked`), as on the case page.
 *
 * Scope as everywhere else (principal.ts): a city role every district, an officer their district, an
 * enterprise user their own enterprise.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { monthRange, shanghaiDate } from '@offsite/domain/calendar';
import type { Queryable } from '@offsite/store';
import { ConsoleError } from './errors.js';
import { scopeSql, type Principal } from './principal.js';

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

const invalidMonth = (zh: string, en: string) =>
  new ConsoleError('INVALID_INPUT', `字段 month：${zh} / invalid field month: ${en}`, {
    details: { in: 'querystring', field: 'month' },
  });

/** The overview's month (the current one in Asia/Shanghai by default), refused by field when malformed or future. */
export function overviewMonth(q: { month?: string }, now: number): { month: string; from: Date; to: Date } {
  const month = q.month ?? shanghaiDate(now).slice(0, 7);
  if (!MONTH.test(month)) throw invalidMonth('应为 YYYY-MM 格式的月份', 'expected a YYYY-MM month');
  const range = monthRange(month);
  if (range.from.getTime() > now) throw invalidMonth('该月尚未开始', 'the month has not begun');
  return { month, from: range.from, to: range.to };
}

/** A reminder notification sent to an enterprise contact (`n`: alerter_notifications_v1). */
const SENT_REMINDER = `n.kind = 'reminder' and n.status = 'sent' and n.recipient_kind = 'enterprise-contact'`;

/**
 * The month's reminders in `p`'s scope (optionally one district), as a query pushing its parameters on
 * `params`: columns group_key, recipient_id, enterprise_id, district_id, last_sent_at, acknowledged_at (null: not
 * acknowledged).
 */
export function remindersSql(
  p: Principal,
  params: unknown[],
  range: { from: Date; to: Date },
  district?: string,
): string {
  const scope = scopeSql(p, params, 'e');
  params.push(range.from, range.to);
  const window = `n.sent_at >= $${params.length - 1} and n.sent_at < $${params.length}`;
  let oneDistrict = '';
  if (district !== undefined) {
    params.push(district);
    oneDistrict = `and e.district_id = $${params.length}`;
  }
  return `select r.group_key, r.recipient_id, r.enterprise_id, e.district_id, r.last_sent_at,
                 (select min(a.acknowledged_at) from alerter_acknowledgements_v1 a
                   where a.group_key = r.group_key and a.recipient_id = r.recipient_id) as acknowledged_at
            from (select n.group_key, n.recipient_id, g.enterprise_id, max(n.sent_at) as last_sent_at
                    from alerter_notifications_v1 n
                    join (select distinct group_key, enterprise_id from alerter_cases_v1 where group_key is not null) g
                      on g.group_key = n.group_key
                   where ${SENT_REMINDER} and ${window}
                   group by n.group_key, n.recipient_id, g.enterprise_id) r
            join enterprises e on e.id = r.enterprise_id
           where ${scope} ${oneDistrict}`;
}

/** One notification of a reminder in the month: its channel, round, send time and what the provider reported. */
export interface ReminderDelivery {
  channel: string;
  round: number;
  sentAt: string;
  /** The provider's last receipt: delivered, not delivered, or none yet. */
  delivery: 'delivered' | 'undelivered' | 'no-receipt';
  errorCode: string | null;
}

export interface ReminderRow {
  groupKey: string;
  recipientId: string;
  recipientKind: string;
  addressMasked: string;
  enterpriseId: string;
  enterpriseNameZh: string;
  enterpriseNameEn: string | null;
  districtId: string;
  /** The deviations (cases) the group's reminders named in the month. */
  deviationIds: string[];
  /** The highest round sent in the month. */
  round: number;
  /** The last send in the month, ISO 8601 UTC. */
  sentAt: string;
  acknowledgedAt: string | null;
  /** The month's sent notifications, oldest first. */
  deliveries: ReminderDelivery[];
}

export interface ReminderList {
  month: string;
  state: 'sent' | 'acknowledged';
  district: string | null;
  total: number;
  page: number;
  pageSize: number;
  items: ReminderRow[];
}

export interface ReminderQuery {
  month?: string;
  state?: 'sent' | 'acknowledged';
  district?: string;
  page?: number;
  pageSize?: number;
}

const iso = (v: Date | string) => new Date(v).toISOString();

/** The month's reminders as the overview counts them, latest send first, a page at a time. */
export async function reminderList(
  db: Queryable,
  p: Principal,
  q: ReminderQuery,
  now: number,
): Promise<ReminderList> {
  const m = overviewMonth(q, now);
  const state = q.state ?? 'sent';
  const page = q.page ?? 1;
  const pageSize = q.pageSize ?? 50;
  const params: unknown[] = [];
  const base = remindersSql(p, params, m, q.district);
  const ackOnly = state === 'acknowledged' ? 'where x.acknowledged_at is not null' : '';
  const from = params.length + 1;
  params.push(m.from, m.to);
  params.push(pageSize, (page - 1) * pageSize);
  const r = await db.query<{
    group_key: string;
    recipient_id: string;
    enterprise_id: string;
    district_id: string;
    acknowledged_at: Date | null;
    name_zh: string;
    name_en: string | null;
    total: number;
    sent: {
      channel: string;
      round: number;
      sent_at: string;
      recipient_kind: string;
      address_masked: string;
      deviation_ids: string[];
      delivered: boolean | null;
      error_code: string | null;
    }[];
  }>(
    `select x.*, e.name_zh, e.name_en, count(*) over ()::int as total,
            (select json_agg(json_build_object(
                      'channel', n.channel, 'round', n.round, 'sent_at', n.sent_at,
                      'recipient_kind', n.recipient_kind, 'address_masked', n.address_masked,
                      'deviation_ids', n.deviation_ids, 'delivered', rc.delivered, 'error_code', rc.error_code)
                    order by n.sent_at, n.id)
               from alerter_notifications_v1 n
               left join lateral (
                 select d.delivered, d.error_code from alerter_delivery_receipts_v1 d
                  where d.notification_id = n.id order by d.received_at desc, d.id desc limit 1) rc on true
              where n.group_key = x.group_key and n.recipient_id = x.recipient_id
                and ${SENT_REMINDER} and n.sent_at >= $${from} and n.sent_at < $${from + 1}) as sent
       from (${base}) x join enterprises e on e.id = x.enterprise_id
       ${ackOnly}
      order by x.last_sent_at desc, x.group_key, x.recipient_id
      limit $${params.length - 1} offset $${params.length}`,
    params,
  );
  let total = r.rows[0]?.total ?? 0;
  if (r.rows.length === 0 && page > 1) {
    // Past the last page: the count still answers.
    const cp: unknown[] = [];
    const c = await db.query<{ n: number }>(
      `select count(*)::int as n from (${remindersSql(p, cp, m, q.district)}) x ${ackOnly}`,
      cp,
    );
    total = c.rows[0]?.n ?? 0;
  }
  return {
    month: m.month,
    state,
    district: q.district ?? null,
    total,
    page,
    pageSize,
    items: r.rows.map((x) => {
      const sent = x.sent ?? [];
      const last = sent.at(-1)!;
      return {
        groupKey: x.group_key,
        recipientId: x.recipient_id,
        recipientKind: last.recipient_kind,
        addressMasked: last.address_masked,
        enterpriseId: x.enterprise_id,
        enterpriseNameZh: x.name_zh,
        enterpriseNameEn: x.name_en,
        districtId: x.district_id,
        deviationIds: [...new Set(sent.flatMap((s) => s.deviation_ids))].sort(),
        round: Math.max(...sent.map((s) => s.round)),
        sentAt: iso(last.sent_at),
        acknowledgedAt: x.acknowledged_at ? iso(x.acknowledged_at) : null,
        deliveries: sent.map((s) => ({
          channel: s.channel,
          round: s.round,
          sentAt: iso(s.sent_at),
          delivery: s.delivered === null ? 'no-receipt' : s.delivered ? 'delivered' : 'undelivered',
          errorCode: s.error_code,
        })),
      };
    }),
  };
}

export function registerReminderRoutes(
  app: FastifyInstance,
  deps: { pool: Queryable; who: (req: FastifyRequest) => Principal },
): void {
  const Query = Type.Object(
    {
      month: Type.Optional(Type.String({ minLength: 7, maxLength: 7 })),
      state: Type.Optional(Type.Union([Type.Literal('sent'), Type.Literal('acknowledged')])),
      district: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z_.-]{1,64}$' })),
      page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
      pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    },
    { additionalProperties: false },
  );
  app.get('/api/reminders', { schema: { querystring: Query, tags: ['statistics'] } }, async (req) =>
    reminderList(deps.pool, deps.who(req), req.query as ReminderQuery, Date.now()),
  );
}
