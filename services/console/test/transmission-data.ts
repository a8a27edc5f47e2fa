// The month the transmission tests look at: March 2026 (Asia/Shanghai) of the example registry, with minute data
// in the influx-writer's layout, a declared maintenance window, flagged values, a gap and a device without data.
// The figures it leads to are hand-computed in transmission.int.test.ts.
import { createInfluxClient, createInfluxWriter, toLine } from '@offsite/influx';
import { silentLogger } from '@offsite/testing';
import { influxConnection, type World } from './fixture.js';

/** A city-wide principal for calling the statistics' functions directly (the raw path of the tests). */
export const ADMIN = {
  userId: '0',
  username: 'ref',
  displayName: 'ref',
  role: 'admin',
  districtId: null,
  enterpriseId: null,
} as const;

/** 2026-03-01 00:00 Asia/Shanghai. */
export const MARCH = Date.parse('2026-02-28T16:00:00Z');
export const HOUR = 3_600_000;
export const WATER = '99010301WW00030000000001'; // ent-0003, dist-lanxi, minute data every 3600 s
export const WATER2 = '99010302WW00040000000001'; // ent-0004, dist-lanxi, 3600 s, no data
export const GAS = '99010201FG00010000000001'; // ent-0001, dist-landong, minute data every 600 s

/** Writes line-protocol lines to the test InfluxDB, in batches. */
export async function writeLines(lines: readonly string[]): Promise<void> {
  const conn = influxConnection();
  const writer = createInfluxWriter(
    { ...conn, logger: silentLogger },
    createInfluxClient(conn, silentLogger),
  );
  for (let i = 0; i < lines.length; i += 5000) await writer.write(lines.slice(i, i + 5000));
  await writer.close();
}

