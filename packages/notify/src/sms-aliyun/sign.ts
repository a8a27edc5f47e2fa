import { createHmac } from 'node:crypto';

/** POP percent-encoding: RFC 3986 unreserved characters stay, everything else is %XX (space → %20). */
export function popEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Sorted, encoded query string without the Signature parameter. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${popEncode(k)}=${popEncode(params[k] ?? '')}`)
    .join('&');
}

export function stringToSign(method: 'GET' | 'POST', params: Record<string, string>): string {
  return `${method}&${popEncode('/')}&${popEncode(canonicalQuery(params))}`;
}

/** Aliyun RPC (POP) signature v1.0: base64(HMAC-SHA1(secret + "&", StringToSign)). */
export function popSignature(
  method: 'GET' | 'POST',
  params: Record<string, string>,
  accessKeySecret: string,
): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign(method, params)).digest('base64');
}
