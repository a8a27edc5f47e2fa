// The enterprise portal's own routes: a case as the portal shows it (with the enterprise's planned fix
// time and its rectification evidence), the acknowledgement with an explanation and a planned fix
// time, and rectification evidence (photos, PDFs) uploaded and served back. Scope is the case's
// (getCase: an enterprise user its own non-falsification cases, an officer its district's); the
// bytes live in a configured directory outside the web root, each with its SHA-256 in Postgres
// (written so that no file is left without its row: ./portal-evidence-store.ts).
//
// While its case is open for rectification (any review state but closed or dismissed) the enterprise
// may withdraw a file or replace it by another. What was submitted stays on record: the row is marked
// superseded (by whom, when, and the replacement's id) and the file is kept; officers still see and
// download it, marked as superseded, while the enterprise's list and downloads no longer show it.
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import { Type, type Static } from '@sinclair/typebox';
import { Obj } from './request-schema.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { transaction, type Queryable } from '@offsite/store';
import { appendAudit } from './audit.js';
import { enterpriseAcknowledge, getCase } from './cases.js';
import { ConsoleError } from './errors.js';
import { instant } from './registry-edit.js';
import type { Principal } from './principal.js';
import { readEvidenceFile, storeEvidenceFile } from './portal-evidence-store.js';
import { attachmentDisposition, cleanFileName, extensionOf, sniffEvidence } from './portal-files.js';

export interface PortalEvidenceOptions {
  /** Where evidence files are kept (outside the web root). */
  dir: string;
  /** The largest file accepted, in bytes. */
  maxBytes: number;
}

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
  /** Officers only: when the enterprise withdrew or replaced it, and the replacement. */
  supersededAt?: string | null;
  replacedBy?: string | null;
}

/** A case's evidence: the current files for an enterprise user, every file (superseded marked) for officers. */
async function listEvidence(db: pg.Pool, p: Principal, caseId: string): Promise<EvidenceRow[]> {
  const internal = p.role !== 'enterprise';
  const r = await db.query<EvidenceRow>(
    `select v.id::text as id, v.file_name as "fileName", v.media_type as "mediaType", v.size_bytes as "sizeBytes",
            v.sha256, v.note, u.username as "uploadedBy", v.uploaded_at as "uploadedAt"
            ${internal ? `, v.superseded_at as "supersededAt", v.replaced_by::text as "replacedBy"` : ''}
       from portal_evidence v join console_users u on u.id = v.uploaded_by
      where v.deviation_id = $1 ${internal ? '' : 'and v.superseded_at is null'}
      order by v.uploaded_at, v.id`,
    [caseId],
  );
  return r.rows;
}

interface StoredEvidence {
  id: string;
  deviation_id: string;
  enterprise_id: string;
  file_name: string;
  media_type: string;
  storage_key: string;
  sha256: string;
  superseded_at: Date | null;
}

/**
 * The evidence row if `p` may see it (its case in scope; an enterprise user: its own current files);
 * otherwise the same 404 as for an id that does not exist.
 */
async function visibleEvidence(db: Queryable, p: Principal, evidenceId: string, lock = false) {
  const r = await db.query<StoredEvidence>(
    `select id::text as id, deviation_id, enterprise_id, file_name, media_type, storage_key, sha256, superseded_at
       from portal_evidence where id = $1 ${lock ? 'for update' : ''}`,
    [evidenceId],
  );
  const row = r.rows[0];
  const notFound = () =>
    new ConsoleError('NOT_FOUND', '整改材料不存在 / evidence not found', {
      details: { in: 'params', field: 'evidenceId' },
    });
  if (!row || (p.role === 'enterprise' && (row.superseded_at || row.enterprise_id !== p.enterpriseId)))
    throw notFound();
  const c = await getCase(db, p, row.deviation_id).catch((err: unknown) => {
    throw err instanceof ConsoleError && err.code === 'NOT_FOUND' ? notFound() : err;
  });
  return { row, case: c };
}

/** Review states in which the enterprise's evidence may no longer change (the officer has decided). */
const EVIDENCE_FROZEN = new Set(['closed', 'dismissed']);

function requireOpenForRectification(reviewState: string): void {
  if (EVIDENCE_FROZEN.has(reviewState))
    throw new ConsoleError(
      'INVALID_TRANSITION',
      '案件已办结，整改材料不能再更改 / the case is closed: its evidence can no longer be changed',
      { details: { in: 'params', field: 'evidenceId' } },
    );
}

