/**
 * The data browser's routes: `GET /api/data/series` (chart and tables), `GET /api/data/export.xlsx` and
 * `GET /api/data/export.csv` (the same query as a file). Scope, bounds and errors in data-browser.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { browseData, BrowseParams } from './data-browser.js';
import { exportTable, toCsv, toXlsx } from './data-export.js';
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
  const TYPES = {
    xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    csv: 'text/csv; charset=utf-8',
  } as const;
  for (const format of ['xlsx', 'csv'] as const)
    app.get(
      `/api/data/export.${format}`,
      { schema: { querystring: BrowseParams, tags: ['data'] } },
      async (req, reply) => {
        const q = req.query as BrowseParams;
        const table = exportTable(await browseData(deps.pool, source(), deps.who(req), q));
        const body = format === 'xlsx' ? await toXlsx(table) : toCsv(table);
        // Ids are [a-z0-9._-]: the file name needs no escaping.
        const day = q.from.slice(0, 10).replace(/-/g, '');
        return reply
          .header('content-type', TYPES[format])
          .header('content-disposition', `attachment; filename="${q.site}-${q.granularity}-${day}.${format}"`)
          .header('cache-control', 'no-store')
          .send(body);
      },
    );
}
