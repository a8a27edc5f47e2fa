import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import {
  findDeviceByMn,
  importRegistry,
  listContacts,
  listenRegistryChanges,
  loadRegistrySnapshot,
  RegistryInvalidError,
  runMigrations,
  type RegistryChange,
} from '../src/index.js';
import { createTestSchema, type TestSchema } from '@offsite/testing';
import { examplePath, recordingLogger } from './support.js';

const logger = recordingLogger();
let db: TestSchema;
let example: { enterprises: Record<string, unknown>[] } & Record<string, unknown>;

beforeAll(async () => {
  example = parseYaml(await readFile(examplePath, 'utf8')) as typeof example;
});
beforeEach(async () => {
  db = await createTestSchema();
  await runMigrations(db.pool, { logger });
});
afterEach(async () => {
  await db.drop();
});

/** A deep copy of the example, to edit. */
const copy = () => structuredClone(example);

async function rowVersions(): Promise<string> {
  // xmin changes whenever a row is rewritten, even with identical values.
  const res = await db.pool.query<{
    v: string;
  }>(`select string_agg(t || ':' || x, ',' order by t, x) as v from (
      select 'e' as t, id || '@' || xmin::text as x from enterprises
      union all select 'd', mn || '@' || xmin::text from devices
      union all select 'l', outlet_id || factor_code || basis || '@' || xmin::text from permit_limits
      union all select 'c', id::text || '@' || xmin::text from contacts
      union all select 's', enterprise_id || effective_from::text || '@' || xmin::text from enterprise_status_timeline
      union all select 'f', meter_id || outlet_id || code || '@' || xmin::text from meter_facilities
      union all select 'p', outlet_id || meter_id || '@' || xmin::text from outlet_production_meters) q`);
  return res.rows[0]?.v ?? '';
}

test('importing the example twice is idempotent', async () => {
  const first = await importRegistry(db.pool, { path: examplePath }, { logger });
  expect(first.changed).toBe(true);
  expect(first.counts.districts.inserted).toBe(3);
  expect(first.counts.enterprises.inserted).toBe(12);
  expect(first.counts.devices.inserted).toBe(12);
  expect(first.counts.enterprise_status_timeline.inserted).toBe(3);
  // Two at the incinerator (ent-0005), one at the food plant (ent-0008).
  expect(first.counts.meter_facilities.inserted).toBe(3);
  expect(first.counts.outlet_production_meters.inserted).toBe(1);
  expect(first.removed).toEqual([]);
  const versions = await rowVersions();

  const second = await importRegistry(db.pool, { path: examplePath }, { logger });
  expect(second.changed).toBe(false);
  for (const c of Object.values(second.counts)) {
    expect(c.inserted + c.updated + c.deleted).toBe(0);
  }
  expect(second.counts.enterprises.unchanged).toBe(12);
  expect(second.counts.meter_facilities.unchanged).toBe(3);
  expect(second.counts.outlet_production_meters.unchanged).toBe(1);
  expect(await rowVersions()).toBe(versions);
});

test('JSON and YAML of the same registry import to the same rows', async () => {
  await importRegistry(db.pool, { text: JSON.stringify(example), format: 'json' }, { logger });
  const again = await importRegistry(db.pool, { path: examplePath }, { logger });
  expect(again.changed).toBe(false);
});

test('a permitted annual load is imported onto its limit and reaches the snapshot', async () => {
  const withLoad = structuredClone(example) as {
    enterprises: { outlets: { limits: Record<string, unknown>[] }[] }[];
  };
  withLoad.enterprises[0]!.outlets[0]!.limits[0]!.annualLoadKg = 12000;
  await importRegistry(db.pool, { text: JSON.stringify(withLoad), format: 'json' }, { logger });
  const limitOf = async () =>
    (await loadRegistrySnapshot(db.pool)).enterprises
      .find((e) => e.id === 'ent-0001')!
      .outlets[0]!.limits.find((l) => l.factor === 'a21026' && l.basis === 'hourly')!;
  expect((await limitOf()).annualLoadKg).toBe(12000);
  await importRegistry(db.pool, { path: examplePath }, { logger });
  expect((await limitOf()).annualLoadKg).toBeNull();
});

