// The stored transmission figures (transmission-days.ts) over the real Postgres and InfluxDB: May 2026 of one
// 10-minute gas device, hand-computed, and equal to the raw path (every minute row of the month counted by
// @offsite/domain) after each change that must not leave a stored day stale: late data noted for a stored day,
// a declared maintenance window, a new minute interval.
import { transmissionStatistics } from '@offsite/domain';
import { createInfluxClient, toLine } from '@offsite/influx';
import { createSilentLogger } from '@offsite/runtime';
import { requireEnv, silentLogger } from '@offsite/testing';
import { loadRecords, noteLateData, type DayCountsUse } from '../src/transmission-days.js';
import { createTransmissionWarm, monthsToWarm } from '../src/transmission-warm.js';
import { transmissionInput, transmissionReport, type TransmissionReport } from '../src/transmission.js';
import { createWorld, http, influxConnection, loginAs, type Session, type World } from './fixture.js';
import { ADMIN, writeLines } from './transmission-data.js';

const GAS = '99010201FG00010000000001'; // ent-0001, dist-landong, minute data every 600 s
const MAY = Date.parse('2026-05-01T00:00:00+08:00');
const SLOT = 600_000;

let w: World;
let admin: Session;

const point = (k: number, flag = 'N') =>
  toLine({
    measurement: `emission_${w.run}`,
    tags: { enterprise: 'ent-0001', site: 'out-0001-g1', device: GAS, factor: 'a21026', interval: 'minute' },
    fields: { Avg: 12, flag },
    timeSeconds: (MAY + k * SLOT) / 1000,
  });

async function gas(): Promise<{
  expected: number;
  received: number;
  valid: number;
  maintenanceSlots: number;
}> {
  const r = await http(w.base, {
    method: 'GET',
    url: '/api/transmission?month=2026-05',
    headers: { cookie: admin.cookie },
  });
  expect(r.statusCode).toBe(200);
  const body = r.json() as TransmissionReport;
  const d = body.enterprises.flatMap((e) => e.devices).find((x) => x.mn === GAS)!;
  return { expected: d.expected, received: d.received, valid: d.valid, maintenanceSlots: d.maintenanceSlots };
}

/** What the console's requests read: the world's InfluxDB measurement. */
function source() {
  const conn = influxConnection();
  return {
    client: createInfluxClient(conn, silentLogger),
    bucket: conn.bucket,
    emissionMeasurement: `emission_${w.run}`,
    threshold: 0.9,
  };
}

/** The raw path: the month's minute rows of ent-0001 counted by the domain's arithmetic, nothing stored. */
async function raw(): Promise<{
  expected: number;
  received: number;
  valid: number;
  maintenanceSlots: number;
}> {
  const { input } = await transmissionInput(w.pool, ADMIN, { month: '2026-05' }, Date.now(), 0.9);
  const conn = influxConnection();
  const src = {
    client: createInfluxClient(conn, silentLogger),
    bucket: conn.bucket,
    emissionMeasurement: `emission_${w.run}`,
    threshold: 0.9,
  };
  const records = await loadRecords(
    src,
    'ent-0001',
    new Date(MAY),
    new Date(Date.parse('2026-06-01T00:00:00+08:00')),
  );
  const d = transmissionStatistics({ ...input, records }).devices.find((x) => x.mn === GAS)!;
  return { expected: d.expected, received: d.received, valid: d.valid, maintenanceSlots: d.maintenanceSlots };
}

const storedDay = async (day: string) =>
  (
    await w.pool.query<{ received: number; valid: number }>(
      `select received, valid from console_transmission_days where device_mn = $1 and day = $2::date`,
      [GAS, day],
    )
  ).rows[0];

beforeAll(async () => {
  w = await createWorld({ transmissionStoreDays: true });
  admin = await loginAs(w.base, 'admin');
  await w.pool.query(`update devices set created_at = '2026-01-01T00:00:00Z'`);
  // 4464 slots of 10 minutes in May; slots 144–153 (2 May 00:00–01:30) missing; slot 300 (3 May 02:00) flagged D.
  const lines: string[] = [];
  for (let k = 0; k < 4464; k++) if (k < 144 || k > 153) lines.push(point(k, k === 300 ? 'D' : 'N'));
  await writeLines(lines);
});

afterAll(async () => {
  await w?.close();
});

