// The overview tests' March 2026 (Asia/Shanghai) on top of the fixture's cases: an open offline case for
// ent-0002 and a resolved one for ent-0005 (dist-landong), an overdue rectification of the lanxi case, and a
// reminder to ent-0003 that was not acknowledged (besides the fixture's acknowledged reminder to ent-0002 of
// the landong case). The figures are counted in overview.int.test.ts. `writeComplianceMonths` stores the
// analyzer's monthly compliance rows (February and March) the valid-hour compliance rate is summed from.
import { CASES, insertAlertCase, WINDOW, type World } from './fixture.js';

export const OFFLINE_OPEN = 'dev-overview-offline-open';
export const OFFLINE_RESOLVED = 'dev-overview-offline-resolved';

export async function writeOverviewCases(w: World): Promise<void> {
  const base = {
    schema: 'deviation.v1' as const,
    emittedAt: '2026-03-03T00:00:05.000Z',
    revision: 1,
    rule: 'offline' as const,
    severity: 'high' as const,
    windowStart: WINDOW,
    openedAt: '2026-03-03T00:00:00.000Z',
    suspectedFalsification: false,
    inResumptionWindow: false,
    evidence: { summary: 'no data', values: [], params: {} },
  };
  await insertAlertCase(w.pool, {
    ...base,
    id: OFFLINE_OPEN,
    state: 'opened',
    enterpriseId: 'ent-0002',
    siteId: 'out-0002-g1',
  });
  await insertAlertCase(w.pool, {
    ...base,
    id: OFFLINE_RESOLVED,
    state: 'resolved',
    enterpriseId: 'ent-0005',
    siteId: 'out-0005-g1',
    resolvedAt: '2026-03-03T02:00:00.000Z',
  });
  await w.pool.query(
    `insert into review_states (deviation_id, review_state, rectification_due)
     values ($1, 'rectification-requested', '2026-03-05')`,
    [CASES.lanxi],
  );
  const group = `grp-${CASES.lanxi}`;
  await w.pool.query(`update alert_cases set group_key = $2 where deviation_id = $1`, [CASES.lanxi, group]);
  await w.pool.query(
    `insert into alert_notifications (id, group_key, deviation_ids, kind, round, recipient_kind, recipient_id,
        address_masked, channel, status, provider, attempts, sent_at)
     values ($1, $2, $3, 'reminder', 1, 'enterprise-contact', 'c-lanxi', '139****0003', 'sms', 'sent', 'tencent', 1,
             '2026-03-02T04:10:00Z')`,
    [`${group}:sms:1`, group, [CASES.lanxi]],
  );
}

/**
 * The analyzer's monthly compliance rows (compliant / judged valid hours) of March 2026 (its first five days
 * judged): enterprise rows, and one outlet row.
 */
export const COMPLIANCE_MARCH: readonly [
  enterpriseId: string,
  siteId: string,
  compliant: number,
  judged: number,
][] = [
  ['ent-0001', '', 700, 720],
  ['ent-0002', '', 100, 200],
  // an outlet's row: already inside its enterprise's figure, never summed again
  ['ent-0002', 'out-0002-g1', 1, 1000],
  ['ent-0003', '', 0, 0],
  ['ent-0004', '', 1500, 2000],
];

/** February 2026's rows (the whole month): other counts, so a figure that mixed the months would show. */
export const COMPLIANCE_FEBRUARY: readonly [
  enterpriseId: string,
  siteId: string,
  compliant: number,
  judged: number,
][] = [
  ['ent-0001', '', 10, 20],
  ['ent-0004', '', 30, 30],
];

export async function writeComplianceMonths(w: World): Promise<void> {
  const months = [
    ['2026-03', '2026-02-28T16:00:00Z', '2026-03-05T16:00:00Z', COMPLIANCE_MARCH],
    ['2026-02', '2026-01-31T16:00:00Z', '2026-02-28T16:00:00Z', COMPLIANCE_FEBRUARY],
  ] as const;
  for (const [month, from, to, rows] of months)
    for (const [enterpriseId, siteId, compliant, judged] of rows)
      await w.pool.query(
        `insert into analyzer_compliance_months (enterprise_id, site_id, month, hours_from, hours_to,
                compliant_valid_hours, judged_valid_hours)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [enterpriseId, siteId, month, from, to, compliant, judged],
      );
}