test('device lookup by MN returns what the gateway needs', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  const d = await findDeviceByMn(db.pool, '99010203FG00050000000001');
  expect(d).toEqual({
    mn: '99010203FG00050000000001',
    enterpriseId: 'ent-0005',
    outletId: 'out-0005-g1',
    outletKind: 'gas',
    password: 'Lv2w9Ez4',
    sm4Key: '0123456789abcdeffedcba9876543210',
    protocolVersion: 2025,
    realtimeIntervalS: 30,
    minuteIntervalS: 600,
    enabled: true,
  });
  expect(await findDeviceByMn(db.pool, '99010203FG00050000000002')).toBeNull();
  // MNs are exact: case matters.
  expect(await findDeviceByMn(db.pool, '99010203fg00050000000001')).toBeNull();
});

test('SQL injection in lookup arguments is harmless', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  for (const attack of ["' or '1'='1", "x'; drop table devices; --", "99010203FG00050000000001' --", '$1']) {
    expect(await findDeviceByMn(db.pool, attack)).toBeNull();
  }
  expect(await listContacts(db.pool, "ent-0001' or 'a'='a")).toEqual([]);
  const n = await db.pool.query<{ n: string }>('select count(*) as n from devices');
  expect(n.rows[0]?.n).toBe('12');

  // Hostile text in the file is stored as text, not executed.
  const reg = copy();
  const hostile = "Robert'); drop table contacts; --";
  (reg.enterprises[0]!.contacts as Record<string, unknown>[]).push({
    name: hostile,
    role: 'operator',
    phone: '13800000199',
  });
  await importRegistry(db.pool, { data: reg }, { logger });
  const contacts = await listContacts(db.pool, 'ent-0001');
  expect(contacts.map((c) => c.name)).toContain(hostile);
});

test('contacts come legal representative first', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  const contacts = await listContacts(db.pool, 'ent-0001');
  expect(contacts.map((c) => [c.role, c.name])).toEqual([
    ['legal', '赵国华'],
    ['env-manager', '钱立新'],
    ['operator', '孙涛'],
  ]);
  expect(contacts[2]).toMatchObject({ phone: '13800000103', email: null, language: 'zh' });
});

test("a contact's WeChat openid is stored from the file, and cleared when the file drops it", async () => {
  const reg = copy();
  const env = (reg.enterprises[0]!.contacts as Record<string, unknown>[]).find(
    (c) => c.role === 'env-manager',
  )!;
  env.wechatOpenid = 'oia2TjuEGTNoeX76QEjQNrcURxG8';
  await importRegistry(db.pool, { data: reg }, { logger });
  const openid = async () =>
    (
      await db.pool.query<{ wechat_openid: string | null }>(
        `select wechat_openid from contacts where enterprise_id = 'ent-0001' and role = 'env-manager'`,
      )
    ).rows[0]!.wechat_openid;
  expect(await openid()).toBe('oia2TjuEGTNoeX76QEjQNrcURxG8');
  delete env.wechatOpenid;
  await importRegistry(db.pool, { data: reg }, { logger });
  expect(await openid()).toBeNull();
});

