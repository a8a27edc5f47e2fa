import pg from 'pg';
import { importRegistry, listenRegistryChanges } from '@offsite/store';
import { silentLogger } from '@offsite/testing';
import { createWorld, sendAs, examplePath, loginAs as login, type Session, type World } from './fixture.js';

let w: World;
beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await w?.close();
});

const loginAs = (u: string) => login(w.base, u);
/** The fields of the answers these tests read. */
interface Answer {
  state?: string;
  requestId?: string;
  password?: string;
  code?: string;
  field?: string;
  message?: string;
  items?: { id: string }[];
  timeline?: { status: string; resumptionDate: string | null }[];
}
const send = (s: Session, method: string, url: string, payload?: object) =>
  sendAs<Answer>(w.base, s, method, url, payload);
const GAS_MN = '99010202FG00020000000001';
const one = async (sql: string, params: unknown[] = []) => (await w.pool.query(sql, params)).rows[0];

describe('registry upkeep by the district officer', () => {
  it('records a resumption with its date: audited before → after, and the running services are told', async () => {
    const s = await loginAs('officer-dist-landong');
    const listener = new pg.Client({
      connectionString: process.env.OFFSITE_PG_URL,
      options: `-c search_path=${w.schema}`,
    });
    await listener.connect();
    const heard: string[] = [];
    await listenRegistryChanges(listener, w.schema, (c) => heard.push(c.table));
    const r = await send(s, 'POST', '/api/enterprises/ent-0002/status', {
      status: 'resuming',
      effectiveFrom: '2026-03-05T08:00:00+08:00',
      resumptionDate: '2026-03-05',
      note: '企业电话报告复产',
    });
    expect(r).toEqual({ status: 200, body: { state: 'applied' } });
    expect(await one(`select status from enterprises where id = 'ent-0002'`)).toEqual({ status: 'resuming' });
    const e = (await send(s, 'GET', '/api/enterprises/ent-0002')).body;
    expect(e.timeline!.at(-1)).toMatchObject({ status: 'resuming', resumptionDate: '2026-03-05' });
    const a = await one(
      `select actor_name, before, after from audit_log where action = 'registry.status' and entity_id = 'ent-0002'`,
    );
    expect(a).toEqual({
      actor_name: 'officer-dist-landong',
      before: { status: { status: 'normal' } },
      after: {
        status: {
          status: 'resuming',
          effectiveFrom: '2026-03-05T00:00:00.000Z',
          resumptionDate: '2026-03-05',
        },
      },
    });
    // NOTIFY is delivered at commit; a round trip on the listener reads it.
    await listener.query('select 1');
    expect(heard).toEqual(expect.arrayContaining(['enterprise_status_timeline', 'enterprises']));
    await listener.end();
  });

  it('edits contacts, a meter’s links, a device’s intervals and rotates its PW, each audited', async () => {
    const s = await loginAs('officer-dist-landong');
    const add = await send(s, 'POST', '/api/enterprises/ent-0002/contacts', {
      name: '王芳',
      role: 'operator',
      phone: '13800000299',
    });
    expect(add.status).toBe(200);
    const c = await one(`select id::text from contacts where enterprise_id = 'ent-0002' and name = '王芳'`);
    expect(
      (
        await send(s, 'PUT', `/api/enterprises/ent-0002/contacts/${c.id}`, {
          name: '王芳',
          role: 'operator',
          email: 'wf@x.example',
        })
      ).status,
    ).toBe(200);
    expect(await one(`select phone, email from contacts where id = $1`, [c.id])).toEqual({
      phone: null,
      email: 'wf@x.example',
    });
    const m = await send(s, 'PATCH', '/api/enterprises/ent-0002/meters/mtr-0002-t1', {
      facilities: [{ outletId: 'out-0002-g1', code: 'SB2' }],
    });
    expect(m.status).toBe(200);
    expect(
      (await w.pool.query(`select outlet_id, code from meter_facilities where meter_id = 'mtr-0002-t1'`))
        .rows,
    ).toEqual([{ outlet_id: 'out-0002-g1', code: 'SB2' }]);
    const d = await send(s, 'PATCH', `/api/enterprises/ent-0002/devices/${GAS_MN}`, {
      minuteIntervalS: 300,
      rotatePassword: true,
    });
    expect(d.status).toBe(200);
    expect(d.body.password).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(await one(`select password, minute_interval_s from devices where mn = $1`, [GAS_MN])).toEqual({
      password: d.body.password,
      minute_interval_s: 300,
    });
    const audit = await one(
      `select before, after from audit_log where action = 'registry.device' order by id desc limit 1`,
    );
    expect(audit.after).toEqual({ device: { mn: GAS_MN, minuteIntervalS: 300, password: 'rotated' } });
    expect(JSON.stringify(audit)).not.toContain(d.body.password);
  });

  it('sets, keeps and removes a contact’s WeChat openid, checked and audited', async () => {
    const s = await loginAs('officer-dist-landong');
    const c = await one(`select id::text from contacts where enterprise_id = 'ent-0002' and name = '王芳'`);
    const put = (body: object) => send(s, 'PUT', `/api/enterprises/ent-0002/contacts/${c.id}`, body);
    const base = { name: '王芳', role: 'operator', email: 'wf@x.example' };
    const bad = await put({ ...base, wechatOpenid: 'o-x y' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'wechatOpenid' });
    expect(bad.body.message).toContain('openid');
    expect(await one(`select wechat_openid from contacts where id = $1`, [c.id])).toEqual({
      wechat_openid: null,
    });
    const openid = 'oAbCdEf_0123456789-xyzQW';
    expect((await put({ ...base, wechatOpenid: ` ${openid} ` })).status).toBe(200);
    // Absent keeps it (an older form), null removes it.
    expect((await put({ ...base, phone: '13800000299' })).status).toBe(200);
    const e = (await send(s, 'GET', '/api/enterprises/ent-0002')).body as unknown as {
      contacts: { id: string; wechatOpenid: string | null }[];
    };
    expect(e.contacts.find((x) => x.id === c.id)?.wechatOpenid).toBe(openid);
    expect((await put({ ...base, wechatOpenid: null })).status).toBe(200);
    expect(await one(`select wechat_openid from contacts where id = $1`, [c.id])).toEqual({
      wechat_openid: null,
    });
    const trail = (
      await w.pool.query<{ before: { wechatOpenid?: unknown }; after: { wechatOpenid?: unknown } }>(
        `select before, after from audit_log where action = 'registry.contact' and entity_id = 'ent-0002' order by id`,
      )
    ).rows.map((r) => [JSON.stringify(r.before).includes(openid), JSON.stringify(r.after).includes(openid)]);
    // The last three edits: set (after has it), kept (both), removed (before has it).
    expect(trail.slice(-3)).toEqual([
      [false, true],
      [true, true],
      [true, false],
    ]);
  });

  it('refuses another district’s enterprise with 404 for every kind of change, and a viewer with 403', async () => {
    const s = await loginAs('officer-dist-landong');
    const lanxi = [
      [
        'POST',
        '/api/enterprises/ent-0003/status',
        { status: 'shutdown', effectiveFrom: '2026-03-05T00:00:00Z' },
      ],
      ['POST', '/api/enterprises/ent-0003/contacts', { name: 'x', role: 'contact', phone: '13800000000' }],
      [
        'PUT',
        '/api/enterprises/ent-0003/limits',
        { outletId: 'out-0003-w1', factorCode: 'w01018', basis: 'daily', value: 10 },
      ],
      ['PATCH', '/api/enterprises/ent-0003/devices/99010301WW00030000000001', { enabled: true }],
      ['PATCH', '/api/enterprises/ent-0003', { address: 'x' }],
    ] as const;
    for (const [method, url, body] of lanxi)
      expect([url, (await send(s, method, url, body)).status]).toEqual([url, 404]);
    const v = await loginAs('viewer');
    expect(
      (
        await send(v, 'POST', '/api/enterprises/ent-0002/contacts', {
          name: 'x',
          role: 'contact',
          phone: '13800000000',
        })
      ).status,
    ).toBe(403);
    expect(await one(`select count(*)::int as n from contacts where name = 'x'`)).toEqual({ n: 0 });
  });

  it('answers bad input with a bilingual error naming the field, and saves nothing', async () => {
    const s = await loginAs('officer-dist-landong');
    const cases = [
      // Another device's MN.
      [
        'PATCH',
        `/api/enterprises/ent-0002/devices/${GAS_MN}`,
        { newMn: '99010201FG00010000000001' },
        'newMn',
      ],
      // mg/L does not fit a gas outlet.
      [
        'PUT',
        '/api/enterprises/ent-0002/limits',
        { outletId: 'out-0002-g1', factorCode: 'a21026', basis: 'hourly', value: 40, unit: 'mg/L' },
        'unit',
      ],
      // A local time without its offset.
      [
        'POST',
        '/api/enterprises/ent-0002/status',
        { status: 'shutdown', effectiveFrom: '2026-03-06T08:00:00' },
        'effectiveFrom',
      ],
      [
        'POST',
        '/api/enterprises/ent-0002/status',
        { status: 'resuming', effectiveFrom: '2026-03-06T08:00:00Z' },
        'resumptionDate',
      ],
      [
        'POST',
        '/api/enterprises/ent-0002/maintenance',
        { deviceMn: GAS_MN, startsAt: '2026-03-06 08:00', endsAt: '2026-03-06T10:00:00Z', reason: '校准' },
        'startsAt',
      ],
    ] as const;
    const before = await one(`select count(*)::int as audit from audit_log`);
    for (const [method, url, body, field] of cases) {
      const r = await send(s, method, url, body);
      expect([field, r.status, r.body.code, r.body.field]).toEqual([field, 400, 'INVALID_INPUT', field]);
      expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
      expect(r.body.message).toMatch(/[a-z]{3,} /);
    }
    expect(await one(`select count(*)::int as audit from audit_log`)).toEqual(before);
    expect(
      await one(
        `select unit, value::float8 as value from permit_limits where outlet_id = 'out-0002-g1' and factor_code = 'a21026'`,
      ),
    ).toEqual({
      unit: 'mg/m3',
      value: 50,
    });
  });
});

