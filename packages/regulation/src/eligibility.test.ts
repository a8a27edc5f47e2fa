import { evaluateEligibility, type EligibilitySubject, type EnterpriseStability } from './eligibility.js';
import { complaintDeadlines, assertTransition, reminderTimes } from './complaints.js';
import { toCsv } from './csv.js';

const now = new Date('2026-06-15T04:00:00Z');
const subject: EligibilitySubject = {
  enterpriseId: 'ent-1',
  industry: 'chemical',
  creditRating: 'A',
  monitoringDevices: 2,
  violations: [],
};
const stability: EnterpriseStability = {
  enterpriseId: 'ent-1',
  windowFrom: new Date('2026-03-17T04:00:00Z'),
  windowTo: now,
  lastReceivedAt: new Date('2026-06-15T03:00:00Z'),
  metrics: {
    expected: 100,
    received: 95,
    valid: 95,
    transmissionRate: 0.95,
    validityRate: 1,
    effectiveTransmissionRate: 0.95,
    compliantValidHours: 95,
    judgedValidHours: 95,
    complianceRate: 1,
    exceedanceWindows: 0,
    openSuspectedFalsifications: 0,
    confirmedFalsifications: 0,
  },
};

describe('evaluateEligibility', () => {
  it('is eligible when every criterion passes, and each criterion alone flips it', () => {
    expect(evaluateEligibility(subject, stability, now).eligible).toBe(true);
    const flips: [string, ReturnType<typeof evaluateEligibility>][] = [
      ['MONITORING_INSTALLED', evaluateEligibility({ ...subject, monitoringDevices: 0 }, stability, now)],
      [
        'MONITORING_CONNECTED',
        evaluateEligibility(subject, { ...stability, lastReceivedAt: new Date('2026-06-13T00:00:00Z') }, now),
      ],
      [
        'STABLY_COMPLIANT',
        evaluateEligibility(
          subject,
          { ...stability, metrics: { ...stability.metrics, effectiveTransmissionRate: 0.89 } },
          now,
        ),
      ],
      ['CREDIT_GOOD', evaluateEligibility({ ...subject, creditRating: 'C' }, stability, now)],
      [
        'NO_RECENT_VIOLATION',
        evaluateEligibility(
          { ...subject, violations: [{ occurredOn: '2025-06-16', kind: 'exceedance', serious: false }] },
          stability,
          now,
        ),
      ],
      [
        'INDUSTRY_NOT_EXCLUDED',
        evaluateEligibility({ ...subject, industry: 'waste-incineration' }, stability, now),
      ],
      [
        'NO_RECENT_CRIME',
        evaluateEligibility(
          { ...subject, violations: [{ occurredOn: '2023-06-16', kind: 'crime', serious: true }] },
          stability,
          now,
        ),
      ],
    ];
    for (const [code, ev] of flips) {
      expect(ev.eligible).toBe(false);
      expect(ev.criteria.filter((c) => !c.pass).map((c) => c.code)).toEqual([code]);
    }
    // Just outside the look-backs: 366 days ago, 3 years and a day ago.
    const old = evaluateEligibility(
      {
        ...subject,
        violations: [
          { occurredOn: '2025-06-15', kind: 'exceedance', serious: false },
          { occurredOn: '2023-06-15', kind: 'crime', serious: true },
        ],
      },
      stability,
      now,
    );
    expect(old.eligible).toBe(true);
  });

  it('fails stability and connection without metrics, showing null values', () => {
    const ev = evaluateEligibility(subject, null, now);
    expect(ev.criteria.find((c) => c.code === 'STABLY_COMPLIANT')).toMatchObject({
      pass: false,
      value: null,
    });
    expect(ev.criteria.find((c) => c.code === 'MONITORING_CONNECTED')?.pass).toBe(false);
  });
});

describe('complaints', () => {
  it('sets deadlines by urgency and reminder times before them', () => {
    const t = new Date('2026-06-15T00:00:00Z');
    expect(complaintDeadlines(t, 'normal')).toEqual({
      ackDueAt: new Date('2026-06-16T00:00:00Z'),
      resolveDueAt: new Date('2026-06-22T00:00:00Z'),
    });
    expect(complaintDeadlines(t, 'urgent').ackDueAt).toEqual(new Date('2026-06-15T02:00:00Z'));
    expect(reminderTimes(new Date('2026-06-16T00:00:00Z'), t)).toEqual([
      new Date('2026-06-15T22:00:00Z'),
      new Date('2026-06-16T00:00:00Z'),
    ]);
    expect(() => assertTransition('received', 'resolved')).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    );
    expect(() => assertTransition('received', 'acknowledged')).not.toThrow();
  });
});

describe('toCsv', () => {
  it('quotes, neutralises formulas and starts with a BOM', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['x,y', '=1+1'],
          [null, 2],
        ],
      ),
    ).toBe('\ufeffa,b\r\n"x,y",\'=1+1\r\n,2\r\n');
  });
});
