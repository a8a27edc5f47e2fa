/**
 * Fleets bigger than the example: clone the example registry's enterprises (keeping their shapes —
 * outlets, devices, limits, meters, contacts) with fresh ids, MNs, credit codes and contacts, for
 * the demo (dozens) and load runs (thousands). The output is a registry file (`registry/README.md`).
 */
import { shanghaiDate, toShanghaiIso } from '@offsite/domain/calendar';
import { creditCodeCheckCharacter, type RegistryEnterprise, type RegistryFile } from '@offsite/store';

export interface GenerateOptions {
  /** Number of enterprises; the first template.enterprises.length keep the template's ids unchanged. */
  readonly count: number;
}

const pad4 = (n: number) => String(n).padStart(4, '0');

function entNumber(id: string): string | null {
  return /(\d{4})$/.exec(id)?.[1] ?? null;
}

function renumber(text: string, from: string, to: string): string {
  return text.includes(from) ? text.replace(from, to) : `${text}-${to}`;
}

function creditCode(template: string, n: number): string {
  // Keep the registration authority and division code (first 8), number the rest.
  const body = `${template.slice(0, 8)}MA${String(n).padStart(7, '0')}`;
  const check = creditCodeCheckCharacter(body);
  if (!check) throw new Error(`cannot compute a credit code check character for ${body}`);
  return body + check;
}

function cloneEnterprise(e: RegistryEnterprise, n: number, copy: number): RegistryEnterprise {
  const oldNum = entNumber(e.id) ?? '0000';
  const num = pad4(n);
  const id = `ent-${num}`;
  const rid = (x: string) => renumber(x, oldNum, num);
  const mnMap = new Map<string, string>();
  const outlets = e.outlets.map((o) => ({
    ...o,
    id: rid(o.id),
    ...(o.productionMeters ? { productionMeters: o.productionMeters.map(rid) } : {}),
    devices: o.devices.map((d) => {
      const mn = renumber(d.mn, oldNum, num);
      mnMap.set(d.mn, mn);
      return { ...d, mn };
    }),
    limits: o.limits.map((l) => ({ ...l })),
    // A camera belongs to one outlet: each clone gets its own codes (the enterprise number in
    // place of digits 13–16 of the 20-digit code, the rest kept).
    ...(o.cameras
      ? { cameras: o.cameras.map((c) => ({ ...c, id: `${c.id.slice(0, 12)}${num}${c.id.slice(16)}` })) }
      : {}),
  }));
  return {
    ...e,
    id,
    name: {
      zh: `${e.name.zh}第${copy + 1}分厂`,
      ...(e.name.en ? { en: `${e.name.en} (Plant ${copy + 1})` } : {}),
    },
    creditCode: creditCode(e.creditCode, n),
    statusTimeline: e.statusTimeline.map((s) => ({ ...s })),
    outlets,
    meters: e.meters.map((m) => ({
      ...m,
      id: rid(m.id),
      ...(m.serves ? { serves: rid(m.serves) } : {}),
      ...(m.facilities ? { facilities: m.facilities.map((f) => ({ ...f, outlet: rid(f.outlet) })) } : {}),
      ...(m.mqttCredentialsRef ? { mqttCredentialsRef: `mqtt-user:${id}-gw` } : {}),
    })),
    contacts: e.contacts.map((c, i) => ({
      ...c,
      ...(c.phone ? { phone: `139${String(n * 10 + i).padStart(8, '0')}` } : {}),
      ...(c.email ? { email: c.email.replace('@', `.${num}@`) } : {}),
    })),
    violations: e.violations.map((v) => ({ ...v, id: `${v.id}-${num}` })),
    maintenanceWindows: e.maintenanceWindows.map((w) => ({
      ...w,
      id: `${w.id}-${num}`,
      ...(w.device ? { device: mnMap.get(w.device) ?? w.device } : {}),
      ...(w.outlet ? { outlet: rid(w.outlet) } : {}),
    })),
  };
}

export function generateRegistry(template: RegistryFile, o: GenerateOptions): RegistryFile {
  const base = template.enterprises;
  if (base.length === 0) throw new Error('the template registry has no enterprises');
  const enterprises: RegistryEnterprise[] = [];
  for (let i = 0; i < o.count; i++) {
    const t = base[i % base.length] as RegistryEnterprise;
    const copy = Math.floor(i / base.length);
    enterprises.push(copy === 0 ? t : cloneEnterprise(t, i + 1, copy));
  }
  return { ...template, enterprises };
}

const DAY = 86_400_000;

/**
 * Make the registry fit a simulated day starting at local midnight `day`: enterprises that are
 * resuming resumed two days earlier (inside the resumption window), and the last gas outlet
 * declares maintenance 09:00–11:00 that day (the maintenance scenario's window).
 */
export function fitToDay(registry: RegistryFile, day: number): RegistryFile {
  const enterprises = registry.enterprises.map((e) =>
    e.status !== 'resuming'
      ? e
      : {
          ...e,
          statusTimeline: [
            { status: 'normal' as const, from: toShanghaiIso(day - 400 * DAY) },
            { status: 'shutdown' as const, from: toShanghaiIso(day - 60 * DAY), note: '停产整治' },
            {
              status: 'resuming' as const,
              from: toShanghaiIso(day - 2 * DAY + 8 * 3_600_000),
              resumptionDate: shanghaiDate(day - 2 * DAY),
              note: '复工复产',
            },
          ],
        },
  );
  const idx = enterprises.findLastIndex((e) =>
    e.outlets.some((o) => o.kind === 'gas' && o.devices.length > 0),
  );
  const target = enterprises[idx];
  const device = target?.outlets.find((o) => o.kind === 'gas' && o.devices.length > 0)?.devices[0];
  if (target && device) {
    enterprises[idx] = {
      ...target,
      maintenanceWindows: [
        ...target.maintenanceWindows,
        {
          id: `mw-demo-${shanghaiDate(day)}-${target.id}`,
          device: device.mn,
          from: toShanghaiIso(day + 9 * 3_600_000),
          to: toShanghaiIso(day + 11 * 3_600_000),
          reason: '比对监测（模拟）/ comparison test (simulated)',
        },
      ],
    };
  }
  return { ...registry, enterprises };
}
