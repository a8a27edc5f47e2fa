// The overview tests' March 2026 (Asia/Shanghai) on top of the fixture's cases: an open offline case for
// ent-0002 and a resolved one for ent-0005 (dist-landong), an overdue rectification of the lanxi case, and a
// reminder to ent-0003 that was not acknowledged (besides the fixture's acknowledged reminder to ent-0002 of
// the landong case). The figures are counted in overview.int.test.ts.
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
