import { complianceByMonth, stabilityMetrics } from './stability.js';

const HOUR = 3_600_000;
// 2026-11-01 00:00 in Asia/Shanghai.
const BOUNDARY = Date.parse('2026-10-31T16:00:00Z');

const agg = (start: number, value: number, valid = true) => ({
  type: 'aggregate' as const,
  enterpriseId: 'E1',
  siteId: 'OUT1',
  factor: 'a21026',
  interval: 'hour' as const,
  start,
  value,
  convertedValue: value,
  valid,
  flag: valid ? 'N' : 'D',
  coverage: 1,
});

describe('compliance per Asia/Shanghai month', () => {
  // Six hours before the boundary (October in Shanghai), six after (November).
  // October: 5 valid (one at 40 > 35), 1 invalid → judged 5, compliant 4.
  // November: 6 valid; the one at 50 lies in declared maintenance, 36 exceeds 35 → judged 5, compliant 4.
  const hourly = [
    ...[10, 40, 10, 10, 10].map((v, i) => agg(BOUNDARY - 6 * HOUR + i * HOUR, v)),
    agg(BOUNDARY - HOUR, 99, false),
    ...[50, 36, 10, 10, 10, 35].map((v, i) => agg(BOUNDARY + i * HOUR, v)),
  ];
  const input = {
    from: BOUNDARY - 6 * HOUR,
    to: BOUNDARY + 6 * HOUR,
    factors: [{ siteId: 'OUT1', factor: 'a21026' }],
    hourly,
    limits: [{ siteId: 'OUT1', factor: 'a21026', value: 35, basis: 'hourly' as const, converted: true }],
    deviations: [],
    confirmedIds: new Set<string>(),
    // The first November hour (at 50) is declared maintenance on the outlet; another outlet's window is ignored.
    maintenance: [
      { siteId: 'OUT1', from: BOUNDARY + 10 * 60_000, to: BOUNDARY + 50 * 60_000 },
      { siteId: 'OUT2', from: BOUNDARY, to: BOUNDARY + 6 * HOUR },
    ],
  };

  it('splits the window at Shanghai midnight of the 1st and counts each month only', () => {
    expect(complianceByMonth(input)).toEqual([
      {
        month: '2026-10',
        from: BOUNDARY - 6 * HOUR,
        to: BOUNDARY,
        compliantValidHours: 4,
        judgedValidHours: 5,
      },
      // 50 in maintenance: not judged; 36 > 35 not compliant; 35 is at the limit, compliant.
      {
        month: '2026-11',
        from: BOUNDARY,
        to: BOUNDARY + 6 * HOUR,
        compliantValidHours: 4,
        judgedValidHours: 5,
      },
    ]);
  });

  it('the window total is the sum of the months, maintenance excluded there too', () => {
    const m = stabilityMetrics(input);
    expect([m.compliantValidHours, m.judgedValidHours]).toEqual([8, 10]);
    const without = stabilityMetrics({ ...input, maintenance: [] });
    expect([without.compliantValidHours, without.judgedValidHours]).toEqual([8, 11]);
  });

  it('an empty window has no month', () => {
    expect(complianceByMonth({ ...input, to: input.from })).toEqual([]);
  });
});
