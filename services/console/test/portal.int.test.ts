// The enterprise portal's API against the real Postgres: invitations (scope, one-time, expiry, audit),
// and what an enterprise user may see and do.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASES, createWorld, http, loginAs as login, sendAs, type Session, type World } from './fixture.js';

let w: World;
let dir: string;
const MAX = 64 * 1024;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portal-evidence-'));
  w = await createWorld({ portal: { evidence: { dir, maxBytes: MAX } } });
});
afterAll(async () => {
  await w?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  code?: string;
  field?: string;
  message?: string;
  token?: string;
  link?: string;
  enterpriseName?: string;
  user?: { username: string; enterpriseId: string | null; role?: string };
  items?: Record<string, unknown>[];
  state?: string;
  requestId?: string;
  id?: string;
  sha256?: string;
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const anon = async (method: string, url: string, payload?: object) => {
  const r = await http(w.base, { method, url, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: r.json() as Answer };
};
const count = async (sql: string, params: unknown[] = []) =>
  Number((await w.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

describe('invitations to the enterprise portal', () => {
  it('a district officer invites for its own district only; viewers and enterprise users may not', async () => {
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const other = await send(lanxi, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0002',
      displayName: '王经理',
    });
    expect(other.status).toBe(404);
    expect(other.body.field).toBe('enterpriseId');
    for (const who of ['viewer', 'ent-0003-user']) {
      const s = await login(w.base, who);
      const r = await send(s, 'POST', '/api/portal/invitations', {
        enterpriseId: 'ent-0003',
        displayName: 'x',
      });
      expect(r.status).toBe(403);
    }
    expect(await count('select count(*) as n from portal_invitations')).toBe(0);
    const city = await login(w.base, 'supervisor');
    expect(
      (await send(city, 'POST', '/api/portal/invitations', { enterpriseId: 'ent-0002', displayName: '张' }))
        .status,
    ).toBe(201);
    // The officer lists only its district's invitations.
    expect((await send(lanxi, 'GET', '/api/portal/invitations')).body.items).toEqual([]);
  });

  it('the invitee sets a password once; the account is bound to the enterprise; audited, token never stored', async () => {
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const inv = await send(lanxi, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0003',
      displayName: '环保专员 刘',
      email: 'liu@ent3.example',
    });
    expect(inv.status).toBe(201);
    const token = inv.body.token!;
    expect(inv.body.link).toBe(`/#/invite/${token}`);
    const shown = await anon('GET', `/api/portal/invitations/${token}`);
    expect(shown.status).toBe(200);
    expect(shown.body.enterpriseName).toBeTruthy();

    // Bad input: a short password, a malformed username → field-named 400, nothing saved, still open.
    const short = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'ent3-liu',
      password: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.body.field).toBe('password');
    expect(short.body.message).toMatch(/密码/);
    const badName = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'Bad Name!',
      password: 'a-long-enough-passw0rd',
    });
    expect(badName.body.field).toBe('username');
    const taken = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'viewer',
      password: 'a-long-enough-passw0rd',
    });
    expect(taken.status).toBe(400);
    expect(await count(`select count(*) as n from console_users where username = 'ent3-liu'`)).toBe(0);
    expect(await count('select count(*) as n from portal_invitations where used_at is not null')).toBe(0);

    const ok = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'ent3-liu',
      password: 'a-long-enough-passw0rd',
    });
    expect(ok.status).toBe(201);
    const s = await login(w.base, 'ent3-liu', 'a-long-enough-passw0rd');
    const me = await send(s, 'GET', '/api/session');
    expect(me.body.user).toMatchObject({ role: 'enterprise', enterpriseId: 'ent-0003' });

    // One time only.
    expect((await anon('GET', `/api/portal/invitations/${token}`)).status).toBe(404);
    const again = await anon('POST', `/api/portal/invitations/${token}/accept`, {
      username: 'ent3-other',
      password: 'a-long-enough-passw0rd',
    });
    expect(again.status).toBe(404);
    expect(await count(`select count(*) as n from console_users where username = 'ent3-other'`)).toBe(0);

    const audit = await w.pool.query<{ action: string; actor_name: string; after: unknown }>(
      `select action, actor_name, after from audit_log where action like 'portal.invitation.%' or
         (action = 'user.add' and after->>'username' = 'ent3-liu') order by id`,
    );
    expect(audit.rows.map((r) => [r.action, r.actor_name])).toEqual(
      expect.arrayContaining([
        ['portal.invitation.create', 'officer-dist-lanxi'],
        ['user.add', 'officer-dist-lanxi'],
        ['portal.invitation.accept', 'ent3-liu'],
      ]),
    );
    expect(JSON.stringify(audit.rows)).not.toContain(token);
    expect(await count('select count(*) as n from portal_invitations where token_hash = $1', [token])).toBe(
      0,
    );
  });

  it('an expired invitation is refused', async () => {
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const inv = await send(lanxi, 'POST', '/api/portal/invitations', {
      enterpriseId: 'ent-0003',
      displayName: '赵',
    });
    await w.pool.query(
      `update portal_invitations set created_at = now() - interval '4 days', expires_at = now() - interval '1 hour'
        where id = $1`,
      [(inv.body as { id?: string }).id],
    );
    const r = await anon('POST', `/api/portal/invitations/${inv.body.token}/accept`, {
      username: 'ent3-zhao',
      password: 'a-long-enough-passw0rd',
    });
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/过期.*expired/);
    expect(await count(`select count(*) as n from console_users where username = 'ent3-zhao'`)).toBe(0);
  });
});

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR rest of a photo'),
]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n');
async function upload(s: Session, caseId: string, bytes: Buffer, name: string, type: string) {
  const form = new FormData();
  form.append('note', '更换了滤袋');
  form.append('file', new Blob([bytes], { type }), name);
  const r = await fetch(`${w.base}/api/portal/cases/${encodeURIComponent(caseId)}/evidence`, {
    method: 'POST',
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    body: form,
  });
  return { status: r.status, body: (await r.json()) as Answer };
}
const files = async () => (await readdir(dir)).length;
const future = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

