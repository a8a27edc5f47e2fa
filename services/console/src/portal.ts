// The enterprise portal's own routes: a case as the portal shows it (with the enterprise's planned fix
// time and its rectification evidence), the acknowledgement with an explanation and a planned fix
// time, and rectification evidence (photos, PDFs) uploaded and served back. Scope is the case's
// (getCase: an enterprise user its own non-falsification cases, an officer its district's); the
// bytes live in a configured directory outside the web root, each with its SHA-256 in Postgres.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import multipart from '@fastify/multipart';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { transaction } from '@offsite/store';
import { appendAudit } from './audit.js';
import { enterpriseAcknowledge, getCase } from './cases.js';
import { ConsoleError } from './errors.js';
import { instant } from './registry-edit.js';
import type { Principal } from './principal.js';
import { attachmentDisposition, cleanFileName, extensionOf, sniffEvidence } from './portal-files.js';

export interface PortalEvidenceOptions {
  /** Where evidence files are kept (outside the web root). */
  dir: string;
  /** The largest file accepted, in bytes. */
  maxBytes: number;
}

const Obj = <P extends Parameters<typeof Type.Object>[0]>(p: P) =>
  Type.Object(p, { additionalProperties: false });
const CaseParams = Obj({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const EvidenceParams = Obj({ evidenceId: Type.String({ pattern: '^[0-9]{1,15}$' }) });
const Ack = Obj({
  explanation: Type.String({ minLength: 2, maxLength: 2000, pattern: '\\S' }),
  plannedFixAt: Type.String({ minLength: 1, maxLength: 40 }),
});

const fileError = (zh: string, en: string) =>
  new ConsoleError('INVALID_INPUT', `file：${zh} / file: ${en}`, { details: { in: 'body', field: 'file' } });

interface EvidenceRow {
  id: string;
  fileName: string;
  mediaType: string;
  sizeBytes: number;
  sha256: string;
  note: string | null;
  uploadedBy: string;
  uploadedAt: string;
}

async function listEvidence(db: pg.Pool, caseId: string): Promise<EvidenceRow[]> {
  const r = await db.query<EvidenceRow>(
    `select v.id::text as id, v.file_name as "fileName", v.media_type as "mediaType", v.size_bytes as "sizeBytes",
            v.sha256, v.note, u.username as "uploadedBy", v.uploaded_at as "uploadedAt"
       from portal_evidence v join console_users u on u.id = v.uploaded_by
      where v.deviation_id = $1 order by v.uploaded_at, v.id`,
    [caseId],
  );
  return r.rows;
}

/** The uploaded file and note of a multipart request, or a field-named 400 (nothing read beyond the limit). */
async function readUpload(
  req: FastifyRequest,
  maxBytes: number,
): Promise<{ name: string; bytes: Buffer; note: string | null }> {
  let file: { name: string; bytes: Buffer } | undefined;
  let note: string | null = null;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || file)
          throw fileError('只能上传一个文件', 'one file only, in the field "file"');
        file = { name: part.filename, bytes: await part.toBuffer() };
      } else if (part.fieldname === 'note') {
        note = String(part.value).trim() || null;
      }
    }
  } catch (err) {
    if (err instanceof ConsoleError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      throw fileError(
        `文件超过 ${Math.floor(maxBytes / 1024 / 1024)} MB`,
        `larger than ${Math.floor(maxBytes / 1024 / 1024)} MB`,
      );
    if (typeof code === 'string' && code.startsWith('FST_'))
      throw fileError('须以 multipart/form-data 上传一个文件', 'send one file as multipart/form-data');
    throw err;
  }
  if (!file || file.bytes.length === 0) throw fileError('缺少文件', 'no file');
  if (note !== null && (note.length > 500 || note.includes('\u0000')))
    throw new ConsoleError('INVALID_INPUT', 'note：说明过长 / note: at most 500 characters', {
      details: { in: 'body', field: 'note' },
    });
  return { ...file, note };
}

