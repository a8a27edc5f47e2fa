import { createHash } from 'node:crypto';
import {
  DLQ_RAW_MAX_BYTES,
  dlqRecord,
  kafkaDlqRecord,
  kafkaHeaders,
  kafkaMessage,
  kafkaTopics,
} from './index.js';
import { validateTelemetryDlqV1 } from './validators.js';

const origin = { transport: 'kafka', topic: 'upstream.a.v1', partition: 2, offset: '41' } as const;
const base = {
  source: 'kafka' as const,
  origin,
  identity: ['upstream.a.v1', '2', '41'],
  code: 'json.invalid',
  message: 'Unexpected token',
  receivedAt: new Date('2026-12-06T01:02:03.456Z'),
};

describe('dlqRecord', () => {
  it('derives a stable id from the identity and the reason, distinct per reason', () => {
    const a = dlqRecord({ ...base, raw: Buffer.from('{oops') });
    expect(a.id).toBe(dlqRecord({ ...base, raw: Buffer.from('{oops') }).id);
    expect(a.id).not.toBe(dlqRecord({ ...base, code: 'schema.invalid', raw: Buffer.from('{oops') }).id);
    expect(a.id).not.toBe(
      dlqRecord({ ...base, identity: ['upstream.a.v1', '2', '42'], raw: Buffer.from('{oops') }).id,
    );
    expect(a.receivedAt).toBe('2026-12-06T01:02:03Z');
    expect(validateTelemetryDlqV1(a).ok).toBe(true);
  });

  it('keeps text as text and binary only as base64', () => {
    const text = dlqRecord({ ...base, raw: Buffer.from('污染物 ##') });
    expect(text.rawText).toBe('污染物 ##');
    const binary = dlqRecord({ ...base, raw: Buffer.from([0xff, 0xfe, 0x00]) });
    expect(binary.rawText).toBeUndefined();
    expect(Buffer.from(binary.raw, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
  });

  it('keeps the first 256 KiB of a large input with its size and SHA-256, cut on a character boundary', () => {
    const big = Buffer.from('排'.repeat(DLQ_RAW_MAX_BYTES)); // 3 bytes per character
    const r = dlqRecord({ ...base, raw: big });
    const kept = Buffer.from(r.raw, 'base64');
    expect(kept.length).toBeLessThanOrEqual(DLQ_RAW_MAX_BYTES);
    expect(kept.length % 3).toBe(0);
    expect(r.rawText).toBe(kept.toString('utf8'));
    expect(r.rawSize).toBe(big.length);
    expect(r.rawSha256).toBe(createHash('sha256').update(big).digest('hex'));
    expect(JSON.stringify(r).length).toBeLessThan(900_000);
    expect(validateTelemetryDlqV1(r).ok).toBe(true);
  });

  it('leaves out ids and irregularities that do not fit the contract', () => {
    const r = dlqRecord({
      ...base,
      raw: Buffer.from('x'),
      enterpriseId: 'ent 1',
      deviceId: 'MN;=',
      irregularities: ['crc.swapped', 'Bad Code', 'crc.swapped'],
    });
    expect(r.enterpriseId).toBeUndefined();
    expect(r.deviceId).toBeUndefined();
    expect(r.irregularities).toEqual(['crc.swapped']);
  });

  it('kafkaDlqRecord prefixes the service and keeps the record position', () => {
    const r = kafkaDlqRecord({
      service: 'analyzer',
      code: 'json-invalid',
      message: 'bad',
      topic: 't',
      partition: 0,
      offset: '7',
      value: null,
      receivedAt: new Date(0),
    });
    expect(r.reason.code).toBe('analyzer.json-invalid');
    expect(r.origin).toEqual({ transport: 'kafka', topic: 't', partition: 0, offset: '7' });
    expect(validateTelemetryDlqV1(r).ok).toBe(true);
  });
});

describe('kafkaMessage', () => {
  it('takes the key and headers from the catalogue', () => {
    const r = kafkaDlqRecord({
      service: 'alerter',
      code: 'schema-invalid',
      message: 'bad',
      topic: 't',
      partition: 0,
      offset: '1',
      value: Buffer.from('{}'),
      receivedAt: new Date(0),
    });
    const m = kafkaMessage(kafkaTopics.telemetryDlq, r, { timestamp: 5 });
    expect(m).toEqual({
      key: r.id,
      value: JSON.stringify(r),
      headers: kafkaHeaders('telemetry.dlq.v1', r.id),
      timestamp: 5,
    });
    expect(m.headers).toEqual({ 'offsite-schema': 'telemetry.dlq.v1', 'offsite-id': r.id });
  });
});
