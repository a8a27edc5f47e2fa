/**
 * Decode one frame (`##` + length + segment + CRC [+ CR LF]) into a packet. Never throws: every
 * failure is `{ ok: false, error: { code, message } }`, with the CRC check and the header fields
 * when they could be read (so a gateway can still answer with the right QnRtn).
 */
import { decryptCpContent, type CipherTextEncoding, type SegmentCipher } from './cipher.js';
import { parseCp } from './cp.js';
import { checkCrc, type CrcCheck } from './crc.js';
import { isAccepted, type Irregularity, type PolicyOptions } from './irregularities.js';
import {
  interpretCp,
  versionOfFlag,
  type Packet,
  type PacketHeader,
  type ProtocolVersion,
} from './packet.js';
import type { DecodeError, DecodeErrorCode } from './result.js';
import { isShanghaiTime } from './time.js';

export interface DecodeOptions extends PolicyOptions {
  /** Largest data segment accepted, in bytes (default 9999, the most 4 digits can declare). */
  readonly maxSegmentBytes?: number;
  /** The CP cipher for a device (HJ 212-2025 SM4), or undefined when its CP is plain text. */
  readonly cipherFor?: (header: PacketHeader) => SegmentCipher | undefined;
  readonly cipherEncoding?: CipherTextEncoding;
}

export type DecodeResult =
  | { readonly ok: true; readonly packet: Packet }
  | {
      readonly ok: false;
      readonly error: DecodeError;
      readonly crc?: CrcCheck;
      readonly header?: PacketHeader;
      readonly irregularities?: readonly Irregularity[];
    };

/** System codes (ST) of HJ 212-2017 Table 5, plus 44/45 of HJ 212-2025. */
export const KNOWN_ST: ReadonlySet<string> = new Set([
  '21', '22', '23', '24', '25', '26', '27', '31', '32', '33', '34', '35', '36', '37', '38', '39', '41', '44',
  '45', '51', '52', '91',
]); // prettier-ignore

const STANDARD_MN = /^[0-9A-F]{24}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

interface Fail {
  ok: false;
  error: DecodeError;
  crc?: CrcCheck;
  header?: PacketHeader;
  irregularities?: readonly Irregularity[];
}

function failure(code: DecodeErrorCode, message: string, extra: Omit<Fail, 'ok' | 'error'> = {}): Fail {
  return { ok: false, error: { code, message }, ...extra };
}

