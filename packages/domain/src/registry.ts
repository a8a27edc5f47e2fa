// Lookup structures over a RegistryView, built once per engine.
import type { EngineConfig, RulesConfig } from './config.js';
import type {
  DeviceView,
  InstrumentRangeView,
  LimitView,
  MaintenanceWindowView,
  MeterView,
  OutletView,
  RegistryView,
} from './model.js';
import { DAY_MS, localDateToEpoch } from './time.js';

export interface RegistryIndex {
  outlets: Map<string, OutletView>;
  /** siteId → factor → limit */
  limits: Map<string, Map<string, LimitView>>;
  ranges: Map<string, Map<string, InstrumentRangeView>>;
  devices: Map<string, DeviceView>;
  meters: Map<string, MeterView>;
  maintenance: Map<string, MaintenanceWindowView[]>;
  /** enterpriseId → [start, end) of the resumption window */
  resumption: Map<string, { start: number; end: number }>;
}

function nested<T>(
  items: readonly T[],
  a: (t: T) => string,
  b: (t: T) => string,
): Map<string, Map<string, T>> {
  const m = new Map<string, Map<string, T>>();
  for (const it of items) {
    let inner = m.get(a(it));
    if (!inner) m.set(a(it), (inner = new Map()));
    inner.set(b(it), it);
  }
  return m;
}

/** The resumption date: explicit, else the latest `resuming` entry of the status timeline. */
export function resumptionDateOf(e: RegistryView['enterprises'][number]): string | undefined {
  if (e.resumptionDate) return e.resumptionDate;
  const resuming = (e.statusTimeline ?? []).filter((s) => s.status === 'resuming').map((s) => s.from);
  return resuming.sort().pop();
}

export function indexRegistry(reg: RegistryView, cfg: EngineConfig): RegistryIndex {
  const resumption = new Map<string, { start: number; end: number }>();
  for (const e of reg.enterprises) {
    const d = resumptionDateOf(e);
    if (!d) continue;
    const start = localDateToEpoch(d, cfg.timezoneOffsetMinutes);
    if (Number.isFinite(start))
      resumption.set(e.id, { start, end: start + cfg.resumption.windowDays * DAY_MS });
  }
  const maintenance = new Map<string, MaintenanceWindowView[]>();
  for (const w of reg.maintenanceWindows)
    maintenance.set(w.siteId, [...(maintenance.get(w.siteId) ?? []), w]);
  return {
    outlets: new Map(reg.outlets.map((o) => [o.id, o])),
    limits: nested(
      reg.limits,
      (l) => l.siteId,
      (l) => l.factor,
    ),
    ranges: nested(
      reg.instrumentRanges,
      (r) => r.siteId,
      (r) => r.factor,
    ),
    devices: new Map(reg.devices.map((d) => [d.id, d])),
    meters: new Map(reg.meters.map((m) => [m.id, m])),
    maintenance,
    resumption,
  };
}

/** Whether `t` lies in the enterprise's resumption window (day 1 … day `windowDays` after the date). */
export function inResumptionWindow(idx: RegistryIndex, enterpriseId: string, t: number): boolean {
  const r = idx.resumption.get(enterpriseId);
  return r !== undefined && t >= r.start && t < r.end;
}

/** Offline threshold of a device: max(multiplier × cadence, minimum). */
export function offlineThresholdMs(rules: RulesConfig, device: DeviceView | undefined): number {
  const cadence = device ? device.cadenceSeconds * 1000 : 0;
  return Math.max(rules.offline.cadenceMultiplier * cadence, rules.offline.minMs);
}

// ---- mapping helpers shared by every registry source (the analyzer's store snapshot, the CLI's registry file) ----

/**
 * The stream a device is judged on (capture rate, offline threshold) and its cadence: the real-time (2011) stream
 * when the device declares a real-time cadence, otherwise its minute (2051) data at the declared minute period.
 * The registry marks "no real-time upload" with `realtimeIntervalS: 0`; null or absent is read the same way, so a
 * minute-only logger is never judged on a real-time stream it does not send.
 */
export function deviceCadenceView(
  mn: string,
  siteId: string,
  realtimeIntervalS: number | null | undefined,
  minuteIntervalS: number,
): DeviceView {
  if (typeof realtimeIntervalS === 'number' && Number.isFinite(realtimeIntervalS) && realtimeIntervalS > 0)
    return { id: mn, siteId, cadenceSeconds: realtimeIntervalS, cadenceInterval: 'realtime' };
  return { id: mn, siteId, cadenceSeconds: minuteIntervalS, cadenceInterval: 'minute' };
}

/**
 * A permit may give a factor both an hourly and a daily limit; the engine takes one per outlet and factor, so the
 * basis that fits the outlet kind (gas: hourly, water: daily) wins.
 */
export function limitPerFactor(kind: 'gas' | 'water', limits: readonly LimitView[]): LimitView[] {
  const preferred = kind === 'gas' ? 'hourly' : 'daily';
  const byFactor = new Map<string, LimitView>();
  for (const l of limits) {
    const prev = byFactor.get(l.factor);
    if (!prev || (prev.basis !== preferred && l.basis === preferred)) byFactor.set(l.factor, l);
  }
  return [...byFactor.values()];
}

/** The limits the rules apply at an outlet: its registered limits, one per factor (`limitPerFactor`). */
export function outletLimits(outlet: {
  id: string;
  kind: 'gas' | 'water';
  limits: readonly Omit<LimitView, 'siteId'>[];
}): LimitView[] {
  return limitPerFactor(
    outlet.kind,
    outlet.limits.map((l) => ({
      siteId: outlet.id,
      factor: l.factor,
      value: l.value,
      ...(l.unit !== undefined ? { unit: l.unit } : {}),
      basis: l.basis,
      converted: l.converted,
    })),
  );
}

/**
 * The production meters that make a zero at an outlet suspicious: the listed ones that are production meters of
 * the outlet's enterprise; none listed (or none left) keeps the domain default (all of them).
 */
export function productionMeterIdsFor(
  listed: readonly string[] | null | undefined,
  enterpriseMeters: readonly MeterView[],
): Pick<OutletView, 'productionMeterIds'> {
  const production = new Set(enterpriseMeters.filter((m) => m.role === 'production').map((m) => m.id));
  const ids = (listed ?? []).filter((id) => production.has(id));
  return ids.length > 0 ? { productionMeterIds: ids } : {};
}
