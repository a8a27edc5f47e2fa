/** Registry file (registry/README.md) → the rule engine's RegistryView, and the MN → device lookup. */
import type { LimitView, RegistryView } from '@offsite/domain';
import type { RegistryFile } from '@offsite/store';

export interface DeviceContext {
  enterpriseId: string;
  siteId: string;
  minuteIntervalS: number;
}

/** One limit per outlet and factor: the basis that fits the outlet kind (gas: hourly, water: daily) wins. */
function pickLimits(kind: 'gas' | 'water', limits: LimitView[]): LimitView[] {
  const preferred = kind === 'gas' ? 'hourly' : 'daily';
  const byFactor = new Map<string, LimitView>();
  for (const l of limits) {
    const prev = byFactor.get(l.factor);
    if (!prev || (prev.basis !== preferred && l.basis === preferred)) byFactor.set(l.factor, l);
  }
  return [...byFactor.values()];
}

export function registryViewFromFile(reg: RegistryFile): {
  view: RegistryView;
  devices: Map<string, DeviceContext>;
} {
  const view: RegistryView = {
    enterprises: [],
    outlets: [],
    limits: [],
    instrumentRanges: [],
    devices: [],
    meters: [],
    maintenanceWindows: [],
  };
  const devices = new Map<string, DeviceContext>();
  for (const e of reg.enterprises) {
    const resuming = e.statusTimeline
      .filter((s) => s.status === 'resuming' && s.resumptionDate)
      .sort((a, b) => a.from.localeCompare(b.from));
    const rd = resuming[resuming.length - 1]?.resumptionDate;
    view.enterprises.push({ id: e.id, ...(rd ? { resumptionDate: rd } : {}) });
    const outletOfDevice = new Map<string, string>();
    for (const o of e.outlets) {
      view.outlets.push({
        id: o.id,
        enterpriseId: e.id,
        kind: o.kind,
        ...(o.refO2Pct !== undefined ? { referenceO2: o.refO2Pct } : {}),
      });
      view.limits.push(
        ...pickLimits(
          o.kind,
          o.limits.map((l) => ({
            siteId: o.id,
            factor: l.factor,
            value: l.value,
            unit: l.unit,
            basis: l.basis,
            converted: l.converted,
          })),
        ),
      );
      for (const l of o.limits) {
        if (l.range)
          view.instrumentRanges.push({ siteId: o.id, factor: l.factor, min: l.range.min, max: l.range.max });
      }
      for (const d of o.devices) {
        if (!d.enabled) continue;
        outletOfDevice.set(d.mn, o.id);
        devices.set(d.mn, { enterpriseId: e.id, siteId: o.id, minuteIntervalS: d.minuteIntervalS });
        view.devices.push({
          id: d.mn,
          siteId: o.id,
          cadenceSeconds: d.realtimeIntervalS,
          cadenceInterval: 'realtime',
        });
      }
    }
    for (const m of e.meters) {
      if (m.role === 'total') continue;
      view.meters.push({
        id: m.id,
        enterpriseId: e.id,
        role: m.role,
        ...(m.serves !== undefined ? { servesMeterId: m.serves } : {}),
        ...(m.ratedWindowKwh !== undefined ? { ratedWindowKwh: m.ratedWindowKwh } : {}),
      });
    }
    for (const w of e.maintenanceWindows) {
      const siteId = w.outlet ?? (w.device !== undefined ? outletOfDevice.get(w.device) : undefined);
      if (siteId) view.maintenanceWindows.push({ siteId, start: Date.parse(w.from), end: Date.parse(w.to) });
    }
  }
  return { view, devices };
}