test('the snapshot carries the registry for the analyzer and no credentials', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  const snap = await loadRegistrySnapshot(db.pool);
  expect(snap.districts).toHaveLength(3);
  expect(snap.enterprises).toHaveLength(12);
  const food = snap.enterprises.find((e) => e.id === 'ent-0008')!;
  expect(food.status).toBe('resuming');
  expect(food.statusTimeline.map((t) => [t.status, t.from, t.resumptionDate])).toEqual([
    ['normal', '2022-12-31T16:00:00.000Z', null],
    ['shutdown', '2026-09-14T16:00:00.000Z', null],
    ['resuming', '2026-11-16T00:00:00.000Z', '2026-11-16'],
  ]);
  const power = snap.enterprises.find((e) => e.id === 'ent-0001')!;
  expect(power.outlets[0]).toMatchObject({ id: 'out-0001-g1', kind: 'gas', refO2Pct: 6 });
  expect(power.outlets[0]!.limits).toContainEqual({
    factor: 'a21026',
    basis: 'hourly',
    value: 35,
    lowerValue: null,
    unit: 'mg/m3',
    converted: true,
    range: { min: 0, max: 200 },
    annualLoadKg: null,
  });
  expect(power.outlets[0]!.devices).toEqual([
    {
      mn: '99010201FG00010000000001',
      protocolVersion: 2017,
      realtimeIntervalS: 30,
      minuteIntervalS: 600,
      enabled: true,
    },
  ]);
  expect(power.meters.find((m) => m.id === 'mtr-0001-t1')).toMatchObject({
    role: 'treatment',
    servesMeterId: 'mtr-0001-p1',
    ratedWindowKwh: 95,
  });
  const incinerator = snap.enterprises.find((e) => e.id === 'ent-0005')!;
  expect(incinerator.maintenanceWindows).toEqual([
    expect.objectContaining({
      deviceMn: '99010203FG00050000000001',
      from: '2026-12-02T01:00:00.000Z',
      to: '2026-12-02T09:00:00.000Z',
    }),
  ]);
  const json = JSON.stringify(snap);
  expect(json).not.toContain('Hd7q2Lx9');
  expect(json).not.toContain('0123456789abcdeffedcba9876543210');
});

test('removed items are reported, and deleted only with prune', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  const reg = copy();
  reg.enterprises = reg.enterprises.filter((e) => e.id !== 'ent-0012');
  (reg.enterprises[0]!.contacts as unknown[]).pop();

  const kept = await importRegistry(db.pool, { data: reg }, { logger });
  expect(kept.changed).toBe(false);
  expect(kept.removed).toEqual(
    expect.arrayContaining([
      { table: 'enterprises', key: 'ent-0012' },
      { table: 'outlets', key: 'out-0012-g1' },
      { table: 'devices', key: '99010404FG00120000000001' },
      { table: 'permit_limits', key: 'out-0012-g1/a24088/hourly' },
      { table: 'meters', key: 'mtr-0012-t1' },
      { table: 'contacts', key: 'ent-0001/operator/孙涛' },
    ]),
  );
  expect(await findDeviceByMn(db.pool, '99010404FG00120000000001')).not.toBeNull();

  const pruned = await importRegistry(db.pool, { data: reg }, { logger, prune: true });
  expect(pruned.counts.enterprises.deleted).toBe(1);
  expect(pruned.counts.meters.deleted).toBe(2);
  expect(pruned.counts.contacts.deleted).toBe(3);
  expect(await findDeviceByMn(db.pool, '99010404FG00120000000001')).toBeNull();
  expect((await loadRegistrySnapshot(db.pool)).enterprises).toHaveLength(11);
  const after = await importRegistry(db.pool, { data: reg }, { logger, prune: true });
  expect(after.removed).toEqual([]);
  expect(after.changed).toBe(false);
});

test('an import is one transaction: a failure part-way leaves nothing behind', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  // A row the file does not know holds a credit code the file now gives to ent-0012: the
  // file validates, but the database refuses ent-0012 late in the import.
  await db.pool.query(
    `insert into enterprises (id, name_zh, credit_code, district_id, industry, supervision_class)
     values ('ent-9999', '外部录入企业', '9144030071526726XG', 'dist-kaifa', 'other', 'general')`,
  );
  const reg = copy();
  reg.enterprises[0]!.creditRating = 'B';
  reg.enterprises[11]!.creditCode = '9144030071526726XG';
  await expect(importRegistry(db.pool, { data: reg }, { logger })).rejects.toMatchObject({
    code: 'REGISTRY_IMPORT_FAILED',
    retryable: false,
  });
  const r = await db.pool.query<{ credit_rating: string }>(
    `select credit_rating from enterprises where id = 'ent-0001'`,
  );
  expect(r.rows[0]?.credit_rating).toBe('A');
});

