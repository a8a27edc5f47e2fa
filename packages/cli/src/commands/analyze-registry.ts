/** Registry file (registry/README.md) → the rule engine's RegistryView, and the MN → device lookup. */
import {
  deviceCadenceView,
  outletLimits,
  productionMeterIdsFor,
  type DeviceView,
  type MeterView,
  type RegistryView,
} from '@offsite/domain';
import type { RegistryFile } from '@offsite/store';

export interface DeviceContext {
  enterpriseId: string;
  siteId: string;
  minuteIntervalS: number;
}

type FileEnterprise = RegistryFile['enterprises'][number];
type FileDevice = FileEnterprise['outlets'][number]['devices'][number];

/**
 * The stream a device is judged on (capture, offline threshold), as the analyzer service does: its real-time
 * stream when it declares a real-time cadence; `realtimeIntervalS: 0` (the outlet uploads minute data only) is
 * judged on the minute data at the declared minute period — never on a real-time stream it does not send.
 */
export function deviceView(d: FileDevice, siteId: string): DeviceView {
  return deviceCadenceView(d.mn, siteId, d.realtimeIntervalS, d.minuteIntervalS);
}

/**
 * Treatment and production meters. A treatment meter carries the facility status series it powers (`SBn-RS` of an
 * outlet's logger, registry `facilities: [{ outlet, code }]`); facility links on other roles are ignored.
 */
function meterViews(e: FileEnterprise): MeterView[] {
  const out: MeterView[] = [];
  for (const m of e.meters) {
    if (m.role === 'total') continue;
    const facilities =
      m.role === 'treatment' ? (m.facilities ?? []).map((f) => ({ siteId: f.outlet, code: f.code })) : [];
    out.push({
      id: m.id,
      enterpriseId: e.id,
      role: m.role,
      ...(m.serves !== undefined ? { servesMeterId: m.serves } : {}),
      ...(m.ratedWindowKwh !== undefined ? { ratedWindowKwh: m.ratedWindowKwh } : {}),
      ...(facilities.length > 0 ? { facilities } : {}),
    });
  }
  return out;
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
    const meters = meterViews(e);
    for (const o of e.outlets) {
      view.outlets.push({
        id: o.id,
        enterpriseId: e.id,
        kind: o.kind,
        ...(o.refO2Pct !== undefined ? { referenceO2: o.refO2Pct } : {}),
        ...productionMeterIdsFor(o.productionMeters, meters),
      });
      view.limits.push(...outletLimits(o));
      for (const l of o.limits) {
        if (l.range)
          view.instrumentRanges.push({ siteId: o.id, factor: l.factor, min: l.range.min, max: l.range.max });
      }
      for (const d of o.devices) {
        if (!d.enabled) continue;
        outletOfDevice.set(d.mn, o.id);
        devices.set(d.mn, { enterpriseId: e.id, siteId: o.id, minuteIntervalS: d.minuteIntervalS });
        view.devices.push(deviceView(d, o.id));
      }
    }
    view.meters.push(...meters);
    for (const w of e.maintenanceWindows) {
      const siteId = w.outlet ?? (w.device !== undefined ? outletOfDevice.get(w.device) : undefined);
      if (siteId) view.maintenanceWindows.push({ siteId, start: Date.parse(w.from), end: Date.parse(w.to) });
    }
  }
  return { view, devices };
}
