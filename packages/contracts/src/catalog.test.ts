import * as ex from './examples.test-fixtures.js';
import fc from 'fast-check';
import { deviationId, isCanonicalUtc, kafkaTopics, mqttTopics, telemetryEventId } from './index.js';

describe('Kafka topic catalog', () => {
  test('keys follow the documented key fields', () => {
    expect(kafkaTopics.telemetry.key(ex.telemetry)).toBe('ent-0001');
    expect(kafkaTopics.deviation.key(ex.deviation)).toBe('ent-0001');
    expect(kafkaTopics.hj212Raw.key(ex.raw)).toBe('c-17');
    expect(kafkaTopics.notification.key(ex.notification)).toBe('ntf-91aa');
    expect(kafkaTopics.telemetryDlq.key(ex.dlq)).toBe('dlq-01HQ');
    expect(kafkaTopics.reviewDecision.key(ex.reviewDecision)).toBe('ent-0001');
    expect(kafkaTopics.messageRequest.key(ex.messageRequest)).toBe(ex.messageRequest.id);
    expect(kafkaTopics.hj212Command.key(ex.hj212Command)).toBe(ex.hj212Command.mn);
    expect(kafkaTopics.complaintIntake.key(ex.complaintIntake)).toBe(ex.complaintIntake.id);
    expect(kafkaTopics.telemetryLate.key(ex.telemetryLate)).toBe(ex.telemetryLate.deviceId);
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

  // Ids computed by the createHash() implementation before the one-shot hash and the canonical-time
  // fast path: the same inputs must keep their ids (they are stored and deduplicated on).
  test('telemetry and deviation ids are the ones computed before', () => {
    const meter = {
      enterpriseId: 'ent-qinglan-steel',
      deviceId: 'm-steel-line1',
      kind: 'energy',
      interval: 'realtime',
    } as const;
    const known = 'tel-04eb04b46061586afbf5bfb7083258b7b028c490db75f15bbcb739fa22e56694';
    expect(telemetryEventId({ ...meter, dataTime: '2024-01-01T00:00:00.000Z' })).toBe(known);
    expect(telemetryEventId({ ...meter, dataTime: '2024-01-01T00:00:00Z' })).toBe(known);
    expect(
      telemetryEventId({
        enterpriseId: 'ent-a',
        deviceId: '88888880000001',
        kind: 'emission',
        interval: 'minute',
        periodSeconds: 600,
        dataTime: '2024-03-01T10:20:00+08:00',
      }),
    ).toBe('tel-45973559cd3cf04e801a1921793578f483a1b0c073215c34dfd2bf2d9248878d');
    expect(
      telemetryEventId({
        enterpriseId: 'ent-a',
        deviceId: 'm1',
        kind: 'status',
        interval: 'realtime',
        dataTime: '2024-02-29T23:59:59.999Z',
      }),
    ).toBe('tel-58ad6ce3cd756ec6046c964056007969965b36edef871f8748e468c6f61b6a13');
    expect(
      deviationId({
        enterpriseId: 'ent-a',
        siteId: 'outlet-1',
        rule: 'exceedance',
        factor: 'a21026',
        windowStart: '2024-03-01T02:00:00Z',
      }),
    ).toBe('dev-1ad7708fdc5b4503d32c0f12beecad3adcf2a675881d7b53b15888aba2634962');
  });

  test('isCanonicalUtc is true exactly when a Date round trip returns the string unchanged', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const candidate = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        two(13),
        two(32),
        two(25),
        two(61),
        two(61),
        fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')),
      )
      .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
    const roundTrips = (s: string) => {
      const ms = Date.parse(s);
      return !Number.isNaN(ms) && new Date(ms).toISOString() === s;
    };
    fc.assert(
      fc.property(candidate, (s) => isCanonicalUtc(s) === roundTrips(s)),
      { numRuns: 20_000 },
    );
    for (const s of ['2024-02-29T00:00:00.000Z', '2023-02-28T23:59:59.999Z', '2000-02-29T12:00:00.000Z'])
      expect(isCanonicalUtc(s)).toBe(true);
    for (const s of [
      '2023-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '2024-01-01T00:00:00Z',
      '2024-01-01T08:00:00.000+08:00',
      '2024-01-01 00:00:00.000Z',
    ])
      expect(isCanonicalUtc(s)).toBe(false);
  });
});
