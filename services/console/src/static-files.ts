import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bilingualMessage } from './errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built SPA: files under `root` by path (never outside it), index.html for every other
 * GET that is not an API or docs route, so client-side routes survive a reload.
 */
export function serveSpa(app: FastifyInstance, root: string): void {
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  app.setNotFoundHandler(async (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent((req.url.split('?')[0] ?? '/').replace(/\/+$/, '/'));
    } catch {
      return reply.code(404).send({ code: 'NOT_FOUND', message: bilingualMessage('NOT_FOUND', 'not found') });
    }
    if (req.method !== 'GET' || path.startsWith('/api/')) {
      return reply.code(404).send({ code: 'NOT_FOUND', message: bilingualMessage('NOT_FOUND', 'not found') });
    }
    let file = normalize(join(base, path));
    if (!file.startsWith(base))
      return reply.code(404).send({ code: 'NOT_FOUND', message: bilingualMessage('NOT_FOUND', 'not found') });
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) file = join(base, 'index.html');
    const body = await readFile(file);
    const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply
      .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', cache)
      .send(body);
  });
}