function requireEnterprise(p: Principal): void {
  if (p.role !== 'enterprise')
    throw new ConsoleError(
      'FORBIDDEN',
      '仅企业用户上传整改材料 / only enterprise users upload rectification evidence',
    );
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
    const p = o.who(req);
    const c = await getCase(o.pool, p, id);
    const fix = await o.pool.query<{ at: Date | null }>(
      'select enterprise_planned_fix_at as at from review_states where deviation_id = $1',
      [id],
    );
    return {
      case: c,
      plannedFixAt: fix.rows[0]?.at?.toISOString() ?? null,
      /** Whether the enterprise may still withdraw or replace its evidence. */
      evidenceOpen: !EVIDENCE_FROZEN.has(c.reviewState),
      evidence: await listEvidence(o.pool, p, id),
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
      const { evidenceId } = req.params as Static<typeof EvidenceParams>;
      const { row } = await visibleEvidence(o.pool, o.who(req), evidenceId);
      const bytes = await readEvidenceFile(o.evidence.dir, row.storage_key);
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

  // Withdrawn by the enterprise: kept on record as superseded (see the header).
  app.delete(
    '/api/portal/evidence/:evidenceId',
    { schema: { params: EvidenceParams, tags } },
    async (req) => {
      const p = o.who(req);
      requireEnterprise(p);
      const { evidenceId } = req.params as Static<typeof EvidenceParams>;
      return transaction(o.pool, async (db) => {
        const { row, case: c } = await visibleEvidence(db, p, evidenceId, true);
        requireOpenForRectification(c.reviewState);
        await db.query('update portal_evidence set superseded_at = now(), superseded_by = $2 where id = $1', [
          evidenceId,
          p.userId,
        ]);
        await appendAudit(db, p, {
          action: 'case.evidence.withdraw',
          entityType: 'deviation',
          entityId: row.deviation_id,
          districtId: c.districtId,
          before: { evidenceId, fileName: row.file_name, sha256: row.sha256 },
          after: { evidenceId, superseded: true },
          requestId: req.id,
        });
        return { ok: true };
      });
    },
  );

  /**
   * Stores an uploaded file for case `caseId` (the row and the audit in one transaction); with
   * `replaces`, the file it replaces is marked superseded in the same transaction.
   */
  async function accept(
    req: FastifyRequest,
    p: Principal,
    caseId: string,
    c: { districtId: string; enterpriseId: string },
    replaces?: StoredEvidence,
  ) {
    const up = await readUpload(req, o.evidence.maxBytes);
    const kind = sniffEvidence(up.bytes);
    if (!kind) throw fileError('仅接受 JPEG、PNG 照片或 PDF 文件', 'only JPEG or PNG photos and PDF files');
    const sha256 = createHash('sha256').update(up.bytes).digest('hex');
    const fileName = cleanFileName(up.name);
    const after = { fileName, mediaType: kind.type, sizeBytes: up.bytes.length, sha256 };
    const id = await storeEvidenceFile(
      o.evidence.dir,
      up.bytes,
      (key) =>
        transaction(o.pool, async (db) => {
          if (replaces) {
            // Checked again under the row's lock: withdrawn, replaced or closed meanwhile.
            const again = await visibleEvidence(db, p, replaces.id, true);
            requireOpenForRectification(again.case.reviewState);
          }
          const r = await db.query<{ id: string }>(
            `insert into portal_evidence (deviation_id, enterprise_id, district_id, file_name, media_type, size_bytes,
                                          sha256, storage_key, note, uploaded_by)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id::text as id`,
            [
              caseId,
              c.enterpriseId,
              c.districtId,
              fileName,
              kind.type,
              up.bytes.length,
              sha256,
              key,
              up.note,
              p.userId,
            ],
          );
          const evidenceId = r.rows[0]!.id;
          if (replaces)
            await db.query(
              'update portal_evidence set superseded_at = now(), superseded_by = $2, replaced_by = $3 where id = $1',
              [replaces.id, p.userId, evidenceId],
            );
          await appendAudit(db, p, {
            action: replaces ? 'case.evidence.replace' : 'case.evidence.upload',
            entityType: 'deviation',
            entityId: caseId,
            districtId: c.districtId,
            before: replaces
              ? { evidenceId: replaces.id, fileName: replaces.file_name, sha256: replaces.sha256 }
              : null,
            after: { evidenceId, ...after },
            requestId: req.id,
          });
          return evidenceId;
        }),
      req.log,
    );
    return { id, mediaType: kind.type, sizeBytes: up.bytes.length, sha256 };
  }

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
        requireEnterprise(p);
        const { id } = req.params as Static<typeof CaseParams>;
        const c = await getCase(o.pool, p, id);
        requireOpenForRectification(c.reviewState);
        const out = await accept(req, p, id, c);
        reply.code(201);
        return out;
      },
    );
    scope.post(
      '/api/portal/evidence/:evidenceId/replace',
      { schema: { params: EvidenceParams, tags } },
      async (req, reply) => {
        const p = o.who(req);
        requireEnterprise(p);
        const { evidenceId } = req.params as Static<typeof EvidenceParams>;
        const { row, case: c } = await visibleEvidence(o.pool, p, evidenceId);
        requireOpenForRectification(c.reviewState);
        const out = await accept(req, p, row.deviation_id, c, row);
        reply.code(201);
        return { ...out, replaces: evidenceId };
      },
    );
  });
}