describe('what an enterprise user sees', () => {
  it('only its own cases, never suspected falsification, internal comments or supervisors’ notifications', async () => {
    const officer = await login(w.base, 'officer-dist-lanxi');
    await send(officer, 'POST', `/api/deviations/${CASES.lanxi}/actions`, {
      action: 'comment',
      body: '内部意见：疑似故意',
    });
    const ent = await login(w.base, 'ent-0003-user');
    const list = await send(ent, 'GET', '/api/deviations?pageSize=200');
    const ids = (list.body.items ?? []).map((c) => c.id);
    expect(ids).toContain(CASES.lanxi);
    expect(ids).not.toContain(CASES.falsified);
    expect(ids).not.toContain(CASES.landong);
    const one = await send(ent, 'GET', `/api/portal/cases/${CASES.lanxi}`);
    expect(one.status).toBe(200);
    const c = (
      one.body as unknown as {
        case: { comments: unknown[]; assignee: unknown; notifications: { recipientKind: string }[] };
      }
    ).case;
    expect(c.comments).toEqual([]);
    expect(c.assignee).toBeNull();
    expect(c.notifications.every((n) => n.recipientKind === 'enterprise-contact')).toBe(true);
    expect(JSON.stringify(one.body)).not.toContain('内部意见');
    for (const id of [CASES.falsified, CASES.landong])
      expect((await send(ent, 'GET', `/api/portal/cases/${id}`)).status).toBe(404);
    // Another enterprise's data in the data browser: 404 naming the enterprise.
    const data = await send(
      ent,
      'GET',
      '/api/data/series?enterprise=ent-0002&site=out-0002-g1&granularity=hour&from=2026-03-02T00:00:00Z&to=2026-03-02T08:00:00Z',
    );
    expect(data.status).toBe(404);
    expect(data.body.field).toBe('enterprise');
    // An officer of another district does not see the case either.
    const landong = await login(w.base, 'officer-dist-landong');
    expect((await send(landong, 'GET', `/api/portal/cases/${CASES.lanxi}`)).status).toBe(404);
  });
});

