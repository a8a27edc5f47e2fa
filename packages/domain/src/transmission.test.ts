import {
  transmissionFromCounts,
  transmissionPlan,
  transmissionStatistics,
  type TransmissionDevice,
  type TransmissionRecord,
} from './transmission.js';

const HOUR = 3_600_000;
/** 2026-03-01 00:00 Asia/Shanghai. */
const MARCH = Date.parse('2026-02-28T16:00:00Z');
/** 2026-03-02 00:00 Asia/Shanghai: the end of the first Shanghai day of March. */
const DAY1_END = MARCH + 24 * HOUR;

function device(over: Partial<TransmissionDevice> = {}): TransmissionDevice {
  return {
    mn: 'MN1',
    enterpriseId: 'ent-a',
    districtId: 'd1',
    outletId: 'out-a',
    intervalS: 3600,
    registeredAt: null,
    enabled: true,
    ...over,
  };
}

/** One record per Shanghai hour of March 1 (hour 0 = 00:00 +08:00), flagged N unless `flags` says. */
function hourly(
  mn: string,
  hours: readonly number[],
  flags: Record<number, string[]> = {},
): TransmissionRecord[] {
  return hours.map((h) => ({ deviceMn: mn, time: MARCH + h * HOUR, flags: flags[h] ?? ['N', 'N'] }));
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('month boundaries are Asia/Shanghai midnights: 16:00 UTC opens the month and the next one', () => {
  // One slot per Shanghai day: March has 31.
  const s = transmissionStatistics({
    month: '2026-03',
    until: Date.parse('2026-05-01T00:00:00Z'),
    devices: [device({ intervalS: 86_400 })],
    maintenance: [],
    records: [
      { deviceMn: 'MN1', time: Date.parse('2026-02-28T15:59:59Z'), flags: ['N'] }, // 28 Feb 23:59:59 +08
      { deviceMn: 'MN1', time: Date.parse('2026-02-28T16:00:00Z'), flags: ['N'] }, // 1 Mar 00:00 +08
      { deviceMn: 'MN1', time: Date.parse('2026-03-31T15:59:00Z'), flags: ['N'] }, // 31 Mar 23:59 +08
      { deviceMn: 'MN1', time: Date.parse('2026-03-31T16:00:00Z'), flags: ['N'] }, // 1 Apr 00:00 +08
    ],
  });
  expect(s.from).toBe(MARCH);
  expect(s.to).toBe(Date.parse('2026-03-31T16:00:00Z'));
  expect(s.until).toBe(s.to);
  const d = s.devices[0]!;
  expect([d.expected, d.received, d.valid]).toEqual([31, 2, 2]);
  expect(d.transmissionRate).toBeCloseTo(2 / 31, 12);
  expect(d.validityRate).toBe(1);
  expect(d.effectiveRate).toBeCloseTo(2 / 31, 12);
  expect(d.belowThreshold).toBe(true);
});

test('gaps lower the transmission rate, a record with any non-N value is invalid, a slot counts once', () => {
  const records = [
    // hours 5 and 6 missing; hour 10 has a D value; hour 11 has two records, one with an F value
    ...hourly('MN1', [...range(0, 5), ...range(7, 24)], { 10: ['N', 'D'] }),
    { deviceMn: 'MN1', time: MARCH + 11 * HOUR + 60_000, flags: ['F'] },
    { deviceMn: 'MN1', time: MARCH + 12 * HOUR + 60_000, flags: ['N', null] },
  ];
  const s = transmissionStatistics({
    month: '2026-03',
    until: DAY1_END,
    devices: [device()],
    maintenance: [],
    records,
  });
  const d = s.devices[0]!;
  // 24 expected, 22 received, 20 valid: 传输率 22/24, 有效率 20/22, 传输有效率 20/24 = 83.3 % < 90 %.
  expect([d.expected, d.received, d.valid]).toEqual([24, 22, 20]);
  expect(d.transmissionRate).toBeCloseTo(22 / 24, 12);
  expect(d.validityRate).toBeCloseTo(20 / 22, 12);
  expect(d.effectiveRate).toBeCloseTo(20 / 24, 12);
  expect(d.belowThreshold).toBe(true);
  expect(d.status).toBe('assessed');
});

test('declared maintenance leaves its slots out of expected and received; M outside it is invalid', () => {
  const m = { 8: ['M'], 9: ['M'], 10: ['M'], 11: ['M'], 14: ['M', 'N'] };
  const s = transmissionStatistics({
    month: '2026-03',
    until: DAY1_END,
    devices: [device()],
    maintenance: [
      // the outlet's window 08:00–12:00 +08: hours 8, 9, 10, 11
      {
        enterpriseId: 'ent-a',
        deviceMn: null,
        outletId: 'out-a',
        from: MARCH + 8 * HOUR,
        to: MARCH + 12 * HOUR,
      },
      // another device's, another outlet's and another enterprise's windows do not apply
      { enterpriseId: 'ent-a', deviceMn: 'MN2', outletId: null, from: MARCH, to: DAY1_END },
      { enterpriseId: 'ent-a', deviceMn: null, outletId: 'out-b', from: MARCH, to: DAY1_END },
      { enterpriseId: 'ent-b', deviceMn: null, outletId: null, from: MARCH, to: DAY1_END },
    ],
    records: hourly('MN1', range(0, 24), m),
  });
  const d = s.devices[0]!;
  expect(d.maintenanceSlots).toBe(4);
  // 20 expected, 20 received, 19 valid (the M at 14:00 was not declared).
  expect([d.expected, d.received, d.valid]).toEqual([20, 20, 19]);
  expect(d.transmissionRate).toBe(1);
  expect(d.effectiveRate).toBeCloseTo(0.95, 12);
  expect(d.belowThreshold).toBe(false);
  // The threshold is configurable: at 96 % the same device is flagged.
  const strict = transmissionStatistics({
    month: '2026-03',
    until: DAY1_END,
    devices: [device()],
    maintenance: [
      {
        enterpriseId: 'ent-a',
        deviceMn: 'MN1',
        outletId: null,
        from: MARCH + 8 * HOUR,
        to: MARCH + 12 * HOUR,
      },
    ],
    records: hourly('MN1', range(0, 24), m),
    threshold: 0.96,
  });
  expect(strict.devices[0]!.effectiveRate).toBeCloseTo(0.95, 12);
  expect(strict.devices[0]!.belowThreshold).toBe(true);
});

test('an enterprise-wide window covers every device of the enterprise', () => {
  const s = transmissionStatistics({
    month: '2026-03',
    until: DAY1_END,
    devices: [device(), device({ mn: 'MN2', outletId: 'out-b' })],
    maintenance: [
      { enterpriseId: 'ent-a', deviceMn: null, outletId: null, from: MARCH, to: MARCH + 6 * HOUR },
    ],
    records: [...hourly('MN1', range(0, 24)), ...hourly('MN2', range(6, 24))],
  });
  expect(s.devices.map((d) => [d.expected, d.received, d.valid])).toEqual([
    [18, 18, 18],
    [18, 18, 18],
  ]);
});

test('registration mid-month, a device without data, a disabled device and the month in progress', () => {
  const s = transmissionStatistics({
    month: '2026-03',
    // 1 Mar 20:30 +08: the 20:00 slot has not ended yet, so hours 0..19 are due
    until: MARCH + 20.5 * HOUR,
    devices: [
      device(),
      // registered 1 Mar 12:30 +08: the first whole slot is 13:00, so 13..19 are due (7)
      device({ mn: 'MN2', registeredAt: MARCH + 12.5 * HOUR }),
      device({ mn: 'MN3', enabled: false }),
      device({ mn: 'MN4', registeredAt: MARCH + 23 * HOUR }),
    ],
    maintenance: [],
    records: [
      ...hourly('MN1', range(0, 24)),
      ...hourly('MN3', range(0, 24)),
      // before MN2's registration: left out
      ...hourly('MN2', [3]).map((r) => ({ ...r, deviceMn: 'MN2' })),
    ],
  });
  const [mn1, mn2, mn3, mn4] = s.devices;
  expect([mn1!.expected, mn1!.received, mn1!.valid]).toEqual([20, 20, 20]);
  expect(mn1!.effectiveRate).toBe(1);
  expect([mn2!.expected, mn2!.received, mn2!.valid]).toEqual([7, 0, 0]);
  expect(mn2!.transmissionRate).toBe(0);
  expect(mn2!.validityRate).toBe(0);
  expect(mn2!.effectiveRate).toBe(0);
  expect(mn2!.belowThreshold).toBe(true);
  expect(mn3).toMatchObject({ status: 'disabled', expected: 0, effectiveRate: null, belowThreshold: false });
  expect(mn4).toMatchObject({
    status: 'not-expected',
    expected: 0,
    effectiveRate: null,
    belowThreshold: false,
  });
  // The enterprise sums the counts: 27 expected, 20 received, 20 valid.
  expect(s.enterprises).toEqual([
    expect.objectContaining({ id: 'ent-a', devices: 4, expected: 27, received: 20, valid: 20 }),
  ]);
  expect(s.enterprises[0]!.effectiveRate).toBeCloseTo(20 / 27, 12);
  expect(s.enterprises[0]!.belowThreshold).toBe(true);
});

test('enterprises and districts aggregate by expected counts, not by averaging rates', () => {
  const s = transmissionStatistics({
    month: '2026-03',
    until: DAY1_END,
    devices: [
      device(),
      device({ mn: 'MN2', enterpriseId: 'ent-b', outletId: 'out-b', intervalS: 7200 }),
      device({ mn: 'MN3', enterpriseId: 'ent-c', districtId: 'd2', outletId: 'out-c' }),
    ],
    maintenance: [],
    records: [
      ...hourly('MN1', range(0, 24)), // 24/24
      ...hourly('MN2', [0, 2, 4, 6, 8, 10]), // 6 of 12 two-hour slots
      ...hourly('MN3', range(0, 18), { 0: ['C'] }), // 18 of 24, 17 valid
    ],
  });
  expect(s.districts.map((d) => [d.id, d.devices, d.expected, d.received, d.valid])).toEqual([
    ['d1', 2, 36, 30, 30],
    ['d2', 1, 24, 18, 17],
  ]);
  expect(s.districts[0]!.effectiveRate).toBeCloseTo(30 / 36, 12);
  expect(s.districts[1]!.transmissionRate).toBeCloseTo(18 / 24, 12);
  expect(s.districts[1]!.validityRate).toBeCloseTo(17 / 18, 12);
  expect(s.total).toMatchObject({ devices: 3, expected: 60, received: 48, valid: 47 });
  expect(s.enterprises.map((e) => [e.id, e.belowThreshold])).toEqual([
    ['ent-a', false],
    ['ent-b', true],
    ['ent-c', true],
  ]);
});

test('a full month at the 10-minute cadence is 4464 records; exactly 90 % is not below the threshold', () => {
  const step = 600_000;
  const all: TransmissionRecord[] = Array.from({ length: 4464 }, (_, k) => ({
    deviceMn: 'MN1',
    time: MARCH + k * step,
    flags: ['N'],
  }));
  const full = transmissionStatistics({
    month: '2026-03',
    until: Date.parse('2026-06-01T00:00:00Z'),
    devices: [device({ intervalS: 600 })],
    maintenance: [],
    records: all,
  });
  expect(full.devices[0]).toMatchObject({ expected: 4464, received: 4464, valid: 4464, effectiveRate: 1 });
  // 10 slots due, 9 received: 90 % exactly.
  const ninety = transmissionStatistics({
    month: '2026-03',
    until: MARCH + 10 * step,
    devices: [device({ intervalS: 600 })],
    maintenance: [],
    records: all.slice(0, 9),
  });
  expect(ninety.devices[0]!.effectiveRate).toBeCloseTo(0.9, 12);
  expect(ninety.devices[0]!.belowThreshold).toBe(false);
});

test('bad input is refused by name', () => {
  const base = { until: DAY1_END, maintenance: [], records: [] };
  expect(() => transmissionStatistics({ ...base, month: '2026-13', devices: [] })).toThrow(/YYYY-MM/);
  expect(() =>
    transmissionStatistics({ ...base, month: '2026-03', devices: [device({ intervalS: 0 })] }),
  ).toThrow(/MN1: intervalS/);
  expect(() => transmissionStatistics({ ...base, month: '2026-03', devices: [], threshold: 1.5 })).toThrow(
    /threshold/,
  );
});

test('the plan: expected slots as runs around maintenance and registration; counts from elsewhere are checked', () => {
  const plan = transmissionPlan({
    month: '2026-03',
    until: DAY1_END,
    devices: [
      device(),
      device({ mn: 'MN2', registeredAt: MARCH + 20 * HOUR + 1 }),
      device({ mn: 'MN3', enabled: false }),
    ],
    // 08:30–10:00 +08: the slots starting at 09:00 only (08:00 starts before the window)
    maintenance: [
      {
        enterpriseId: 'ent-a',
        deviceMn: 'MN1',
        outletId: null,
        from: MARCH + 8.5 * HOUR,
        to: MARCH + 10 * HOUR,
      },
    ],
  });
  const [one, two, off] = plan.devices;
  expect(one).toMatchObject({ expected: 23, maintenanceSlots: 1 });
  expect(one!.ranges).toEqual([
    { from: MARCH, to: MARCH + 9 * HOUR },
    { from: MARCH + 10 * HOUR, to: DAY1_END },
  ]);
  // registered just after 20:00: the slots from 21:00
  expect(two!.ranges).toEqual([{ from: MARCH + 21 * HOUR, to: DAY1_END }]);
  expect(off!.ranges).toEqual([]);
  const s = transmissionFromCounts(plan, new Map([['MN1', { received: 20, valid: 18 }]]));
  expect(s.devices.map((d) => [d.status, d.expected, d.received, d.valid])).toEqual([
    ['assessed', 23, 20, 18],
    ['assessed', 3, 0, 0],
    ['disabled', 0, 0, 0],
  ]);
  expect(s.total).toMatchObject({ expected: 26, received: 20, valid: 18, devices: 3 });
  expect(() => transmissionFromCounts(plan, new Map([['MN2', { received: 4, valid: 0 }]]))).toThrow(
    /MN2: counts out of range/,
  );
  expect(() => transmissionFromCounts(plan, new Map([['MN1', { received: 5, valid: 6 }]]))).toThrow(/MN1/);
});
