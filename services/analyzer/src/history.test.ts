import { stabilityMetrics } from '@offsite/domain';
import type { RegistrySnapshot } from '@offsite/store';
import { historyAggregates } from './history.js';

type Enterprise = RegistrySnapshot['enterprises'][number];
const HOUR = 3_600_000;
const FROM = Date.parse('2026-11-26T00:00:00+08:00');
const TO = FROM + 48 * HOUR;

const enterprise = {
  id: 'ent-h1',
  outlets: [
    {
      id: 'out-h1-g1',
      kind: 'gas',
      limits: [
        { factor: 'a21026', value: 50, basis: 'hourly', converted: true },
        { factor: 'a21002', value: 100, basis: 'hourly', converted: true },
      ],
      devices: [{ mn: 'MN-H1', enabled: true }],
    },
    // No enabled device: nothing monitored, no history.
    {
      id: 'out-h1-g2',
      kind: 'gas',
      limits: [{ factor: 'a21026', value: 50, basis: 'hourly', converted: true }],
      devices: [{ mn: 'MN-H2', enabled: false }],
    },
  ],
} as unknown as Enterprise;

const of = (list: ReturnType<typeof historyAggregates>, factor: string, interval: 'hour' | 'day') =>
  list.filter((a) => a.factor === factor && a.interval === interval);

describe('simulated history at the aggregate level', () => {
  it('writes every hour of the monitored factors at 40 % of the limit by night and 50 % by day, and their daily means', () => {
    const out = historyAggregates(enterprise, FROM, TO);
    expect(new Set(out.map((a) => a.siteId))).toEqual(new Set(['out-h1-g1']));
    const so2 = of(out, 'a21026', 'hour');
    expect(so2).toHaveLength(48);
    // 07:00 Asia/Shanghai: night (40 % of 50); 08:00: day (50 % of 50).
    expect(so2[7]).toMatchObject({ start: FROM + 7 * HOUR, value: 20, convertedValue: 20, valid: true });
    expect(so2[8]).toMatchObject({ value: 25 });
    // A whole day: 12 day hours at 25, 12 night hours at 20 → 22.5; days start at 00:00 Asia/Shanghai.
    expect(of(out, 'a21026', 'day')).toEqual([
      expect.objectContaining({ start: FROM, value: 22.5 }),
      expect.objectContaining({ start: FROM + 24 * HOUR, value: 22.5 }),
    ]);
    expect(of(out, 'a21002', 'day').map((a) => a.value)).toEqual([45, 45]);
  });

  it('leaves out every n-th hour: transmission 1 − 1/n in the stability metrics', () => {
    const out = historyAggregates(enterprise, FROM, TO, { missingEvery: 4 });
    const so2 = of(out, 'a21026', 'hour');
    // Hours 3, 7, 11, … 47 missing: 12 of 48.
    expect(so2).toHaveLength(36);
    expect(so2.some((a) => a.start === FROM + 3 * HOUR)).toBe(false);
    // Day 1 keeps 18 hours: 9 day hours (8–19 without 11, 15, 19) at 25 and 9 night hours at 20 → 22.5.
    expect(of(out, 'a21026', 'day')[0]).toMatchObject({ value: 22.5 });
    const m = stabilityMetrics({
      from: FROM,
      to: TO,
      factors: [
        { siteId: 'out-h1-g1', factor: 'a21026' },
        { siteId: 'out-h1-g1', factor: 'a21002' },
      ],
      hourly: out,
      limits: [],
      deviations: [],
      confirmedIds: new Set(),
    });
    expect(m).toMatchObject({ expected: 96, received: 72, valid: 72 });
    expect(m.effectiveTransmissionRate).toBe(0.75);
  });

  it('stops at the time the loggers went silent', () => {
    const out = historyAggregates(enterprise, FROM, TO, { silentFrom: FROM + 30 * HOUR });
    expect(of(out, 'a21026', 'hour')).toHaveLength(30);
    expect(Math.max(...out.map((a) => a.start))).toBe(FROM + 29 * HOUR);
    // Day 2 has hours 00–05 only, all night: 20.
    expect(of(out, 'a21026', 'day').map((a) => a.value)).toEqual([22.5, 20]);
  });

  it('a near-limit enterprise: every valid hour at 92–98 % of its limit (a 7-hour cycle), the daily mean of those', () => {
    const out = historyAggregates(enterprise, FROM, TO, { nearLimit: true });
    const so2 = of(out, 'a21026', 'hour');
    expect(so2).toHaveLength(48);
    const shares = so2.map((a) => a.value! / 50);
    expect(Math.min(...shares)).toBeCloseTo(0.92, 10);
    expect(Math.max(...shares)).toBeCloseTo(0.98, 10);
    // FROM is 2026-11-25T16:00Z: hour 498,784 since the epoch, 498,784 mod 7 = 6 → 98 %, then 92 %, 93 %.
    expect(so2.slice(0, 3).map((a) => a.value)).toEqual([49, 46, 46.5]);
    expect(shares.every((x) => x >= 0.9 && x < 1)).toBe(true);
  });
});