test('an invalid file is rejected before anything is written, with every problem', async () => {
  const reg = copy();
  reg.enterprises[3]!.creditCode = '91990103MA0Q4E9N2A';
  const outlets = reg.enterprises[3]!.outlets as Record<string, unknown>[];
  (outlets[0]!.limits as Record<string, unknown>[])[1]!.unit = 'mg/m3';
  const err: unknown = await importRegistry(db.pool, { data: reg }, { logger }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryInvalidError);
  expect((err as RegistryInvalidError).issues.map((i) => i.path)).toEqual([
    'enterprises[3].creditCode',
    'enterprises[3].outlets[0].limits[1].unit',
  ]);
  const n = await db.pool.query<{ n: string }>('select count(*) as n from enterprises');
  expect(n.rows[0]?.n).toBe('0');
});

test('positions reach the columns and the snapshot; one outside the configured city is refused, nothing written', async () => {
  const cityBounds = { south: 30.1, west: 120, north: 30.5, east: 120.5 };
  const first = await importRegistry(db.pool, { path: examplePath }, { logger, cityBounds });
  expect(first.counts.outlets!.inserted).toBeGreaterThan(0);
  const rows = await db.pool.query(
    `select 'e' as t, id, latitude, longitude from enterprises where latitude is not null
     union all select 'o', id, latitude, longitude from outlets where latitude is not null order by 1, 2`,
  );
  expect(rows.rows).toEqual([
    { t: 'e', id: 'ent-0001', latitude: 30.2741, longitude: 120.1552 },
    { t: 'o', id: 'out-0001-g1', latitude: 30.2745, longitude: 120.156 },
  ]);
  const snap = await loadRegistrySnapshot(db.pool);
  const power = snap.enterprises.find((e) => e.id === 'ent-0001')!;
  expect(power.location).toEqual({ lat: 30.2741, lon: 120.1552 });
  expect(power.outlets[0]!.location).toEqual({ lat: 30.2745, lon: 120.156 });
  expect(snap.enterprises.find((e) => e.id === 'ent-0002')).not.toHaveProperty('location');

  // A moved stack is an update like any other field; one outside the city makes the file invalid.
  const reg = copy();
  const outlet = (reg.enterprises[0]!.outlets as Record<string, unknown>[])[0]!;
  outlet.location = { lat: 30.2746, lon: 120.1561 };
  const moved = await importRegistry(db.pool, { data: reg }, { logger, cityBounds });
  expect(moved.changes).toEqual([{ table: 'outlets', key: 'out-0001-g1', change: 'updated' }]);
  reg.enterprises[1]!.location = { lat: 31.2304, lon: 121.4737 };
  const err: unknown = await importRegistry(db.pool, { data: reg }, { logger, cityBounds }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryInvalidError);
  expect((err as RegistryInvalidError).issues).toEqual([
    {
      path: 'enterprises[1].location',
      code: 'outside-city',
      message: 'position 31.2304, 121.4737 lies outside the city (30.1–30.5°N, 120–120.5°E)',
      messageZh: '位置 31.2304, 121.4737 不在本市范围内（30.1–30.5°N, 120–120.5°E）',
    },
  ]);
  const e2 = await db.pool.query(`select latitude from enterprises where id = 'ent-0002'`);
  expect(e2.rows).toEqual([{ latitude: null }]);
});

test('changes NOTIFY registry_changed with the table; an unchanged import stays silent', async () => {
  await importRegistry(db.pool, { path: examplePath }, { logger });
  const listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  const seen: RegistryChange[] = [];
  const stop = await listenRegistryChanges(listener, db.schema, (c) => seen.push(c));
  try {
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
    await importRegistry(db.pool, { path: examplePath }, { logger });
    await settle();
    expect(seen).toEqual([]);

    const reg = copy();
    const outlets = reg.enterprises[0]!.outlets as Record<string, unknown>[];
    (outlets[0]!.limits as Record<string, unknown>[])[0]!.value = 30;
    await importRegistry(db.pool, { data: reg }, { logger });
    await settle();
    expect(seen).toEqual([{ schema: db.schema, table: 'permit_limits' }]);

    await db.pool.query(`update devices set enabled = false where mn = '99010201FG00010000000001'`);
    await db.pool.query(`delete from contacts where name = '孙涛'`);
    await settle();
    expect(seen.slice(1).map((c) => c.table)).toEqual(['devices', 'contacts']);
  } finally {
    await stop();
    await listener.end();
  }
});

