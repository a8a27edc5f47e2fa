/**
 * The overview (首页 / 一张图): per district and for the whole scope, the enterprises monitored and online
 * now, the month's 传输有效率 (transmission.ts's report, not a second computation), the month's valid-hour
 * compliance rate (the analyzer's monthly counts, compliance.ts), open deviations by
 * rule and severity, overdue rectifications, and the reminders sent and acknowledged in the month.
 *
 * Sources: the registry (enterprises with an enabled device are monitored); the console's case view
 * `review_cases` (over the alerter's read API `alerter_cases_v1`); the alerter's `alerter_notifications_v1`
 * and `alerter_acknowledgements_v1`. "Online now": a monitored enterprise without an open `offline` case.
 * "Overdue": a case in `rectification-requested` whose deadline (a date in Asia/Shanghai) has passed.
 * The reminders sent and acknowledged are counted from overview-reminders.ts's definition, the one its list
 * (`GET /api/reminders`) shows.
 *
 * Scope as everywhere else (principal.ts): a city role sees every district, an officer their district, an
 * enterprise user the figures of their own enterprise only (never suspected-falsification cases).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '@offsite/store';
import { OPEN_CASE_SQL, OVERDUE_CASE_SQL } from './cases.js';
import { complianceByDistrict, sumCompliance, type ComplianceFigure } from './compliance.js';
import { ConsoleError } from './errors.js';
import { remindersSql, overviewMonth } from './overview-reminders.js';
import { scopeSql, type Principal } from './principal.js';
import { transmissionReport, type TransmissionSource } from './transmission.js';

export interface OverviewTransmission {
  expected: number;
  received: number;
  valid: number;
  effectiveRate: number | null;
  belowThreshold: boolean;
}

export interface OverviewFigures {
  enterprises: number;
  online: number;
  /** null: InfluxDB is not configured or did not answer (see `transmissionUnavailable`). */
  transmission: OverviewTransmission | null;
  /** The month's valid-hour compliance rate (compliance.ts); null when the analyzer stored no figure for it. */
  compliance: ComplianceFigure | null;
  openDeviations: number;
  overdueCases: number;
  remindersSent: number;
  remindersAcknowledged: number;
}

export interface OverviewOpenDeviation {
  districtId: string;
  rule: string;
  severity: string;
  count: number;
}

export interface Overview {
  month: string;
  /** The instant the figures were read, ISO 8601 UTC. */
  asOf: string;
  scope: 'city' | 'district' | 'enterprise';
  threshold: number | null;
  transmissionUnavailable: boolean;
  /** The part of the month the compliance rate judged (ISO 8601 UTC; see compliance.ts); null without figures. */
  complianceWindow: { from: string; to: string } | null;
  total: OverviewFigures;
  districts: (OverviewFigures & { id: string; nameZh: string; nameEn: string })[];
  openByRule: OverviewOpenDeviation[];
}

const blank = (): OverviewFigures => ({
  enterprises: 0,
  online: 0,
  transmission: null,
  compliance: null,
  openDeviations: 0,
  overdueCases: 0,
  remindersSent: 0,
  remindersAcknowledged: 0,
});

