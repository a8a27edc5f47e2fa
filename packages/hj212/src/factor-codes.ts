/** Pollutant factor codes of HJ/T 212-2005 mapped to their HJ 212-2017 codes (domain-rules §1). */
export const FACTOR_CODES_2005_TO_2017: Readonly<Record<string, string>> = Object.freeze({
  // flue gas
  B02: 'a00000',
  '02': 'a21026',
  '03': 'a21002',
  '01': 'a34013',
  '04': 'a21005',
  S01: 'a19001',
  S02: 'a01011',
  S03: 'a01012',
  S08: 'a01013',
  S05: 'a01014',
  // wastewater
  B01: 'w00000',
  '001': 'w01001',
  '011': 'w01018',
  '060': 'w21003',
  '101': 'w21011',
  '065': 'w21001',
  '003': 'w01012',
});

/**
 * 2005 codes are two or three characters: digits (`02`, `011`, `112`) or an upper-case letter and two
 * digits (`B02`, `S01`). 2017 codes are a lower-case letter and five digits; facility codes `SBxxx`.
 */
const CODE_2005 = /^(?:\d{2,3}|[A-Z]\d{2})$/;

export function is2005FactorCode(code: string): boolean {
  return CODE_2005.test(code);
}

export interface MappedCode {
  /** The 2017 code when the 2005 code is in the table, else the code as received. */
  readonly code: string;
  /** Set for 2005-style codes: the code as received. */
  readonly originalCode?: string;
}

export function mapFactorCode(code: string): MappedCode {
  if (!is2005FactorCode(code)) return { code };
  return { code: FACTOR_CODES_2005_TO_2017[code] ?? code, originalCode: code };
}