describe('registry mappings for the analyzer', () => {
  type Raw = Record<string, unknown>;
  const incinerator = (reg: ReturnType<typeof copy>) =>
    reg.enterprises[4] as Raw & { meters: Raw[]; outlets: Raw[] };

  test('facilities and production meters reach the snapshot; other meters and outlets carry empty lists', async () => {
    await importRegistry(db.pool, { path: examplePath }, { logger });
    const snap = await loadRegistrySnapshot(db.pool);
    const e = snap.enterprises.find((x) => x.id === 'ent-0005')!;
    expect(e.meters.map((m) => [m.id, m.facilities])).toEqual([
      ['mtr-0005-p1', []],
      ['mtr-0005-t1', [{ outletId: 'out-0005-g1', code: 'SB1' }]],
      ['mtr-0005-t2', [{ outletId: 'out-0005-g1', code: 'SB2' }]],
    ]);
    expect(e.outlets.map((o) => [o.id, o.productionMeterIds])).toEqual([['out-0005-g1', ['mtr-0005-p1']]]);
    const power = snap.enterprises.find((x) => x.id === 'ent-0001')!;
    expect(power.outlets[0]!.productionMeterIds).toEqual([]);
    expect(power.meters.every((m) => m.facilities.length === 0)).toBe(true);
  });

  test('a logger without real-time uploads is stored and read back with cadence 0', async () => {
    const reg = copy();
    const device = (incinerator(reg).outlets[0]!.devices as Raw[])[0]!;
    device.realtimeIntervalS = 0;
    device.minuteIntervalS = 300;
    await importRegistry(db.pool, { data: reg }, { logger });
    expect(await findDeviceByMn(db.pool, '99010203FG00050000000001')).toMatchObject({
      realtimeIntervalS: 0,
      minuteIntervalS: 300,
    });
    const snap = await loadRegistrySnapshot(db.pool);
    const e = snap.enterprises.find((x) => x.id === 'ent-0005')!;
    expect(e.outlets[0]!.devices[0]).toMatchObject({ realtimeIntervalS: 0, minuteIntervalS: 300 });
    // And back to a real-time cadence: an ordinary update, idempotent afterwards.
    device.realtimeIntervalS = 30;
    expect((await importRegistry(db.pool, { data: reg }, { logger })).counts.devices.updated).toBe(1);
    expect((await importRegistry(db.pool, { data: reg }, { logger })).changed).toBe(false);
  });

  test('changed mappings NOTIFY their table; dropped ones are reported and deleted only with prune', async () => {
    await importRegistry(db.pool, { path: examplePath }, { logger });
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const seen: RegistryChange[] = [];
    const stop = await listenRegistryChanges(listener, db.schema, (c) => seen.push(c));
    try {
      const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
      const reg = copy();
      const ent = incinerator(reg);
      ent.meters[1]!.facilities = [{ outlet: 'out-0005-g1', code: 'SB3' }]; // SB1 → SB3
      delete ent.outlets[0]!.productionMeters;

      const kept = await importRegistry(db.pool, { data: reg }, { logger });
      expect(kept.counts.meter_facilities).toMatchObject({ inserted: 1, unchanged: 2, deleted: 0 });
      expect(kept.removed).toEqual([
        { table: 'meter_facilities', key: 'mtr-0005-t1/out-0005-g1/SB1' },
        { table: 'outlet_production_meters', key: 'out-0005-g1/mtr-0005-p1' },
      ]);
      await settle();
      expect(seen).toEqual([{ schema: db.schema, table: 'meter_facilities' }]);

      const pruned = await importRegistry(db.pool, { data: reg }, { logger, prune: true });
      expect(pruned.counts.meter_facilities.deleted).toBe(1);
      expect(pruned.counts.outlet_production_meters.deleted).toBe(1);
      await settle();
      expect(new Set(seen.slice(1).map((c) => c.table))).toEqual(
        new Set(['meter_facilities', 'outlet_production_meters']),
      );
      const snap = await loadRegistrySnapshot(db.pool);
      const e = snap.enterprises.find((x) => x.id === 'ent-0005')!;
      expect(e.meters[1]!.facilities).toEqual([{ outletId: 'out-0005-g1', code: 'SB3' }]);
      expect(e.outlets[0]!.productionMeterIds).toEqual([]);
      expect((await importRegistry(db.pool, { data: reg }, { logger, prune: true })).changed).toBe(false);
    } finally {
      await stop();
      await listener.end();
    }
  });

  test('pruning an enterprise removes its mappings with it', async () => {
    await importRegistry(db.pool, { path: examplePath }, { logger });
    const reg = copy();
    reg.enterprises = reg.enterprises.filter((e) => e.id !== 'ent-0005');
    const pruned = await importRegistry(db.pool, { data: reg }, { logger, prune: true });
    expect(pruned.counts.meter_facilities.deleted).toBe(2);
    expect(pruned.counts.outlet_production_meters.deleted).toBe(1);
    expect(pruned.counts.meters.deleted).toBe(3);
    const left = await db.pool.query<{ n: string }>(
      `select (select count(*) from meter_facilities where meter_id like 'mtr-0005-%')
            + (select count(*) from outlet_production_meters where outlet_id like 'out-0005-%') as n`,
    );
    expect(left.rows[0]?.n).toBe('0');
    // The food plant's link (ent-0008) stays.
    expect((await db.pool.query('select meter_id from meter_facilities')).rows).toEqual([
      { meter_id: 'mtr-0008-t1' },
    ]);
  });

  test('the database refuses a facility code that is not SBn and links to unknown meters', async () => {
    await importRegistry(db.pool, { path: examplePath }, { logger });
    await expect(
      db.pool.query(
        `insert into meter_facilities (meter_id, outlet_id, code) values ('mtr-0005-t1', 'out-0005-g1', 'x1')`,
      ),
    ).rejects.toThrow(/meter_facilities_code_check/);
    await expect(
      db.pool.query(
        `insert into outlet_production_meters (outlet_id, meter_id) values ('out-0005-g1', 'mtr-nope')`,
      ),
    ).rejects.toThrow(/foreign key/);
  });
});

