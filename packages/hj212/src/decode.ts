/**
 * Decode one frame (`##` + length + segment + CRC [+ CR LF]) into a packet. Never throws: every
 * failure is `{ ok: false, error: { code, message } }`, with the CRC check and the header fields
 * when they could be read (so a gateway can still answer with the right QnRtn).
 */
import { decryptCpContent, type CipherTextEncoding, type SegmentCipher } from './cipher.js';
import { parseCp } from './cp.js';
import { checkCrc, type CrcCheck } from './crc.js';
import { isAccepted, type Irregularity, type PolicyOptions } from './irregularities.js';
import { interpretCp, VERSION_BITS, type Packet, type PacketHeader, type ProtocolVersion } from './packet.js';
import type { DecodeError, DecodeErrorCode } from './result.js';
import { parseShanghaiTime } from './time.js';

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

const HEADER_KEYS = new Set(['QN', 'ST', 'CN', 'PW', 'MN', 'Flag', 'PNUM', 'PNO']);
const STANDARD_MN = /^[0-9A-F]{24}$/;
const QN = /^\d{17}$/;
const CRLF = [0x0d, 0x0a];
const utf8 = new TextDecoder('utf-8', { fatal: true });

const VERSION_BY_BITS: Record<number, ProtocolVersion> = Object.fromEntries(
  Object.entries(VERSION_BITS).map(([v, b]) => [b, v as ProtocolVersion]),
);

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

