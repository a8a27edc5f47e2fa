import type { RegistrySnapshot } from '@offsite/store';

export interface DeviceEntry {
  enterpriseId: string;
  outletId: string;
  mn: string;
  minuteIntervalS: number;
  enabled: boolean;
}

/** What the kafka-ingestor asks the registry. */
export interface RegistryIndex {
  hasEnterprise(enterpriseId: string): boolean;
  deviceByMn(mn: string): DeviceEntry | undefined;
  readonly enterpriseIds: readonly string[];
}

export function indexRegistry(snapshot: RegistrySnapshot): RegistryIndex {
  const enterprises = new Set<string>();
  const devices = new Map<string, DeviceEntry>();
  for (const e of snapshot.enterprises) {
    enterprises.add(e.id);
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
    deviceByMn: (mn) => devices.get(mn),
  };
}
