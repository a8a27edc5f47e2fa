/** CRC of the HJ 212 data segment (Appendix A) and the CRC-16/MODBUS variant seen in the field. */

/** HJ 212 Appendix A: register 0xFFFF; per byte `crc = (crc >> 8) ^ byte`, then 8 shifts with 0xA001. */
export function hj212Crc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc = (crc >> 8) ^ byte;
    for (let i = 0; i < 8; i++) {
      const lsb = crc & 1;
      crc >>= 1;
      if (lsb) crc ^= 0xa001;
    }
  }
  return crc;
}

/** CRC-16/MODBUS: register 0xFFFF; per byte `crc ^= byte`, then 8 shifts with 0xA001. */
export function modbusCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) {
      const lsb = crc & 1;
      crc >>= 1;
      if (lsb) crc ^= 0xa001;
    }
  }
  return crc;
}

export function formatCrc(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** CRC-16/MODBUS printed low byte first, as some field devices do. */
export function formatModbusSwapped(crc: number): string {
  return formatCrc(((crc & 0xff) << 8) | (crc >> 8));
}

export type CrcVariant = 'hj212' | 'modbus-swapped';

export interface CrcCheck {
  readonly valid: boolean;
  /** The HJ 212 CRC of the segment (what a conforming sender prints). */
  readonly expected: string;
  /** The 4 characters received. */
  readonly actual: string;
  readonly variant: CrcVariant | null;
  readonly lowercase: boolean;
}

/** Compare the received CRC text with the segment; recognises the modbus-swapped variant. */
export function checkCrc(segment: Uint8Array, actual: string): CrcCheck {
  const expected = formatCrc(hj212Crc(segment));
  const upper = actual.toUpperCase();
  const lowercase = upper !== actual;
  if (upper === expected) return { valid: true, expected, actual, variant: 'hj212', lowercase };
  if (upper === formatModbusSwapped(modbusCrc(segment))) {
    return { valid: true, expected, actual, variant: 'modbus-swapped', lowercase };
  }
  return { valid: false, expected, actual, variant: null, lowercase };
}
