import { checkCrc, formatCrc, formatModbusSwapped, hj212Crc, modbusCrc } from './crc.js';

const example =
  'QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&';

describe('CRC', () => {
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
    expect(checkCrc(bytes, '0759')).toMatchObject({
      valid: false,
      variant: null,
      expected: '1C80',
      actual: '0759',
    });
  });
});
