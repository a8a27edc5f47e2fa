/** CRC of the HJ 212 data segment (Appendix A) and the CRC-16/MODBUS variant seen in the field. */

/**
 * Eight shift-and-xor rounds with 0xA001 applied to every byte value. Both CRCs below are the
 * bitwise loops of their definitions with those 8 rounds looked up instead of computed.
 */
const ROUNDS: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * HJ 212 Appendix A: register 0xFFFF; per byte `crc = (crc >> 8) ^ byte`, then 8 shifts with 0xA001.
 * `(crc >> 8) ^ byte` fits in 8 bits (the register's low byte is dropped, as the standard's code
 * does), so each byte is one lookup.
 */
export function hj212Crc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (let i = 0; i < bytes.length; i++) crc = ROUNDS[(crc >>> 8) ^ (bytes[i] as number)] as number;
  return crc;
}

/** CRC-16/MODBUS: register 0xFFFF; per byte `crc ^= byte`, then 8 shifts with 0xA001 (table form). */
export function modbusCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (let i = 0; i < bytes.length; i++)
    crc = (crc >>> 8) ^ (ROUNDS[(crc ^ (bytes[i] as number)) & 0xff] as number);
  return crc;
}

const HEX = '0123456789ABCDEF';

export function formatCrc(crc: number): string {
  return (
    (HEX[(crc >>> 12) & 15] as string) +
    (HEX[(crc >>> 8) & 15] as string) +
    (HEX[(crc >>> 4) & 15] as string) +
    (HEX[crc & 15] as string)
  );
}

/** CRC-16/MODBUS printed low byte first, as some field devices do. */
export function formatModbusSwapped(crc: number): string {
  return formatCrc(((crc & 0xff) << 8) | (crc >> 8));
}

export type CrcVariant = 'hj212' | 'modbus-swapped' | 'modbus';

export interface CrcCheck {
  readonly valid: boolean;
  /** The HJ 212 CRC of the segment (what a conforming sender prints). */
  readonly expected: string;
  /** The 4 characters received. */
  readonly actual: string;
  readonly variant: CrcVariant | null;
  readonly lowercase: boolean;
}

/**
 * Compare the received CRC text with the segment; recognises CRC-16/MODBUS printed low byte first
 * (modbus-swapped) and high byte first (modbus), both seen in deployed firmware.
 */
export function checkCrc(segment: Uint8Array, actual: string): CrcCheck {
  const expected = formatCrc(hj212Crc(segment));
  const upper = actual.toUpperCase();
  const lowercase = upper !== actual;
  if (upper === expected) return { valid: true, expected, actual, variant: 'hj212', lowercase };
  const modbus = modbusCrc(segment);
  if (upper === formatModbusSwapped(modbus)) {
    return { valid: true, expected, actual, variant: 'modbus-swapped', lowercase };
  }
  if (upper === formatCrc(modbus)) return { valid: true, expected, actual, variant: 'modbus', lowercase };
  return { valid: false, expected, actual, variant: null, lowercase };
}
