// Representative produce input for the fast paths' contract test and benchmark.

/** A telemetry.v1-sized event (~550 bytes of JSON, Chinese text included) keyed by enterprise. */
export function telemetry(i: number, enterprises: number) {
  const enterpriseId = `ent-${String(i % enterprises).padStart(4, '0')}`;
  const value = JSON.stringify({
    schema: 'telemetry.v1',
    eventId: `evt-${i}-${'x'.repeat(20)}`,
    enterpriseId,
    siteId: `${enterpriseId}-DA01`,
    deviceId: `88888880000${i % 1000}`,
    source: i % 3 === 0 ? 'mqtt' : 'hj212',
    kind: 'emission',
    interval: 'minute',
    dataTime: new Date(Date.UTC(2026, 2, 1, 0, i % 60)).toISOString(),
    receivedAt: '2026-03-01T00:01:02.345Z',
    note: '青澜市 排放口 1',
    measurements: ['a21026', 'a21002', 'a34013', 'a01012', 'a01014'].map((factor, k) => ({
      factor,
      stat: 'Avg',
      value: (i * 7 + k) % 500,
      unit: 'mg/m3',
      flag: 'N',
    })),
  });
  return { key: enterpriseId, value };
}
