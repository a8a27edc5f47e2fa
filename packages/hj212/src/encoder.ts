/** Build frames: used for replies, centre requests, the simulator and the round-trip tests. */
import { encryptCpContent, type CipherTextEncoding, type SegmentCipher } from './cipher.js';
import { formatCp, type CpField, type CpItem } from './cp.js';
import { formatCrc, formatModbusSwapped, hj212Crc, modbusCrc, type CrcVariant } from './crc.js';
import { Hj212Error } from './result.js';
import { formatDataTime } from './time.js';

export interface PacketInput {
  /** Omitted fields are left out of the segment (as 2005-style devices do). */
  readonly qn?: string | null;
  readonly st: string;
  readonly cn: string;
  readonly pw?: string | null;
  readonly mn?: string | null;
  readonly flag?: number | null;
  readonly pnum?: number | null;
  readonly pno?: number | null;
  /** CP items, or the CP content as text (between `CP=&&` and `&&`). Default empty. */
  readonly cp?: readonly CpItem[] | string;
}

export interface EncodeOptions {
  /** Encrypt the CP content (HJ 212-2025); the CRC covers the transmitted (encrypted) segment. */
  readonly cipher?: SegmentCipher;
  readonly cipherEncoding?: CipherTextEncoding;
  /** Emulate field devices: print CRC-16/MODBUS (low byte first, or high byte first), or in lower case. */
  readonly crcVariant?: CrcVariant;
  readonly lowercaseCrc?: boolean;
}

// eslint-disable-next-line no-control-regex -- control bytes are what it refuses
const HEADER_VALUE = /^[^;,=&\s\x00-\x1f\x7f]+$/;

/** Whether a header field can carry this value: not empty, no `; , = &`, whitespace or control bytes. */
export function isHeaderValue(text: string): boolean {
  return HEADER_VALUE.test(text);
}

function headerField(key: string, value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (!HEADER_VALUE.test(text)) {
    throw new Hj212Error('encode-invalid', `invalid ${key} "${text}"`);
  }
  return `${key}=${text};`;
}

export function encodeSegment(input: PacketInput, options: EncodeOptions = {}): string {
  if (
    input.flag !== undefined &&
    input.flag !== null &&
    !(Number.isInteger(input.flag) && input.flag >= 0 && input.flag <= 255)
  ) {
    throw new Hj212Error('encode-invalid', `Flag ${input.flag} is not 0..255`);
  }
  let cp = typeof input.cp === 'string' ? input.cp : formatCp(input.cp ?? []);
  if (options.cipher) cp = encryptCpContent(cp, options.cipher, options.cipherEncoding ?? 'hex');
  return (
    headerField('QN', input.qn) +
    headerField('ST', input.st) +
    headerField('CN', input.cn) +
    headerField('PW', input.pw) +
    headerField('MN', input.mn) +
    headerField('Flag', input.flag) +
    headerField('PNUM', input.pnum) +
    headerField('PNO', input.pno) +
    `CP=&&${cp}&&`
  );
}

/** Wrap a data segment into a frame: `##` + byte length + segment + CRC + CR LF. */
export function frameSegment(segment: string, options: EncodeOptions = {}): Buffer {
  const body = Buffer.from(segment, 'utf8');
  if (body.length > 9999)
    throw new Hj212Error('encode-invalid', `segment of ${body.length} bytes exceeds 9999`);
  let crc =
    options.crcVariant === 'modbus-swapped'
      ? formatModbusSwapped(modbusCrc(body))
      : options.crcVariant === 'modbus'
        ? formatCrc(modbusCrc(body))
        : formatCrc(hj212Crc(body));
  if (options.lowercaseCrc) crc = crc.toLowerCase();
  return Buffer.concat([
    Buffer.from(`##${String(body.length).padStart(4, '0')}`, 'latin1'),
    body,
    Buffer.from(`${crc}\r\n`, 'latin1'),
  ]);
}

/** The complete frame, ending with CR LF. */
export function encodePacket(input: PacketInput, options: EncodeOptions = {}): Buffer {
  return frameSegment(encodeSegment(input, options), options);
}

/** The frame as text without the trailing CR LF (one line of a capture file). */
export function encodePacketLine(input: PacketInput, options: EncodeOptions = {}): string {
  return encodePacket(input, options).subarray(0, -2).toString('utf8');
}

/** Numbers as plain decimals (never exponent notation). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Hj212Error('encode-invalid', `value ${value} is not finite`);
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 100 });
}

export interface DataReading {
  readonly code: string;
  readonly stat: string;
  /** A number, or text already formatted with the device's precision (e.g. `"0.000"`). */
  readonly value: number | string;
}

/**
 * CP items of a data upload: `DataTime` first, then one item per factor with its statistics and
 * its `Flag` (as devices send them: `a21026-Rtd=1.2,a21026-Flag=N`).
 */
export function dataCp(
  dataTime: Date | string,
  readings: readonly DataReading[],
  flags: Readonly<Record<string, string>> = {},
): CpItem[] {
  const items: CpField[][] = [
    [{ key: 'DataTime', value: typeof dataTime === 'string' ? dataTime : formatDataTime(dataTime) }],
  ];
  const byCode = new Map<string, CpField[]>();
  for (const r of readings) {
    const item = byCode.get(r.code) ?? [];
    item.push({
      key: `${r.code}-${r.stat}`,
      value: typeof r.value === 'number' ? formatNumber(r.value) : r.value,
    });
    byCode.set(r.code, item);
  }
  for (const [code, flag] of Object.entries(flags)) {
    const item = byCode.get(code) ?? [];
    item.push({ key: `${code}-Flag`, value: flag });
    byCode.set(code, item);
  }
  items.push(...byCode.values());
  return items;
}

/** CP items from key/value pairs, one item each: `{ RtdInterval: 30 }` → `RtdInterval=30`. */
export function paramsCp(params: Readonly<Record<string, string | number>>): CpItem[] {
  return Object.entries(params).map(([key, value]) => [
    { key, value: typeof value === 'number' ? formatNumber(value) : value },
  ]);
}