describe('a change that relaxes supervision waits for a second person at city level', () => {
  it('a raised limit has no effect until a city supervisor approves it; the requester cannot approve', async () => {
    const s = await loginAs('officer-dist-landong');
    const r = await send(s, 'PUT', '/api/enterprises/ent-0002/limits', {
      outletId: 'out-0002-g1',
      factorCode: 'a21026',
      basis: 'hourly',
      value: 80,
    });
    expect(r.body).toMatchObject({ state: 'pending', requestId: expect.any(String) });
    const limit = `select value::float8 as value from permit_limits where outlet_id = 'out-0002-g1' and factor_code = 'a21026' and basis = 'hourly'`;
    expect(await one(limit)).toEqual({ value: 50 });
    const id = r.body.requestId as string;
    // An officer cannot decide; nor can the person who asked, even at city level.
    expect(
      (await send(s, 'POST', `/api/registry-changes/${id}/decision`, { approve: true, note: 'ok' })).status,
    ).toBe(403);
    const sup = await loginAs('supervisor');
    const own = await send(sup, 'PUT', '/api/enterprises/ent-0002/limits', {
      outletId: 'out-0002-g1',
      factorCode: 'a21002',
      basis: 'hourly',
      value: 200,
    });
    expect(own.body.state).toBe('pending');
    expect(
      (
        await send(sup, 'POST', `/api/registry-changes/${own.body.requestId}/decision`, {
          approve: true,
          note: 'x',
        })
      ).status,
    ).toBe(403);
    expect(
      (await send(s, 'GET', '/api/registry-changes?state=pending')).body.items!.map((i) => i.id).sort(),
    ).toEqual([id, own.body.requestId].sort());
    const ok = await send(sup, 'POST', `/api/registry-changes/${id}/decision`, {
      approve: true,
      note: '经核实排污许可证已变更',
    });
    expect(ok).toEqual({ status: 200, body: { state: 'approved' } });
    expect(await one(limit)).toEqual({ value: 80 });
    expect(
      (await send(sup, 'POST', `/api/registry-changes/${id}/decision`, { approve: true, note: 'again' }))
        .status,
    ).toBe(409);
    const a = await one(`select actor_name, after from audit_log where action = 'registry.limit.approved'`);
    expect(a).toMatchObject({ actor_name: 'supervisor', after: { state: 'approved', limit: { value: 80 } } });
  });

  it('a disabled device stays enabled when the request is rejected; a long maintenance window waits, a short one applies', async () => {
    const s = await loginAs('officer-dist-landong');
    const dev = `/api/enterprises/ent-0001/devices/99010201FG00010000000001`;
    const r = await send(s, 'PATCH', dev, { enabled: false });
    expect(r.body.state).toBe('pending');
    expect(await one(`select enabled from devices where mn = '99010201FG00010000000001'`)).toEqual({
      enabled: true,
    });
    const admin = await loginAs('admin');
    expect(
      (
        await send(admin, 'POST', `/api/registry-changes/${r.body.requestId}/decision`, {
          approve: false,
          note: '未提供停用依据',
        })
      ).body,
    ).toEqual({
      state: 'rejected',
    });
    expect(await one(`select enabled from devices where mn = '99010201FG00010000000001'`)).toEqual({
      enabled: true,
    });
    const declare = (from: string, to: string, reason: string) =>
      send(s, 'POST', '/api/enterprises/ent-0001/maintenance', {
        outletId: 'out-0001-g1',
        startsAt: from,
        endsAt: to,
        reason,
      });
    const long = await declare('2026-03-10T00:00:00+08:00', '2026-03-12T00:00:00+08:00', '脱硫塔大修');
    expect(long.body.state).toBe('pending');
    const short = await declare('2026-03-10T08:00:00+08:00', '2026-03-10T12:00:00+08:00', 'CEMS 校准');
    expect(short.body.state).toBe('applied');
    const windows = (
      await w.pool.query(
        `select id, source from maintenance_windows where enterprise_id = 'ent-0001' and reason in ('脱硫塔大修', 'CEMS 校准')`,
      )
    ).rows;
    expect(windows).toEqual([{ id: expect.any(String), source: 'console' }]);
    // Ending it early is a tightening: at once.
    const end = await send(s, 'POST', `/api/enterprises/ent-0001/maintenance/${windows[0].id}/end`, {
      endsAt: '2026-03-10T10:00:00+08:00',
    });
    expect(end.body.state).toBe('applied');
    expect(await one(`select ends_at from maintenance_windows where id = $1`, [windows[0].id])).toEqual({
      ends_at: new Date('2026-03-10T02:00:00Z'),
    });
  });
});

