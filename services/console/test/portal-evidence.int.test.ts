// Withdrawing and replacing rectification evidence against the real Postgres and a real directory:
// kept on record as superseded (officers see it, the enterprise no longer), audited, only the
// enterprise's own and only while the case is open; bad input changes nothing. And the sweep that
// settles the files a crash left between writing a file and committing its row.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upsertUser } from '../src/auth.js';
import { storeEvidenceFile, sweepEvidenceDir } from '../src/portal-evidence-store.js';
import {
  CASES,
  createWorld,
  loginAs as login,
  PASSWORD,
  sendAs,
  type Session,
  type World,
} from './fixture.js';

let w: World;
let dir: string;
const MAX = 64 * 1024;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portal-evidence-'));
  w = await createWorld({ portal: { evidence: { dir, maxBytes: MAX } } });
  await upsertUser(w.pool, {
    username: 'ent-0002-user',
    displayName: '澜东企业用户',
    role: 'enterprise',
    enterpriseId: 'ent-0002',
    password: PASSWORD,
  });
});
afterAll(async () => {
  await w?.close();
  await rm(dir, { recursive: true, force: true });
});

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('before'),
]);
const PDF = Buffer.from('%PDF-1.7\n% after the repair\n%%EOF\n');
interface Evidence {
  id: string;
  fileName: string;
  supersededAt?: string | null;
  replacedBy?: string | null;
}
interface Answer {
  id?: string;
  code?: string;
  field?: string;
  message?: string;
  evidence?: Evidence[];
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
async function post(s: Session, url: string, bytes: Buffer, name: string) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const r = await fetch(`${w.base}${url}`, {
    method: 'POST',
    body: form,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  return { status: r.status, body: (await r.json()) as Answer };
}
const upload = (s: Session, caseId: string, bytes: Buffer, name: string) =>
  post(s, `/api/portal/cases/${caseId}/evidence`, bytes, name);
const replace = (s: Session, id: string, bytes: Buffer, name: string) =>
  post(s, `/api/portal/evidence/${id}/replace`, bytes, name);
const listed = async (s: Session, caseId: string) =>
  (await send(s, 'GET', `/api/portal/cases/${caseId}`)).body.evidence ?? [];
const download = async (s: Session, id: string) =>
  (await fetch(`${w.base}/api/portal/evidence/${id}`, { headers: { cookie: s.cookie } })).status;
const rows = async () =>
  (
    await w.pool.query<{ id: string; superseded: boolean }>(
      'select id::text as id, superseded_at is not null as superseded from portal_evidence order by id',
    )
  ).rows;
const audits = async (action: string) =>
  (await w.pool.query('select before, after from audit_log where action = $1 order by id', [action])).rows;

it('replacing keeps the old file on record as superseded: officers see it, the enterprise no longer', async () => {
  const ent = await login(w.base, 'ent-0003-user');
  const old = await upload(ent, CASES.lanxi, PNG, '整改前.png');
  expect(old.status).toBe(201);
  const neu = await replace(ent, old.body.id!, PDF, '整改报告.pdf');
  expect(neu.status).toBe(201);
  expect((await listed(ent, CASES.lanxi)).map((e) => e.fileName)).toEqual(['整改报告.pdf']);
  expect(await download(ent, old.body.id!)).toBe(404);
  expect(await download(ent, neu.body.id!)).toBe(200);

  const officer = await login(w.base, 'officer-dist-lanxi');
  const seen = await listed(officer, CASES.lanxi);
  expect(seen.map((e) => [e.fileName, e.replacedBy ?? null, Boolean(e.supersededAt)])).toEqual([
    ['整改前.png', neu.body.id, true],
    ['整改报告.pdf', null, false],
  ]);
  expect(await download(officer, old.body.id!)).toBe(200);
  expect((await readdir(dir)).filter((f) => !f.endsWith('.part'))).toHaveLength(2);
  expect(await audits('case.evidence.replace')).toEqual([
    {
      before: {
        evidenceId: old.body.id,
        fileName: '整改前.png',
        sha256: createHash('sha256').update(PNG).digest('hex'),
      },
      after: expect.objectContaining({ evidenceId: neu.body.id, fileName: '整改报告.pdf' }),
    },
  ]);

  // Withdrawn: hidden from the enterprise, kept for officers, audited; a second withdrawal finds nothing.
  const del = await send(ent, 'DELETE', `/api/portal/evidence/${neu.body.id}`);
  expect(del.status).toBe(200);
  expect(await listed(ent, CASES.lanxi)).toEqual([]);
  expect((await listed(officer, CASES.lanxi)).every((e) => e.supersededAt)).toBe(true);
  expect(await audits('case.evidence.withdraw')).toHaveLength(1);
  expect((await send(ent, 'DELETE', `/api/portal/evidence/${neu.body.id}`)).status).toBe(404);
  expect((await replace(ent, old.body.id!, PNG, 'x.png')).status).toBe(404);
  expect((await readdir(dir)).filter((f) => !f.endsWith('.part'))).toHaveLength(2);
});

it('another enterprise’s evidence is not found; officers cannot withdraw; bad files change nothing', async () => {
  const other = await login(w.base, 'ent-0002-user');
  const theirs = await upload(other, CASES.landong, PNG, 'theirs.png');
  expect(theirs.status).toBe(201);
  const ent = await login(w.base, 'ent-0003-user');
  const mine = await upload(ent, CASES.lanxi, PNG, 'mine.png');
  const before = await rows();
  const filesBefore = (await readdir(dir)).length;

  expect((await send(ent, 'DELETE', `/api/portal/evidence/${theirs.body.id}`)).status).toBe(404);
  expect((await replace(ent, theirs.body.id!, PDF, 'x.pdf')).status).toBe(404);
  expect(await download(ent, theirs.body.id!)).toBe(404);
  expect((await send(ent, 'DELETE', '/api/portal/evidence/999999')).status).toBe(404);
  const officer = await login(w.base, 'officer-dist-lanxi');
  expect((await send(officer, 'DELETE', `/api/portal/evidence/${mine.body.id}`)).status).toBe(403);

  const html = await replace(ent, mine.body.id!, Buffer.from('<html><script>x</script>'), 'x.png');
  expect(html.status).toBe(400);
  expect(html.body.field).toBe('file');
  expect(html.body.message).toMatch(/^file：仅接受 JPEG、PNG 照片或 PDF 文件 \/ file: only JPEG/);
  const big = await replace(ent, mine.body.id!, Buffer.concat([PNG, Buffer.alloc(MAX)]), 'big.png');
  expect(big.status).toBe(400);
  expect(big.body.field).toBe('file');
  expect(await rows()).toEqual(before);
  expect((await readdir(dir)).length).toBe(filesBefore);
});

it('once the officer has decided the case, its evidence no longer changes', async () => {
  const ent = await login(w.base, 'ent-0003-user');
  const mine = await upload(ent, CASES.lanxi, PNG, 'late.png');
  const officer = await login(w.base, 'officer-dist-lanxi');
  expect(
    (
      await send(officer, 'POST', `/api/deviations/${CASES.lanxi}/actions`, {
        action: 'dismiss',
        reason: '已整改到位',
      })
    ).status,
  ).toBe(200);
  const before = await rows();
  const del = await send(ent, 'DELETE', `/api/portal/evidence/${mine.body.id}`);
  expect(del.status).toBe(409);
  expect(del.body.message).toMatch(/案件已办结.* \/ the case is closed/);
  expect((await replace(ent, mine.body.id!, PDF, 'x.pdf')).status).toBe(409);
  expect((await upload(ent, CASES.lanxi, PDF, 'y.pdf')).status).toBe(409);
  expect(await rows()).toEqual(before);
});

describe('no orphan evidence file', () => {
  it('a failed commit leaves no file; the sweep renames a committed .part and removes what has no row', async () => {
    const sweepDir = await mkdtemp(join(tmpdir(), 'portal-sweep-'));
    try {
      await expect(
        storeEvidenceFile(sweepDir, PNG, () => Promise.reject(new Error('insert failed'))),
      ).rejects.toThrow('insert failed');
      expect(await readdir(sweepDir)).toEqual([]);

      // What a crash leaves: a committed row whose file still has its temporary name, a .part and a
      // final file without a row; and a young .part (an upload in flight) and a file not ours.
      const key = (n: number) => n.toString(16).padStart(32, 'a');
      const user = (
        await w.pool.query<{ id: string }>(`select id from console_users where username = 'ent-0003-user'`)
      ).rows[0]!.id;
      await w.pool.query(
        `insert into portal_evidence (deviation_id, enterprise_id, district_id, file_name, media_type, size_bytes,
                                      sha256, storage_key, uploaded_by)
         values ($1, 'ent-0003', 'dist-lanxi', 'crash.png', 'image/png', $2, $3, $4, $5)`,
        [CASES.lanxi, PNG.length, createHash('sha256').update(PNG).digest('hex'), key(1), user],
      );
      const names = [`${key(1)}.part`, `${key(2)}.part`, key(3), `${key(4)}.part`, 'README.txt'];
      for (const n of names) await writeFile(join(sweepDir, n), PNG);
      const hourAgo = new Date(Date.now() - 3_600_000);
      for (const n of names.filter((n) => n !== `${key(4)}.part`))
        await utimes(join(sweepDir, n), hourAgo, hourAgo);

      const r = await sweepEvidenceDir(w.pool, sweepDir, { olderThanMs: 30 * 60_000 });
      expect(r).toEqual({ completed: [key(1)], removed: expect.arrayContaining([`${key(2)}.part`, key(3)]) });
      expect(r.removed).toHaveLength(2);
      expect((await readdir(sweepDir)).sort()).toEqual([key(1), `${key(4)}.part`, 'README.txt'].sort());
      // A second sweep has nothing left to do.
      expect(await sweepEvidenceDir(w.pool, sweepDir, { olderThanMs: 30 * 60_000 })).toEqual({
        completed: [],
        removed: [],
      });
    } finally {
      await rm(sweepDir, { recursive: true, force: true });
    }
  });
});
