/**
 * The data browser's routes: `GET /api/data/series` (chart and tables), `GET /api/data/export.xlsx` and
 * `GET /api/data/export.csv` (the same query as a file); the emission loads `GET /api/data/loads` and
 * `/api/data/loads.xlsx` / `.csv`. Scope, bounds and errors in data-browser.ts and loads.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { browseData, BrowseParams } from './data-browser.js';
import { exportTable, toCsv, toXlsx, type ExportTable } from './data-export.js';
import { ConsoleError } from './errors.js';
import { emissionLoads, LoadsParams, loadsExportTable } from './loads.js';
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
  app.get('/api/data/loads', { schema: { querystring: LoadsParams, tags: ['data'] } }, async (req) =>
    emissionLoads(deps.pool, source(), deps.who(req), req.query as LoadsParams),
  );
  /** A file route: the query's table as .xlsx or .csv, named `<site>-<kind><granularity>-<day>`. */
  const file = <Q extends { site: string; granularity: string; from: string }>(
    path: string,
    schema: typeof BrowseParams | typeof LoadsParams,
    kind: string,
    table: (req: FastifyRequest, q: Q) => Promise<ExportTable>,
  ) => {
    for (const format of ['xlsx', 'csv'] as const)
      app.get(
        `${path}.${format}`,
        { schema: { querystring: schema, tags: ['data'] } },
        async (req, reply) => {
          const q = req.query as Q;
          const t = await table(req, q);
          const body = format === 'xlsx' ? await toXlsx(t) : toCsv(t);
          // Ids are [a-z0-9._-]: the file name needs no escaping.
          const day = q.from.slice(0, 10).replace(/-/g, '');
          return reply
            .header('content-type', TYPES[format])
            .header(
              'content-disposition',
              `attachment; filename="${q.site}-${kind}${q.granularity}-${day}.${format}"`,
            )
            .header('cache-control', 'no-store')
            .send(body);
        },
      );
  };
  file<BrowseParams>('/api/data/export', BrowseParams, '', async (req, q) =>
    exportTable(await browseData(deps.pool, source(), deps.who(req), q)),
  );
  file<LoadsParams>('/api/data/loads', LoadsParams, 'loads-', async (req, q) =>
    loadsExportTable(await emissionLoads(deps.pool, source(), deps.who(req), q)),
  );
}