describe('a meter change that relaxes the treatment rules waits for a second person at city level', () => {
  it('unlinking a treatment meter from its production meter, dropping a facility link or raising a production rating waits; adding a link applies', async () => {
    const s = await loginAs('officer-dist-landong');
    // The link the test above recorded, kept: adding one is a tightening, applied at once.
    const SB2 = [{ outletId: 'out-0002-g1', code: 'SB2' }];
    const meter = (id: string, body: object) =>
      send(s, 'PATCH', `/api/enterprises/ent-0002/meters/${id}`, body);
    expect(
      (await meter('mtr-0002-t1', { facilities: [...SB2, { outletId: 'out-0002-g1', code: 'SB7' }] })).body
        .state,
    ).toBe('applied');
    // A first configured rating (the rule derived one before) applies at once.
    expect((await meter('mtr-0002-p1', { ratedWindowKwh: 50 })).body.state).toBe('applied');
    const links = async () =>
      (await w.pool.query(`select code from meter_facilities where meter_id = 'mtr-0002-t1' order by 1`))
        .rows;
    const cases: [string, object][] = [
      ['mtr-0002-t1', { servesMeterId: null }],
      ['mtr-0002-t1', { facilities: [] }],
      ['mtr-0002-p1', { ratedWindowKwh: 1e6 }],
    ];
    const before = await w.pool.query(
      `select id, serves_meter_id, rated_window_kwh from meters where enterprise_id = 'ent-0002' order by id`,
    );
    for (const [id, body] of cases) {
      const r = await meter(id, body);
      expect([r.status, r.body.state]).toEqual([200, 'pending']);
    }
    // Nothing took effect before the approval.
    expect(
      (
        await w.pool.query(
          `select id, serves_meter_id, rated_window_kwh from meters where enterprise_id = 'ent-0002' order by id`,
        )
      ).rows,
    ).toEqual(before.rows);
    expect(await links()).toEqual([{ code: 'SB2' }, { code: 'SB7' }]);
    const pending = await w.pool.query<{ id: string; relaxes: string }>(
      `select id::text, relaxes from registry_change_requests where enterprise_id = 'ent-0002' and kind = 'meter' and state = 'pending' order by id`,
    );
    expect(pending.rows.map((r) => r.relaxes)).toEqual([
      '治理设施电表不再关联原生产电表 / the treatment meter no longer serves its production meter',
      '移除设施运行状态关联 / facility status link removed',
      '生产电表额定时段电量调高 / production meter’s rated window energy raised',
    ]);
    const sup = await loginAs('supervisor');
    const ok = await send(sup, 'POST', `/api/registry-changes/${pending.rows[1]!.id}/decision`, {
      approve: true,
      note: '设施已拆除',
    });
    expect(ok.body.state).toBe('approved');
    expect(await links()).toEqual([]);
  });
});