export async function overview(
  db: Queryable,
  src: TransmissionSource | undefined,
  p: Principal,
  q: { month?: string },
  now: number,
): Promise<Overview> {
  const range = overviewMonth(q, now);
  const month = range.month;

  const ep: unknown[] = [];
  const eScope = scopeSql(p, ep, 'e');
  const districts = await db.query<{
    id: string;
    name_zh: string;
    name_en: string;
    n: number;
    online: number;
  }>(
    `select di.id, di.name_zh, di.name_en,
            count(distinct e.id) filter (where exists (
              select 1 from outlets o join devices d on d.outlet_id = o.id
               where o.enterprise_id = e.id and d.enabled))::int as n,
            count(distinct e.id) filter (where exists (
              select 1 from outlets o join devices d on d.outlet_id = o.id
               where o.enterprise_id = e.id and d.enabled) and not exists (
              select 1 from alerter_cases_v1 ac
               where ac.enterprise_id = e.id and ac.rule = 'offline' and ac.state <> 'resolved'))::int as online
       from districts di join enterprises e on e.district_id = di.id
      where ${eScope}
      group by di.id, di.name_zh, di.name_en order by di.id`,
    ep,
  );

  const cp: unknown[] = [];
  const cScope = scopeSql(p, cp, 'e', 'rc');
  const open = await db.query<{ district_id: string; rule: string; severity: string; n: number }>(
    `select e.district_id, rc.rule, rc.severity, count(*)::int as n
       from review_cases rc join enterprises e on e.id = rc.enterprise_id
      where ${cScope} and ${OPEN_CASE_SQL}
      group by e.district_id, rc.rule, rc.severity
      order by e.district_id, rc.rule, array_position(array['critical','high','medium','low','info'], rc.severity)`,
    cp,
  );

  const op: unknown[] = [];
  const oScope = scopeSql(p, op, 'e', 'rc');
  const overdue = await db.query<{ district_id: string; n: number }>(
    `select e.district_id, count(*)::int as n
       from review_cases rc join enterprises e on e.id = rc.enterprise_id
      where ${oScope} and ${OVERDUE_CASE_SQL}
      group by e.district_id`,
    op,
  );

  const rp: unknown[] = [];
  const reminders = await db.query<{ district_id: string; sent: number; acknowledged: number }>(
    `select x.district_id, count(*)::int as sent, count(x.acknowledged_at)::int as acknowledged
       from (${remindersSql(p, rp, range)}) x
      group by x.district_id`,
    rp,
  );

  const compliance = await complianceByDistrict(db, p, month);

  let transmission: Awaited<ReturnType<typeof transmissionReport>> | null = null;
  let transmissionUnavailable = !src;
  if (src) {
    try {
      transmission = await transmissionReport(db, src, p, { month }, now);
    } catch (err) {
      if (!(err instanceof ConsoleError) || err.code !== 'EVIDENCE_UNAVAILABLE') throw err;
      transmissionUnavailable = true;
    }
  }

  const byDistrict = new Map<string, Overview['districts'][number]>();
  for (const d of districts.rows)
    byDistrict.set(d.id, {
      ...blank(),
      id: d.id,
      nameZh: d.name_zh,
      nameEn: d.name_en,
      enterprises: d.n,
      online: d.online,
    });
  const at = (id: string) => byDistrict.get(id);
  for (const r of open.rows) {
    const d = at(r.district_id);
    if (d) d.openDeviations += r.n;
  }
  for (const r of overdue.rows) {
    const d = at(r.district_id);
    if (d) d.overdueCases = r.n;
  }
  for (const r of reminders.rows) {
    const d = at(r.district_id);
    if (d) {
      d.remindersSent = r.sent;
      d.remindersAcknowledged = r.acknowledged;
    }
  }
  for (const c of compliance) {
    const d = at(c.districtId);
    if (d)
      d.compliance = {
        compliantValidHours: c.compliantValidHours,
        judgedValidHours: c.judgedValidHours,
        rate: c.rate,
      };
  }
  const pick = (c: OverviewTransmission): OverviewTransmission => ({
    expected: c.expected,
    received: c.received,
    valid: c.valid,
    effectiveRate: c.effectiveRate,
    belowThreshold: c.belowThreshold,
  });
  if (transmission) {
    for (const d of byDistrict.values()) {
      const g = transmission.districts.find((x) => x.id === d.id);
      d.transmission = g ? pick(g) : null;
    }
  }
  const list = [...byDistrict.values()];
  const sum = (k: keyof Omit<OverviewFigures, 'transmission' | 'compliance'>) =>
    list.reduce((s, d) => s + d[k], 0);
  return {
    month,
    asOf: new Date(now).toISOString(),
    scope: p.role === 'enterprise' ? 'enterprise' : p.role === 'district-officer' ? 'district' : 'city',
    threshold: transmission?.threshold ?? src?.threshold ?? null,
    transmissionUnavailable,
    complianceWindow:
      compliance.length === 0
        ? null
        : {
            from: compliance.map((c) => c.windowFrom).sort()[0]!,
            to: compliance
              .map((c) => c.windowTo)
              .sort()
              .at(-1)!,
          },
    total: {
      enterprises: sum('enterprises'),
      online: sum('online'),
      transmission: transmission ? pick(transmission.total) : null,
      compliance: compliance.length === 0 ? null : sumCompliance(list.flatMap((d) => d.compliance ?? [])),
      openDeviations: sum('openDeviations'),
      overdueCases: sum('overdueCases'),
      remindersSent: sum('remindersSent'),
      remindersAcknowledged: sum('remindersAcknowledged'),
    },
    districts: list,
    openByRule: open.rows.map((r) => ({
      districtId: r.district_id,
      rule: r.rule,
      severity: r.severity,
      count: r.n,
    })),
  };
}

export function registerOverviewRoutes(
  app: FastifyInstance,
  deps: { pool: Queryable; who: (req: FastifyRequest) => Principal; source?: TransmissionSource },
): void {
  const Query = Type.Object(
    { month: Type.Optional(Type.String({ minLength: 7, maxLength: 7 })) },
    { additionalProperties: false },
  );
  app.get('/api/overview', { schema: { querystring: Query, tags: ['statistics'] } }, async (req) =>
    overview(deps.pool, deps.source, deps.who(req), req.query as { month?: string }, Date.now()),
  );
}
