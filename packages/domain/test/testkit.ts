// Builders shared by the unit tests (not exported from the package).
import { makeConfig, type DeepPartial, type EngineConfig } from '../src/config.js';
import type { Measurement, Reading, RegistryView } from '../src/model.js';

/** Local midnight (Asia/Shanghai) of 2025-03-10, a day boundary. */
export const T0 = Date.parse('2025-03-10T00:00:00+08:00');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export function registry(patch: Partial<RegistryView> = {}): RegistryView {
  return {
    enterprises: [{ id: 'E1' }],
    outlets: [{ id: 'OUT1', enterpriseId: 'E1', kind: 'gas', referenceO2: 9 }],
    limits: [
      { siteId: 'OUT1', factor: 'a21026', value: 35, unit: 'mg/m3', basis: 'hourly', converted: true },
    ],
    instrumentRanges: [{ siteId: 'OUT1', factor: 'a21026', max: 500 }],
    devices: [{ id: 'MN1', siteId: 'OUT1', cadenceSeconds: 600, cadenceInterval: 'minute' }],
    meters: [],
    maintenanceWindows: [],
    ...patch,
  };
}

export function config(patch: DeepPartial<EngineConfig> = {}): EngineConfig {
  return makeConfig(patch);
}

type Val = number | [number, string];

function measurements(values: Record<string, Val>, stat: string): Measurement[] {
  return Object.entries(values).map(([factor, v]) =>
    Array.isArray(v) ? { factor, stat, value: v[0], flag: v[1] } : { factor, stat, value: v, flag: 'N' },
  );
}

let seq = 0;
export function resetSeq(): void {
  seq = 0;
}

export function minute(
  t: number,
  values: Record<string, Val>,
  opt: { periodSeconds?: number; site?: string; device?: string; id?: string } = {},
): Reading {
  return {
    eventId: opt.id ?? `m-${opt.device ?? 'MN1'}-${t}-${seq++}`,
    enterpriseId: 'E1',
    siteId: opt.site ?? 'OUT1',
    deviceId: opt.device ?? 'MN1',
    kind: 'emission',
    interval: 'minute',
    periodSeconds: opt.periodSeconds ?? 600,
    dataTime: t,
    measurements: measurements(values, 'Avg'),
  };
}

export function realtime(
  t: number,
  values: Record<string, Val>,
  opt: { site?: string; device?: string } = {},
): Reading {
  return {
    eventId: `r-${opt.device ?? 'MN1'}-${t}`,
    enterpriseId: 'E1',
    siteId: opt.site ?? 'OUT1',
    deviceId: opt.device ?? 'MN1',
    kind: 'emission',
    interval: 'realtime',
    dataTime: t,
    measurements: measurements(values, 'Rtd'),
  };
}

export function hourReading(
  t: number,
  values: Record<string, number>,
  zs: Record<string, number> = {},
): Reading {
  return {
    eventId: `h-${t}`,
    enterpriseId: 'E1',
    siteId: 'OUT1',
    deviceId: 'MN1',
    kind: 'emission',
    interval: 'hour',
    periodSeconds: 3600,
    dataTime: t,
    measurements: [...measurements(values, 'Avg'), ...measurements(zs, 'ZsAvg')],
  };
}

export function energy(meter: string, t: number, kwh: number): Reading {
  return {
    eventId: `e-${meter}-${t}`,
    enterpriseId: 'E1',
    siteId: meter,
    deviceId: meter,
    kind: 'energy',
    interval: 'realtime',
    dataTime: t,
    measurements: [{ factor: 'energy_kwh', stat: 'Cou', value: kwh }],
  };
}

/** Six 10-minute values for one hour starting at `h`. */
export function hourOfMinutes(h: number, values: Record<string, Val>[]): Reading[] {
  return values.map((v, i) => minute(h + i * 10 * MIN, v));
}
