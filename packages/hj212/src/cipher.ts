/**
 * HJ 212-2025 encrypts the CP content with SM4 (GB/T 32907, 128-bit key, ECB). Published
 * implementations differ in scope and text encoding, so the cipher is a pluggable layer: the codec
 * calls a `SegmentCipher` chosen per device (its key lives in the registry).
 */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import { fail, Hj212Error, ok, type Result } from './result.js';

export interface SegmentCipher {
  encrypt(plain: Uint8Array): Buffer;
  decrypt(data: Uint8Array): Buffer;
}

export interface Sm4EcbOptions {
  /** PKCS#7 padding (default) or none (input must be a multiple of 16 bytes). */
  readonly padding?: 'pkcs7' | 'none';
}

export function isSm4Available(): boolean {
  return getCiphers().includes('sm4-ecb');
}

/** SM4-ECB with Node's built-in OpenSSL. The key is 16 bytes (or 32 hex characters). */
export function createSm4EcbCipher(key: Uint8Array | string, options: Sm4EcbOptions = {}): SegmentCipher {
  const keyBytes = typeof key === 'string' ? Buffer.from(key, 'hex') : Buffer.from(key);
  if (keyBytes.length !== 16 || (typeof key === 'string' && !/^[0-9a-fA-F]{32}$/.test(key))) {
    throw new Hj212Error('cipher-key-invalid', 'an SM4 key is 16 bytes (32 hex characters)');
  }
  const padding = (options.padding ?? 'pkcs7') === 'pkcs7';
  const run = (encrypt: boolean, input: Uint8Array): Buffer => {
    try {
      const c = encrypt
        ? createCipheriv('sm4-ecb', keyBytes, null)
        : createDecipheriv('sm4-ecb', keyBytes, null);
      c.setAutoPadding(padding);
      return Buffer.concat([c.update(input), c.final()]);
    } catch (cause) {
      throw new Hj212Error('cipher-failed', `SM4 ${encrypt ? 'encryption' : 'decryption'} failed`, { cause });
    }
  };
  return { encrypt: (plain) => run(true, plain), decrypt: (data) => run(false, data) };
}

/** How ciphertext is written inside `CP=&&…&&`. */
export type CipherTextEncoding = 'hex' | 'base64';

export function encryptCpContent(
  content: string,
  cipher: SegmentCipher,
  encoding: CipherTextEncoding,
): string {
  const data = cipher.encrypt(Buffer.from(content, 'utf8'));
  return encoding === 'hex' ? data.toString('hex').toUpperCase() : data.toString('base64');
}

export function decryptCpContent(
  text: string,
  cipher: SegmentCipher,
  encoding: CipherTextEncoding,
): Result<string> {
  const valid = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  if (!valid.test(text)) return fail('decrypt-failed', `encrypted CP is not ${encoding}`);
  try {
    const plain = cipher.decrypt(Buffer.from(text, encoding));
    return ok(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return fail('decrypt-failed', `cannot decrypt CP: ${detail}`);
  }
}
