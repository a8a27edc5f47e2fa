// The overview tests' March 2026 (Asia/Shanghai) on top of the fixture's cases: an open offline case for
// ent-0002 and a resolved one for ent-0005 (dist-landong), an overdue rectification of the lanxi case, and a
// reminder to ent-0003 that was not acknowledged (besides the fixture's acknowledged reminder to ent-0002 of
// the landong case). The figures are counted in overview.int.test.ts. `writeStability` stores the analyzer's
// stability rows the valid-hour compliance rate is summed from.
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

/** The analyzer's stability rows (compliant / judged valid hours): enterprise rows, and one outlet row. */
export const STABILITY: readonly [enterpriseId: string, siteId: string, compliant: number, judged: number][] =
  [
    ['ent-0001', '', 700, 720],
    ['ent-0002', '', 100, 200],
    // an outlet's row: already inside its enterprise's figure, never summed again
    ['ent-0002', 'out-0002-g1', 1, 1000],
    ['ent-0003', '', 0, 0],
    ['ent-0004', '', 1500, 2000],
  ];

export async function writeStability(w: World): Promise<void> {
  for (const [enterpriseId, siteId, compliant, judged] of STABILITY)
    await w.pool.query(
      `insert into analyzer_stability (enterprise_id, site_id, window_from, window_to, metrics, stably_compliant)
       values ($1, $2, '2025-12-05T16:00:00Z', '2026-03-05T16:00:00Z', $3, false)`,
      [enterpriseId, siteId, { compliantValidHours: compliant, judgedValidHours: judged, complianceRate: 0 }],
    );
}
