import type { TelemetryV1 } from '@offsite/contracts';
import { readingFromTelemetry } from './telemetry.js';

const base: TelemetryV1 = {
  schema: 'telemetry.v1',
  eventId: 'ev-1',
  enterpriseId: 'ent-0001',
  siteId: 'out-0001-1',
  deviceId: 'MN0001',
  source: 'hj212',
  kind: 'emission',
  interval: 'minute',
  dataTime: '2026-03-01T02:00:00.000Z',
  receivedAt: '2026-03-01T02:00:03.000Z',
  measurements: [{ factor: 'a21026', stat: 'Avg', value: 12.5, unit: 'mg/m3', flag: 'N' }],
} as TelemetryV1;

test('maps a telemetry.v1 record onto a Reading: epoch ms, the measurements with their unit and flag', () => {
  expect(readingFromTelemetry(base)).toEqual({
    eventId: 'ev-1',
    enterpriseId: 'ent-0001',
    siteId: 'out-0001-1',
    deviceId: 'MN0001',
    kind: 'emission',
    interval: 'minute',
    dataTime: Date.parse('2026-03-01T02:00:00.000Z'),
    measurements: [{ factor: 'a21026', stat: 'Avg', value: 12.5, unit: 'mg/m3', flag: 'N' }],
  });
});

test('keeps the period of an aggregate and leaves absent optional fields absent (not undefined)', () => {
  const r = readingFromTelemetry({
    ...base,
    interval: 'hour',
    periodSeconds: 3600,
    measurements: [{ factor: 'a21026', stat: 'Avg', value: 1 }],
  } as TelemetryV1);
  expect(r.periodSeconds).toBe(3600);
  expect(Object.keys(r.measurements[0]!)).toEqual(['factor', 'stat', 'value']);
});
