// 传输有效率 over the real Postgres and InfluxDB: minute data written in the influx-writer's layout for March
// 2026 (Asia/Shanghai), a declared maintenance window, flagged values and a device without data; the figures
// are hand-computed. Scope: an officer sees their district, an enterprise user only their own enterprise.
import { transmissionStatistics, type TransmissionRecord } from '@offsite/domain';
import { createInfluxClient, influxql, queryInfluxQL } from '@offsite/influx';
import type { ReportTransmission } from '@offsite/regulation';
import { silentLogger } from '@offsite/testing';
import { transmissionInput, type TransmissionReport } from '../src/transmission.js';
import { createWorld, http, influxConnection, loginAs, type Session, type World } from './fixture.js';
import {
  APRIL,
  GAS,
  GAS2,
  GAS5,
  WATER,
  WATER2,
  writeAprilEdgeCases,
  writeMarch,
} from './transmission-data.js';

let w: World;

type Answer = TransmissionReport & { code?: string; message?: string };

async function get(url: string, s: Session): Promise<{ status: number; body: Answer }> {
  const r = await http(w.base, { method: 'GET', url, headers: { cookie: s.cookie } });
  return { status: r.statusCode, body: r.json() as Answer };
}

beforeAll(async () => {
  // Closed days' counts stored (transmission-days.ts): each answer below is the stored path's.
  w = await createWorld({ transmissionStoreDays: true });
  await writeMarch(w);
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

test('the district monthly report carries the district’s 传输有效率 and its enterprises below the threshold', async () => {
  const officer = await loginAs(w.base, 'officer-dist-lanxi');
  const stats = await get('/api/transmission?month=2026-03', officer);
  const lanxi = stats.body.districts.find((d) => d.id === 'dist-lanxi')!;
  const r = await http(w.base, {
    method: 'GET',
    url: '/api/regulation/reports/monthly?district=dist-lanxi&month=2026-03',
    headers: { cookie: officer.cookie },
  });
  expect(r.statusCode).toBe(200);
  const t = (r.json() as { transmission: ReportTransmission }).transmission;
  expect(t).toMatchObject({
    threshold: 0.9,
    expected: lanxi.expected,
    received: lanxi.received,
    valid: lanxi.valid,
    belowThreshold: true,
  });
  const below = t.enterprisesBelow.map((e) => e.id);
  expect(below).toContain('ent-0004');
  expect(below).not.toContain('ent-0003'); // 684 / 740 = 92.4 %
  const csv = await http(w.base, {
    method: 'GET',
    url: '/api/regulation/reports/monthly.csv?district=dist-lanxi&month=2026-03',
    headers: { cookie: officer.cookie },
  });
  expect(csv.body).toContain(
    `effectiveTransmissionRatePct,传输有效率（%）,${((lanxi.valid / lanxi.expected) * 100).toFixed(1)}`,
  );
  expect(csv.body).toContain('transmissionBelow:ent-0004');
  // Another district's report stays out of reach, figure included.
  const other = await http(w.base, {
    method: 'GET',
    url: '/api/regulation/reports/monthly?district=dist-landong&month=2026-03',
    headers: { cookie: officer.cookie },
  });
  expect(other.statusCode).toBe(404);
});

test('the figures equal the raw minute rows’ own: gaps, flags, a flag without a value, windows, month edges', async () => {
  await writeAprilEdgeCases(w);
  const admin = await loginAs(w.base, 'admin');
  const r = await get('/api/transmission?month=2026-04', admin);
  expect(r.status).toBe(200);
  // The reference: every raw minute row of April as a record (a value with an Avg is data; a flag other than N
  // is kept as it is), counted by @offsite/domain's arithmetic over the same registry input.
  const conn = influxConnection();
  const client = createInfluxClient(conn, silentLogger);
  const raw = await queryInfluxQL(
    client,
    conn.bucket,
    influxql(
      `SELECT "Avg", "flag" FROM "emission_${w.run}" WHERE "interval" =~ /^minute/ AND time >= $from AND time < $to GROUP BY "device"`,
      { from: new Date(r.body.from), to: new Date(r.body.to) },
    ),
  );
  const records: TransmissionRecord[] = raw.flatMap((s) =>
    s.rows.flatMap((row) => [
      ...(row.Avg == null ? [] : [{ deviceMn: s.tags.device!, time: Number(row.time), flags: ['N'] }]),
      ...(typeof row.flag === 'string' && row.flag !== 'N'
        ? [{ deviceMn: s.tags.device!, time: Number(row.time), flags: [row.flag] }]
        : []),
    ]),
  );
  const { input } = await transmissionInput(
    w.pool,
    { userId: '0', username: 'ref', displayName: 'ref', role: 'admin', districtId: null, enterpriseId: null },
    { month: '2026-04' },
    Date.now(),
    0.9,
  );
  const reference = transmissionStatistics({
    ...input,
    records,
  });
  const pick = ({
    mn,
    expected,
    received,
    valid,
    maintenanceSlots,
    status,
    effectiveRate,
  }: {
    mn: string;
    expected: number;
    received: number;
    valid: number;
    maintenanceSlots: number;
    status: string;
    effectiveRate: number | null;
  }) => ({ mn, expected, received, valid, maintenanceSlots, status, effectiveRate });
  const answered = r.body.enterprises
    .flatMap((e) => e.devices.map(pick))
    .sort((a, b) => a.mn.localeCompare(b.mn));
  expect(answered).toEqual(reference.devices.map(pick).sort((a, b) => a.mn.localeCompare(b.mn)));
  expect(r.body.total).toEqual(reference.total);
  expect(r.body.districts.map(({ name: _n, ...g }) => g)).toEqual(reference.districts);
  // Asked again, the month is summed from the stored days: the same answer.
  const again = await get('/api/transmission?month=2026-04', admin);
  expect(
    again.body.enterprises.flatMap((e) => e.devices.map(pick)).sort((a, b) => a.mn.localeCompare(b.mn)),
  ).toEqual(answered);
  const stored = await w.pool.query(
    `select 1 from console_transmission_days where day between '2026-04-01' and '2026-04-30'`,
  );
  expect(stored.rowCount).toBeGreaterThan(0);
  // The case is not trivial: each edge left its mark on the counts.
  const dev = (mn: string) => answered.find((d) => d.mn === mn)!;
  expect(dev(GAS).maintenanceSlots).toBeGreaterThan(0);
  expect(dev(GAS).received).toBeLessThan(dev(GAS).expected);
  expect(dev(GAS).valid).toBeLessThan(dev(GAS).received);
  expect(dev(GAS2).expected).toBeLessThan(4320 - 10 * 144);
  expect(dev(GAS5)).toMatchObject({ expected: expect.any(Number), status: 'assessed' });
  expect(dev(GAS5).maintenanceSlots).toBeGreaterThan(0);
  expect(dev(WATER).maintenanceSlots).toBe(4); // slots of 49:00–52:00; 48:00 starts before the window
  expect(APRIL).toBe(Date.parse(r.body.from));
});
