import type { RegistrySnapshot } from './registry-snapshot.js';

export interface MeterEntry {
  enterpriseId: string;
  meterId: string;
}

export interface DeviceEntry {
  enterpriseId: string;
  outletId: string;
  mn: string;
  minuteIntervalS: number;
  enabled: boolean;
}

/** What an ingestor asks the registry: is this enterprise, meter or data logger registered? */
export interface RegistryIndex {
  hasEnterprise(enterpriseId: string): boolean;
  meter(enterpriseId: string, meterId: string): MeterEntry | undefined;
  /** The data logger with this MN, if it belongs to this enterprise. */
  device(enterpriseId: string, mn: string): DeviceEntry | undefined;
  /** The data logger with this MN (an MN is unique across the registry). */
  deviceByMn(mn: string): DeviceEntry | undefined;
  readonly enterpriseIds: readonly string[];
}

/** The lookup index the ingestors keep in their `createRegistryCache`. */
export function indexRegistry(snapshot: RegistrySnapshot): RegistryIndex {
  const enterprises = new Set<string>();
  const meters = new Map<string, MeterEntry>();
  const devices = new Map<string, DeviceEntry>();
  for (const e of snapshot.enterprises) {
    enterprises.add(e.id);
    for (const m of e.meters) meters.set(`${e.id}\0${m.id}`, { enterpriseId: e.id, meterId: m.id });
    for (const o of e.outlets)
      for (const d of o.devices)
        devices.set(d.mn, {
          enterpriseId: e.id,
          outletId: o.id,
          mn: d.mn,
          minuteIntervalS: d.minuteIntervalS,
          enabled: d.enabled,
        });
  }
  return {
    enterpriseIds: [...enterprises].sort(),
    hasEnterprise: (id) => enterprises.has(id),
    meter: (e, m) => meters.get(`${e}\0${m}`),
    device: (e, mn) => {
      const d = devices.get(mn);
      return d?.enterpriseId === e ? d : undefined;
    },
    deviceByMn: (mn) => devices.get(mn),
  };
}
