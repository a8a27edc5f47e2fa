/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters —
 * registration authority (1), organisation type (1), administrative division (6 digits),
 * organisation code (9), check character (1). Characters come from a 31-symbol alphabet without
 * I, O, S, V, Z. The check character is chosen so that the weighted sum (weights 3^i mod 31) plus
 * its own value is a multiple of 31.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

export type CreditCodeProblem = 'length' | 'characters' | 'check-character';

/** The check character for the first 17 characters, or undefined when they use foreign characters. */
export function creditCodeCheckCharacter(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(first17[i] ?? '');
    if (v < 0) return undefined;
    sum += v * (WEIGHTS[i] ?? 0);
  }
  return ALPHABET[(31 - (sum % 31)) % 31];
}

/** Why `code` is not a valid credit code, or undefined when it is. Lower case is not accepted. */
export function checkCreditCode(code: string): CreditCodeProblem | undefined {
  if (code.length !== 18) return 'length';
  if (!SHAPE.test(code)) return 'characters';
  return creditCodeCheckCharacter(code.slice(0, 17)) === code[17] ? undefined : 'check-character';
}

export function isValidCreditCode(code: string): boolean {
  return checkCreditCode(code) === undefined;
}
