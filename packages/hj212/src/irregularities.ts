/**
 * Irregularities seen on field devices. The tolerant policy accepts a packet carrying them and
 * records each code on the result; the strict policy rejects the packet with the code as the error.
 */
export const IRREGULARITIES = [
  'crc-modbus-swapped',
  'crc-modbus',
  'crc-lowercase',
  'segment-oversize',
  'length-mismatch',
  'missing-qn',
  'missing-flag',
  'qn-malformed',
  'mn-nonstandard',
  'stray-separator',
  'comma-separator',
  'split-without-pnum',
  'st-unknown',
  'flag-version-unknown',
  'factor-code-2005',
  'unknown-field',
] as const;

export type Irregularity = (typeof IRREGULARITIES)[number];

export type TolerancePolicy = 'strict' | 'tolerant';

export interface PolicyOptions {
  /** `strict` rejects every irregularity, `tolerant` accepts and records them. Default `tolerant`. */
  readonly policy?: TolerancePolicy;
  /** Irregularities the strict policy still accepts (recorded as in tolerant mode). */
  readonly allow?: readonly Irregularity[];
}

export function isAccepted(irregularity: Irregularity, options: PolicyOptions | undefined): boolean {
  if ((options?.policy ?? 'tolerant') === 'tolerant') return true;
  return options?.allow?.includes(irregularity) ?? false;
}

const MESSAGES: Record<Irregularity, string> = {
  'crc-modbus-swapped': 'CRC is CRC-16/MODBUS printed low byte first, not the HJ 212 Appendix A CRC',
  'crc-modbus': 'CRC is CRC-16/MODBUS printed high byte first, not the HJ 212 Appendix A CRC',
  'crc-lowercase': 'CRC printed in lower case',
  'segment-oversize': 'data segment is longer than the nominal 1024 bytes',
  'length-mismatch': 'declared length differs from the data segment byte length',
  'missing-qn': 'QN is missing',
  'missing-flag': 'Flag is missing',
  'qn-malformed': 'QN is not YYYYMMDDhhmmsszzz',
  'mn-nonstandard': 'MN is not 24 upper-case hexadecimal characters',
  'stray-separator': 'stray space, comma or empty item between fields',
  'comma-separator': '"," instead of ";" between header fields',
  'split-without-pnum':
    "Flag has the split bit (D) set but there is no PNUM/PNO (as in HJ/T 212-2005's own Flag=3 examples); read as one whole packet",
  'st-unknown': 'ST is not a known system code',
  'flag-version-unknown': 'Flag carries an unknown protocol version',
  'factor-code-2005': 'factor codes of HJ/T 212-2005',
  'unknown-field': 'unknown field in the data segment header',
};

export function irregularityMessage(irregularity: Irregularity): string {
  return MESSAGES[irregularity];
}
