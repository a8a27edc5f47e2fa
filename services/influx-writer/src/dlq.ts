import { createHash } from 'node:crypto';
import { kafkaTopics, type TelemetryDlqV1 } from '@offsite/contracts';
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
  const raw = m.value ?? Buffer.alloc(0);
  const text = raw.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(raw);
  const id = `dlq-${createHash('sha256')
    .update(`${m.topic}/${m.partition}/${m.offset}/${code}`)
    .digest('hex')}`;
  const str = (v: unknown) =>
    typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(v) ? v : undefined;
  const enterpriseId = str(parsed?.enterpriseId);
  const deviceId = str(parsed?.deviceId);
  return {
    schema: 'telemetry.dlq.v1',
    id,
    source: 'kafka',
    reason: { code, message: message.slice(0, 2000) },
    raw: raw.toString('base64'),
    ...(isText ? { rawText: text } : {}),
    receivedAt: receivedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    origin: { transport: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
    ...(enterpriseId ? { enterpriseId } : {}),
    ...(deviceId ? { deviceId } : {}),
    irregularities: [],
  };
}

export const dlqKey = (r: TelemetryDlqV1): string => kafkaTopics.telemetryDlq.key(r);
