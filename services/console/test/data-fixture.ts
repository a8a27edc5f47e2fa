// Telemetry the data browser's tests read: 100 days of hourly NOx at ent-0002's gas outlet (every 10th hour
// flagged D), the analyzer's hourly aggregates of the first day (hour 5 invalid), and a day of the production
// and treatment meters (one reading a minute; running the first 12 hours). Under the world's measurement names.
import { createInfluxClient, createInfluxWriter, toLine } from '@offsite/influx';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { World } from './fixture.js';

export const MN = '99010202FG00020000000001';
/** 2026-02-01 00:00 Asia/Shanghai, in seconds. */
export const FEB = Date.parse('2026-01-31T16:00:00Z') / 1000;
export const DAYS = 100;

export async function writeBrowseData(w: World): Promise<void> {
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
  const tags = {
    enterprise: 'ent-0002',
    site: 'out-0002-g1',
    device: MN,
    factor: 'a21002',
    interval: 'hour',
  };
  // 100 days of hourly NOx (2,400 points: more than one query returns raw), every 10th hour flagged D.
  const lines = Array.from({ length: DAYS * 24 }, (_, i) =>
    toLine({
      measurement: `emission_${w.run}`,
      tags,
      fields: { Avg: 100 + (i % 24), ZsAvg: 120 + (i % 24), flag: i % 10 === 0 ? 'D' : 'N', unit: 'mg/m3' },
      timeSeconds: FEB + i * 3600,
    }),
  );
  // The analyzer's hourly aggregates of the first day: converted values, hour 5 invalid.
  lines.push(
    ...Array.from({ length: 24 }, (_, i) =>
      toLine({
        measurement: `aggregate_${w.run}`,
        tags: { enterprise: 'ent-0002', site: 'out-0002-g1', factor: 'a21002', interval: 'hour' },
        fields: {
          value: 100 + i,
          converted: 120 + i,
          valid: i !== 5,
          flag: i === 5 ? 'D' : 'N',
          coverage: 1,
        },
        timeSeconds: FEB + i * 3600,
      }),
    ),
  );
  // Production and treatment meters (real-time, one reading a minute) over the first day.
  for (const [site, kw] of [
    ['mtr-0002-p1', 80],
    ['mtr-0002-t1', 12],
  ] as const)
    for (let i = 0; i < 24 * 60; i++)
      lines.push(
        toLine({
          measurement: `energy_${w.run}`,
          tags: { enterprise: 'ent-0002', site, device: site, factor: 'power_kw', interval: 'realtime' },
          fields: { Rtd: i < 12 * 60 ? kw : 0, flag: 'N', unit: 'kW' },
          timeSeconds: FEB + i * 60,
        }),
      );
  await writer.write(lines);
  writer.close();
}