export function registerPortalRoutes(
  app: FastifyInstance,
  o: { pool: pg.Pool; who: (req: FastifyRequest) => Principal; evidence: PortalEvidenceOptions },
): void {
  const tags = ['portal'];

  app.get('/api/portal/cases/:id', { schema: { params: CaseParams, tags } }, async (req) => {
    const { id } = req.params as Static<typeof CaseParams>;
    const c = await getCase(o.pool, o.who(req), id);
    const fix = await o.pool.query<{ at: Date | null }>(
      'select enterprise_planned_fix_at as at from review_states where deviation_id = $1',
      [id],
    );
    return {
      case: c,
      plannedFixAt: fix.rows[0]?.at?.toISOString() ?? null,
      evidence: await listEvidence(o.pool, id),
    };
  });

  app.post('/api/portal/cases/:id/ack', { schema: { params: CaseParams, body: Ack, tags } }, async (req) => {
    const { id } = req.params as Static<typeof CaseParams>;
    const b = req.body as Static<typeof Ack>;
    const at = instant('plannedFixAt', b.plannedFixAt);
    if (at.getTime() <= Date.now())
      throw new ConsoleError(
        'INVALID_INPUT',
        'plannedFixAt：计划整改完成时间不能早于现在 / plannedFixAt: the planned fix time is in the past',
        { details: { in: 'body', field: 'plannedFixAt' } },
      );
    await enterpriseAcknowledge(o.pool, o.who(req), id, b.explanation.trim(), at);
    return { ok: true, plannedFixAt: at.toISOString() };
  });

  app.get(
    '/api/portal/evidence/:evidenceId',
    { schema: { params: EvidenceParams, tags } },
    async (req, reply) => {
      const p = o.who(req);
      const { evidenceId } = req.params as Static<typeof EvidenceParams>;
      const r = await o.pool.query<{
        deviation_id: string;
        file_name: string;
        media_type: string;
        storage_key: string;
        sha256: string;
      }>(
        'select deviation_id, file_name, media_type, storage_key, sha256 from portal_evidence where id = $1',
        [evidenceId],
      );
      const row = r.rows[0];
      if (!row) throw new ConsoleError('NOT_FOUND', 'evidence not found');
      // The same answer as for a file that does not exist when its case is out of scope.
      await getCase(o.pool, p, row.deviation_id).catch((err: unknown) => {
        throw err instanceof ConsoleError && err.code === 'NOT_FOUND'
          ? new ConsoleError('NOT_FOUND', 'evidence not found')
          : err;
      });
      const bytes = await readFile(join(o.evidence.dir, row.storage_key));
      return reply
        .header('content-type', row.media_type)
        .header(
          'content-disposition',
          attachmentDisposition(row.file_name, `evidence-${evidenceId}.${extensionOf(row.media_type)}`),
        )
        .header('cache-control', 'private, no-store')
        .header('x-checksum-sha256', row.sha256)
        .send(bytes);
    },
  );

  // Multipart only here: the parser is registered in this plugin's own context.
  void app.register(async (scope) => {
    await scope.register(multipart, {
      limits: {
        fileSize: o.evidence.maxBytes,
        files: 1,
        fields: 2,
        fieldSize: 2000,
        parts: 3,
        headerPairs: 100,
      },
    });
    scope.post(
      '/api/portal/cases/:id/evidence',
      { schema: { params: CaseParams, tags } },
      async (req, reply) => {
        const p = o.who(req);
        const { id } = req.params as Static<typeof CaseParams>;
        if (p.role !== 'enterprise')
          throw new ConsoleError(
            'FORBIDDEN',
            '仅企业用户上传整改材料 / only enterprise users upload rectification evidence',
          );
        const c = await getCase(o.pool, p, id);
        const up = await readUpload(req, o.evidence.maxBytes);
        const kind = sniffEvidence(up.bytes);
        if (!kind)
          throw fileError('仅接受 JPEG、PNG 照片或 PDF 文件', 'only JPEG or PNG photos and PDF files');
        const sha256 = createHash('sha256').update(up.bytes).digest('hex');
        const key = randomBytes(16).toString('hex');
        const path = join(o.evidence.dir, key);
        await mkdir(o.evidence.dir, { recursive: true, mode: 0o700 });
        await writeFile(path, up.bytes, { flag: 'wx', mode: 0o600, flush: true });
        try {
          const row = await transaction(o.pool, async (db) => {
            const r = await db.query<{ id: string }>(
              `insert into portal_evidence (deviation_id, enterprise_id, district_id, file_name, media_type, size_bytes,
                                          sha256, storage_key, note, uploaded_by)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id::text as id`,
              [
                id,
                c.enterpriseId,
                c.districtId,
                cleanFileName(up.name),
                kind.type,
                up.bytes.length,
                sha256,
                key,
                up.note,
                p.userId,
              ],
            );
            const evidenceId = r.rows[0]!.id;
            await appendAudit(db, p, {
              action: 'case.evidence.upload',
              entityType: 'deviation',
              entityId: id,
              districtId: c.districtId,
              before: null,
              after: {
                evidenceId,
                fileName: cleanFileName(up.name),
                mediaType: kind.type,
                sizeBytes: up.bytes.length,
                sha256,
              },
              requestId: req.id,
            });
            return { id: evidenceId };
          });
          reply.code(201);
          return { id: row.id, mediaType: kind.type, sizeBytes: up.bytes.length, sha256 };
        } catch (err) {
          // No row, no file: nothing half-saved.
          await rm(path, { force: true });
          throw err;
        }
      },
    );
  });
}
