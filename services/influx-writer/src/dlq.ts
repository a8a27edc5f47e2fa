import { dlqRecord as sharedDlqRecord, kafkaTopics, type TelemetryDlqV1 } from '@offsite/contracts';
import type { ConsumedMessage } from '@offsite/kafka';

/** Machine-readable reasons this service sends to the DLQ. */
export type WriterDlqReason = 'json.invalid' | 'schema.invalid' | 'influx.invalid-point' | 'influx.rejected';

/** A DLQ record for a telemetry.v1 message the writer cannot store; the id is stable per (record, reason). */
export function dlqRecord(
  m: ConsumedMessage,
  code: WriterDlqReason,
  message: string,
  receivedAt: Date,
  parsed?: { enterpriseId?: unknown; deviceId?: unknown },
): TelemetryDlqV1 {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return sharedDlqRecord({
    source: 'kafka',
    origin: { transport: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
    identity: [m.topic, String(m.partition), m.offset],
    code,
    message,
    raw: m.value ?? Buffer.alloc(0),
    receivedAt,
    enterpriseId: str(parsed?.enterpriseId),
    deviceId: str(parsed?.deviceId),
  });
}

export const dlqKey = (r: TelemetryDlqV1): string => kafkaTopics.telemetryDlq.key(r);
