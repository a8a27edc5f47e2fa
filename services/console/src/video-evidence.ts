// The snapshot of a video alarm in a case's evidence. The video-gateway owns the alarms and their snapshots; the
// console reads them through the gateway's read API (`video_alarms_v1`, `video_snapshots_v1`: the owner's declared
// views, as for the alerter's and the analyzer's data), never its tables. The image is served under the case: the
// case must be visible to the person (the same scope as the case page: a district officer their district, an
// enterprise its own cases and never a suspected falsification), the case's evidence names the alarm and the
// checksum, and the alarm belongs to the case's enterprise and outlet. Anything else is one answer, 404, whether the
// case, the alarm or the image is missing or out of scope: nothing tells which exists.
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ConsoleError } from './errors.js';
import { scopeSql, type Principal } from './principal.js';

const Params = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' }) },
  { additionalProperties: false },
);

const SHA256 = /^[0-9a-f]{64}$/;
const ALARM = /^va-[0-9a-f]{64}$/;

export interface VideoSnapshot {
  sha256: string;
  contentType: string;
  bytes: Buffer;
}

const notFound = () => new ConsoleError('NOT_FOUND', 'snapshot not found');

/** The snapshot of the video alarm in case `id`'s evidence, if the case is visible to `p`. */
export async function caseSnapshot(db: pg.Pool, p: Principal, id: string): Promise<VideoSnapshot> {
  const params: unknown[] = [id];
  const scope = scopeSql(p, params, 'e', 'rc');
  const c = await db.query<{ enterprise_id: string; site_id: string; alarm_id: unknown; sha256: unknown }>(
    `select rc.enterprise_id, rc.site_id, rc.evidence #>> '{params,alarmId}' as alarm_id,
            rc.evidence #>> '{params,snapshot,sha256}' as sha256
       from review_cases rc join enterprises e on e.id = rc.enterprise_id
      where rc.deviation_id = $1 and rc.rule = 'discharge-outside-hours' and ${scope}`,
    params,
  );
  const row = c.rows[0];
  if (!row || typeof row.sha256 !== 'string' || !SHA256.test(row.sha256)) throw notFound();
  if (typeof row.alarm_id !== 'string' || !ALARM.test(row.alarm_id)) throw notFound();
  const s = await db.query<{ content_type: string; bytes: Buffer }>(
    `select s.content_type, s.bytes
       from video_alarms_v1 a join video_snapshots_v1 s on s.sha256 = a.snapshot_sha256
      where a.id = $1 and a.snapshot_sha256 = $2 and a.enterprise_id = $3 and a.outlet_id = $4`,
    [row.alarm_id, row.sha256, row.enterprise_id, row.site_id],
  );
  const snap = s.rows[0];
  if (!snap) throw notFound();
  // The bytes are what the evidence names (a damaged row is not shown as the evidence).
  if (createHash('sha256').update(snap.bytes).digest('hex') !== row.sha256)
    throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'the stored snapshot does not match its checksum');
  return { sha256: row.sha256, contentType: snap.content_type, bytes: snap.bytes };
}

export function registerVideoEvidenceRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal },
): void {
  app.get(
    '/api/deviations/:id/video-snapshot',
    { schema: { params: Params, tags: ['deviations'] } },
    async (req, reply) => {
      const { id } = req.params as Static<typeof Params>;
      const snap = await caseSnapshot(o.pool, o.who(req), id);
      return reply
        .header('content-type', snap.contentType)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .header('x-checksum-sha256', snap.sha256)
        .send(snap.bytes);
    },
  );
}
