import { createHash } from 'node:crypto';
import type { TelemetryDlqV1 } from '@offsite/contracts';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** A DLQ record for an MQTT message that cannot become telemetry. */
export function mqttDlqRecord(args: {
  topic: string;
  payload: Buffer;
  code: string;
  message: string;
  receivedAt: string;
  clientId?: string;
  enterpriseId?: string;
  deviceId?: string;
  irregularities?: readonly string[];
}): TelemetryDlqV1 {
  const text = args.payload.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(args.payload);
  // MQTT has no message identity that survives a redelivery; hash what was received.
  const id = `dlq-${createHash('sha256')
    .update(args.topic)
    .update('\0')
    .update(args.payload)
    .update('\0')
    .update(args.code)
    .digest('hex')}`;
  return {
    schema: 'telemetry.dlq.v1',
    id,
    source: 'mqtt',
    reason: { code: args.code, message: args.message.slice(0, 2000) },
    raw: args.payload.toString('base64'),
    ...(isText ? { rawText: text } : {}),
    receivedAt: args.receivedAt,
    origin: { transport: 'mqtt', topic: args.topic, ...(args.clientId ? { clientId: args.clientId } : {}) },
    ...(args.enterpriseId && ID.test(args.enterpriseId) ? { enterpriseId: args.enterpriseId } : {}),
    ...(args.deviceId && ID.test(args.deviceId) ? { deviceId: args.deviceId } : {}),
    irregularities: [...(args.irregularities ?? [])].filter((c) =>
      /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/.test(c),
    ),
  };
}
