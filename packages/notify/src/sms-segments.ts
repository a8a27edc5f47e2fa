/**
 * SMS length as Chinese providers bill it: every character (Chinese, Latin, digit, punctuation,
 * and the 【sign name】 the provider prepends) counts as one; up to 70 characters is one message,
 * longer texts are sent concatenated at 67 characters per part.
 */
export const SMS_SINGLE_LIMIT = 70;
export const SMS_PART_LIMIT = 67;

/** Characters as the provider counts them (code points, so a surrogate pair is one). */
export function smsLength(text: string): number {
  return [...text].length;
}

export function smsSegments(text: string): number {
  const n = smsLength(text);
  if (n === 0) return 0;
  return n <= SMS_SINGLE_LIMIT ? 1 : Math.ceil(n / SMS_PART_LIMIT);
}

/**
 * Cuts `text` so that, with `signName` prepended as 【signName】, it fits in `maxParts` parts.
 * A cut text ends with "…". Returns the text unchanged when it fits.
 */
export function fitSms(text: string, maxParts: number, signName = '', reserve = 0): string {
  // `reserve`: characters that follow the text and must not be cut (a link).
  const overhead = (signName ? smsLength(signName) + 2 : 0) + reserve;
  const budget = maxParts <= 1 ? SMS_SINGLE_LIMIT : maxParts * SMS_PART_LIMIT;
  const chars = [...text];
  if (chars.length + overhead <= budget) return text;
  return `${chars.slice(0, Math.max(0, budget - overhead - 1)).join('')}…`;
}