describe('YAML import and console edits', () => {
  it('reports a conflict with a console edit instead of overwriting it, and forgets it once the file agrees', async () => {
    const s = await loginAs('supervisor');
    expect(
      (await send(s, 'PATCH', '/api/enterprises/ent-0002', { nameZh: '港城热力（控制台修改）' })).status,
    ).toBe(200);
    const r = await importRegistry(w.pool, { path: examplePath }, { logger: silentLogger });
    expect(r.conflicts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          table: 'enterprises',
          key: 'ent-0002',
          change: 'updated',
          editedBy: 'supervisor',
          overwritten: false,
        }),
        // The rotated PW stays: the file still carries the old one.
        expect.objectContaining({ table: 'devices', key: GAS_MN, editedBy: 'officer-dist-landong' }),
      ]),
    );
    expect(await one(`select name_zh from enterprises where id = 'ent-0002'`)).toEqual({
      name_zh: '港城热力（控制台修改）',
    });
    const pruned = await importRegistry(
      w.pool,
      { path: examplePath },
      { logger: silentLogger, prune: true, dryRun: true },
    );
    expect(pruned.conflicts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ table: 'contacts', key: 'ent-0002/operator/王芳', change: 'deleted' }),
      ]),
    );
    expect(pruned.removed).not.toContainEqual({ table: 'contacts', key: 'ent-0002/operator/王芳' });
    const forced = await importRegistry(
      w.pool,
      { path: examplePath },
      { logger: silentLogger, overwriteConsoleEdits: true },
    );
    expect(forced.conflicts).toContainEqual(expect.objectContaining({ key: 'ent-0002', overwritten: true }));
    expect((await one(`select name_zh from enterprises where id = 'ent-0002'`)).name_zh).not.toContain(
      '控制台',
    );
    const again = await importRegistry(w.pool, { path: examplePath }, { logger: silentLogger });
    expect(again.conflicts.filter((c) => c.table === 'enterprises')).toEqual([]);
  });
});

