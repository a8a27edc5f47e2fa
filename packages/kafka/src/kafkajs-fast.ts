/**
 * Faster, byte-identical replacements for four KafkaJS 2.2.4 internals on the produce path:
 *
 * - `producer/groupMessagesPerPartition`: the original copies the partition's array for every message
 *   (`[...current, message]`), quadratic in the messages per partition of a request; this one appends.
 * - `protocol/recordBatch/record/v0`: the original allocates a zero-filled 512-byte Buffer per record,
 *   grows it to 1 KiB for a 550-byte telemetry event, and builds Long objects for the timestamp delta;
 *   this one sizes the record first and writes it into one pooled Buffer. Records it does not cover
 *   (headers, non-string/Buffer keys or values, deltas beyond ±2^30) go to the original.
 * - `protocol/recordBatch/crc32C`: slice-by-8 CRC32C instead of one table lookup per byte.
 * - `protocol/requests/produce/v3/request` (v4–v7 wrap it): the whole request written into one Buffer
 *   instead of an Encoder per record, batch, partition and topic, each copied into the next.
 *
 * `installKafkajsFastPaths()`, called by each composition root before its first Kafka client, installs
 * them by replacing the modules' exports in the module cache before KafkaJS loads the modules that capture
 * them (`@offsite/kafka` loads KafkaJS on first use, not on import); `kafkajsFastPaths()` says which are in
 * force. The package pins kafkajs exactly: the unit tests compare every replacement's output with the
 * original's, and the integration tests run with the replacements installed.
 */
import { createRequire } from 'node:module';
import type { Logger } from './logger.js';

const require = createRequire(import.meta.url);

type Message = { key?: unknown; value?: unknown; headers?: Record<string, unknown> | undefined };
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

/** The record's fields when the fast path covers it (else undefined: the original encodes it). */
interface RecordPlan {
  key: unknown;
  value: unknown;
  keyLen: number;
  valueLen: number;
  ts: number;
  od: number;
  /** Body size (after the length varint). */
  body: number;
}

function planRecord(args: RecordArgs): RecordPlan | undefined {
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
    return undefined;
  const ts = zigZag(timestampDelta);
  const od = zigZag(offsetDelta);
  const body =
    1 +
    uvarintSize(ts) +
    uvarintSize(od) +
    uvarintSize(zigZag(keyLen)) +
    Math.max(0, keyLen) +
    uvarintSize(zigZag(valueLen)) +
    Math.max(0, valueLen) +
    1; // header count 0
  return { key, value, keyLen, valueLen, ts, od, body };
}

const recordSize = (r: RecordPlan) => uvarintSize(zigZag(r.body)) + r.body;

/** Writes a planned record at `at`; returns the next offset. */
function writeRecord(buf: Buffer, at: number, r: RecordPlan): number {
  at = writeUVarInt(buf, at, zigZag(r.body));
  buf[at++] = 0; // attributes
  at = writeUVarInt(buf, at, r.ts);
  at = writeUVarInt(buf, at, r.od);
  at = writeBytes(buf, at, r.key, r.keyLen);
  at = writeBytes(buf, at, r.value, r.valueLen);
  buf[at++] = 0; // zig-zag(0): no headers
  return at;
}

function encoderOf(encoderPrototype: object, buf: Buffer, offset: number): EncoderLike {
  const encoder = Object.create(encoderPrototype) as EncoderLike;
  encoder.buf = buf;
  encoder.offset = offset;
  return encoder;
}

export function makeRecordEncoder(original: RecordFn, encoderPrototype: object): RecordFn {
  return (args) => {
    const r = planRecord(args);
    if (r === undefined) return original(args);
    // allocUnsafe: every byte is written; small records come from Node's shared pool.
    const buf = Buffer.allocUnsafe(recordSize(r));
    return encoderOf(encoderPrototype, buf, writeRecord(buf, 0, r));
  };
}

