import * as ex from './examples.test-fixtures.js';
import { deviationId, kafkaTopics, mqttTopics, telemetryEventId } from './index.js';

describe('Kafka topic catalog', () => {
  test('keys follow the documented key fields', () => {
    expect(kafkaTopics.telemetry.key(ex.telemetry)).toBe('ent-0001');
    expect(kafkaTopics.deviation.key(ex.deviation)).toBe('ent-0001');
    expect(kafkaTopics.hj212Raw.key(ex.raw)).toBe('c-17');
    expect(kafkaTopics.notification.key(ex.notification)).toBe('ntf-91aa');
    expect(kafkaTopics.telemetryDlq.key(ex.dlq)).toBe('dlq-01HQ');
  });

  test('each topic validates with its own schema', () => {
    expect(kafkaTopics.telemetry.validate(ex.telemetry).ok).toBe(true);
    expect(kafkaTopics.telemetry.validate(ex.deviation).ok).toBe(false);
    expect(kafkaTopics.deviation.schemaId).toBe('https://offsite.example/schemas/deviation.v1.schema.json');
  });
});

describe('MQTT topics', () => {
  test('build, parse and subscription filter round-trip', () => {
    const topic = mqttTopics.meterEnergy.topic({ enterpriseId: 'ent-0001', meterId: 'm-prod-01' });
    expect(topic).toBe('offsite/v1/ent-0001/meters/m-prod-01/energy');
    expect(mqttTopics.meterEnergy.parse(topic)).toEqual({ enterpriseId: 'ent-0001', meterId: 'm-prod-01' });
    expect(mqttTopics.meterEnergy.filter).toBe('offsite/v1/+/meters/+/energy');
    expect(mqttTopics.hj212.parse('offsite/v1/ent-0001/hj212/010000A8900016F000169DC0')).toEqual({
      enterpriseId: 'ent-0001',
      mn: '010000A8900016F000169DC0',
    });
  });

  test('topics of another family or shape do not parse', () => {
    expect(mqttTopics.meterEnergy.parse('offsite/v1/ent-0001/meters/m1/status')).toBeUndefined();
    expect(mqttTopics.meterEnergy.parse('offsite/v1/ent-0001/meters/energy')).toBeUndefined();
    expect(mqttTopics.meterStatus.parse('offsite/v2/ent-0001/meters/m1/status')).toBeUndefined();
  });

  test('parameters that would change the topic shape are rejected', () => {
    for (const meterId of ['a/b', '+', '#', '', 'x\u0000']) {
      expect(() => mqttTopics.meterEnergy.topic({ enterpriseId: 'e', meterId })).toThrow(
        /invalid MQTT topic parameter meterId/,
      );
    }
  });
});

describe('deterministic ids', () => {
  const base = {
    enterpriseId: 'ent-0001',
    siteId: 'outlet-DA001',
    rule: 'exceedance',
    windowStart: '2024-03-01T02:00:00Z',
  } as const;

  test('the same deviation window yields the same id, however the time is written', () => {
    const id = deviationId(base);
    expect(id).toMatch(/^dev-[0-9a-f]{64}$/);
    expect(deviationId({ ...base, windowStart: '2024-03-01T02:00:00.000Z' })).toBe(id);
    expect(deviationId({ ...base, windowStart: '2024-03-01T10:00:00+08:00' })).toBe(id);
  });

  test('site, rule, factor and window each change the id', () => {
    const ids = new Set([
      deviationId(base),
      deviationId({ ...base, siteId: 'outlet-DA002' }),
      deviationId({ ...base, rule: 'flatline' }),
      deviationId({ ...base, factor: 'a21026' }),
      deviationId({ ...base, factor: 'a21002' }),
      deviationId({ ...base, windowStart: '2024-03-01T03:00:00Z' }),
    ]);
    expect(ids.size).toBe(6);
  });

  test('telemetry event ids ignore receivedAt and source but not the data time', () => {
    const id = telemetryEventId(ex.telemetry);
    expect(
      telemetryEventId({
        ...ex.telemetry,
        receivedAt: '2025-01-01T00:00:00Z',
        source: 'kafka',
      } as typeof ex.telemetry),
    ).toBe(id);
    expect(telemetryEventId({ ...ex.telemetry, dataTime: '2024-03-01T02:20:00Z' })).not.toBe(id);
    expect(telemetryEventId({ ...ex.telemetry, periodSeconds: 60 })).not.toBe(id);
    expect(() => telemetryEventId({ ...ex.telemetry, dataTime: 'yesterday' })).toThrow(RangeError);
  });
});
