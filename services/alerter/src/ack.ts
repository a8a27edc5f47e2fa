import { createHmac, timingSafeEqual } from 'node:crypto';

export interface AckClaims {
  /** Notification group the link acknowledges. */
  g: string;
  /** Recipient (contact id). */
  r: string;
  /** Expiry, Unix milliseconds. */
  exp: number;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A signed, expiring acknowledgement token: base64url(JSON claims) "." base64url(HMAC-SHA256). */
export function signAckToken(claims: AckClaims, secret: string): string {
  const body = b64(JSON.stringify(claims));
  return `${body}.${b64(createHmac('sha256', secret).update(body).digest())}`;
}

export type AckVerifyResult =
  { ok: true; claims: AckClaims } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

export function verifyAckToken(token: string, secret: string, now: Date): AckVerifyResult {
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) return { ok: false, reason: 'malformed' };
  const want = createHmac('sha256', secret).update(body).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return { ok: false, reason: 'bad-signature' };
  let claims: AckClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AckClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims.g !== 'string' || typeof claims.r !== 'string' || typeof claims.exp !== 'number')
    return { ok: false, reason: 'malformed' };
  if (claims.exp <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
