// Splits a produce into requests bounded by bytes and count, so no request (and no partition's record batch) exceeds
// the broker's maximum message size (message.max.bytes, 1 MiB by default). The demo crashed the consumer with one
// deviation.v1 produce above it.
import type { OutgoingMessage } from '@offsite/kafka';

export interface ChunkLimits {
  /** Most bytes (keys + values + headers) in one request. A single larger message still goes alone. */
  maxBytes: number;
  /** Most messages in one request. */
  maxRecords: number;
}

/** Approximate wire size of one message (payloads plus a small per-record overhead). */
export function messageBytes(m: OutgoingMessage): number {
  let n = 64;
  if (m.key !== null) n += typeof m.key === 'string' ? Buffer.byteLength(m.key) : m.key.length;
  n += typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length;
  for (const [k, v] of Object.entries(m.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}

/** Consecutive chunks in the original order (per-key order is kept since the requests go one after another). */
export function chunkMessages(
  messages: readonly OutgoingMessage[],
  limits: ChunkLimits,
): OutgoingMessage[][] {
  const out: OutgoingMessage[][] = [];
  let cur: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = messageBytes(m);
    if (cur.length > 0 && (cur.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
