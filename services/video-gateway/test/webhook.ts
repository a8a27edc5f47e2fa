// A signed POST to the gateway's webhook, as a platform sends it (the int tests' client).
import { signature } from '../src/auth.js';

export interface Reply {
  id?: string;
  duplicate?: boolean;
  error?: { code: string; field: string; message: string; messageZh: string };
}

export async function postAlarm(
  url: string,
  body: string | Buffer,
  o: { secret: string; platform?: string; skewS?: number; contentType?: string },
): Promise<{ status: number; json: Reply }> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const ts = String(Math.floor(Date.now() / 1000) - (o.skewS ?? 0));
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': o.contentType ?? 'application/json',
      'x-offsite-platform': o.platform ?? 'city-video',
      'x-offsite-timestamp': ts,
      'x-offsite-signature': signature(o.secret, ts, bytes),
    },
    body: bytes,
  });
  return { status: res.status, json: (await res.json()) as Reply };
}
