import type { DeviationOutput } from '@offsite/domain';
import { deviationEvent } from './deviation-event.js';

const output = (evidence: Record<string, unknown>): DeviationOutput => ({
  type: 'deviation',
  id: 'dev-1',
  rule: 'offline',
  state: 'resolved',
  revision: 3,
  severity: 'minor',
  enterpriseId: 'ent-0001',
  siteId: 'out-0001-g1',
  subject: '99010301WW00010000000001',
  windowStart: Date.UTC(2026, 10, 28, 6),
  windowEnd: Date.UTC(2026, 10, 28, 8),
  suspectedFalsification: false,
  inResumptionWindow: false,
  evidence,
});

describe('deviationEvent', () => {
  it('writes the same bytes for the same evidence, whatever order its keys were built in', () => {
    const live = output({ lastSeen: 1, expectedS: 60, detail: { a: 1, b: [{ y: 2, x: 1 }] }, resumedAt: 5 });
    // As after a checkpoint round trip: the same values, keys added in another order.
    const restored = output({
      resumedAt: 5,
      detail: { b: [{ x: 1, y: 2 }], a: 1 },
      expectedS: 60,
      lastSeen: 1,
    });
    const at = Date.UTC(2026, 11, 6);
    expect(JSON.stringify(deviationEvent(restored, at))).toBe(JSON.stringify(deviationEvent(live, at)));
    expect(deviationEvent(live, at).evidence.params).toEqual({
      detail: { a: 1, b: [{ x: 1, y: 2 }] },
      domainRule: 'offline',
      domainSeverity: 'minor',
      expectedS: 60,
      lastSeen: 1,
      resumedAt: 5,
      subject: '99010301WW00010000000001',
    });
  });
});
