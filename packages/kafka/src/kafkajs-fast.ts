/**
 * Faster, byte-identical replacements for three KafkaJS 2.2.4 internals on the produce path, where the
 * mqtt-ingestor spent a quarter of its CPU (issue #3):
 *
 * - `producer/groupMessagesPerPartition`: the original copies the partition's array for every message
 *   (`[...current, message]`), quadratic in the messages per partition of a request (~1 µs and ~1 KiB
 *   of garbage per message at 1,700 messages over 6 partitions); this one appends.
 * - `protocol/recordBatch/record/v0`: the original allocates a zero-filled 512-byte Buffer per record,
 *   grows it to 1 KiB for a 550-byte telemetry event, and builds Long objects for the timestamp delta;
 *   this one sizes the record first and writes it into one pooled Buffer. Records it does not cover
 *   (headers, non-string/Buffer keys or values, deltas beyond ±2^30) go to the original.
 * - `protocol/recordBatch/crc32C`: slice-by-8 CRC32C instead of one table lookup per byte.
 *
 * They are installed by replacing the modules' exports in Node's CommonJS cache before KafkaJS loads
 * the modules that capture them (this file is imported first by `index.ts`); `kafkajsFastPaths()` says
 * whether that worked (it would not if something loaded KafkaJS before `@offsite/kafka`). The package pins kafkajs exactly: the unit tests
 * compare every replacement's output with the original's.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Message = { key?: unknown; value?: unknown; headers?: Record<string, unknown> };
type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;

export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: Partitioner;
}): Record<number, Message[]> {
  const result: Record<number, Message[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

// --- CRC32C (Castagnoli, reflected polynomial 0x82f63b78), slice-by-8 ---
const CRC_TABLE = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}
for (let n = 0; n < 256; n++)
  for (let t = 1; t < 8; t++) {
    const prev = CRC_TABLE[(t - 1) * 256 + n]!;
    CRC_TABLE[t * 256 + n] = (prev >>> 8) ^ CRC_TABLE[prev & 0xff]!;
  }

export function crc32C(buffer: Uint8Array): number {
  const T = CRC_TABLE;
  let crc = -1;
  let i = 0;
  const n = buffer.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    crc ^= buffer[i]! | (buffer[i + 1]! << 8) | (buffer[i + 2]! << 16) | (buffer[i + 3]! << 24);
    crc =
      T[1792 + (crc & 0xff)]! ^
      T[1536 + ((crc >>> 8) & 0xff)]! ^
      T[1280 + ((crc >>> 16) & 0xff)]! ^
      T[1024 + (crc >>> 24)]! ^
      T[768 + buffer[i + 4]!]! ^
      T[512 + buffer[i + 5]!]! ^
      T[256 + buffer[i + 6]!]! ^
      T[buffer[i + 7]!]!;
    i += 8;
  }
  while (i < n) crc = T[(crc ^ buffer[i++]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// --- Record v0 ---
interface EncoderLike {
  buf: Buffer;
  offset: number;
}
type RecordArgs = Message & { offsetDelta?: number; timestampDelta?: number };
type RecordFn = (args: RecordArgs) => EncoderLike;

// KafkaJS's varint: zig-zag, then 7 bits at a time while bits above the low 7 are set (int32 arithmetic).
const zigZag = (v: number) => (v << 1) ^ (v >> 31);
function uvarintSize(value: number): number {
  let v = value;
  let bytes = 1;
  while ((v & 0xffffff80) !== 0) {
    bytes += 1;
    v >>>= 7;
  }
  return bytes;
}
function writeUVarInt(buf: Buffer, at: number, value: number): number {
  let v = value;
  while ((v & 0xffffff80) !== 0) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v & 0x7f;
  return at;
}
const SMALL = 2 ** 30; // |delta| below it: the 64-bit zig-zag equals the 32-bit one

/** Bytes of a key or value (string as UTF-8, Buffer as is), -1 for null, undefined if not covered. */
function bytesOf(v: unknown): number | undefined {
  if (v === null || v === undefined) return -1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Buffer.isBuffer(v)) return v.length;
  return undefined;
}
function writeBytes(buf: Buffer, at: number, v: unknown, len: number): number {
  at = writeUVarInt(buf, at, zigZag(len));
  if (len <= 0) return at;
  if (typeof v === 'string') buf.write(v, at, len, 'utf8');
  else (v as Buffer).copy(buf, at);
  return at + len;
}