describe('change requests as they are read', () => {
  it('never show a new SM4 key waiting in a request, only that one is set', async () => {
    const s = await loginAs('officer-dist-landong');
    const key = '00112233445566778899aabbccddeeff';
    const r = await send(s, 'PATCH', '/api/enterprises/ent-0001/devices/99010201FG00010000000001', {
      enabled: false,
      sm4Key: key,
    });
    expect(r.body.state).toBe('pending');
    for (const who of ['officer-dist-landong', 'viewer', 'supervisor']) {
      const list = await sendAs<{ items: { id: string; change: Record<string, unknown> }[] }>(
        w.base,
        await loginAs(who),
        'GET',
        '/api/registry-changes?state=pending',
      );
      const mine = list.body.items.find((i) => i.id === r.body.requestId);
      expect(mine?.change).toMatchObject({ kind: 'device', enabled: false, sm4Key: 'set (new)' });
      expect(JSON.stringify(list.body)).not.toContain(key);
    }
    const no = await send(
      await loginAs('supervisor'),
      'POST',
      `/api/registry-changes/${r.body.requestId}/decision`,
      {
        approve: false,
        note: '密钥请单独更换',
      },
    );
    expect(no.body).toEqual({ state: 'rejected' });
  });
});

describe('the permitted annual load (许可排放量) in the limit edit', () => {
  const url = '/api/enterprises/ent-0001/limits';
  const limit = (annualLoadKg?: unknown) => ({
    outletId: 'out-0001-g1',
    factorCode: 'a21002',
    basis: 'hourly',
    value: 50,
    ...(annualLoadKg !== undefined ? { annualLoadKg } : {}),
  });
  const annual = async () =>
    (
      await w.pool.query<{ kg: number | null }>(
        `select annual_load_kg::float8 as kg from permit_limits
          where outlet_id = 'out-0001-g1' and factor_code = 'a21002' and basis = 'hourly'`,
      )
    ).rows[0]!.kg;

  it('setting or lowering applies at once, audited; raising or removing waits for a second person at city level', async () => {
    const s = await loginAs('officer-dist-landong');
    expect(await send(s, 'PUT', url, limit(1000))).toEqual({ status: 200, body: { state: 'applied' } });
    expect(await annual()).toBe(1000);
    expect(await send(s, 'PUT', url, limit(800))).toEqual({ status: 200, body: { state: 'applied' } });
    expect(await annual()).toBe(800);
    const audit = await one(
      `select before, after from audit_log where action = 'registry.limit' order by id desc limit 1`,
    );
    expect(audit).toMatchObject({
      before: { limit: { annualLoadKg: 1000 } },
      after: { limit: { annualLoadKg: 800 } },
    });
    // Editing the limit without the field keeps the annual load.
    expect((await send(s, 'PUT', url, limit())).body).toEqual({ state: 'applied' });
    expect(await annual()).toBe(800);

    const raised = await send(s, 'PUT', url, limit(1200));
    expect(raised.body).toMatchObject({ state: 'pending', requestId: expect.any(String) });
    const removed = await send(s, 'PUT', url, limit(null));
    expect(removed.body).toMatchObject({ state: 'pending' });
    expect(await annual()).toBe(800);
    const sup = await loginAs('supervisor');
    expect(
      await send(sup, 'POST', `/api/registry-changes/${raised.body.requestId}/decision`, {
        approve: true,
        note: '排污许可证变更',
      }),
    ).toEqual({ status: 200, body: { state: 'approved' } });
    expect(await annual()).toBe(1200);
    expect(
      await send(sup, 'POST', `/api/registry-changes/${removed.body.requestId}/decision`, {
        approve: true,
        note: '许可证不再核定年排放量',
      }),
    ).toEqual({ status: 200, body: { state: 'approved' } });
    expect(await annual()).toBeNull();
  });

  it('answers a negative, zero or non-number annual load, or one on a pH factor, naming the field in both languages', async () => {
    const s = await loginAs('officer-dist-landong');
    const sup = await loginAs('supervisor');
    const before = await one(`select count(*)::int as audit from audit_log`);
    const cases: [Session, string, object][] = [
      [s, url, limit(-5)],
      [s, url, limit(0)],
      [s, url, limit('很多')],
      [
        sup,
        '/api/enterprises/ent-0003/limits',
        {
          outletId: 'out-0003-w1',
          factorCode: 'w01001',
          basis: 'daily',
          value: 9,
          lowerValue: 6,
          annualLoadKg: 5,
        },
      ],
    ];
    for (const [who, to, body] of cases) {
      const r = await send(who, 'PUT', to, body);
      expect([r.status, r.body.code, r.body.field]).toEqual([400, 'INVALID_INPUT', 'annualLoadKg']);
      expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
      expect(r.body.message).toMatch(/[a-z]{3,} /);
    }
    expect(await one(`select count(*)::int as audit from audit_log`)).toEqual(before);
  });
});

