// Per-platform authentication of the webhook: each platform signs `<timestamp>.<body>` with its own
// secret (HMAC-SHA256) and sends X-Offsite-Platform, X-Offsite-Timestamp (Unix seconds) and
// X-Offsite-Signature (`sha256=<hex>`). A signature binds the body and the time, so a captured request
// can be replayed only inside the window, where it is a redelivery: the same event id, answered once.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { reject, type Rejection } from './rejection.js';

export const PLATFORM_HEADER = 'x-offsite-platform';
export const TIMESTAMP_HEADER = 'x-offsite-timestamp';
export const SIGNATURE_HEADER = 'x-offsite-signature';

/** `platform=secret` entries (OFFSITE_VIDEO_PLATFORMS) as a map; a platform named twice is an error. */
export function parsePlatforms(entries: readonly string[]): ReadonlyMap<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of entries) {
    const at = e.indexOf('=');
    const platform = e.slice(0, at);
    if (at < 1 || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(platform))
      throw new Error('OFFSITE_VIDEO_PLATFORMS: each entry is platform=secret');
    if (out.has(platform)) throw new Error(`OFFSITE_VIDEO_PLATFORMS: platform "${platform}" is listed twice`);
    const secret = e.slice(at + 1);
    if (secret.length < 32)
      throw new Error(`OFFSITE_VIDEO_PLATFORMS: the secret of "${platform}" is shorter than 32`);
    out.set(platform, Buffer.from(secret, 'utf8'));
  }
  return out;
}

/** The signature header's value for a body sent at `timestamp` (Unix seconds). */
export function signature(secret: Buffer | string, timestamp: string, body: Uint8Array): string {
  const h = createHmac('sha256', secret);
  h.update(`${timestamp}.`).update(body);
  return `sha256=${h.digest('hex')}`;
}

export interface AuthInput {
  platform: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Uint8Array;
  nowMs: number;
  windowS: number;
}

/** The authenticated platform, or why the request is refused (401, naming the header). */
export function authenticate(
  platforms: ReadonlyMap<string, Buffer>,
  a: AuthInput,
): { ok: true; platform: string } | { ok: false; rejection: Rejection } {
  const no = (code: string, field: string, en: string, zh: string) => ({
    ok: false as const,
    rejection: reject(401, code, field, en, zh),
  });
  if (!a.platform)
    return no(
      'auth-missing',
      PLATFORM_HEADER,
      `header ${PLATFORM_HEADER} is missing`,
      `缺少请求头 ${PLATFORM_HEADER}`,
    );
  const secret = platforms.get(a.platform);
  if (!secret)
    return no(
      'auth-unknown-platform',
      PLATFORM_HEADER,
      'no such video platform is configured',
      '未配置该视频平台',
    );
  if (!a.timestamp || !/^[0-9]{9,11}$/.test(a.timestamp))
    return no(
      'auth-missing',
      TIMESTAMP_HEADER,
      `header ${TIMESTAMP_HEADER} must be Unix seconds`,
      `请求头 ${TIMESTAMP_HEADER} 必须是 Unix 秒数`,
    );
  const skewS = Math.abs(a.nowMs / 1000 - Number(a.timestamp));
  if (skewS > a.windowS)
    return no(
      'auth-stale',
      TIMESTAMP_HEADER,
      `the request's timestamp is ${Math.round(skewS)} s away from the gateway's clock (window ${a.windowS} s): replayed or clock wrong`,
      `请求时间戳与网关时钟相差 ${Math.round(skewS)} 秒（允许 ${a.windowS} 秒）：重放请求或时钟错误`,
    );
  const given = Buffer.from(a.signature ?? '', 'utf8');
  const want = Buffer.from(signature(secret, a.timestamp, a.body), 'utf8');
  if (given.length !== want.length || !timingSafeEqual(given, want))
    return no(
      'auth-bad-signature',
      SIGNATURE_HEADER,
      `header ${SIGNATURE_HEADER} does not match the body and timestamp (sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">)`,
      `请求头 ${SIGNATURE_HEADER} 与请求体和时间戳不符（应为 sha256= 加 "<时间戳>.<请求体>" 的 HMAC-SHA256 十六进制值）`,
    );
  return { ok: true, platform: a.platform };
}
