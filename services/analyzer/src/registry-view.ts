// The analyzer's view of the registry: maps the store's snapshot onto the domain's RegistryView.
import {
  deviceCadenceView,
  outletLimits,
  productionMeterIdsFor,
  type DeviceView,
  type MeterView,
  type RegistryView,
} from '@offsite/domain';
import type { RegistrySnapshot } from '@offsite/store';

/** Rated window energy per meter id, derived from history for meters the registry leaves unconfigured. */
export type RatedEnergyOverrides = ReadonlyMap<string, number>;

/** The resumption date: the latest `resuming` entry of the status timeline that carries one. */
function resumptionDate(
  timeline: RegistrySnapshot['enterprises'][number]['statusTimeline'],
): string | undefined {
  const dates = timeline
    .filter((s) => s.status === 'resuming' && s.resumptionDate)
    .sort((a, b) => a.from.localeCompare(b.from))
    .map((s) => s.resumptionDate!);
  return dates[dates.length - 1];
}

type SnapshotDevice = RegistrySnapshot['enterprises'][number]['outlets'][number]['devices'][number];

/**
 * The stream a device is judged on (capture rate, offline threshold) and its cadence, from the
 * registry's cadence fields: the real-time (2011) stream when the device declares a real-time
 * cadence, otherwise its minute (2051) data at the declared minute period. A logger that uploads
 * only minute data must not be judged on a real-time stream it never sends (every hour would be a
 * low-capture hour). The registry marks "no real-time upload" with `realtimeIntervalS: 0`
 * (store migration 002); a null or absent cadence is read the same way.
 */
export function deviceView(d: SnapshotDevice, siteId: string): DeviceView {
  return deviceCadenceView(
    d.mn,
    siteId,
    (d as { realtimeIntervalS?: number | null }).realtimeIntervalS,
    d.minuteIntervalS,
  );
}

type SnapshotEnterprise = RegistrySnapshot['enterprises'][number];

/**
 * The domain's treatment and production meters of one enterprise. A treatment meter carries the
 * facility status series it powers (`SBn-RS` of an outlet's logger) as `facilities`; links left on
 * a meter that is no longer a treatment meter (an unpruned import) are ignored.
 */
function meterViews(e: SnapshotEnterprise, rated: RatedEnergyOverrides): MeterView[] {
  const out: MeterView[] = [];
  for (const m of e.meters) {
    if (m.role === 'total') continue;
    const ratedKwh = m.ratedWindowKwh ?? rated.get(m.id);
    const facilities =
      m.role === 'treatment' ? (m.facilities ?? []).map((f) => ({ siteId: f.outletId, code: f.code })) : [];
    out.push({
      id: m.id,
      enterpriseId: e.id,
      role: m.role,
      ...(m.servesMeterId !== null ? { servesMeterId: m.servesMeterId } : {}),
      ...(ratedKwh !== undefined ? { ratedWindowKwh: ratedKwh } : {}),
      ...(facilities.length > 0 ? { facilities } : {}),
    });
  }
  return out;
}

export function registryViewFromSnapshot(
  snap: RegistrySnapshot,
  rated: RatedEnergyOverrides = new Map(),
): RegistryView {
  const view: RegistryView = {
    enterprises: [],
    outlets: [],
    limits: [],
    instrumentRanges: [],
    devices: [],
    meters: [],
    maintenanceWindows: [],
  };
  for (const e of snap.enterprises) {
    const rd = resumptionDate(e.statusTimeline);
    view.enterprises.push({ id: e.id, ...(rd ? { resumptionDate: rd } : {}) });
    const outletOfDevice = new Map<string, string>();
    const meters = meterViews(e, rated);
    for (const o of e.outlets) {
      view.outlets.push({
        id: o.id,
        enterpriseId: e.id,
        kind: o.kind,
        ...(o.refO2Pct !== null ? { referenceO2: o.refO2Pct } : {}),
        ...productionMeterIdsFor(o.productionMeterIds, meters),
      });
      view.limits.push(...outletLimits(o));
      for (const l of o.limits) {
        if (l.range.max === null) continue;
        view.instrumentRanges.push({
          siteId: o.id,
          factor: l.factor,
          ...(l.range.min !== null ? { min: l.range.min } : {}),
          max: l.range.max,
        });
      }
      for (const d of o.devices) {
        if (!d.enabled) continue;
        outletOfDevice.set(d.mn, o.id);
        view.devices.push(deviceView(d, o.id));
      }
    }
    view.meters.push(...meters);
    for (const w of e.maintenanceWindows) {
      const siteId = w.outletId ?? (w.deviceMn !== null ? outletOfDevice.get(w.deviceMn) : undefined);
      if (!siteId) continue;
      view.maintenanceWindows.push({ siteId, start: Date.parse(w.from), end: Date.parse(w.to) });
    }
  }
  return view;
}

/** Meters whose rated window energy must be derived from history (not configured in the registry). */
export function metersNeedingRatedEnergy(
  snap: RegistrySnapshot,
): { meterId: string; enterpriseId: string }[] {
  return snap.enterprises.flatMap((e) =>
    e.meters
      .filter((m) => m.role !== 'total' && m.ratedWindowKwh === null)
      .map((m) => ({ meterId: m.id, enterpriseId: e.id })),
  );
}