describe('acknowledging a case with an explanation and a planned fix time', () => {
  it('refuses a fix time in the past or without offset, naming the field; nothing saved', async () => {
    const ent = await login(w.base, 'ent-0003-user');
    for (const plannedFixAt of [new Date(Date.now() - 60_000).toISOString(), '2030-01-01T08:00:00']) {
      const r = await send(ent, 'POST', `/api/portal/cases/${CASES.lanxi}/ack`, {
        explanation: '设备故障，已联系运维',
        plannedFixAt,
      });
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('plannedFixAt');
      expect(r.body.message).toMatch(/[\u4e00-\u9fff].*plannedFixAt: /);
    }
    expect(
      await count(
        `select count(*) as n from review_states where deviation_id = $1 and (enterprise_ack_at is not null or enterprise_planned_fix_at is not null)`,
        [CASES.lanxi],
      ),
    ).toBe(0);
    const officer = await login(w.base, 'officer-dist-lanxi');
    expect(
      (
        await send(officer, 'POST', `/api/portal/cases/${CASES.lanxi}/ack`, {
          explanation: '代为确认',
          plannedFixAt: future(24),
        })
      ).status,
    ).toBe(403);
  });

  it('saves the explanation and planned fix time, audited; supervisors see them', async () => {
    const ent = await login(w.base, 'ent-0003-user');
    const at = future(48);
    const r = await send(ent, 'POST', `/api/portal/cases/${CASES.lanxi}/ack`, {
      explanation: '设备故障，已联系运维',
      plannedFixAt: at,
    });
    expect(r.status).toBe(200);
    const officer = await login(w.base, 'officer-dist-lanxi');
    const seen = (await send(officer, 'GET', `/api/portal/cases/${CASES.lanxi}`)).body as unknown as {
      case: { enterpriseAck: { note: string; by: string } };
      plannedFixAt: string;
    };
    expect(seen.case.enterpriseAck).toMatchObject({ note: '设备故障，已联系运维', by: 'ent-0003-user' });
    expect(seen.plannedFixAt).toBe(at);
    expect(
      await count(
        `select count(*) as n from audit_log where action = 'case.enterprise-ack' and after->>'plannedFixAt' = $1`,
        [at],
      ),
    ).toBe(1);
  });
});

describe('rectification evidence', () => {
  it('stores a photo and a PDF with their checksums, served back as attachments only in scope', async () => {
    const ent = await login(w.base, 'ent-0003-user');
    const png = await upload(ent, CASES.lanxi, PNG, '整改照片.png', 'image/png');
    expect(png.status).toBe(201);
    expect(png.body.sha256).toBe(createHash('sha256').update(PNG).digest('hex'));
    // Told by content: a PDF sent as "photo.jpg" with an image type is stored as a PDF.
    const pdf = await upload(ent, CASES.lanxi, PDF, 'photo.jpg', 'image/jpeg');
    expect(pdf.status).toBe(201);
    expect(
      (
        await w.pool.query('select media_type, size_bytes, sha256 from portal_evidence where id = $1', [
          pdf.body.id,
        ])
      ).rows[0],
    ).toEqual({
      media_type: 'application/pdf',
      size_bytes: PDF.length,
      sha256: createHash('sha256').update(PDF).digest('hex'),
    });
    expect(await files()).toBe(2);

    for (const who of ['ent-0003-user', 'officer-dist-lanxi', 'supervisor']) {
      const s = await login(w.base, who);
      const r = await fetch(`${w.base}/api/portal/evidence/${png.body.id}`, {
        headers: { cookie: s.cookie },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-disposition')).toMatch(
        /^attachment; filename="evidence-\d+\.png"; filename\*=UTF-8''/,
      );
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await r.arrayBuffer()).equals(PNG)).toBe(true);
    }
    const landong = await login(w.base, 'officer-dist-landong');
    const out = await fetch(`${w.base}/api/portal/evidence/${png.body.id}`, {
      headers: { cookie: landong.cookie },
    });
    expect(out.status).toBe(404);
    const listed = (await send(ent, 'GET', `/api/portal/cases/${CASES.lanxi}`)).body as unknown as {
      evidence: { fileName: string }[];
    };
    expect(listed.evidence.map((e) => e.fileName)).toEqual(['整改照片.png', 'photo.jpg']);
  });

  it('refuses a wrong type, a file too large, another case and other roles; nothing saved', async () => {
    const ent = await login(w.base, 'ent-0003-user');
    const before = await count('select count(*) as n from portal_evidence');
    const filesBefore = await files();
    const html = await upload(
      ent,
      CASES.lanxi,
      Buffer.from('<html><script>alert(1)</script>'),
      'x.png',
      'image/png',
    );
    expect(html.status).toBe(400);
    expect(html.body.field).toBe('file');
    expect(html.body.message).toMatch(/JPEG.*\/ file: only JPEG/);
    const big = await upload(
      ent,
      CASES.lanxi,
      Buffer.concat([PNG, Buffer.alloc(MAX)]),
      'big.png',
      'image/png',
    );
    expect(big.status).toBe(400);
    expect(big.body.field).toBe('file');
    expect(big.body.message).toMatch(/MB/);
    expect((await upload(ent, CASES.falsified, PNG, 'a.png', 'image/png')).status).toBe(404);
    expect((await upload(ent, CASES.landong, PNG, 'a.png', 'image/png')).status).toBe(404);
    const officer = await login(w.base, 'officer-dist-lanxi');
    expect((await upload(officer, CASES.lanxi, PNG, 'a.png', 'image/png')).status).toBe(403);
    const json = await send(ent, 'POST', `/api/portal/cases/${CASES.lanxi}/evidence`, { file: 'x' });
    expect(json.status).toBe(400);
    expect(await count('select count(*) as n from portal_evidence')).toBe(before);
    expect(await files()).toBe(filesBefore);
  });
});

