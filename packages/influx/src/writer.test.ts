import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { silentLogger } from '@offsite/testing';
import { createInfluxWriter, resolveGzip } from './writer.js';

interface Seen {
  path: string;
  encoding: string | undefined;
  auth: string | undefined;
  body: string;
}

/** A local stand-in for InfluxDB's write endpoint; `reply` decides each answer from the body. */
async function server(
  reply: (body: string, n: number) => { status: number; headers?: Record<string, string>; body?: string },
) {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      const body = (encoding === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
      seen.push({ path: req.url ?? '', encoding, auth: req.headers.authorization, body });
      const r = reply(body, seen.length);
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => s.close(() => r())) };
}
const conn = (url: string) => ({ url, token: 'u:p', org: '-', bucket: 'db/rp', logger: silentLogger });

describe('createInfluxWriter (HTTP)', () => {
  it('posts the lines once to the v2 write API with the token; gzip only when asked (auto = not on loopback)', async () => {
    const srv = await server(() => ({ status: 204 }));
    try {
      const plain = createInfluxWriter(conn(srv.url));
      await plain.write(['m,a=1 v=1.0 1', 'm,a=2 v=2.0 1\nm,a=3 v=3.0 1']);
      const zipped = createInfluxWriter({ ...conn(srv.url), gzip: true, gzipThresholdBytes: 1 });
      await zipped.write(['m,a=1 v=1.0 2']);
      plain.close();
      zipped.close();
      expect(srv.seen.map((s) => [s.encoding, s.body])).toEqual([
        [undefined, 'm,a=1 v=1.0 1\nm,a=2 v=2.0 1\nm,a=3 v=3.0 1'],
        ['gzip', 'm,a=1 v=1.0 2'],
      ]);
      expect(srv.seen[0]!.path).toBe('/api/v2/write?org=-&bucket=db%2Frp&precision=s');
      expect(srv.seen[0]!.auth).toBe('Token u:p');
    } finally {
      await srv.close();
    }
    expect(resolveGzip('auto', 'http://127.0.0.1:8086')).toBe(false);
    expect(resolveGzip('auto', 'http://localhost:8086')).toBe(false);
    expect(resolveGzip('auto', 'https://influx.example.cn')).toBe(true);
    expect(resolveGzip(false, 'https://influx.example.cn')).toBe(false);
  });

  it('splits on 413 between elements until each part fits', async () => {
    const srv = await server((body) => ({ status: body.split('\n').length > 2 ? 413 : 204 }));
    try {
      const w = createInfluxWriter(conn(srv.url));
      await w.write(['a v=1.0 1', 'b v=1.0 1', 'c v=1.0 1', 'd v=1.0 1', 'e v=1.0 1']);
      w.close();
      const accepted = srv.seen.filter((s) => s.body.split('\n').length <= 2).map((s) => s.body);
      expect(accepted.join('\n').split('\n').sort()).toEqual(
        ['a', 'b', 'c', 'd', 'e'].map((x) => `${x} v=1.0 1`),
      );
    } finally {
      await srv.close();
    }
  });

  it('maps statuses to coded errors: 429 with Retry-After, 503 retryable, 400 rejected with the body', async () => {
    const answers = [
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 503 },
      { status: 400, body: '{"error":"partial write: field type conflict"}' },
    ];
    const srv = await server((_b, n) => answers[n - 1]!);
    try {
      const w = createInfluxWriter(conn(srv.url));
      await expect(w.write(['m v=1.0 1'])).rejects.toMatchObject({
        code: 'INFLUX_THROTTLED',
        retryable: true,
        retryAfterMs: 3000,
      });
      await expect(w.write(['m v=1.0 1'])).rejects.toMatchObject({
        code: 'INFLUX_UNAVAILABLE',
        retryable: true,
      });
      await expect(w.write(['m v=1.0 1'])).rejects.toMatchObject({
        code: 'INFLUX_REJECTED',
        retryable: false,
        message: expect.stringMatching(/field type conflict/),
      });
      w.close();
    } finally {
      await srv.close();
    }
  });
});
