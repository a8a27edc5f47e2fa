/**
 * Streaming frame splitter: feed it TCP chunks, get complete frames (`##`, 4 length digits, segment,
 * 4 CRC characters, CR LF) however the bytes were split or merged across reads. Bytes that cannot
 * start a frame are reported as a typed `garbage` error and skipped (resynchronisation on the next
 * `##dddd`). Pure and synchronous: the caller owns the socket.
 */
import { isAccepted, type PolicyOptions } from './irregularities.js';
import type { DecodeError, DecodeErrorCode } from './result.js';

export type SplitterEvent =
  | { readonly kind: 'frame'; readonly frame: Buffer }
  | { readonly kind: 'error'; readonly error: DecodeError; readonly bytes: Buffer };

export interface FrameSplitterOptions extends PolicyOptions {
  /** Largest data segment accepted, in bytes (default 9999). Larger frames are skipped with an error. */
  readonly maxSegmentBytes?: number;
}

const HASH = 0x23;
const CR = 0x0d;
const LF = 0x0a;

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && (isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

/** Index of the next `##dddd` at or after `from`, or -1. */
function findStart(buf: Buffer, from: number): number {
  for (let i = buf.indexOf('##', from); i >= 0; i = buf.indexOf('##', i + 1)) {
    if (i + 6 > buf.length) return i; // may become a start when more bytes arrive
    if (isDigit(buf[i + 2]) && isDigit(buf[i + 3]) && isDigit(buf[i + 4]) && isDigit(buf[i + 5])) return i;
  }
  return -1;
}

/**
 * Index of the first CR LF at or after `from` and before `limit` preceded by 4 hex characters (a
 * frame end), or -1. The limit keeps a run of short garbage starts (`##0001##0001…`) linear: each
 * one only needs to know whether a frame end comes before the next start.
 */
function findEnd(buf: Buffer, from: number, limit = buf.length): number {
  const view = limit < buf.length ? buf.subarray(0, limit + 1) : buf;
  for (let i = view.indexOf('\r\n', from); i >= 0; i = view.indexOf('\r\n', i + 1)) {
    if (isHex(view[i - 1]) && isHex(view[i - 2]) && isHex(view[i - 3]) && isHex(view[i - 4])) return i;
  }
  return -1;
}

export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private readonly maxSegment: number;
  private readonly lengthTolerated: boolean;

  constructor(options: FrameSplitterOptions = {}) {
    this.maxSegment = Math.min(options.maxSegmentBytes ?? 9999, 9999);
    this.lengthTolerated = isAccepted('length-mismatch', options);
  }

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  /**
   * Frames returned share memory with `chunk` (no copy for the common read of whole frames): the
   * caller must not modify a chunk after pushing it (socket reads never are). What is kept for the
   * next call is copied.
   */
  push(chunk: Uint8Array): SplitterEvent[] {
    this.buf =
      this.buf.length > 0
        ? Buffer.concat([this.buf, chunk])
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: SplitterEvent[] = [];
    const error = (code: DecodeErrorCode, message: string, upTo: number): void => {
      out.push({ kind: 'error', error: { code, message }, bytes: Buffer.from(this.buf.subarray(0, upTo)) });
      this.buf = this.buf.subarray(upTo);
    };
    for (;;) {
      const start = findStart(this.buf, 0);
      if (start < 0) {
        // Keep a trailing "#": it may be the first half of "##".
        const keep = this.buf[this.buf.length - 1] === HASH ? 1 : 0;
        if (this.buf.length - keep > 0) {
          error(
            'garbage',
            `skipped ${this.buf.length - keep} bytes outside any frame`,
            this.buf.length - keep,
          );
        }
        break;
      }
      if (start > 0) error('garbage', `skipped ${start} bytes before a frame`, start);
      const buf = this.buf;
      if (buf.length < 6) break;
      const declared = Number(buf.subarray(2, 6).toString('latin1'));
      if (declared > this.maxSegment) {
        error('frame-too-large', `declared segment length ${declared} exceeds ${this.maxSegment}`, 2);
        continue;
      }
      const crAt = 6 + declared + 4;
      if (buf.length >= crAt + 2 && buf[crAt] === CR && buf[crAt + 1] === LF) {
        out.push({ kind: 'frame', frame: buf.subarray(0, crAt + 2) });
        this.buf = buf.subarray(crAt + 2);
        continue;
      }
      const next = findStart(buf, 2);
      const nextComplete = next >= 0 && next + 6 <= buf.length;
      const end = findEnd(buf, 6, nextComplete ? next : buf.length);
      if (nextComplete && (end < 0 || next < end)) {
        error('frame-truncated', 'a frame was cut short by the start of the next one', next);
        continue;
      }
      if (end >= 0) {
        // A frame ends here, but not where its declared length says.
        if (this.lengthTolerated) {
          out.push({ kind: 'frame', frame: buf.subarray(0, end + 2) });
          this.buf = buf.subarray(end + 2);
        } else {
          error('length-mismatch', `declared length ${declared} does not match the frame`, end + 2);
        }
        continue;
      }
      if (buf.length >= 6 + this.maxSegment + 6) {
        error('frame-too-large', `no frame end within ${this.maxSegment} bytes`, 2);
        continue;
      }
      break;
    }
    // Keep a copy of the rest: never the caller's chunk, nor the consumed bytes before it.
    if (this.buf.length > 0) this.buf = Buffer.from(this.buf);
    return out;
  }

  /** The connection closed: report whatever is left as a truncated frame. */
  end(): SplitterEvent[] {
    if (this.buf.length === 0) return [];
    const bytes = this.buf;
    this.buf = Buffer.alloc(0);
    return [
      {
        kind: 'error',
        error: { code: 'frame-truncated', message: `${bytes.length} bytes left at end of stream` },
        bytes,
      },
    ];
  }
}