// --- Produce request v3 (v4–v7 reuse it) ---
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
interface LongStatic {
  fromValue(v: unknown): LongLike;
  fromInt(v: number): LongLike;
}
type ProduceMessage = Message & { timestamp?: string | number | null };
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[];
  }[];
}
interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<EncoderLike>;
}
type ProduceRequestFn = (args: ProduceArgs) => ProduceRequest;

function writeInt64(buf: Buffer, at: number, long: LongLike): number {
  buf.writeInt32BE(long.getHighBits(), at);
  buf.writeInt32BE(long.getLowBits(), at + 4);
  return at + 8;
}

/**
 * The produce request (v3 body) written into one Buffer: KafkaJS builds each record, record batch,
 * partition, topic and the request in an Encoder of its own and copies each into the next (zero-filled
 * Buffers grown by doubling at every level). Same bytes, as its unit test checks. Requests it does not
 * cover (compression, records the record fast path does not cover) go to the original.
 */
export function makeProduceRequest(
  original: ProduceRequestFn,
  encoderPrototype: object,
  Long: LongStatic,
): ProduceRequestFn {
  return (args) => {
    const request = original(args);
    const { acks, timeout, transactionalId = null, producerEpoch = 0, compression = 0, topicData } = args;
    const producerId = args.producerId ?? Long.fromInt(-1);
    if (compression !== 0) return request;
    const encodeOriginal = request.encode;
    const encode = async (): Promise<EncoderLike> => {
      const plans: { first: unknown; max: unknown; records: RecordPlan[]; size: number }[][] = [];
      let total = (transactionalId === null ? 2 : 2 + Buffer.byteLength(transactionalId, 'utf8')) + 2 + 4 + 4;
      for (const { topic, partitions } of topicData) {
        const topicPlans: (typeof plans)[number] = [];
        total += 2 + Buffer.byteLength(topic, 'utf8') + 4;
        for (const { messages } of partitions) {
          // Timestamps exactly as KafkaJS takes them (a string sort, `||` for a missing one).
          const dateNow = Date.now();
          let stamped = false;
          for (const m of messages) if (m.timestamp != null) stamped = true;
          const stamps = stamped
            ? (messages.map((m) => m.timestamp).filter((t) => t != null) as (string | number)[]).sort()
            : [dateNow];
          const first = stamps[0]!;
          const max = stamps[stamps.length - 1]!;
          const records: RecordPlan[] = [];
          let size = 0;
          for (let i = 0; i < messages.length; i++) {
            const m = messages[i]!;
            const timestampDelta = stamped ? ((m.timestamp || dateNow) as number) - (first as number) : 0;
            const r = planRecord({
              key: m.key,
              value: m.value,
              headers: m.headers,
              offsetDelta: i,
              timestampDelta,
            });
            if (r === undefined) return encodeOriginal();
            records.push(r);
            size += recordSize(r);
          }
          topicPlans.push({ first, max, records, size });
          // partition, batch size, first offset, length, leader epoch, magic, crc, batch header, count
          total += 4 + 4 + 8 + 4 + 4 + 1 + 4 + 40 + size;
        }
        plans.push(topicPlans);
      }
      const buf = Buffer.allocUnsafe(total);
      let at = 0;
      if (transactionalId === null) at = buf.writeInt16BE(-1, at);
      else {
        at = buf.writeInt16BE(Buffer.byteLength(transactionalId, 'utf8'), at);
        at += buf.write(transactionalId, at, 'utf8');
      }
      at = buf.writeInt16BE(acks, at);
      at = buf.writeInt32BE(timeout, at);
      at = buf.writeInt32BE(topicData.length, at);
      const attributes = transactionalId ? 16 : 0; // no compression, create-time timestamps
      const producerIdLong = Long.fromValue(producerId);
      for (let t = 0; t < topicData.length; t++) {
        const { topic, partitions } = topicData[t]!;
        at = buf.writeInt16BE(Buffer.byteLength(topic, 'utf8'), at);
        at += buf.write(topic, at, 'utf8');
        at = buf.writeInt32BE(partitions.length, at);
        for (let p = 0; p < partitions.length; p++) {
          const { partition, firstSequence = 0, messages } = partitions[p]!;
          const plan = plans[t]![p]!;
          const batchLength = 4 + 1 + 4 + 40 + plan.size; // from the leader epoch to the last record
          at = buf.writeInt32BE(partition, at);
          at = buf.writeInt32BE(8 + 4 + batchLength, at);
          at = writeInt64(buf, at, Long.fromInt(0)); // first offset
          at = buf.writeInt32BE(batchLength, at);
          at = buf.writeInt32BE(0, at); // partition leader epoch
          buf[at++] = 2; // magic
          const crcAt = at;
          at += 4;
          const bodyAt = at;
          at = buf.writeInt16BE(attributes, at);
          at = buf.writeInt32BE(messages.length - 1, at); // last offset delta
          at = writeInt64(buf, at, Long.fromValue(plan.first));
          at = writeInt64(buf, at, Long.fromValue(plan.max));
          at = writeInt64(buf, at, producerIdLong);
          at = buf.writeInt16BE(producerEpoch, at);
          at = buf.writeInt32BE(firstSequence, at);
          at = buf.writeInt32BE(plan.records.length, at);
          for (const r of plan.records) at = writeRecord(buf, at, r);
          buf.writeUInt32BE(crc32C(buf.subarray(bodyAt, at)), crcAt);
        }
      }
      return encoderOf(encoderPrototype, buf, at);
    };
    return { ...request, encode };
  };
}

