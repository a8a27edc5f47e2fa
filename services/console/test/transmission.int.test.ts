// 传输有效率 over the real Postgres and InfluxDB: minute data written in the influx-writer's layout for March
// 2026 (Asia/Shanghai), a declared maintenance window, flagged values and a device without data; the figures
// are hand-computed. Scope: an officer sees their district, an enterprise user only their own enterprise.
import { createInfluxClient, createInfluxWriter, toLine } from '@offsite/influx';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { TransmissionReport } from '../src/transmission.js';
import { createWorld, http, loginAs, type Session, type World } from './fixture.js';

/** 2026-03-01 00:00 Asia/Shanghai. */
const MARCH = Date.parse('2026-02-28T16:00:00Z');
const HOUR = 3_600_000;
const WATER = '99010301WW00030000000001'; // ent-0003, dist-lanxi, minute data every 3600 s
const WATER2 = '99010302WW00040000000001'; // ent-0004, dist-lanxi, 3600 s, no data
const GAS = '99010201FG00010000000001'; // ent-0001, dist-landong, minute data every 600 s

let w: World;

type Answer = TransmissionReport & { code?: string; message?: string };

async function get(url: string, s: Session): Promise<{ status: number; body: Answer }> {
  const r = await http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
  return { status: r.statusCode, body: r.json() as Answer };
}

beforeAll(async () => {
  w = await createWorld();
  // Every device registered before March.
  await w.pool.query(`update devices set created_at = '2026-01-01T00:00:00Z'`);
  // Declared maintenance of the water outlet: 1 March 08:00–12:00 +08 (4 hourly slots).
  await w.pool.query(
    `insert into maintenance_windows (id, enterprise_id, device_mn, outlet_id, starts_at, ends_at, reason, source)
     values ('mw-trans-1', 'ent-0003', $1, null, $2, $3, '校准', 'console')`,
    [WATER, new Date(MARCH + 8 * HOUR), new Date(MARCH + 12 * HOUR)],
  );
  const conn = {
    url: requireEnv('OFFSITE_INFLUX_URL'),
    token: requireEnv('OFFSITE_INFLUX_TOKEN'),
    org: process.env.OFFSITE_INFLUX_ORG ?? '',
    bucket: requireEnv('OFFSITE_INFLUX_BUCKET'),
  };
  const writer = createInfluxWriter(
    { ...conn, logger: silentLogger },
    createInfluxClient(conn, silentLogger),
  );
  const measurement = `emission_${w.run}`;
  const lines: string[] = [];
  // Water: 744 hourly slots in March; hours 100–149 missing (50); hours 8–11 flagged M inside the window;
  // hour 20 flagged M (undeclared) and hours 30–34 flagged D on COD only: 744 − 4 = 740 expected,
  // 740 − 50 = 690 received, 690 − 6 = 684 valid.
  for (let h = 0; h < 744; h++) {
    if (h >= 100 && h < 150) continue;
    const timeSeconds = (MARCH + h * HOUR) / 1000;
    const m = h >= 8 && h < 12 ? 'M' : h === 20 ? 'M' : 'N';
    const tags = { enterprise: 'ent-0003', site: 'out-0003-w1', device: WATER, interval: 'minute-3600s' };
    lines.push(
      toLine({
        measurement,
        tags: { ...tags, factor: 'w01018' },
        fields: { Avg: 40, flag: h >= 30 && h < 35 ? 'D' : m, unit: 'mg/L' },
        timeSeconds,
      }),
      toLine({ measurement, tags: { ...tags, factor: 'w21003' }, fields: { Avg: 2, flag: m }, timeSeconds }),
    );
  }
  // Gas: every 10-minute slot of March (4464), one of them in February's last minute (not March's).
  for (let k = 0; k < 4464; k++)
    lines.push(
      toLine({
        measurement,
        tags: {
          enterprise: 'ent-0001',
          site: 'out-0001-g1',
          device: GAS,
          factor: 'a21026',
          interval: 'minute',
        },
        fields: { Avg: 10, flag: 'N' },
        timeSeconds: (MARCH + k * 600_000) / 1000,
      }),
    );
  lines.push(
    toLine({
      measurement,
      tags: {
        enterprise: 'ent-0003',
        site: 'out-0003-w1',
        device: WATER,
        factor: 'w01018',
        interval: 'minute',
      },
      fields: { Avg: 1, flag: 'N' },
      timeSeconds: (MARCH - 60_000) / 1000,
    }),
  );
  for (let i = 0; i < lines.length; i += 2000) await writer.write(lines.slice(i, i + 2000));
  await writer.close();
});

