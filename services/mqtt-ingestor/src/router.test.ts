import { createHash } from 'node:crypto';
import { validateTelemetryDlqV1 } from '@offsite/contracts';
import { hj212HourlyUpload } from '@offsite/testing';
import { renderAcl } from './acl.js';
import { routeMqttMessage } from './router.js';
import { indexRegistry, type RegistrySnapshot } from '@offsite/store';

const snapshot = {
  readAt: '2024-01-01T00:00:00Z',
  districts: [],
  enterprises: [
    {
      id: 'ent-0001',
      meters: [{ id: 'mtr-1' }],
      outlets: [
        { id: 'out-1', devices: [{ mn: '99010201FG00010000000001', minuteIntervalS: 600, enabled: true }] },
      ],
    },
  ],
} as unknown as RegistrySnapshot;
const ctx = { index: indexRegistry(snapshot), receivedAt: '2024-03-01T00:00:01.000Z' };
const energy = { ts: '2024-03-01T08:00:00+08:00', powerKw: 12.5, energyKwh: 1000.25, status: 'running' };

describe('routeMqttMessage', () => {
  it('turns a registered meter reading into telemetry.v1 from source mqtt', () => {
    const r = routeMqttMessage(
      'offsite/v1/ent-0001/meters/mtr-1/energy',
      Buffer.from(JSON.stringify(energy)),
      ctx,
    );
    expect(r.kind).toBe('telemetry');
    if (r.kind !== 'telemetry') return;
    expect(r.event).toMatchObject({
      enterpriseId: 'ent-0001',
      siteId: 'mtr-1',
      source: 'mqtt',
      kind: 'energy',
      dataTime: '2024-03-01T00:00:00.000Z',
    });
  });

  it.each([
    ['offsite/v1/ent-9999/meters/mtr-1/energy', JSON.stringify(energy), 'registry.unknown-enterprise'],
    ['offsite/v1/ent-0001/meters/mtr-x/energy', JSON.stringify(energy), 'registry.unknown-meter'],
    ['offsite/v1/ent-0001/meters/mtr-1/energy', '{"ts":', 'json.invalid'],
    ['offsite/v1/ent-0001/meters/mtr-1/energy', '{"powerKw":"high"}', 'normalize.schema-invalid'],
    ['offsite/v1/ent-0001/hj212/99010201FG00010000000002', '##0000', 'registry.unknown-device'],
    ['offsite/v1/ent-0001/hj212/99010201FG00010000000001', 'garbage', 'hj212.frame-malformed'],
    ['somewhere/else', '{}', 'mqtt.unknown-topic'],
  ])('%s %s → DLQ %s', (topic, payload, code) => {
    const r = routeMqttMessage(topic, Buffer.from(payload), ctx);
    expect(r.kind).toBe('dlq');
    if (r.kind !== 'dlq') return;
    expect(r.record.reason.code).toBe(code);
    expect(Buffer.from(r.record.raw, 'base64').toString()).toBe(payload);
    expect(r.record.origin).toEqual({ transport: 'mqtt', topic });
  });

  it.each([
    [
      'an unknown data logger',
      'offsite/v1/ent-0001/hj212/99010201FG00010000000002',
      '99010201FG00010000000002',
    ],
    [
      'an MN that differs from the topic',
      'offsite/v1/ent-0001/hj212/99010201FG00010000000001',
      '99010201FG00010000000009',
    ],
    [
      'an unknown enterprise',
      'offsite/v1/ent-9999/hj212/99010201FG00010000000001',
      '99010201FG00010000000001',
    ],
  ])('masks the HJ 212 PW in the DLQ record of %s', (_what, topic, mn) => {
    const frame = hj212HourlyUpload(mn);
    expect(frame.toString()).toContain('PW=123456;');
    const r = routeMqttMessage(topic, frame, ctx);
    expect(r.kind).toBe('dlq');
    if (r.kind !== 'dlq') return;
    const kept = Buffer.from(r.record.raw, 'base64').toString();
    expect(kept).toContain('PW=******;');
    expect(kept).not.toContain('123456');
    expect(r.record.rawText).toBe(kept);
    expect(kept.length).toBe(frame.length);
  });

  it('keeps an oversized payload in a DLQ record that fits Kafka: its first bytes, size and SHA-256', () => {
    const payload = Buffer.from(`{"x":"${'é'.repeat(300_000)}"}`);
    const r = routeMqttMessage('offsite/v1/ent-0001/meters/mtr-1/energy', payload, ctx);
    expect(r.kind).toBe('dlq');
    if (r.kind !== 'dlq') return;
    expect(r.record.reason.code).toBe('normalize.schema-invalid');
    expect(validateTelemetryDlqV1(r.record)).toMatchObject({ ok: true });
    expect(Buffer.byteLength(JSON.stringify(r.record))).toBeLessThan(900_000);
    expect(r.record.rawSize).toBe(payload.length);
    expect(r.record.rawSha256).toBe(createHash('sha256').update(payload).digest('hex'));
    const kept = Buffer.from(r.record.raw, 'base64');
    expect(kept.length).toBeGreaterThan(200_000);
    expect(payload.subarray(0, kept.length).equals(kept)).toBe(true);
    expect(r.record.rawText).toBe(kept.toString('utf8'));
    // A payload that fits is kept whole, without size or hash.
    const small = routeMqttMessage('offsite/v1/ent-0001/meters/mtr-1/energy', Buffer.from('{"ts":'), ctx);
    expect(small.kind === 'dlq' && [small.record.rawSize, small.record.rawSha256]).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('decodes an HJ 212 frame of a registered data logger', () => {
    const frame = hj212HourlyUpload('99010201FG00010000000001');
    const r = routeMqttMessage('offsite/v1/ent-0001/hj212/99010201FG00010000000001', Buffer.from(frame), ctx);
    expect(r.kind).toBe('telemetry');
    if (r.kind !== 'telemetry') return;
    expect(r.event).toMatchObject({
      siteId: 'out-1',
      deviceId: '99010201FG00010000000001',
      interval: 'hour',
      source: 'mqtt',
    });
  });
});

describe('renderAcl', () => {
  it('puts the service account first and lets each enterprise only publish under its own prefix', () => {
    expect(
      renderAcl('svc', ['ent-2', 'ent-1'])
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    ).toEqual([
      'user svc',
      'topic readwrite #',
      'user ent-1',
      'topic write offsite/v1/ent-1/#',
      'user ent-2',
      'topic write offsite/v1/ent-2/#',
    ]);
  });
  it('refuses an enterprise id that is not a plain MQTT username or is the service account', () => {
    expect(() => renderAcl('svc', ['ent 1'])).toThrow(/cannot be an MQTT user/);
    expect(() => renderAcl('svc', ['svc'])).toThrow(/service account/);
  });
});
