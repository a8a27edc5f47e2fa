import type { RegistrySnapshot } from '@offsite/store';

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

/** What the ingestor asks the registry: is this meter / data logger registered under this enterprise? */
export interface RegistryIndex {
  hasEnterprise(enterpriseId: string): boolean;
  meter(enterpriseId: string, meterId: string): MeterEntry | undefined;
  device(enterpriseId: string, mn: string): DeviceEntry | undefined;
  readonly enterpriseIds: readonly string[];
}

export function indexRegistry(snapshot: RegistrySnapshot): RegistryIndex {
  const enterprises = new Set<string>();
  const meters = new Map<string, MeterEntry>();
  const devices = new Map<string, DeviceEntry>();
  for (const e of snapshot.enterprises) {
    enterprises.add(e.id);
    for (const m of e.meters) meters.set(`${e.id}\0${m.id}`, { enterpriseId: e.id, meterId: m.id });
    for (const o of e.outlets)
      for (const d of o.devices)
        devices.set(`${e.id}\0${d.mn}`, {
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
    device: (e, mn) => devices.get(`${e}\0${mn}`),
  };
}