function hasHeaders(h: Record<string, unknown> | undefined): boolean {
  if (h === undefined) return false;
  for (const k in h) if (Object.prototype.hasOwnProperty.call(h, k)) return true;
  return false;
}

export function makeRecordEncoder(original: RecordFn, encoderPrototype: object): RecordFn {
  return (args) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
    const keyLen = bytesOf(key);
    const valueLen = bytesOf(value);
    if (
      keyLen === undefined ||
      valueLen === undefined ||
      hasHeaders(headers) ||
      typeof timestampDelta !== 'number' ||
      !Number.isInteger(timestampDelta) ||
      timestampDelta >= SMALL ||
      timestampDelta <= -SMALL ||
      !Number.isInteger(offsetDelta) ||
      offsetDelta < 0 ||
      offsetDelta >= SMALL
    )
      return original(args);
    const ts = zigZag(timestampDelta);
    const od = zigZag(offsetDelta);
    const keyLenZ = zigZag(keyLen);
    const valueLenZ = zigZag(valueLen);
    const body =
      1 +
      uvarintSize(ts) +
      uvarintSize(od) +
      uvarintSize(keyLenZ) +
      Math.max(0, keyLen) +
      uvarintSize(valueLenZ) +
      Math.max(0, valueLen) +
      1; // header count 0
    const total = uvarintSize(zigZag(body)) + body;
    // allocUnsafe: every byte is written below; small records come from Node's shared pool.
    const buf = Buffer.allocUnsafe(total);
    let at = writeUVarInt(buf, 0, zigZag(body));
    buf[at++] = 0; // attributes
    at = writeUVarInt(buf, at, ts);
    at = writeUVarInt(buf, at, od);
    at = writeBytes(buf, at, key, keyLen);
    at = writeBytes(buf, at, value, valueLen);
    buf[at++] = 0; // zig-zag(0): no headers
    const encoder = Object.create(encoderPrototype) as EncoderLike;
    encoder.buf = buf;
    encoder.offset = at;
    return encoder;
  };
}

/** The modules' original exports (the unit tests compare against them). */
export const kafkajsOriginals: {
  groupMessagesPerPartition?: typeof groupMessagesPerPartition;
  record?: RecordFn;
  crc32C?: (b: Uint8Array) => number;
} = {};

/** Replaces a KafkaJS module's exports in the CommonJS cache; false if a dependent module already loaded. */
function replaceExports<T>(
  spec: string,
  dependents: string[],
  keep: (original: T) => void,
  make: (original: T) => unknown,
): boolean {
  const path = require.resolve(spec);
  const original = require(path) as T;
  keep(original);
  if (dependents.some((d) => require.cache[require.resolve(d)] !== undefined)) return false;
  const mod = require.cache[path];
  if (!mod) return false;
  mod.exports = make(original);
  return true;
}

const encoderPrototype = (require('kafkajs/src/protocol/encoder.js') as { prototype: object }).prototype;
const installed = {
  groupMessagesPerPartition: replaceExports<typeof groupMessagesPerPartition>(
    'kafkajs/src/producer/groupMessagesPerPartition.js',
    ['kafkajs/src/producer/sendMessages.js'],
    (o) => (kafkajsOriginals.groupMessagesPerPartition = o),
    () => groupMessagesPerPartition,
  ),
  record: replaceExports<RecordFn>(
    'kafkajs/src/protocol/recordBatch/record/v0/index.js',
    ['kafkajs/src/protocol/requests/produce/v3/request.js'],
    (o) => (kafkajsOriginals.record = o),
    (o) => makeRecordEncoder(o, encoderPrototype),
  ),
  crc32C: replaceExports<(b: Uint8Array) => number>(
    'kafkajs/src/protocol/recordBatch/crc32C/index.js',
    ['kafkajs/src/protocol/recordBatch/v0/index.js'],
    (o) => (kafkajsOriginals.crc32C = o),
    () => crc32C,
  ),
};

/**
 * Which replacements are in force in Node's module cache. Under Jest they are installed there too, but
 * the KafkaJS that Jest loads into its own registry keeps the originals: the services' integration tests
 * (which start src/main.ts) and the benchmarks run the replacements.
 */
export const kafkajsFastPaths = (): Readonly<typeof installed> => installed;
