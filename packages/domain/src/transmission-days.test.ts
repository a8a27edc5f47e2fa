import fc from 'fast-check';
import {
  countDeviceSlots,
  deviceDaySlots,
  transmissionPlan,
  transmissionStatistics,
  type TransmissionRecord,
} from './transmission.js';

const MONTH_FROM = Date.parse('2026-03-01T00:00:00+08:00');
const MONTH_TO = Date.parse('2026-04-01T00:00:00+08:00');
const dev = (intervalS: number, registeredAt: number | null) => ({
  mn: 'M1',
  enterpriseId: 'e',
  districtId: 'd',
  outletId: 'o',
  intervalS,
  registeredAt,
  enabled: true,
});

test('a 7-minute slot that starts at 23:55 belongs to its start day and is read into the next day', () => {
  const plan = transmissionPlan({
    month: '2026-03',
    until: MONTH_TO,
    devices: [dev(420, null)],
    maintenance: [],
  }).devices[0]!;
  const days = deviceDaySlots(plan);
  expect(days).toHaveLength(31);
  const first = days[0]!;
  expect(first.day).toBe('2026-03-01');
  // 1440 / 7 = 205.7: slots 0…205 start on the 1st, the last at 23:55, ending 00:02 on the 2nd.
  expect(first.ranges).toEqual([{ from: MONTH_FROM, to: MONTH_FROM + 206 * 420_000 }]);
  expect(first.readTo).toBe(Date.parse('2026-03-02T00:02:00+08:00'));
  expect(days[1]!.ranges[0]!.from).toBe(first.readTo);
  expect(days.reduce((n, d) => n + d.ranges.reduce((m, r) => m + (r.to - r.from) / 420_000, 0), 0)).toBe(
    plan.expected,
  );
  // A record at 00:01 on the 2nd is in the 1st's last slot.
  const r: TransmissionRecord = { deviceMn: 'M1', time: first.readTo - 60_000, flags: ['N'] };
  expect(countDeviceSlots(plan, MONTH_FROM, first.ranges, [r])).toEqual({ received: 1, valid: 1 });
  expect(countDeviceSlots(plan, MONTH_FROM, days[1]!.ranges, [r])).toEqual({ received: 0, valid: 0 });
});

test('the days’ counts sum to the month’s, whatever the cadence, registration, windows and records', () => {
  const arb = fc.record({
    intervalS: fc.constantFrom(60, 300, 420, 600, 3600, 5000),
    registeredAt: fc.option(fc.integer({ min: MONTH_FROM - 86_400_000, max: MONTH_TO }), { nil: null }),
    until: fc.integer({ min: MONTH_FROM, max: MONTH_TO + 86_400_000 }),
    windows: fc.array(
      fc
        .tuple(fc.integer({ min: MONTH_FROM, max: MONTH_TO }), fc.integer({ min: 0, max: 3 * 86_400_000 }))
        .map(([from, len]) => ({ enterpriseId: 'e', deviceMn: null, outletId: 'o', from, to: from + len })),
      { maxLength: 3 },
    ),
    records: fc.array(
      fc.record({
        time: fc.integer({ min: MONTH_FROM - 3_600_000, max: MONTH_TO + 3_600_000 }),
        flag: fc.constantFrom('N', 'N', 'D', null),
      }),
      { maxLength: 300 },
    ),
  });
  fc.assert(
    fc.property(arb, (a) => {
      const input = {
        month: '2026-03',
        until: a.until,
        devices: [dev(a.intervalS, a.registeredAt)],
        maintenance: a.windows,
      };
      const records = a.records.map((r) => ({ deviceMn: 'M1', time: r.time, flags: [r.flag] }));
      const month = transmissionStatistics({ ...input, records }).devices[0]!;
      const plan = transmissionPlan(input);
      let received = 0;
      let valid = 0;
      for (const d of deviceDaySlots(plan.devices[0]!)) {
        const inDay = records.filter((r) => r.time >= d.from && r.time < d.readTo);
        const c = countDeviceSlots(plan.devices[0]!, plan.from, d.ranges, inDay);
        received += c.received;
        valid += c.valid;
      }
      expect({ received, valid }).toEqual({ received: month.received, valid: month.valid });
    }),
    { numRuns: 200 },
  );
});
