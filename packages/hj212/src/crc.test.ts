import { checkCrc, formatCrc, formatModbusSwapped, hj212Crc, modbusCrc } from './crc.js';

const example =
  'QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&';

/** The bitwise loops exactly as HJ 212 Appendix A and CRC-16/MODBUS define them (the reference). */
function bitwise(bytes: Uint8Array, modbus: boolean): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc = modbus ? crc ^ byte : (crc >> 8) ^ byte;
    for (let i = 0; i < 8; i++) {
      const lsb = crc & 1;
      crc >>= 1;
      if (lsb) crc ^= 0xa001;
    }
  }
  return crc;
}

describe('CRC', () => {
  it('table-driven CRCs equal the bitwise definitions on random input', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    for (let n = 0; n < 500; n++) {
      const bytes = Uint8Array.from({ length: rand() % 1200 }, () => rand() & 0xff);
      expect(hj212Crc(bytes)).toBe(bitwise(bytes, false));
      expect(modbusCrc(bytes)).toBe(bitwise(bytes, true));
    }
    for (const crc of [0, 0x000f, 0x1c80, 0xabcd, 0xffff])
      expect(formatCrc(crc)).toBe(crc.toString(16).toUpperCase().padStart(4, '0'));
  });

  it('gives 1C80 for the Appendix A example and 0759 for CRC-16/MODBUS', () => {
    const bytes = Buffer.from(example);
    expect(formatCrc(hj212Crc(bytes))).toBe('1C80');
    expect(formatCrc(modbusCrc(bytes))).toBe('0759');
    expect(formatModbusSwapped(modbusCrc(bytes))).toBe('5907');
  });

  it('matches the CRC-16/MODBUS check value', () => {
    expect(modbusCrc(Buffer.from('123456789'))).toBe(0x4b37);
  });

  it('classifies the variants', () => {
    const bytes = Buffer.from(example);
    expect(checkCrc(bytes, '1C80')).toMatchObject({ valid: true, variant: 'hj212', lowercase: false });
    expect(checkCrc(bytes, '1c80')).toMatchObject({ valid: true, variant: 'hj212', lowercase: true });
    expect(checkCrc(bytes, '5907')).toMatchObject({ valid: true, variant: 'modbus-swapped' });
    expect(checkCrc(bytes, '0759')).toMatchObject({ valid: true, variant: 'modbus' });
    expect(checkCrc(bytes, '0000')).toMatchObject({
      valid: false,
      variant: null,
      expected: '1C80',
      actual: '0000',
    });
  });
});