test('cameras: imported once per platform and id, moved with the file, pruned only with prune', async () => {
  const first = await importRegistry(db.pool, { path: examplePath }, { logger });
  expect(first.counts.outlet_cameras.inserted).toBe(2);
  const again = await importRegistry(db.pool, { path: examplePath }, { logger });
  expect(again.counts.outlet_cameras.unchanged).toBe(2);
  const cameras = async () =>
    (await db.pool.query('select platform, camera_id, outlet_id from outlet_cameras order by camera_id'))
      .rows;
  expect(await cameras()).toEqual([
    { platform: 'city-video', camera_id: '34020000001320000301', outlet_id: 'out-0003-w1' },
    { platform: 'city-video', camera_id: '34020000001320000302', outlet_id: 'out-0003-w1' },
  ]);

  // The second camera now watches ent-0001's stack; the first is no longer listed.
  const data = copy();
  const outletOf = (e: string) =>
    (data.enterprises.find((x) => x.id === e)!.outlets as Record<string, unknown>[])[0]!;
  delete outletOf('ent-0003').cameras;
  outletOf('ent-0001').cameras = [{ platform: 'city-video', id: '34020000001320000302' }];
  const moved = await importRegistry(db.pool, { data }, { logger });
  expect(moved.counts.outlet_cameras).toMatchObject({ updated: 1, deleted: 0 });
  expect(moved.removed).toEqual([{ table: 'outlet_cameras', key: 'city-video/34020000001320000301' }]);
  expect((await cameras()).map((c) => [c.camera_id, c.outlet_id])).toEqual([
    ['34020000001320000301', 'out-0003-w1'],
    ['34020000001320000302', 'out-0001-g1'],
  ]);
  const pruned = await importRegistry(db.pool, { data }, { logger, prune: true });
  expect(pruned.counts.outlet_cameras.deleted).toBe(1);
  expect((await cameras()).map((c) => c.camera_id)).toEqual(['34020000001320000302']);
});