export async function writeMarch(w: World): Promise<void> {
  // Every device registered before March.
  await w.pool.query(`update devices set created_at = '2026-01-01T00:00:00Z'`);
  // Declared maintenance of the water outlet: 1 March 08:00–12:00 +08 (4 hourly slots).
  await w.pool.query(
    `insert into maintenance_windows (id, enterprise_id, device_mn, outlet_id, starts_at, ends_at, reason, source)
     values ('mw-trans-1', 'ent-0003', $1, null, $2, $3, '校准', 'console')`,
    [WATER, new Date(MARCH + 8 * HOUR), new Date(MARCH + 12 * HOUR)],
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
  await writeLines(lines);
}

/** 2026-04-01 00:00 Asia/Shanghai. */
export const APRIL = Date.parse('2026-03-31T16:00:00Z');
const MAY = Date.parse('2026-04-30T16:00:00Z');
export const GAS2 = '99010202FG00020000000001'; // ent-0002, 600 s, registered mid-slot on 11 April
export const GAS5 = '99010203FG00050000000001'; // ent-0005, 420 s (slots not aligned to the epoch's)

/**
 * April 2026 for the check that the console's figures equal those of the raw minute rows themselves: values off the slot
 * starts and several in one slot, gaps, flags D/T/M/F on one factor of two, a row with a flag and no `Avg`, an
 * empty flag, a flag `N` without a value, values in March's last and May's first minute, a registration
 * mid-slot, a 7-minute cadence, and declared windows of a device and of two outlets whose ends fall inside slots.
 */
export async function writeAprilEdgeCases(w: World): Promise<void> {
  const MIN = 60_000;
  await w.pool.query(`update devices set minute_interval_s = 420 where mn = $1`, [GAS5]);
  await w.pool.query(`update devices set created_at = $2 where mn = $1`, [
    GAS2,
    new Date(APRIL + 10 * 24 * HOUR + 5 * MIN),
  ]);
  await w.pool.query(
    `insert into maintenance_windows (id, enterprise_id, device_mn, outlet_id, starts_at, ends_at, reason, source)
     values ('mw-apr-device', 'ent-0003', $1, null, $2, $3, '校准', 'console'),
            ('mw-apr-outlet', 'ent-0001', null, 'out-0001-g1', $4, $5, '检修', 'console'),
            ('mw-apr-outlet-5', 'ent-0005', null, 'out-0005-g1', $6, $7, '停炉', 'console')`,
    [
      WATER,
      new Date(APRIL + 48 * HOUR + 30 * MIN),
      new Date(APRIL + 53 * HOUR),
      new Date(APRIL + 5 * 24 * HOUR + 7 * MIN),
      new Date(APRIL + 6 * 24 * HOUR + 3 * MIN),
      new Date(APRIL + 2 * 24 * HOUR + 11 * MIN),
      new Date(APRIL + 2 * 24 * HOUR + 5 * HOUR),
    ],
  );
  const measurement = `emission_${w.run}`;
  const lines: string[] = [];
  const point = (
    ent: string,
    site: string,
    device: string,
    factor: string,
    time: number,
    fields: Record<string, number | string>,
  ) =>
    lines.push(
      toLine({
        measurement,
        tags: { enterprise: ent, site, device, factor, interval: 'minute' },
        fields,
        timeSeconds: time / 1000,
      }),
    );
  const flagOf = (k: number) => (k % 50 === 0 ? 'D' : k % 77 === 0 ? 'T' : k % 131 === 0 ? 'M' : 'N');
  // ent-0001 gas, 600 s: slots 1000–1099 missing; values 0–2 minutes into their slot; a second value in every
  // tenth slot; at slot 1050 a flag F without a value, at 1060 an empty flag, at 1070 a flag N without a value.
  for (let k = 0; k < 4320; k++) {
    if (k >= 1000 && k < 1100) continue;
    const t = APRIL + k * 600_000 + (k % 3) * MIN;
    point('ent-0001', 'out-0001-g1', GAS, 'a21026', t, { Avg: 10, flag: flagOf(k) });
    point('ent-0001', 'out-0001-g1', GAS, 'a34013', t, { Avg: 5, flag: 'N' });
    if (k % 10 === 0) point('ent-0001', 'out-0001-g1', GAS, 'a34013', t + 5 * MIN, { Avg: 6, flag: 'N' });
  }
  point('ent-0001', 'out-0001-g1', GAS, 'a21026', APRIL + 1050 * 600_000, { flag: 'F' });
  point('ent-0001', 'out-0001-g1', GAS, 'a21026', APRIL + 1060 * 600_000, { Avg: 1, flag: '' });
  point('ent-0001', 'out-0001-g1', GAS, 'a21026', APRIL + 1070 * 600_000, { flag: 'N' });
  point('ent-0001', 'out-0001-g1', GAS, 'a21026', APRIL - MIN, { Avg: 1, flag: 'D' });
  point('ent-0001', 'out-0001-g1', GAS, 'a21026', MAY, { Avg: 1, flag: 'D' });
  // ent-0002 gas, 600 s, registered on 11 April 00:05: data from the 1st, every third slot flagged or missing.
  for (let k = 0; k < 4320; k++)
    if (k % 3 !== 0)
      point('ent-0002', 'out-0002-g1', GAS2, 'a21026', APRIL + k * 600_000, { Avg: 3, flag: flagOf(k) });
  // ent-0005 gas, 420 s: a value on each slot start but for a gap of a day; its outlet's window.
  for (let k = 0; k < (MAY - APRIL) / 420_000; k++)
    if (k < 2000 || k >= 2206)
      point('ent-0005', 'out-0005-g1', GAS5, 'a34013', APRIL + k * 420_000 + MIN, {
        Avg: 4,
        flag: flagOf(k),
      });
  // ent-0003 water, 3600 s: M inside and outside its window, a gap.
  for (let h = 0; h < 720; h++)
    if (h < 300 || h >= 320)
      point('ent-0003', 'out-0003-w1', WATER, 'w01018', APRIL + h * HOUR, {
        Avg: 40,
        flag: h >= 48 && h < 53 ? 'M' : flagOf(h),
      });
  await writeLines(lines);
}