function decodeUnsafe(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  let end = bytes.length;
  if (end >= 2 && bytes[end - 2] === CRLF[0] && bytes[end - 1] === CRLF[1]) end -= 2;
  if (end < 10 || bytes[0] !== 0x23 || bytes[1] !== 0x23) {
    return failure('frame-malformed', 'a frame is "##", 4 length digits, the segment and 4 CRC digits');
  }
  const lengthText = Buffer.from(bytes.subarray(2, 6)).toString('latin1');
  if (!/^\d{4}$/.test(lengthText))
    return failure('frame-malformed', `length "${lengthText}" is not 4 digits`);
  const declaredLength = Number(lengthText);
  const segmentBytes = bytes.subarray(6, end - 4);
  const maxSegment = options.maxSegmentBytes ?? 9999;
  if (segmentBytes.length > maxSegment) {
    return failure('frame-too-large', `segment of ${segmentBytes.length} bytes exceeds ${maxSegment}`);
  }
  const crcText = Buffer.from(bytes.subarray(end - 4, end)).toString('latin1');
  if (!/^[0-9A-Fa-f]{4}$/.test(crcText))
    return failure('crc-malformed', `CRC "${crcText}" is not 4 hex digits`);

  const irregularities: Irregularity[] = [];
  const note = (i: Irregularity): void => {
    if (!irregularities.includes(i)) irregularities.push(i);
  };
  if (segmentBytes.length !== declaredLength) note('length-mismatch');
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
  if (crc.variant === 'modbus-swapped') note('crc-modbus-swapped');
  if (crc.lowercase) note('crc-lowercase');
  if (segmentBytes.length > 1024) note('segment-oversize');

  let segment: string;
  try {
    segment = utf8.decode(segmentBytes);
  } catch {
    return failure('invalid-utf8', 'the data segment is not valid UTF-8', {
      crc,
      header: peekHeader(segmentBytes),
    });
  }

  // Split the header fields from CP=&&…&& (CP is last; its text may contain separators).
  const cpAt = /(?:^|[;, ])CP=&&/.exec(segment);
  if (!cpAt)
    return failure('missing-cp', 'no CP=&&…&& in the data segment', {
      crc,
      header: peekHeader(segmentBytes),
    });
  const cpStart = cpAt.index + cpAt[0].length;
  const cpEnd = segment.lastIndexOf('&&');
  if (cpEnd < cpStart) return failure('cp-malformed', 'CP is not closed with &&', { crc });
  const trailer = segment.slice(cpEnd + 2);
  if (trailer !== '') {
    if (/^[;, ]+$/.test(trailer)) note('stray-separator');
    else return failure('segment-malformed', 'text after the closing && of CP', { crc });
  }
  // The header keeps the separator found before CP ("…;Flag=5;" normally).
  const headerText = segment.slice(0, cpAt.index + (cpAt[0].startsWith('CP') ? 0 : 1));
  const fields = new Map<string, string>();
  const parts = headerText.split(';');
  if (parts[parts.length - 1] === '') parts.pop();
  for (const raw of parts) {
    const part = raw.replace(/^[ ,]+|[ ,]+$/g, '');
    if (part !== raw) note('stray-separator');
    if (part === '') {
      note('stray-separator');
      continue;
    }
    const eq = part.indexOf('=');
    if (eq <= 0)
      return failure('segment-malformed', `header field "${part.slice(0, 40)}" has no "="`, { crc });
    const key = part.slice(0, eq);
    if (!HEADER_KEYS.has(key)) note('unknown-field');
    fields.set(key, part.slice(eq + 1));
  }

  const get = (k: string): string | null => {
    const v = fields.get(k);
    return v === undefined || v === '' ? null : v;
  };
  const flagText = get('Flag');
  const flag = flagText !== null && /^\d{1,3}$/.test(flagText) ? Number(flagText) : null;
  const intOrNull = (t: string | null): number | null =>
    t !== null && /^\d{1,4}$/.test(t) ? Number(t) : null;
  const header: PacketHeader = {
    qn: get('QN'),
    st: get('ST'),
    cn: get('CN'),
    pw: get('PW'),
    mn: get('MN'),
    flag,
    pnum: intOrNull(get('PNUM')),
    pno: intOrNull(get('PNO')),
  };
  const bad = (code: DecodeErrorCode, message: string): DecodeResult =>
    failure(code, message, { crc, header, irregularities });

  if (header.cn === null) return bad('missing-cn', 'CN is missing');
  if (!/^\d{4}$/.test(header.cn)) return bad('missing-cn', `CN "${header.cn}" is not 4 digits`);
  if (header.st === null) return bad('missing-st', 'ST is missing');
  if (!/^\d{2,3}$/.test(header.st)) return bad('missing-st', `ST "${header.st}" is not a number`);
  if (!KNOWN_ST.has(header.st)) note('st-unknown');
  if (header.mn === null) return bad('missing-mn', 'MN is missing');
  if (!STANDARD_MN.test(header.mn)) note('mn-nonstandard');
  if (header.pw === null) return bad('missing-pw', 'PW is missing');
  if (header.qn === null) note('missing-qn');
  else if (!QN.test(header.qn) || parseShanghaiTime(header.qn) === null) note('qn-malformed');

  let version: ProtocolVersion | null = null;
  if (flagText === null) note('missing-flag');
  else if (flag === null || flag > 255)
    return bad('invalid-flag', `Flag "${flagText}" is not a number 0..255`);
  else {
    version = VERSION_BY_BITS[flag >> 2] ?? null;
    if (version === null) note('flag-version-unknown');
  }
  const split = flag !== null && (flag & 2) !== 0;
  const ackRequested = flag !== null && (flag & 1) !== 0;
  const hasPnum = fields.has('PNUM') || fields.has('PNO');
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
  if (cp.value.stray) note('stray-separator');
  const content = interpretCp(cp.value.items);
  if (!content.ok) return bad(content.error.code, content.error.message);
  if (content.value.has2005Codes) note('factor-code-2005');

  const rejected = irregularities.find((i) => !isAccepted(i, options));
  if (rejected !== undefined) {
    return bad(rejected, `rejected by the strict policy: ${rejected}`);
  }
  const { has2005Codes: _has2005Codes, ...cpContent } = content.value;
  return {
    ok: true,
    packet: {
      ...header,
      cn: header.cn,
      st: header.st,
      pw: header.pw,
      mn: header.mn,
      version,
      ackRequested,
      split,
      ...cpContent,
      cp: cp.value.items,
      segment,
      segmentBytes: segmentBytes.length,
      declaredLength,
      crc,
      irregularities,
    },
  };
}

/** Best-effort header of a segment that failed before it could be parsed (for the QnRtn reply). */
export function peekHeader(segment: Uint8Array): PacketHeader {
  const text = new TextDecoder('utf-8').decode(segment);
  const head = text.split('CP=&&')[0] ?? '';
  const field = (key: string): string | null => {
    const m = new RegExp(`(?:^|[;, ])${key}=([^;,&\\s]+)`).exec(head);
    return m?.[1] ?? null;
  };
  const num = (key: string): number | null => {
    const v = field(key);
    return v !== null && /^\d{1,4}$/.test(v) ? Number(v) : null;
  };
  const flag = num('Flag');
  return {
    qn: field('QN'),
    st: field('ST'),
    cn: field('CN'),
    pw: field('PW'),
    mn: field('MN'),
    flag: flag !== null && flag <= 255 ? flag : null,
    pnum: num('PNUM'),
    pno: num('PNO'),
  };
}
