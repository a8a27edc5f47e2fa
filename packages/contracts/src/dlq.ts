import type { TelemetryDlqV1 } from './generated/telemetry.dlq.v1.js';
import type { ValidationResult } from './validation.js';

export interface KafkaDlqInput {
  /** The rejecting service: prefixes the reason code and the id (`analyzer.schema-invalid`). */
  service: string;
  /** Problem within the service, e.g. `json-invalid`. */
  code: string;
  message: string;
  /** The record as consumed. */
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
  receivedAt: Date;
}

/**
 * The DLQ record of a consumed Kafka record a service rejects. The id names the service and the
 * record (`<service>.<topic>.<partition>.<offset>`), so a redelivered record yields the same id.
 */
export function kafkaDlqRecord(i: KafkaDlqInput): TelemetryDlqV1 {
  const raw = i.value ?? Buffer.alloc(0);
  return {
    schema: 'telemetry.dlq.v1',
    id: `${i.service}.${i.topic}.${i.partition}.${i.offset}`,
    source: 'kafka',
    reason: { code: `${i.service}.${i.code}`, message: i.message.slice(0, 2000) },
    raw: raw.toString('base64'),
    rawText: raw.toString('utf8').slice(0, 1_000_000),
    receivedAt: i.receivedAt.toISOString(),
    origin: { transport: 'kafka', topic: i.topic, partition: i.partition, offset: i.offset },
    irregularities: [],
  };
}

/**
 * A consumed record's JSON value checked against its contract: the payload, or the DLQ record that
 * keeps it (`<service>.json-invalid`, `<service>.schema-invalid`).
 */
export function decodeKafkaRecord<T>(
  record: Omit<KafkaDlqInput, 'service' | 'code' | 'message' | 'receivedAt'>,
  validate: (input: unknown) => ValidationResult<T>,
  service: string,
  receivedAt: () => Date,
): { ok: true; value: T } | { ok: false; dlq: TelemetryDlqV1 } {
  const reject = (code: string, message: string) => ({
    ok: false as const,
    dlq: kafkaDlqRecord({ ...record, service, code, message, receivedAt: receivedAt() }),
  });
  let doc: unknown;
  try {
    doc = JSON.parse((record.value ?? Buffer.alloc(0)).toString('utf8'));
  } catch (err) {
    return reject('json-invalid', (err as Error).message);
  }
  const v = validate(doc);
  return v.ok ? { ok: true, value: v.value } : reject('schema-invalid', v.errors.join('; '));
}
