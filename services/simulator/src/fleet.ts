/** The simulated fleet: loggers and meters derived from a registry file (`registry/README.md`). */
import type { RegistryFile, RegistryMeter, ProtocolVersion } from '@offsite/store';
import { GAS_AUX, WATER_AUX, profileFor, type LoadProfile } from './patterns.js';

export interface LimitInfo {
  readonly value: number;
  readonly converted: boolean;
}

export interface LoggerSpec {
  readonly enterpriseId: string;
  readonly outletId: string;
  readonly kind: 'gas' | 'water';
  readonly mn: string;
  readonly password: string;
  readonly sm4Key: string | null;
  readonly protocolVersion: ProtocolVersion;
  /** ST: 31 flue gas, 32 wastewater. */
  readonly st: '31' | '32';
  readonly realtimeIntervalS: number;
  readonly minuteIntervalS: number;
  readonly refO2Pct: number | null;
  /** Factor codes the logger reports, auxiliaries first. */
  readonly factors: readonly string[];
  /** Hourly (gas) or daily (water) permit limit per factor, when the permit has one. */
  readonly limits: Readonly<Record<string, LimitInfo>>;
  /**
   * Treatment facilities whose running status this logger reports (`SBn-RS` in CN 2021 packets),
   * from the registry's treatment meters `facilities: [{ outlet, code }]`; the meter tells whether it runs.
   */
  readonly facilities: readonly { readonly code: string; readonly meterId: string }[];
  /**
   * The logger sends each pollutant's load (`-Cou`, kg: mean × the period's flow volume) in its hourly and daily
   * data, as many loggers do; the console and the analyzer compare it with their own recalculation.
   */
  readonly sendsLoadCou: boolean;
}

/** About half the loggers send pollutant loads: those whose MN's character codes sum to an even number. */
export function sendsLoadCou(mn: string): boolean {
  let sum = 0;
  for (let i = 0; i < mn.length; i++) sum += mn.charCodeAt(i);
  return sum % 2 === 0;
}

export interface MeterSpec {
  readonly enterpriseId: string;
  readonly meterId: string;
  readonly role: RegistryMeter['role'];
  /** Energy of a fully running 15-minute window (kWh); a default by role when the registry has none. */
  readonly ratedWindowKwh: number;
  readonly serves: string | null;
  readonly mqttUsername: string | null;
}

export interface EnterpriseSpec {
  readonly id: string;
  readonly name: string;
  readonly industry: string;
  readonly profile: LoadProfile;
  readonly status: 'shutdown' | 'resuming' | 'normal';
  readonly loggers: readonly LoggerSpec[];
  readonly meters: readonly MeterSpec[];
  readonly maintenanceWindows: readonly {
    device: string | null;
    outlet: string | null;
    from: number;
    to: number;
  }[];
}

export interface Fleet {
  readonly enterprises: readonly EnterpriseSpec[];
  readonly loggers: readonly LoggerSpec[];
  readonly meters: readonly MeterSpec[];
}

const DEFAULT_RATED: Record<RegistryMeter['role'], number> = { production: 120, treatment: 45, total: 250 };

function mqttUser(ref: string | undefined): string | null {
  if (!ref) return null;
  const m = /^mqtt-user:(.+)$/.exec(ref);
  return m?.[1] ?? null;
}

export function buildFleet(registry: RegistryFile): Fleet {
  const enterprises: EnterpriseSpec[] = registry.enterprises.map((e, index) => {
    const loggers: LoggerSpec[] = [];
    const facilitiesAt = new Map<string, { code: string; meterId: string }[]>();
    for (const m of e.meters)
      for (const f of m.facilities ?? []) {
        const list = facilitiesAt.get(f.outlet) ?? [];
        list.push({ code: f.code, meterId: m.id });
        facilitiesAt.set(f.outlet, list);
      }
    for (const o of e.outlets) {
      const aux: readonly string[] = o.kind === 'gas' ? GAS_AUX : WATER_AUX;
      const limits: Record<string, LimitInfo> = {};
      for (const l of o.limits) {
        // Gas is judged hourly, water daily; keep the basis the outlet's kind is judged on.
        const wanted = o.kind === 'gas' ? 'hourly' : 'daily';
        if (l.basis === wanted || !limits[l.factor])
          limits[l.factor] = { value: l.value, converted: l.converted };
      }
      const pollutants = Object.keys(limits).filter((f) => !aux.includes(f));
      const factors = [
        ...aux,
        ...(pollutants.length > 0
          ? pollutants
          : o.kind === 'gas'
            ? ['a21026', 'a21002', 'a34013']
            : ['w01018', 'w21003']),
      ];
      for (const d of o.devices) {
        if (!d.enabled) continue;
        loggers.push({
          enterpriseId: e.id,
          outletId: o.id,
          kind: o.kind,
          mn: d.mn,
          password: d.password,
          sm4Key: d.sm4Key ?? null,
          protocolVersion: d.protocolVersion,
          st: o.kind === 'gas' ? '31' : '32',
          realtimeIntervalS: d.realtimeIntervalS,
          minuteIntervalS: d.minuteIntervalS,
          refO2Pct: o.refO2Pct ?? null,
          factors,
          limits,
          facilities: [...(facilitiesAt.get(o.id) ?? [])].sort((a, b) => (a.code < b.code ? -1 : 1)),
          sendsLoadCou: sendsLoadCou(d.mn),
        });
      }
    }
    const meters: MeterSpec[] = e.meters.map((m) => ({
      enterpriseId: e.id,
      meterId: m.id,
      role: m.role,
      ratedWindowKwh: m.ratedWindowKwh ?? DEFAULT_RATED[m.role],
      serves: m.serves ?? null,
      mqttUsername: mqttUser(m.mqttCredentialsRef),
    }));
    return {
      id: e.id,
      name: e.name.zh,
      industry: e.industry,
      profile: profileFor(e.industry, index),
      status: e.status,
      loggers,
      meters,
      maintenanceWindows: e.maintenanceWindows.map((w) => ({
        device: w.device ?? null,
        outlet: w.outlet ?? null,
        from: Date.parse(w.from),
        to: Date.parse(w.to),
      })),
    };
  });
  return {
    enterprises,
    loggers: enterprises.flatMap((e) => e.loggers),
    meters: enterprises.flatMap((e) => e.meters),
  };
}
