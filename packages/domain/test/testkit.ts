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

/**
 * The lifecycle of every deviation series in an engine's outputs (domain-rules §3: opened → updated → resolved), or a
 * list of the violations: each id opens once at revision 1, each later revision is the one before plus 1, and once
 * resolved it stays resolved (late data may correct or retract a resolved series, never reopen it). A series that
 * `follows` another names one resolved before it was opened.
 */
export function lifecycleViolations(outputs: readonly unknown[]): string[] {
  const bad: string[] = [];
  const last = new Map<string, { state: string; revision: number }>();
  for (const o of outputs as {
    type?: string;
    id?: string;
    state?: string;
    revision?: number;
    evidence?: Record<string, unknown>;
  }[]) {
    if (o.type !== 'deviation') continue;
    const id = o.id!;
    const prev = last.get(id);
    const at = `${id} rev ${o.revision} ${o.state}`;
    if (!prev) {
      if (o.state !== 'opened' || o.revision !== 1)
        bad.push(`${at}: first event is not opened at revision 1`);
      const follows = o.evidence?.follows;
      if (follows !== undefined && last.get(String(follows))?.state !== 'resolved')
        bad.push(`${at}: follows ${String(follows)}, which is not resolved`);
    } else {
      if (o.revision !== prev.revision + 1) bad.push(`${at}: after revision ${prev.revision}`);
      if (o.state === 'opened') bad.push(`${at}: opened again`);
      if (prev.state === 'resolved' && o.state !== 'resolved') bad.push(`${at}: reopened after resolved`);
    }
    last.set(id, { state: o.state!, revision: o.revision! });
  }
  return bad;
}
