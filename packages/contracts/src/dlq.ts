import { createHash } from 'node:crypto';
import type { TelemetryDlqV1 } from './generated/telemetry.dlq.v1.js';
import type { ValidationResult } from './validation.js';

/**
 * Bytes of an input a DLQ record keeps (base64 in `raw`, and the same bytes in `rawText` when they
 * are text): 256 KiB make a record of at most ~700 KB, under a produce request's 900,000 value
 * bytes and Kafka's 1 MiB `message.max.bytes`. A larger input keeps its first 256 KiB with its
 * size (`rawSize`) and SHA-256 (`rawSha256`): a record Kafka refused would never be acknowledged,
 * and its input would be redelivered forever.
 */
export const DLQ_RAW_MAX_BYTES = 256 * 1024;
/** rawText as JSON (escapes included) may take at most this many characters, or is left out. */
const RAW_TEXT_MAX_JSON = 360_000;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const CODE = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;

export interface DlqInput {
  source: TelemetryDlqV1['source'];
  origin: TelemetryDlqV1['origin'];
  /**
   * What makes this input itself, so that a redelivered input yields the same record id: a Kafka
   * record's topic, partition and offset; an MQTT message's topic and payload (MQTT has no identity
   * that survives a redelivery); the gateway's raw-frame id.
   */
  identity: readonly (string | Uint8Array)[];
  /** `<area>.<problem>`, e.g. `hj212.crc-mismatch`. */
  code: string;
  message: string;
  /** The bytes received; HJ 212 input with its PW/NewPW values already masked. */
  raw: Uint8Array;
  receivedAt: Date | string;
  enterpriseId?: string | undefined;
  deviceId?: string | null | undefined;
  irregularities?: readonly string[] | undefined;
  /** How many inputs the record stands for (a run of garbage kept together). */
  count?: number | undefined;
}

/** The bytes' UTF-8 text when they are exactly that text. */
function asText(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/**
 * The one way to build a telemetry.dlq.v1 record. Its id is `dlq-` and the SHA-256 of the input's
 * identity and the reason code: stable across redeliveries, distinct per reason.
 */
export function dlqRecord(i: DlqInput): TelemetryDlqV1 {
  const h = createHash('sha256');
  for (const part of i.identity) h.update(part).update('\0');
  const id = `dlq-${h.update(i.code).digest('hex')}`;
  const bytes = Buffer.from(i.raw.buffer, i.raw.byteOffset, i.raw.byteLength);
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
  const receivedAt =
    typeof i.receivedAt === 'string' ? i.receivedAt : i.receivedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    schema: 'telemetry.dlq.v1',
    id,
    source: i.source,
    reason: { code: i.code, message: i.message.slice(0, 2000) || i.code },
    raw: kept.toString('base64'),
    ...(text !== undefined ? { rawText: text } : {}),
    ...(cut ? { rawSize: bytes.length, rawSha256: createHash('sha256').update(bytes).digest('hex') } : {}),
    receivedAt,
    origin: i.origin,
    ...(i.enterpriseId && ID.test(i.enterpriseId) ? { enterpriseId: i.enterpriseId } : {}),
    ...(i.deviceId && ID.test(i.deviceId) ? { deviceId: i.deviceId } : {}),
    ...(i.count !== undefined && i.count > 1 ? { count: i.count } : {}),
    irregularities: [...new Set(i.irregularities ?? [])].filter((c) => c.length <= 64 && CODE.test(c)),
  };
}

export interface KafkaDlqInput {
  /** The rejecting service: prefixes the reason code (`analyzer.schema-invalid`). */
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

/** The DLQ record of a consumed Kafka record a downstream service rejects. */
export function kafkaDlqRecord(i: KafkaDlqInput): TelemetryDlqV1 {
  return dlqRecord({
    source: 'kafka',
    origin: { transport: 'kafka', topic: i.topic, partition: i.partition, offset: i.offset },
    identity: [i.topic, String(i.partition), i.offset],
    code: `${i.service}.${i.code}`,
    message: i.message,
    raw: i.value ?? Buffer.alloc(0),
    receivedAt: i.receivedAt,
  });
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
