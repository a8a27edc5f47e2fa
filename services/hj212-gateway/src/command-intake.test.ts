import type { DeviationV1 } from '@offsite/contracts';
import { backfillOf } from './command-intake.js';

const deviation = (over: Partial<DeviationV1> = {}): DeviationV1 => ({
  schema: 'deviation.v1',
  id: 'dev-1',
  rule: 'offline',
  state: 'resolved',
  revision: 2,
  severity: 'low',
  enterpriseId: 'e1',
  siteId: 'o1',
  windowStart: '2026-03-01T00:00:00Z',
  windowEnd: '2026-03-01T02:00:00Z',
  openedAt: '2026-03-01T00:10:00Z',
  resolvedAt: '2026-03-01T02:00:00Z',
  suspectedFalsification: false,
  inResumptionWindow: false,
  evidence: {
    summary: 'no data from the device',
    values: [],
    params: {
      deviceId: 'MN01',
      lastSeenAt: Date.parse('2026-03-01T00:00:00Z'),
      resumedAt: Date.parse('2026-03-01T02:00:00Z'),
    },
  },
  emittedAt: '2026-03-01T02:01:00Z',
  ...over,
});

describe('backfill from an offline deviation', () => {
  const now = new Date('2026-03-01T02:05:00Z');
  it('a resolved offline deviation asks for the gap, with ids derived from the deviation', () => {
    const c = backfillOf(deviation(), now, 60_000, 3);
    expect(c.map((x) => [x.id, x.mn, x.cn, x.beginTime?.toISOString(), x.endTime?.toISOString()])).toEqual([
      ['backfill-dev-1-2051', 'MN01', '2051', '2026-03-01T00:00:00.000Z', '2026-03-01T02:00:00.000Z'],
      ['backfill-dev-1-2061', 'MN01', '2061', '2026-03-01T00:00:00.000Z', '2026-03-01T02:00:00.000Z'],
    ]);
    expect(c[0]).toMatchObject({
      trigger: 'offline-closed',
      maxAttempts: 3,
      expiresAt: new Date(now.getTime() + 60_000),
    });
  });

  it('nothing for an open offline deviation, another rule, or no device', () => {
    expect(backfillOf(deviation({ state: 'opened' }), now, 1, 1)).toEqual([]);
    expect(backfillOf(deviation({ rule: 'flatline' }), now, 1, 1)).toEqual([]);
    expect(backfillOf(deviation({ evidence: { summary: 's', values: [], params: {} } }), now, 1, 1)).toEqual(
      [],
    );
  });
});
