import * as ex from './examples.test-fixtures.js';
import {
  validateComplaintIntakeV1,
  validateDeviationV1,
  validateHj212RawV1,
  validateMeterEnergyV1,
  validateMeterStatusV1,
  validateNotificationV1,
  validateReviewDecisionV1,
  validateMessageRequestV1,
  validateTelemetryLateV1,
  validateHj212CommandV1,
  validateTelemetryDlqV1,
  validateTelemetryV1,
} from './index.js';
import type { ValidationResult } from './index.js';

function errorsOf(result: ValidationResult<unknown>): string[] {
  if (result.ok) throw new Error('expected the payload to be rejected');
  return result.errors;
}

describe('valid examples pass', () => {
  test.each([
    ['telemetry (hj212 emission)', validateTelemetryV1, ex.telemetry],
    ['telemetry (mqtt energy)', validateTelemetryV1, ex.energyTelemetry],
    ['dlq', validateTelemetryDlqV1, ex.dlq],
    ['raw', validateHj212RawV1, ex.raw],
    ['deviation', validateDeviationV1, ex.deviation],
    ['notification', validateNotificationV1, ex.notification],
    ['review decision', validateReviewDecisionV1, ex.reviewDecision],
    ['message request', validateMessageRequestV1, ex.messageRequest],
    ['late telemetry', validateTelemetryLateV1, ex.telemetryLate],
    ['hj212 command', validateHj212CommandV1, ex.hj212Command],
    [
      'hj212 command (a read)',
      validateHj212CommandV1,
      {
        schema: 'hj212.command.v1',
        id: 'c-1',
        mn: 'M1',
        cn: '1011',
        requestedBy: 'u-3 li',
        requestedAt: '2026-03-01T03:00:00Z',
      },
    ],
    ['complaint intake', validateComplaintIntakeV1, ex.complaintIntake],
    ['meter energy', validateMeterEnergyV1, ex.meterEnergy],
    ['meter status (last will)', validateMeterStatusV1, { state: 'offline' }],
  ] as const)('%s', (_name, validate, payload) => {
    const result = (validate as (x: unknown) => ValidationResult<unknown>)(payload);
    expect(result).toEqual({ ok: true, value: payload });
  });

  test('extension data flags and facility status are accepted', () => {
    const t = ex.clone(ex.telemetry);
    t.measurements[0]!.flag = 'Md';
    expect(validateTelemetryV1(t).ok).toBe(true);
  });

  test('resolved deviation with resolvedAt passes', () => {
    const d = ex.clone(ex.deviation);
    Object.assign(d, { state: 'resolved', revision: 3, resolvedAt: '2024-03-01T06:00:00Z' });
    expect(validateDeviationV1(d).ok).toBe(true);
  });

  test('DLQ origins for MQTT and Kafka pass', () => {
    const mqtt = {
      ...ex.dlq,
      source: 'mqtt',
      origin: { transport: 'mqtt', topic: 'offsite/v1/e/meters/m/energy', clientId: 'c1' },
    };
    const kafka = {
      ...ex.dlq,
      source: 'kafka',
      origin: { transport: 'kafka', topic: 'upstream.x.v1', partition: 2, offset: '9007199254740993' },
    };
    expect(validateTelemetryDlqV1(mqtt).ok).toBe(true);
    expect(validateTelemetryDlqV1(kafka).ok).toBe(true);
  });
});