describe('declarations from the portal (policy: an officer confirms)', () => {
  it('a maintenance window waits for an officer of the district; the registry changes only then', async () => {
    const ent = await login(w.base, 'ent-0003-user');
    const r = await send(ent, 'POST', '/api/enterprises/ent-0003/maintenance', {
      outletId: 'out-0003-w1',
      startsAt: future(2),
      endsAt: future(4),
      reason: '在线监测设备年度检修',
    });
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('pending');
    expect(
      await count(`select count(*) as n from maintenance_windows where enterprise_id = 'ent-0003'`),
    ).toBe(0);
    // Not another enterprise's, and no other kind of registry edit.
    expect(
      (
        await send(ent, 'POST', '/api/enterprises/ent-0002/maintenance', {
          outletId: 'out-0002-g1',
          startsAt: future(2),
          endsAt: future(4),
          reason: 'x',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await send(ent, 'PUT', '/api/enterprises/ent-0003/limits', {
          outletId: 'out-0003-w1',
          factorCode: 'w01018',
          basis: 'daily',
          value: 999,
        })
      ).status,
    ).toBe(403);
    const landong = await login(w.base, 'officer-dist-landong');
    const decide = { approve: true, note: '已核实' };
    expect(
      (await send(landong, 'POST', `/api/registry-changes/${r.body.requestId}/decision`, decide)).status,
    ).toBe(404);
    const lanxi = await login(w.base, 'officer-dist-lanxi');
    const ok = await send(lanxi, 'POST', `/api/registry-changes/${r.body.requestId}/decision`, decide);
    expect(ok.status).toBe(200);
    expect(
      await count(`select count(*) as n from maintenance_windows where enterprise_id = 'ent-0003'`),
    ).toBe(1);
    expect(
      (
        await w.pool.query(
          `select action, actor_name from audit_log where action like 'registry.maintenance.%' and entity_id = 'ent-0003' order by id`,
        )
      ).rows,
    ).toEqual([
      { action: 'registry.maintenance.requested', actor_name: 'ent-0003-user' },
      { action: 'registry.maintenance.approved', actor_name: 'officer-dist-lanxi' },
    ]);
  });

  it('an officer still cannot approve a relaxing change of its own district', async () => {
    const officer = await login(w.base, 'officer-dist-lanxi');
    const raise = await send(officer, 'PUT', '/api/enterprises/ent-0003/limits', {
      outletId: 'out-0003-w1',
      factorCode: 'w01018',
      basis: 'daily',
      value: 999,
    });
    expect(raise.body.state).toBe('pending');
    const other = await login(w.base, 'officer-dist-lanxi');
    expect(
      (
        await send(other, 'POST', `/api/registry-changes/${raise.body.requestId}/decision`, {
          approve: true,
          note: 'x',
        })
      ).status,
    ).toBe(403);
  });
});

describe('declarations from the portal (policy: immediate)', () => {
  let w2: World;
  beforeAll(async () => {
    w2 = await createWorld({
      registryEdit: { maintenanceApprovalHours: 24, enterpriseDeclarations: 'immediate' },
    });
  });
  afterAll(async () => {
    await w2?.close();
  });
  it('a shutdown takes effect at once, audited as the enterprise user', async () => {
    const ent = await login(w2.base, 'ent-0003-user');
    const r = await sendAs<Answer>(w2.base, ent, 'POST', '/api/enterprises/ent-0003/status', {
      status: 'shutdown',
      effectiveFrom: new Date().toISOString(),
      note: '计划停产检修',
    });
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('applied');
    const e = await w2.pool.query(`select status from enterprises where id = 'ent-0003'`);
    expect(e.rows[0]).toEqual({ status: 'shutdown' });
    const a = await w2.pool.query(
      `select actor_name from audit_log where action = 'registry.status' and entity_id = 'ent-0003'`,
    );
    expect(a.rows).toEqual([{ actor_name: 'ent-0003-user' }]);
  });
});