afterAll(async () => {
  await w?.close();
});

test('the month in Asia/Shanghai: per device and enterprise, hand-computed, below 90 % flagged', async () => {
  const admin = await loginAs(w.base, 'admin');
  const r = await get('/api/transmission?month=2026-03', admin);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({
    month: '2026-03',
    from: '2026-02-28T16:00:00.000Z',
    to: '2026-03-31T16:00:00.000Z',
    threshold: 0.9,
  });
  const ent = (id: string) => r.body.enterprises.find((e) => e.id === id)!;
  const water = ent('ent-0003').devices.find((d) => d.mn === WATER)!;
  expect(water).toMatchObject({
    expected: 740,
    received: 690,
    valid: 684,
    maintenanceSlots: 4,
    status: 'assessed',
  });
  expect(water.transmissionRate).toBeCloseTo(690 / 740, 12);
  expect(water.validityRate).toBeCloseTo(684 / 690, 12);
  expect(water.effectiveRate).toBeCloseTo(684 / 740, 12);
  expect(water.belowThreshold).toBe(false);
  expect(ent('ent-0004')).toMatchObject({
    expected: 744,
    received: 0,
    effectiveRate: 0,
    belowThreshold: true,
  });
  expect(ent('ent-0004').devices[0]).toMatchObject({ mn: WATER2, effectiveRate: 0, belowThreshold: true });
  const gas = ent('ent-0001').devices.find((d) => d.mn === GAS);
  expect(gas).toMatchObject({
    expected: 4464,
    received: 4464,
    valid: 4464,
    effectiveRate: 1,
    belowThreshold: false,
  });
  // Districts aggregate by expected counts.
  const lanxi = r.body.districts.find((d) => d.id === 'dist-lanxi')!;
  expect(lanxi.name).toMatch(/[\u4e00-\u9fff]/);
  expect(lanxi.expected).toBe(
    r.body.enterprises.filter((e) => e.districtId === 'dist-lanxi').reduce((n, e) => n + e.expected, 0),
  );
});

test('scope: an officer sees their district, an enterprise user only their own enterprise', async () => {
  const officer = await get('/api/transmission?month=2026-03', await loginAs(w.base, 'officer-dist-landong'));
  expect(officer.status).toBe(200);
  const ids = officer.body.enterprises.map((e) => e.id);
  expect(ids).toContain('ent-0001');
  expect(ids).not.toContain('ent-0003');
  expect(officer.body.districts.map((d) => d.id)).toEqual(['dist-landong']);
  // Asking for another district gives nothing of it.
  const other = await get(
    '/api/transmission?month=2026-03&district=dist-lanxi',
    await loginAs(w.base, 'officer-dist-landong'),
  );
  expect(other.body.enterprises).toEqual([]);
  const own = await get('/api/transmission?month=2026-03', await loginAs(w.base, 'ent-0003-user'));
  expect(own.body.enterprises.map((e) => e.id)).toEqual(['ent-0003']);
});

test('a bad or future month is refused by field, in Chinese and English; no session, no figures', async () => {
  const admin = await loginAs(w.base, 'admin');
  for (const month of ['2026-3', '2026-13', '2999-01']) {
    const r = await get(`/api/transmission?month=${month}`, admin);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID_INPUT');
    expect(r.body.message).toMatch(/month/);
    expect(r.body.message).toMatch(/[\u4e00-\u9fff]/);
  }
  const anon = await http(w.base, { method: 'GET', url: '/api/transmission?month=2026-03' });
  expect(anon.statusCode).toBe(401);
});