describe('wrong payloads fail with a useful message', () => {
  test('unknown stat names the path, the allowed values and the received value', () => {
    const t = ex.clone(ex.telemetry);
    (t.measurements[1] as { stat: string }).stat = 'Avgg';
    expect(errorsOf(validateTelemetryV1(t))).toEqual([
      '/measurements/1/stat: must be one of "Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax", "RS", "RT", "Value" (got "Avgg")',
    ]);
  });

  test('missing required fields are each reported', () => {
    const t = ex.clone(ex.telemetry);
    delete (t as Record<string, unknown>).enterpriseId;
    delete (t as Record<string, unknown>).receivedAt;
    const errors = errorsOf(validateTelemetryV1(t));
    expect(errors).toContain('/enterpriseId: is required');
    expect(errors).toContain('/receivedAt: is required');
  });

  test('hj212 command: a history request without its period is rejected', () => {
    const { beginTime: _b, endTime: _e, ...rest } = ex.hj212Command;
    expect(errorsOf(validateHj212CommandV1(rest)).join(' ')).toMatch(/beginTime|endTime/);
  });

  test('local time without Z is rejected', () => {
    const t = ex.clone(ex.telemetry);
    t.dataTime = '2024-03-01T10:10:00+08:00';
    expect(errorsOf(validateTelemetryV1(t))).toEqual([
      '/dataTime: must be an ISO 8601 UTC time ending in Z, e.g. 2024-03-01T02:10:00Z (got "2024-03-01T10:10:00+08:00")',
    ]);
  });

  test('an impossible date is rejected by the date-time format', () => {
    const t = ex.clone(ex.telemetry);
    t.receivedAt = '2024-02-30T00:00:00Z';
    expect(errorsOf(validateTelemetryV1(t))).toEqual([
      '/receivedAt: must be a valid date-time (got "2024-02-30T00:00:00Z")',
    ]);
  });

  test('empty measurements, a string value and an unknown property', () => {
    const empty = ex.clone(ex.telemetry);
    empty.measurements = [];
    expect(errorsOf(validateTelemetryV1(empty))).toEqual(['/measurements: must NOT have fewer than 1 items']);

    const t = ex.clone(ex.telemetry);
    (t.measurements[0] as { value: unknown }).value = '35.2';
    t.enterprise_id = 'ent-0001';
    const errors = errorsOf(validateTelemetryV1(t));
    expect(errors).toContain('/measurements/0/value: must be number (got "35.2")');
    expect(errors).toContain('(root): has unknown property "enterprise_id"');
  });

  test('an HJ 212 reading must carry its header', () => {
    const t = ex.clone(ex.telemetry);
    delete t.hj212;
    expect(errorsOf(validateTelemetryV1(t))).toEqual(['/hj212: is required']);
  });

  test('a malformed data flag yields one line, not one per anyOf branch', () => {
    const t = ex.clone(ex.telemetry);
    t.measurements[0]!.flag = 'N;';
    const errors = errorsOf(validateTelemetryV1(t));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^\/measurements\/0\/flag: must be one of "N", "F".*, or must match .* \(got "N;"\)$/,
    );
  });

  test('a DLQ origin reports the errors of the transport it names only', () => {
    const d = ex.clone(ex.dlq);
    d.origin = { transport: 'kafka', topic: 'upstream.x.v1', partition: 1 } as never;
    expect(errorsOf(validateTelemetryDlqV1(d))).toEqual(['/origin/offset: is required']);

    d.origin = { transport: 'udp' } as never;
    expect(errorsOf(validateTelemetryDlqV1(d))).toEqual([
      '/origin/transport: must be one of "tcp", "mqtt", "kafka", "http" (got "udp")',
    ]);
  });

  test('DLQ raw must be base64 and the reason code machine-readable', () => {
    const d = ex.clone(ex.dlq);
    d.raw = '##0101QN=';
    d.reason = { code: 'CRC mismatch', message: 'x' };
    const errors = errorsOf(validateTelemetryDlqV1(d));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^\/reason\/code: must match/);
    expect(errors[1]).toBe('/raw: must be padded standard base64 (got "##0101QN=")');
  });

  test('an undecoded raw packet must say why', () => {
    const r = ex.clone(ex.raw);
    r.decoded = false;
    expect(errorsOf(validateHj212RawV1(r))).toEqual(['/error: is required']);
    r.error = { code: 'hj212.bad-length', message: 'length 0101 but 99 bytes' };
    expect(validateHj212RawV1(r).ok).toBe(true);
  });

  test('deviation: unknown rule, revision 0, resolved without resolvedAt', () => {
    const d = ex.clone(ex.deviation);
    (d as { rule: string }).rule = 'exceedence';
    d.revision = 0;
    d.state = 'resolved';
    const errors = errorsOf(validateDeviationV1(d));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/rule: must be one of "exceedance", .* \(got "exceedence"\)$/),
        '/revision: must be >= 1 (got 0)',
        '/resolvedAt: is required',
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  test('notification: an unmasked address and a failure without an error are rejected', () => {
    const n = ex.clone(ex.notification);
    n.recipient = { ...ex.notification.recipient, address: '13812345678' };
    n.status = 'failed';
    const errors = errorsOf(validateNotificationV1(n));
    expect(errors).toContain(
      '/recipient/address: must be masked (e.g. 138****5678), never a full address (got "13812345678")',
    );
    expect(errors).toContain('/error: is required');
  });

  test('meter energy: negative power, unknown status, missing ts', () => {
    const m = ex.clone(ex.meterEnergy);
    m.powerKw = -1;
    (m as { status: string }).status = 'on';
    delete (m as Record<string, unknown>).ts;
    expect(errorsOf(validateMeterEnergyV1(m))).toEqual([
      '/ts: is required',
      '/powerKw: must be >= 0 (got -1)',
      '/status: must be one of "running", "stopped" (got "on")',
    ]);
  });

  test.each([null, 'telemetry', 42, []])('non-object %p is rejected at the root', (input) => {
    expect(errorsOf(validateTelemetryV1(input))).toEqual([
      expect.stringMatching(/^\(root\): must be object/),
    ]);
  });
});

test('late telemetry: the day is a calendar date and a write holds at least one reading', () => {
  const d = ex.clone(ex.telemetryLate);
  d.day = '2026-13-01';
  d.readings = 0;
  const errors = errorsOf(validateTelemetryLateV1(d));
  expect(errors.some((e) => e.startsWith('/day:'))).toBe(true);
  expect(errors.some((e) => e.startsWith('/readings:'))).toBe(true);
  expect(errors).toHaveLength(2);
});

test('review decision: the id names the case and the sequence, and the state is one of the review states', () => {
  const d = ex.clone(ex.reviewDecision);
  d.id = 'dev-5b2f';
  d.reviewState = 'approved' as never;
  const errors = errorsOf(validateReviewDecisionV1(d));
  expect(errors.some((e) => e.startsWith('/id:'))).toBe(true);
  expect(errors.some((e) => e.startsWith('/reviewState:'))).toBe(true);
  expect(errors).toHaveLength(2);
});