export function decodePacket(input: Uint8Array | string, options: DecodeOptions = {}): DecodeResult {
  try {
    return decodeUnsafe(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, options);
  } catch (cause) {
    // Defensive: a bug must not take a gateway down; report it as a malformed frame.
    return failure(
      'frame-malformed',
      `internal decoder error: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/** The segment as text: ASCII (nearly every packet) without the UTF-8 decoder; null if not UTF-8. */
function segmentText(bytes: Uint8Array): string | null {
  if (isAscii(bytes)) return asBuffer(bytes).toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

const isDigitByte = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
const isHexByte = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);

function note(list: Irregularity[], i: Irregularity): void {
  if (!list.includes(i)) list.push(i);
}

/** Index of the first "CP=&&" at the start or after one of `; , space` (where CP begins), or -1. */
function findCp(segment: string): number {
  for (let i = segment.indexOf('CP=&&'); i >= 0; i = segment.indexOf('CP=&&', i + 1)) {
    if (i === 0) return 0;
    const c = segment.charCodeAt(i - 1);
    if (c === 0x3b || c === 0x2c || c === 0x20) return i;
  }
  return -1;
}

/** Index of the next `;` or `,` before `cpAt` at or after `from`, or -1. */
function nextSeparator(segment: string, from: number, cpAt: number): number {
  for (let i = from; i < cpAt; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x3b || c === 0x2c) return i;
  }
  return -1;
}

const isPad = (c: number): boolean => c === 0x20 || c === 0x2c; // space or comma around a field
const orNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);
const SMALL_INT = /^\d{1,4}$/;
const intOrNull = (t: string | null): number | null => (t !== null && SMALL_INT.test(t) ? Number(t) : null);

function decodeUnsafe(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  let end = bytes.length;
  if (end >= 2 && bytes[end - 2] === 0x0d && bytes[end - 1] === 0x0a) end -= 2;
  if (bytes[0] === 0x23 && isDigitByte(bytes[1])) {
    return failure('frame-malformed', 'the frame starts with one "#" and digits: a "#" of "##" is missing');
  }
  if (end < 10 || bytes[0] !== 0x23 || bytes[1] !== 0x23) {
    return failure('frame-malformed', 'a frame is "##", 4 length digits, the segment and 4 CRC digits');
  }
  if (!isDigitByte(bytes[2]) || !isDigitByte(bytes[3]) || !isDigitByte(bytes[4]) || !isDigitByte(bytes[5])) {
    const lengthText = asBuffer(bytes).toString('latin1', 2, 6);
    return failure('frame-malformed', `length "${lengthText}" is not 4 digits`);
  }
  const declaredLength =
    ((bytes[2] as number) - 48) * 1000 +
    ((bytes[3] as number) - 48) * 100 +
    ((bytes[4] as number) - 48) * 10 +
    ((bytes[5] as number) - 48);
  const segmentBytes = bytes.subarray(6, end - 4);
  const maxSegment = options.maxSegmentBytes ?? 9999;
  if (segmentBytes.length > maxSegment) {
    return failure('frame-too-large', `segment of ${segmentBytes.length} bytes exceeds ${maxSegment}`);
  }
  const c0 = bytes[end - 4] as number;
  const c1 = bytes[end - 3] as number;
  const c2 = bytes[end - 2] as number;
  const c3 = bytes[end - 1] as number;
  const crcText = String.fromCharCode(c0, c1, c2, c3); // = the latin1 reading of the 4 bytes
  if (!isHexByte(c0) || !isHexByte(c1) || !isHexByte(c2) || !isHexByte(c3))
    return failure('crc-malformed', `CRC "${crcText}" is not 4 hex digits`);

  const irregularities: Irregularity[] = [];
  if (segmentBytes.length !== declaredLength) note(irregularities, 'length-mismatch');
  const crc = checkCrc(segmentBytes, crcText);
  if (!crc.valid) {
    return failure(
      'crc-mismatch',
      `CRC ${crc.actual} does not match the segment (expected ${crc.expected})`,
      {
        crc,
        header: peekHeader(segmentBytes),
      },
    );
  }
  if (crc.variant === 'modbus-swapped') note(irregularities, 'crc-modbus-swapped');
  if (crc.variant === 'modbus') note(irregularities, 'crc-modbus');
  if (crc.lowercase) note(irregularities, 'crc-lowercase');
  if (segmentBytes.length > 1024) note(irregularities, 'segment-oversize');

  const segment = segmentText(segmentBytes);
  if (segment === null) {
    return failure('invalid-utf8', 'the data segment is not valid UTF-8', {
      crc,
      header: peekHeader(segmentBytes),
    });
  }

  // Split the header fields from CP=&&…&& (CP is last; its text may contain separators).
  const cpAt = findCp(segment);
  if (cpAt < 0)
    return failure('missing-cp', 'no CP=&&…&& in the data segment', {
      crc,
      header: peekHeader(segmentBytes),
    });
  const cpStart = cpAt + 5;
  const cpEnd = segment.lastIndexOf('&&');
  if (cpEnd < cpStart) return failure('cp-malformed', 'CP is not closed with &&', { crc });
  if (cpEnd + 2 < segment.length) {
    for (let i = cpEnd + 2; i < segment.length; i++) {
      const c = segment.charCodeAt(i);
      if (c !== 0x3b && !isPad(c))
        return failure('segment-malformed', 'text after the closing && of CP', { crc });
    }
    note(irregularities, 'stray-separator');
  }
  // Header fields: `;`-separated `key=value` before CP ("…;Flag=5;" normally); spaces and commas
  // around a field, empty fields and a missing final `;` before CP are tolerated (stray-separator);
  // a `,` between two fields (`QN=…,ST=32;`) separates them too (comma-separator): no header value
  // holds a comma.
  let qn: string | undefined;
  let st: string | undefined;
  let cn: string | undefined;
  let pw: string | undefined;
  let mn: string | undefined;
  let flagField: string | undefined;
  let pnumField: string | undefined;
  let pnoField: string | undefined;
  for (let from = 0; ;) {
    let to = nextSeparator(segment, from, cpAt);
    const last = to < 0;
    if (last) to = cpAt;
    if (!(last && from === to)) {
      let s = from;
      let e = to;
      while (s < e && isPad(segment.charCodeAt(s))) s++;
      while (e > s && isPad(segment.charCodeAt(e - 1))) e--;
      if (s !== from || e !== to) note(irregularities, 'stray-separator');
      if (s < e) {
        if (!last && segment.charCodeAt(to) === 0x2c && e === to) note(irregularities, 'comma-separator');
        const eq = segment.indexOf('=', s);
        if (eq <= s || eq >= e) {
          return failure(
            'segment-malformed',
            `header field "${segment.slice(s, Math.min(e, s + 40))}" has no "="`,
            { crc },
          );
        }
        const key = segment.slice(s, eq);
        const value = segment.slice(eq + 1, e);
        switch (key) {
          case 'QN': qn = value; break;
          case 'ST': st = value; break;
          case 'CN': cn = value; break;
          case 'PW': pw = value; break;
          case 'MN': mn = value; break;
          case 'Flag': flagField = value; break;
          case 'PNUM': pnumField = value; break;
          case 'PNO': pnoField = value; break;
          default: note(irregularities, 'unknown-field');
        } // prettier-ignore
      }
    }
    if (last) break;
    from = to + 1;
  }

  const flagText = orNull(flagField);
  const flag = flagText !== null && /^\d{1,3}$/.test(flagText) ? Number(flagText) : null;
  const header: PacketHeader = {
    qn: orNull(qn),
    st: orNull(st),
    cn: orNull(cn),
    pw: orNull(pw),
    mn: orNull(mn),
    flag,
    pnum: intOrNull(orNull(pnumField)),
    pno: intOrNull(orNull(pnoField)),
  };
  const bad = (code: DecodeErrorCode, message: string): DecodeResult =>
    failure(code, message, { crc, header, irregularities });

  if (header.cn === null) return bad('missing-cn', 'CN is missing');
  if (!/^\d{4}$/.test(header.cn)) return bad('missing-cn', `CN "${header.cn}" is not 4 digits`);
  if (header.st === null) return bad('missing-st', 'ST is missing');
  if (!/^\d{2,3}$/.test(header.st)) return bad('missing-st', `ST "${header.st}" is not a number`);
  if (!KNOWN_ST.has(header.st)) note(irregularities, 'st-unknown');
  if (header.mn === null) return bad('missing-mn', 'MN is missing');
  if (!STANDARD_MN.test(header.mn)) note(irregularities, 'mn-nonstandard');
  if (header.pw === null) return bad('missing-pw', 'PW is missing');
  if (header.qn === null) note(irregularities, 'missing-qn');
  else if (header.qn.length !== 17 || !isShanghaiTime(header.qn)) note(irregularities, 'qn-malformed');

  let version: ProtocolVersion | null = null;
  if (flagText === null) note(irregularities, 'missing-flag');
  else if (flag === null || flag > 255)
    return bad('invalid-flag', `Flag "${flagText}" is not a number 0..255`);
  else {
    version = versionOfFlag(flag);
    if (version === null) note(irregularities, 'flag-version-unknown');
  }
  const ackRequested = flag !== null && (flag & 1) !== 0;
  const hasPnum = pnumField !== undefined || pnoField !== undefined;
  let split = flag !== null && (flag & 2) !== 0;
  if (split && !hasPnum) {
    // HJ/T 212-2005's own examples write Flag=3 without PNUM/PNO, and loggers copied them.
    note(irregularities, 'split-without-pnum');
    split = false;
  }
  if (split || hasPnum) {
    const { pnum, pno } = header;
    if (pnum === null || pno === null || pnum < 1 || pno < 1 || pno > pnum) {
      return bad('invalid-split', 'split packet needs PNUM ≥ PNO ≥ 1');
    }
  }

  let cpText = segment.slice(cpStart, cpEnd);
  const cipher = options.cipherFor?.(header);
  if (cipher) {
    const plain = decryptCpContent(cpText, cipher, options.cipherEncoding ?? 'hex');
    if (!plain.ok) return bad(plain.error.code, plain.error.message);
    cpText = plain.value;
  }
  const cp = parseCp(cpText);
  if (!cp.ok) return bad(cp.error.code, cp.error.message);
  if (cp.value.stray) note(irregularities, 'stray-separator');
  const content = interpretCp(cp.value.items);
  if (!content.ok) return bad(content.error.code, content.error.message);
  if (content.value.has2005Codes) note(irregularities, 'factor-code-2005');

  const rejected = irregularities.find((i) => !isAccepted(i, options));
  if (rejected !== undefined) {
    return bad(rejected, `rejected by the strict policy: ${rejected}`);
  }
  const c = content.value;
  // Every field listed (no object spread): one object shape for every packet.
  return {
    ok: true,
    packet: {
      qn: header.qn,
      st: header.st,
      cn: header.cn,
      pw: header.pw,
      mn: header.mn,
      flag: header.flag,
      pnum: header.pnum,
      pno: header.pno,
      version,
      ackRequested,
      split,
      dataTime: c.dataTime,
      dataTimeUtc: c.dataTimeUtc,
      values: c.values,
      flags: c.flags,
      eflags: c.eflags,
      texts: c.texts,
      params: c.params,
      cp: cp.value.items,
      segment,
      segmentBytes: segmentBytes.length,
      declaredLength,
      crc,
      irregularities,
    },
  };
}

const PEEK_VALUE = /[^;,&\s]+/y;

/** The segment's text before the first "CP=&&" (UTF-8, bad sequences replaced). */
function headText(segment: Uint8Array): string {
  const buf = asBuffer(segment);
  const at = buf.indexOf('CP=&&');
  const head = at < 0 ? buf : buf.subarray(0, at);
  return isAscii(head) ? head.toString('latin1') : utf8Lenient.decode(head);
}

/**
 * Best-effort header of a segment that failed before it could be parsed (for the QnRtn reply), and
 * the gateway's early look at MN. For each key, the first `key=value` that starts the text or
 * follows `; , space`; the value runs to the next `; , & whitespace`. One pass, no per-call regex.
 */
export function peekHeader(segment: Uint8Array): PacketHeader {
  const head = headText(segment);
  let qn: string | null = null;
  let st: string | null = null;
  let cn: string | null = null;
  let pw: string | null = null;
  let mn: string | null = null;
  let flagText: string | null = null;
  let pnumText: string | null = null;
  let pnoText: string | null = null;
  const n = head.length;
  for (let from = 0; from < n;) {
    let to = from;
    while (to < n) {
      const c = head.charCodeAt(to);
      if (c === 0x3b || c === 0x2c || c === 0x20) break;
      to++;
    }
    const eq = head.indexOf('=', from);
    if (eq > from && eq < to) {
      PEEK_VALUE.lastIndex = eq + 1;
      const value = PEEK_VALUE.exec(head)?.[0] ?? null;
      if (value !== null) {
        switch (head.slice(from, eq)) {
          case 'QN': qn ??= value; break;
          case 'ST': st ??= value; break;
          case 'CN': cn ??= value; break;
          case 'PW': pw ??= value; break;
          case 'MN': mn ??= value; break;
          case 'Flag': flagText ??= value; break;
          case 'PNUM': pnumText ??= value; break;
          case 'PNO': pnoText ??= value; break;
        } // prettier-ignore
      }
    }
    from = to + 1;
  }
  const flag = intOrNull(flagText);
  return {
    qn,
    st,
    cn,
    pw,
    mn,
    flag: flag !== null && flag <= 255 ? flag : null,
    pnum: intOrNull(pnumText),
    pno: intOrNull(pnoText),
  };
}