describe('nullable numbers: 0 and null stay apart', () => {
  it('refuses a rated window of 0 naming the field, and records a lower bound of 0 or null as sent', async () => {
    const s = await loginAs('officer-dist-landong');
    const r = await send(s, 'PATCH', '/api/enterprises/ent-0002/meters/mtr-0002-t1', { ratedWindowKwh: 0 });
    expect([r.status, r.body.code, r.body.field]).toEqual([400, 'INVALID_INPUT', 'ratedWindowKwh']);
    expect(
      (await send(s, 'PATCH', '/api/enterprises/ent-0002/meters/mtr-0002-t1', { ratedWindowKwh: null }))
        .status,
    ).toBe(200);
    expect(await one(`select rated_window_kwh from meters where id = 'mtr-0002-t1'`)).toEqual({
      rated_window_kwh: null,
    });

    const sup = await loginAs('supervisor');
    const ph = (lowerValue: number | null) => ({
      outletId: 'out-0003-w1',
      factorCode: 'w01001',
      basis: 'daily',
      value: 9,
      lowerValue,
    });
    for (const lowerValue of [0, null]) {
      const res = await send(sup, 'PUT', '/api/enterprises/ent-0003/limits', ph(lowerValue));
      expect(res.status).toBe(200);
      const audit = await one(
        `select after from audit_log where action like 'registry.limit%' order by id desc limit 1`,
      );
      expect(audit.after.limit.lowerValue).toBe(lowerValue);
    }
  });

  it('clears an enterprise’s rating and address with null, and refuses an empty rating naming the field', async () => {
    const sup = await loginAs('supervisor');
    const url = '/api/enterprises/ent-0003';
    const row = () => one(`select credit_rating, address from enterprises where id = 'ent-0003'`);
    expect((await send(sup, 'PATCH', url, { creditRating: 'B', address: '兰溪路 1 号' })).status).toBe(200);
    expect(await row()).toEqual({ credit_rating: 'B', address: '兰溪路 1 号' });
    expect((await send(sup, 'PATCH', url, { creditRating: null, address: null })).status).toBe(200);
    expect(await row()).toEqual({ credit_rating: null, address: null });
    const r = await send(sup, 'PATCH', url, { creditRating: '' });
    expect([r.status, r.body.code, r.body.field]).toEqual([400, 'INVALID_INPUT', 'creditRating']);
  });
});
