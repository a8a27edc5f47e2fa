import fc from 'fast-check';
import { checkCreditCode, creditCodeCheckCharacter, isValidCreditCode } from './credit-code.js';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

test('published codes validate', () => {
  // Codes printed on public business licences / in GB 32100 explanations.
  for (const code of ['9144030071526726XG', '91110000802100433B', '91350100M000100Y43']) {
    expect(checkCreditCode(code)).toBeUndefined();
  }
});

test('problems are told apart', () => {
  expect(checkCreditCode('9144030071526726X')).toBe('length');
  expect(checkCreditCode('9144030071526726XGG')).toBe('length');
  expect(checkCreditCode('9144030071526726xg')).toBe('characters'); // lower case
  expect(checkCreditCode('91440300715267260I')).toBe('characters'); // I is not in the alphabet
  expect(checkCreditCode('9144A30071526726XG')).toBe('characters'); // division code must be digits
  expect(checkCreditCode('9144030071526726XH')).toBe('check-character');
  expect(checkCreditCode('9144030071526727XG')).toBe('check-character');
  expect(isValidCreditCode('')).toBe(false);
});

test('check character of a known code', () => {
  expect(creditCodeCheckCharacter('9144030071526726X')).toBe('G');
  expect(creditCodeCheckCharacter('91110000802100433')).toBe('B');
  expect(creditCodeCheckCharacter('9111000080210043')).toBeUndefined();
  expect(creditCodeCheckCharacter('9111000080210043I')).toBeUndefined();
});

const symbol = fc.constantFrom(...ALPHABET.split(''));
const digit = fc.constantFrom(...'0123456789'.split(''));
const body = fc
  .tuple(
    fc.array(symbol, { minLength: 2, maxLength: 2 }),
    fc.array(digit, { minLength: 6, maxLength: 6 }),
    fc.array(symbol, { minLength: 9, maxLength: 9 }),
  )
  .map(([a, b, c]) => [...a, ...b, ...c].join(''));

test('a computed check character always validates', () => {
  fc.assert(
    fc.property(body, (b) => {
      expect(isValidCreditCode(b + creditCodeCheckCharacter(b)!)).toBe(true);
    }),
  );
});

test('changing any one character of a valid code is detected', () => {
  fc.assert(
    fc.property(body, fc.nat(17), symbol, (b, pos, replacement) => {
      const code = b + creditCodeCheckCharacter(b)!;
      fc.pre(code[pos] !== replacement && (pos < 2 || pos > 7 || /\d/.test(replacement)));
      const changed = code.slice(0, pos) + replacement + code.slice(pos + 1);
      expect(isValidCreditCode(changed)).toBe(false);
    }),
  );
});