test('stored days give the raw path’s figures, and stay true after late data, a window and a new interval', async () => {
  // First request: every closed day read from InfluxDB and stored.
  expect(await gas()).toEqual({ expected: 4464, received: 4454, valid: 4453, maintenanceSlots: 0 });
  expect(await raw()).toEqual(await gas());
  expect(await storedDay('2026-05-02')).toEqual({ received: 134, valid: 134 });
  const rows = await w.pool.query(`select 1 from console_transmission_days where device_mn = $1`, [GAS]);
  expect(rows.rowCount).toBe(31);

  // A late point for 2 May 00:00: InfluxDB alone does not change the stored day (the store is what is read)…
  await writeLines([point(144)]);
  expect(await gas()).toMatchObject({ received: 4454 });
  // …once it is noted late, the day is read again: 4455 received, as the raw path counts.
  await noteLateData(w.pool, [{ deviceMn: GAS, day: '2026-05-02', writtenAt: new Date() }]);
  expect(await gas()).toEqual({ expected: 4464, received: 4455, valid: 4454, maintenanceSlots: 0 });
  expect(await raw()).toEqual(await gas());
  expect(await storedDay('2026-05-02')).toEqual({ received: 135, valid: 135 });

  // Maintenance declared for 3 May 00:00–02:00: 12 slots out of both counts; slot 300 (02:00) still invalid.
  await w.pool.query(
    `insert into maintenance_windows (id, enterprise_id, device_mn, outlet_id, starts_at, ends_at, reason, source)
     values ('mw-days-1', 'ent-0001', $1, null, $2, $3, '校准', 'console')`,
    [GAS, new Date(MAY + 288 * SLOT), new Date(MAY + 300 * SLOT)],
  );
  expect(await gas()).toEqual({ expected: 4452, received: 4443, valid: 4442, maintenanceSlots: 12 });
  expect(await raw()).toEqual(await gas());

  // A 20-minute interval: 2232 slots less 6 in the window; 20-minute slots 73–76 (2 May 00:20–01:40) empty.
  await w.pool.query(`update devices set minute_interval_s = 1200 where mn = $1`, [GAS]);
  expect(await gas()).toEqual({ expected: 2226, received: 2222, valid: 2221, maintenanceSlots: 6 });
  expect(await raw()).toEqual(await gas());
  expect(await storedDay('2026-05-02')).toEqual({ received: 68, valid: 68 });
});

test('the warm tick keeps the current month, and the month before in a month’s first two days', () => {
  expect(monthsToWarm(Date.parse('2026-06-01T02:00:00+08:00'))).toEqual(['2026-05', '2026-06']);
  expect(monthsToWarm(Date.parse('2026-06-02T23:59:00+08:00'))).toEqual(['2026-05', '2026-06']);
  expect(monthsToWarm(Date.parse('2026-06-03T00:00:00+08:00'))).toEqual(['2026-06']);
  // 31 May 16:30 UTC is already 1 June in Shanghai.
  expect(monthsToWarm(Date.parse('2026-05-31T16:30:00Z'))).toEqual(['2026-05', '2026-06']);
});

test('a warm tick stores the month’s closed days before any request: the first request then reads none from InfluxDB', async () => {
  await w.pool.query(`delete from console_transmission_days`);
  const u = new URL(requireEnv('OFFSITE_REDIS_URL'));
  const warm = createTransmissionWarm({
    db: w.pool,
    source: { ...source(), storeDays: true },
    connection: { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null },
    prefix: `t-warm-${w.run}`,
    logger: createSilentLogger(),
  });
  try {
    // 1 June 02:00 Shanghai: 31 May's last slot ended two hours ago, so every May day of every device is closed.
    const at = Date.parse('2026-06-01T02:00:00+08:00');
    const [may, june] = await warm.tick(at);
    expect(may!.month).toBe('2026-05');
    expect(may!.use.reused).toBe(0);
    expect(may!.use.stored).toBeGreaterThan(0);
    expect(may!.use.stored).toBe(may!.use.computed);
    expect(june).toMatchObject({ month: '2026-06', use: { stored: 0 } });
    const rows = await w.pool.query(`select 1 from console_transmission_days where device_mn = $1`, [GAS]);
    expect(rows.rowCount).toBe(31);

    const use: DayCountsUse = { reused: 0, computed: 0, stored: 0 };
    await transmissionReport(
      w.pool,
      { ...source(), storeDays: true },
      ADMIN,
      { month: '2026-05' },
      Date.now(),
      use,
    );
    expect(use).toEqual({ reused: may!.use.stored, computed: 0, stored: 0 });
    expect(await gas()).toEqual(await raw());

    // Late data for a stored day: the next tick computes that day again, and only it.
    await noteLateData(w.pool, [{ deviceMn: GAS, day: '2026-05-20', writtenAt: new Date() }]);
    const [again] = await warm.tick(at);
    expect(again!.use).toEqual({ reused: may!.use.stored - 1, computed: 1, stored: 1 });
  } finally {
    await warm.close();
  }
});
