import type { ConsumedMessage } from '@offsite/kafka';
import { indexRegistry, type RegistrySnapshot } from '@offsite/store';
import { routeUpstreamRecord } from './router.js';
import { hj212HourlyUpload } from '@offsite/testing';

const index = indexRegistry({
  readAt: '',
  districts: [],
  enterprises: [
    {
      id: 'ent-1',
      meters: [],
      outlets: [
        { id: 'out-1', devices: [{ mn: '99010201FG00010000000001', minuteIntervalS: 600, enabled: true }] },
      ],
    },
  ],
} as unknown as RegistrySnapshot);
const rec = (value: string | Buffer, offset = '7'): ConsumedMessage => ({
  topic: 'upstream.city-a.v1',
  partition: 1,
  offset,
  key: null,
  value: Buffer.from(value),
  headers: {},
  timestamp: '0',
});
const event = {
  schema: 'telemetry.v1',
  eventId: 'tel-1',
  enterpriseId: 'ent-1',
  siteId: 'm1',
  deviceId: 'm1',
  source: 'mqtt',
  kind: 'energy',
  interval: 'realtime',
  dataTime: '2024-01-01T00:00:00Z',
  receivedAt: '2024-01-01T00:00:00Z',
  irregularities: [],
  measurements: [{ factor: 'power_kw', stat: 'Rtd', value: 1 }],
};

describe('routeUpstreamRecord', () => {
  it('accepts a telemetry.v1 event, marking it as from kafka with the upstream record as rawRef', () => {
    const r = routeUpstreamRecord(rec(JSON.stringify(event)), index, '2024-01-01T00:00:01Z');
    expect(r).toMatchObject({
      kind: 'telemetry',
      event: { source: 'kafka', rawRef: 'upstream.city-a.v1/1/7' },
    });
  });
  it('normalises an HJ 212 frame of a registered MN', () => {
    const r = routeUpstreamRecord(
      rec(hj212HourlyUpload('99010201FG00010000000001')),
      index,
      '2024-01-01T00:00:01Z',
    );
    expect(r).toMatchObject({
      kind: 'telemetry',
      event: { enterpriseId: 'ent-1', siteId: 'out-1', source: 'kafka', interval: 'hour' },
    });
  });
  it.each([
    ['not json', 'json.invalid'],
    [JSON.stringify({ ...event, kind: 'noise' }), 'schema.invalid'],
    [JSON.stringify({ ...event, enterpriseId: 'ent-2' }), 'registry.unknown-enterprise'],
    [hj212HourlyUpload('99010201FG00010000000002').toString(), 'registry.unknown-device'],
  ])('%s → %s with a deterministic id', (value, code) => {
    const a = routeUpstreamRecord(rec(value), index, '2024-01-01T00:00:01Z');
    const b = routeUpstreamRecord(rec(value), index, '2024-01-02T00:00:01Z');
    expect(a.kind === 'dlq' && a.record.reason.code).toBe(code);
    expect(a.kind === 'dlq' && b.kind === 'dlq' && a.record.id === b.record.id).toBe(true);
  });
  it('masks the PW of an upstream HJ 212 frame in its DLQ record', () => {
    const frame = hj212HourlyUpload('99010201FG00010000000002');
    expect(frame.toString()).toContain('PW=123456;');
    const r = routeUpstreamRecord(rec(frame.toString()), index, '2024-01-01T00:00:01Z');
    expect(r.kind === 'dlq' && r.record.reason.code).toBe('registry.unknown-device');
    if (r.kind !== 'dlq') return;
    const kept = Buffer.from(r.record.raw, 'base64').toString();
    expect(kept).toContain('PW=******;');
    expect(kept).not.toContain('123456');
    expect(r.record.rawText).toBe(kept);
  });
});
