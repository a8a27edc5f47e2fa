// The month the transmission tests look at: March 2026 (Asia/Shanghai) of the example registry, with minute data
// in the influx-writer's layout, a declared maintenance window, flagged values, a gap and a device without data.
// The figures it leads to are hand-computed in transmission.int.test.ts.
import { createInfluxClient, createInfluxWriter, toLine } from '@offsite/influx';
import { silentLogger } from '@offsite/testing';
import { influxConnection, type World } from './fixture.js';

/** 2026-03-01 00:00 Asia/Shanghai. */
export const MARCH = Date.parse('2026-02-28T16:00:00Z');
export const HOUR = 3_600_000;
export const WATER = '99010301WW00030000000001'; // ent-0003, dist-lanxi, minute data every 3600 s
export const WATER2 = '99010302WW00040000000001'; // ent-0004, dist-lanxi, 3600 s, no data
export const GAS = '99010201FG00010000000001'; // ent-0001, dist-landong, minute data every 600 s

export async function writeMarch(w: World): Promise<void> {
  // Every device registered before March.
  await w.pool.query(`update devices set created_at = '2026-01-01T00:00:00Z'`);
  // Declared maintenance of the water outlet: 1 March 08:00–12:00 +08 (4 hourly slots).
  await w.pool.query(
    `insert into maintenance_windows (id, enterprise_id, device_mn, outlet_id, starts_at, ends_at, reason, source)
     values ('mw-trans-1', 'ent-0003', $1, null, $2, $3, '校准', 'console')`,
    [WATER, new Date(MARCH + 8 * HOUR), new Date(MARCH + 12 * HOUR)],
  );
  const conn = influxConnection();
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
}
