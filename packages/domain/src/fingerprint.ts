// The 64-bit fingerprint the engine state keeps instead of a JSON text it only compares for equality (an emitted
// aggregate, a deviation record's content).

/**
 * Two 32-bit multiply-xor lanes over the text's characters, 16 hex digits. Only compared with the previous fingerprint
 * of the same key (did the content change?); each step is a bijection of the lane state, so two texts that differ in
 * one character never share a fingerprint.
 */
export function fingerprint64(json: string): string {
  let a = 0x811c9dc5 ^ json.length;
  let b = 0x9747b28c;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35) ^ a;
  a ^= Math.imul(b ^ (b >>> 13), 0x27d4eb2f);
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
