import { MAX_POINTS, planRange, shanghaiOffset } from './data-browser.js';

describe('planRange', () => {
  it('reads a month of hourly data raw and a year in 6-hour buckets', () => {
    expect(
      planRange('hour', '2026-03-01T00:00:00+08:00', '2026-04-01T00:00:00+08:00', 3600).bucketSeconds,
    ).toBe(undefined);
    // 365 days × 24 h = 8,760 points > MAX_POINTS → 15,768 s wanted → 21,600 s.
    expect(
      planRange('hour', '2026-01-01T00:00:00+08:00', '2027-01-01T00:00:00+08:00', 3600).bucketSeconds,
    ).toBe(21600);
    expect(MAX_POINTS).toBe(2000);
  });

  it('downsamples a day of 30 s real-time data to minutes and averages meters at least per granularity', () => {
    expect(planRange('realtime', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 30).bucketSeconds).toBe(60);
    expect(planRange('realtime', '2026-03-01T00:00:00Z', '2026-03-01T12:00:00Z', 30).bucketSeconds).toBe(
      undefined,
    );
    expect(planRange('day', '2026-03-01T00:00:00Z', '2026-03-08T00:00:00Z', 15, 86400).bucketSeconds).toBe(
      86400,
    );
  });

  it('names the field of a range that is too long or backwards, in both languages', () => {
    expect(() => planRange('minute', '2026-03-01T00:00:00Z', '2026-03-08T00:00:01Z', 600)).toThrow(
      /分钟数据一次最多查询 7 天.*minute data: at most 7 days/,
    );
    expect(() => planRange('day', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z', 86400)).toThrow(
      /字段 to：结束时间须晚于开始时间 \/ invalid field to/,
    );
    expect(() => planRange('day', '2023-03-01T00:00:00Z', '2026-03-01T00:00:00Z', 86400)).not.toThrow();
  });
});

describe('shanghaiOffset', () => {
  it('puts bucket boundaries on Beijing wall-clock boundaries', () => {
    expect(shanghaiOffset(86400)).toBe(57600); // 16:00 UTC = 00:00 北京时间
    expect(shanghaiOffset(3600)).toBe(0);
    expect(shanghaiOffset(21600)).toBe(14400); // 04:00, 10:00… UTC = 00:00, 06:00… 北京时间
  });
});
