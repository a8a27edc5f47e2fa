// Builders shared by the analyzer's tests (telemetry records of one gas outlet, a small registry).
import { telemetryEventId, type TelemetryV1 } from '@offsite/contracts';
import type { RegistryView } from '@offsite/domain';

export const ENT = 'ent-t1';
export const OUTLET = 'out-t1-g1';
export const MN = 'MNT0000000000000000000001';
/** 2025-03-10 00:00 Asia/Shanghai. */
export const T0 = Date.parse('2025-03-10T00:00:00+08:00');
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export function testRegistry(nOxLimit = 50): RegistryView {
  return {
    enterprises: [{ id: ENT }],
    outlets: [{ id: OUTLET, enterpriseId: ENT, kind: 'gas', referenceO2: 6 }],
    limits: [
      { siteId: OUTLET, factor: 'a21002', value: nOxLimit, unit: 'mg/m3', basis: 'hourly', converted: true },
    ],
    instrumentRanges: [],
    devices: [{ id: MN, siteId: OUTLET, cadenceSeconds: 600, cadenceInterval: 'minute' }],
    meters: [],
    maintenanceWindows: [],
  };
}

/** A 10-minute (2051) reading of NOx and O2 (6 %, so converted = measured). */
export function minuteTelemetry(t: number, nox: number, o2 = 6): TelemetryV1 {
  const base = {
    enterpriseId: ENT,
    deviceId: MN,
    kind: 'emission' as const,
    interval: 'minute' as const,
    periodSeconds: 600,
    dataTime: new Date(t).toISOString(),
  };
  return {
    schema: 'telemetry.v1',
    eventId: telemetryEventId(base),
    ...base,
    siteId: OUTLET,
    source: 'kafka',
    receivedAt: new Date(t + 600_000).toISOString(),
    irregularities: [],
    measurements: [
      { factor: 'a21002', stat: 'Avg', value: nox, unit: 'mg/m3', flag: 'N' },
      { factor: 'a19001', stat: 'Avg', value: o2, unit: '%', flag: 'N' },
    ],
  };
}

/** NOx around 80 mg/m3 from 02:00 to 04:00 (two hours above the 50 limit), 20 otherwise, for `hours` hours. */
export function exceedanceStream(hours = 6): TelemetryV1[] {
  const out: TelemetryV1[] = [];
  // Values vary (−1, 0, +1 around the level) and O2 alternates 5.5/6.5 %, so the
  // flatline rule stays quiet; each hour's means are the level and 6 % O2 (converted = measured).
  let i = 0;
  for (let t = T0; t < T0 + hours * HOUR; t += 10 * MIN, i++) {
    const high = t >= T0 + 2 * HOUR && t < T0 + 4 * HOUR;
    out.push(minuteTelemetry(t, (high ? 80 : 20) + ((i % 3) - 1), i % 2 === 0 ? 5.5 : 6.5));
  }
  return out;
}
