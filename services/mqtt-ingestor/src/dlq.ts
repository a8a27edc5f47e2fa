import { createHash } from 'node:crypto';
import type { TelemetryDlqV1 } from '@offsite/contracts';
import { maskPasswords } from '@offsite/hj212';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/**
 * Bytes of a payload a DLQ record keeps (base64 in `raw`, and the same bytes in `rawText` when they
 * are text): 256 KiB make a record of at most ~700 KB, under the produce request's 900,000 value
 * bytes and Kafka's 1 MiB `message.max.bytes`. A larger payload keeps its first 256 KiB with its
 * size (`rawSize`) and SHA-256 (`rawSha256`): a record that Kafka refused would never be
 * acknowledged, and the broker would re-deliver it to the one ingestor session forever.
 */
export const DLQ_RAW_MAX_BYTES = 256 * 1024;
/** rawText as JSON (escapes included) may take at most this many characters, or is left out. */
const RAW_TEXT_MAX_JSON = 360_000;

/** The payload's UTF-8 text when its bytes are exactly that text. */
function asText(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

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
  /** From the HJ 212 topic family: PW/NewPW values are masked in what the record keeps (as are those
   * of any payload that starts like an HJ 212 frame, `##`). */
  hj212?: boolean;
}): TelemetryDlqV1 {
  // MQTT has no message identity that survives a redelivery; hash what was received.
  const id = `dlq-${createHash('sha256')
    .update(args.topic)
    .update('\0')
    .update(args.payload)
    .update('\0')
    .update(args.code)
    .digest('hex')}`;
  const hj212 = args.hj212 === true || (args.payload[0] === 0x23 && args.payload[1] === 0x23);
  const bytes = hj212 ? maskPasswords(args.payload) : args.payload;
  const cut = bytes.length > DLQ_RAW_MAX_BYTES;
  let kept = bytes;
  let text = asText(bytes);
  if (cut) {
    kept = bytes.subarray(0, DLQ_RAW_MAX_BYTES);
    // Text cut inside a multi-byte character keeps the bytes up to the last whole one.
    for (let back = 1; text !== undefined && back <= 3 && asText(kept) === undefined; back++)
      kept = bytes.subarray(0, DLQ_RAW_MAX_BYTES - back);
    text = text === undefined ? undefined : asText(kept);
  }
  // Control characters escape to six JSON characters each: such "text" stays in raw alone.
  if (
    text !== undefined &&
    text.length * 6 > RAW_TEXT_MAX_JSON &&
    JSON.stringify(text).length > RAW_TEXT_MAX_JSON
  )
    text = undefined;
  return {
    schema: 'telemetry.dlq.v1',
    id,
    source: 'mqtt',
    reason: { code: args.code, message: args.message.slice(0, 2000) },
    raw: kept.toString('base64'),
    ...(text !== undefined ? { rawText: text } : {}),
    ...(cut ? { rawSize: bytes.length, rawSha256: createHash('sha256').update(bytes).digest('hex') } : {}),
    receivedAt: args.receivedAt,
    origin: { transport: 'mqtt', topic: args.topic, ...(args.clientId ? { clientId: args.clientId } : {}) },
    ...(args.enterpriseId && ID.test(args.enterpriseId) ? { enterpriseId: args.enterpriseId } : {}),
    ...(args.deviceId && ID.test(args.deviceId) ? { deviceId: args.deviceId } : {}),
    irregularities: [...(args.irregularities ?? [])].filter((c) =>
      /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/.test(c),
    ),
  };
}
