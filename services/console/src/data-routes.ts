/** The data browser's routes: `GET /api/data/series` (chart and tables). Scope, bounds and errors in data-browser.ts. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { browseData, BrowseParams } from './data-browser.js';
import { ConsoleError } from './errors.js';
import type { EvidenceSource } from './evidence.js';
import type { Principal } from './principal.js';

export function registerDataRoutes(
  app: FastifyInstance,
  deps: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; source: EvidenceSource | undefined },
): void {
  const source = (): EvidenceSource => {
    if (!deps.source) throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'InfluxDB is not configured');
    return deps.source;
  };
  app.get('/api/data/series', { schema: { querystring: BrowseParams, tags: ['data'] } }, async (req) =>
    browseData(deps.pool, source(), deps.who(req), req.query as BrowseParams),
  );
}