/** The modules' original exports, kept by `installKafkajsFastPaths` (the tests compare against them). */
export const kafkajsOriginals: {
  groupMessagesPerPartition?: typeof groupMessagesPerPartition;
  record?: RecordFn;
  crc32C?: (b: Uint8Array) => number;
  produceRequest?: ProduceRequestFn;
} = {};

export interface KafkajsFastPaths {
  groupMessagesPerPartition: boolean;
  record: boolean;
  crc32C: boolean;
  produceRequest: boolean;
}

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

let installed: KafkajsFastPaths | undefined;

/**
 * Installs the fast paths into the module cache KafkaJS loads from (Node's, or Jest's registry under
 * Jest). Each composition root calls it before its first Kafka client: KafkaJS captures these modules
 * when it loads, so a replacement made after that is not in force and is reported as false (the
 * originals then run: the same bytes, more CPU). `logger` hears about any that could not be installed.
 * Calling it again returns the first result.
 */
export function installKafkajsFastPaths(logger?: Pick<Logger, 'warn'>): Readonly<KafkajsFastPaths> {
  if (installed) return installed;
  const encoderPrototype = (require('kafkajs/src/protocol/encoder.js') as { prototype: object }).prototype;
  installed = {
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
    // crc32C before produceRequest: loading the original request loads the record batch module.
    crc32C: replaceExports<(b: Uint8Array) => number>(
      'kafkajs/src/protocol/recordBatch/crc32C/index.js',
      ['kafkajs/src/protocol/recordBatch/v0/index.js'],
      (o) => (kafkajsOriginals.crc32C = o),
      () => crc32C,
    ),
    produceRequest: replaceExports<ProduceRequestFn>(
      'kafkajs/src/protocol/requests/produce/v3/request.js',
      ['4', '5', '6', '7'].map((v) => `kafkajs/src/protocol/requests/produce/v${v}/request.js`),
      (o) => (kafkajsOriginals.produceRequest = o),
      (o) => makeProduceRequest(o, encoderPrototype, require('kafkajs/src/utils/long.js') as LongStatic),
    ),
  };
  if (!Object.values(installed).every(Boolean))
    logger?.warn(
      { fast: installed },
      'KafkaJS fast paths not all installed (KafkaJS was loaded before installKafkajsFastPaths): the originals run',
    );
  return installed;
}

/** Which replacements are in force (all false before `installKafkajsFastPaths`). */
export const kafkajsFastPaths = (): Readonly<KafkajsFastPaths> =>
  installed ?? { groupMessagesPerPartition: false, record: false, crc32C: false, produceRequest: false };
