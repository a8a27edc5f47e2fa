// The emission-load tests' data: the water outlet out-0003-w1 of ent-0003 (dist-lanxi) on 1–2 April 2026
// (Asia/Shanghai), as the analyzer's hourly aggregates and the logger's hourly (2061) data in the influx-writer's
// layout. Hours (from 1 April 00:00 +08):
//  h0  COD 40 mg/L valid, NH3-N 2 mg/L valid, flow mean 100 valid, flow Cou 100 m³, COD Cou 4.1 kg
//  h1  COD 50 valid, flow Cou 120, COD Cou 5.9
//  h2  COD 60 flagged D (invalid), flow Cou 100, COD Cou 3.0
//  h24 COD 30 valid, flow Cou 200, COD Cou 9.0 (the logger over-reports: +50 %)
// The loads are hand-computed in loads.int.test.ts.
import { createInfluxClient, createInfluxWriter, toLine } from '@offsite/influx';
import { silentLogger } from '@offsite/testing';
import { influxConnection, type World } from './fixture.js';

/** 2026-04-01 00:00 Asia/Shanghai, in seconds. */
export const APRIL_S = Date.parse('2026-03-31T16:00:00Z') / 1000;
export const LOADS_OUTLET = { enterprise: 'ent-0003', site: 'out-0003-w1' };
const MN = '99010301WW00030000000001';

export async function writeLoadsData(w: World): Promise<void> {
  const conn = influxConnection();
  const writer = createInfluxWriter(
    { ...conn, logger: silentLogger },
    createInfluxClient(conn, silentLogger),
  );
  const agg = `aggregate_${w.run}`;
  const emission = `emission_${w.run}`;
  const aggTags = { ...LOADS_OUTLET, interval: 'hour' };
  const hourTags = { ...LOADS_OUTLET, device: MN, interval: 'hour' };
  const t = (h: number) => APRIL_S + h * 3600;
  const mean = (h: number, factor: string, value: number, valid = true) =>
    toLine({
      measurement: agg,
      tags: { ...aggTags, factor },
      fields: { value, valid, flag: valid ? 'N' : 'D', coverage: 1 },
      timeSeconds: t(h),
    });
  const hourly = (h: number, factor: string, fields: Record<string, number | string>) =>
    toLine({
      measurement: emission,
      tags: { ...hourTags, factor },
      fields: { flag: 'N', ...fields },
      timeSeconds: t(h),
    });
  await writer.write([
    mean(0, 'w01018', 40),
    mean(0, 'w21003', 2),
    mean(0, 'w00000', 100),
    hourly(0, 'w00000', { Avg: 100, Cou: 100 }),
    hourly(0, 'w01018', { Avg: 40, Cou: 4.1, unit: 'mg/L' }),
    mean(1, 'w01018', 50),
    hourly(1, 'w00000', { Avg: 120, Cou: 120 }),
    hourly(1, 'w01018', { Avg: 50, Cou: 5.9, unit: 'mg/L' }),
    mean(2, 'w01018', 60, false),
    hourly(2, 'w00000', { Avg: 100, Cou: 100 }),
    hourly(2, 'w01018', { Avg: 60, Cou: 3, unit: 'mg/L' }),
    mean(24, 'w01018', 30),
    hourly(24, 'w00000', { Avg: 200, Cou: 200 }),
    hourly(24, 'w01018', { Avg: 30, Cou: 9, unit: 'mg/L' }),
  ]);
  await writer.close();
  // The permit's annual COD load (许可排放量), on its daily limit.
  await w.pool.query(
    `update permit_limits set annual_load_kg = 2500 where outlet_id = $1 and factor_code = 'w01018'`,
    [LOADS_OUTLET.site],
  );
}
