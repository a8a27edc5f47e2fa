// The cross-field checks of an enterprise's outlets (devices, limits, production meters) and meters
// (what they serve, the treatment facilities they power).
import { join } from './registry-issues.js';
import { MISSING, compact, type Check, type Obj, type Uniques } from './registry-check-core.js';
import {
  LIMIT_UNITS,
  type RegistryCamera,
  type RegistryDevice,
  type RegistryFacility,
  type RegistryLimit,
  type RegistryMeter,
  type RegistryOutlet,
} from './registry-types.js';

export function checkOutlet(
  c: Check,
  u: Uniques,
  roleOf: ReadonlyMap<string, unknown>,
  own: { mns: Set<string>; outlets: Set<string> },
  out: Obj,
  q: string,
): RegistryOutlet {
  const outletId = c.get<string>(out, q, 'id');
  u.outlet.check(outletId, join(q, 'id'));
  if (outletId !== undefined) own.outlets.add(outletId);
  const kind = c.get<RegistryOutlet['kind']>(out, q, 'kind');
  const refO2Pct = c.get<number>(out, q, 'refO2Pct');
  if (kind === 'water' && out.refO2Pct !== undefined)
    c.add(
      join(q, 'refO2Pct'),
      'consistency',
      'only gas outlets have a reference O2',
      '只有废气排口有基准氧含量',
    );

  const devices: RegistryDevice[] = [];
  c.each(out, q, 'devices', (d, r) => {
    const mn = c.get<string>(d, r, 'mn');
    u.mn.check(mn, join(r, 'mn'));
    if (mn !== undefined) own.mns.add(mn);
    devices.push(
      compact({
        mn: mn ?? MISSING,
        password: c.get<string>(d, r, 'password') ?? MISSING,
        sm4Key: c.get<string>(d, r, 'sm4Key'),
        protocolVersion: c.get<RegistryDevice['protocolVersion']>(d, r, 'protocolVersion') ?? MISSING,
        realtimeIntervalS: c.get<number>(d, r, 'realtimeIntervalS') ?? 30,
        minuteIntervalS: c.get<number>(d, r, 'minuteIntervalS') ?? 600,
        model: c.get<string>(d, r, 'model'),
        enabled: c.get<boolean>(d, r, 'enabled') ?? true,
      }),
    );
  });

  const limits: RegistryLimit[] = [];
  const limitKeys = new Set<string>();
  c.each(out, q, 'limits', (l, r) => limits.push(checkLimit(c, kind, refO2Pct, limitKeys, l, r)));

  const productionMeters: string[] = [];
  c.each<string>(out, q, 'productionMeters', (ref, r) => {
    if (!roleOf.has(ref))
      c.add(r, 'reference', `no meter "${ref}" in this enterprise`, `本企业没有电表 "${ref}"`);
    else if (roleOf.get(ref) !== 'production')
      c.add(r, 'reference', `meter "${ref}" is not a production meter`, `电表 "${ref}" 不是生产设施电表`);
    else if (productionMeters.includes(ref))
      c.add(r, 'duplicate', `meter "${ref}" is listed twice`, `电表 "${ref}" 重复列出`);
    else productionMeters.push(ref);
  });

  const cameras: RegistryCamera[] = [];
  c.each(out, q, 'cameras', (cam, r) => {
    const platform = c.get<string>(cam, r, 'platform');
    const id = c.get<string>(cam, r, 'id');
    if (platform !== undefined && id !== undefined) u.camera.check(`${platform}/${id}`, join(r, 'id'));
    cameras.push({ platform: platform ?? MISSING, id: id ?? MISSING });
  });

  return compact({
    id: outletId ?? MISSING,
    kind: kind ?? MISSING,
    name: c.get<RegistryOutlet['name']>(out, q, 'name') ?? MISSING,
    refO2Pct,
    process: c.get<string>(out, q, 'process'),
    location: c.location(out, q, 'location'),
    devices,
    limits,
    productionMeters: productionMeters.length > 0 ? productionMeters : undefined,
    cameras: cameras.length > 0 ? cameras : undefined,
  });
}

function checkLimit(
  c: Check,
  kind: RegistryOutlet['kind'] | undefined,
  refO2Pct: number | undefined,
  limitKeys: Set<string>,
  l: Obj,
  r: string,
): RegistryLimit {
  const factor = c.get<string>(l, r, 'factor');
  if (factor !== undefined && kind !== undefined && factor[0] !== (kind === 'gas' ? 'a' : 'w'))
    c.add(
      join(r, 'factor'),
      'consistency',
      `factor ${factor} does not belong to a ${kind} outlet`,
      `因子 ${factor} 不属于${kind === 'gas' ? '废气' : '废水'}排口`,
    );
  const basis = c.get<RegistryLimit['basis']>(l, r, 'basis');
  if (factor !== undefined && basis !== undefined) {
    const key = `${factor}/${basis}`;
    if (limitKeys.has(key))
      c.add(
        r,
        'duplicate',
        `a second ${basis} limit for ${factor}`,
        `${factor} 的${basis === 'hourly' ? '小时' : '日'}限值重复`,
      );
    limitKeys.add(key);
  }
  const value = c.get<number>(l, r, 'value');
  const lowerValue = c.get<number>(l, r, 'lowerValue');
  if (value !== undefined && lowerValue !== undefined && lowerValue >= value)
    c.add(join(r, 'lowerValue'), 'consistency', 'must be below value', '必须小于限值 value');
  let unit = c.get<string>(l, r, 'unit');
  if (unit !== undefined && kind !== undefined && !LIMIT_UNITS[kind].includes(unit)) {
    const allowed = LIMIT_UNITS[kind];
    c.add(
      join(r, 'unit'),
      'enum',
      `must be one of ${allowed.join(', ')}, got ${JSON.stringify(unit)}`,
      `取值必须为 ${allowed.join('、')} 之一，实际为 ${JSON.stringify(unit)}`,
    );
    unit = undefined;
  }
  const converted = c.get<boolean>(l, r, 'converted') ?? false;
  if (converted && kind === 'gas' && refO2Pct === undefined)
    c.add(
      join(r, 'converted'),
      'consistency',
      'a converted (折算) limit needs the outlet refO2Pct',
      '折算限值需要排口的基准氧含量 refO2Pct',
    );
  if (converted && kind === 'water')
    c.add(join(r, 'converted'), 'consistency', 'wastewater limits are not converted', '废水限值不做折算');
  let range: RegistryLimit['range'];
  const rp = join(r, 'range');
  const ro = c.get<Obj>(l, r, 'range');
  const min = ro && c.get<number>(ro, rp, 'min');
  const max = ro && c.get<number>(ro, rp, 'max');
  if (min !== undefined && max !== undefined) {
    if (min >= max)
      c.add(join(rp, 'max'), 'consistency', 'must be above range.min', '必须大于量程下限 range.min');
    else range = { min, max };
    if (value !== undefined && value > max)
      c.add(
        join(rp, 'max'),
        'consistency',
        `instrument range ${max} is below the limit ${value}`,
        `仪器量程上限 ${max} 低于限值 ${value}`,
      );
  }
  const annualLoadKg = c.get<number>(l, r, 'annualLoadKg');
  if (annualLoadKg !== undefined) {
    if (unit !== undefined && !MASS_UNITS.includes(unit))
      c.add(
        join(r, 'annualLoadKg'),
        'consistency',
        `a ${unit} limit has no mass load: give the permitted annual load on a mass-concentration limit`,
        `${unit} 限值没有排放量：许可排放量应写在质量浓度限值上`,
      );
    if (factor !== undefined) {
      // One permitted annual load per outlet and factor, on either of its limits.
      if (limitKeys.has(`${factor}/annual`))
        c.add(
          join(r, 'annualLoadKg'),
          'duplicate',
          `a second permitted annual load for ${factor}: give it on one of its limits`,
          `${factor} 的许可排放量重复：只写在其中一条限值上`,
        );
      limitKeys.add(`${factor}/annual`);
    }
  }
  return compact({
    factor: factor ?? MISSING,
    basis: basis ?? MISSING,
    value: value ?? MISSING,
    lowerValue,
    unit: unit ?? MISSING,
    converted,
    range,
    annualLoadKg,
  });
}

/** Concentration units with a mass load (a permitted annual load in kg). */
const MASS_UNITS: readonly string[] = ['mg/m3', 'ug/m3', 'mg/L', 'ug/L'];

export function checkMeter(
  c: Check,
  u: Uniques,
  roleOf: ReadonlyMap<string, unknown>,
  ownOutlets: ReadonlySet<string>,
  m: Obj,
  q: string,
): RegistryMeter {
  const meterId = c.get<string>(m, q, 'id');
  u.meter.check(meterId, join(q, 'id'));
  const role = c.get<RegistryMeter['role']>(m, q, 'role');
  const serves = c.get<string>(m, q, 'serves');
  if (serves !== undefined) {
    const at = join(q, 'serves');
    if (role !== 'treatment')
      c.add(
        at,
        'consistency',
        'only a treatment meter serves a production meter',
        '只有治污设施电表可以关联生产设施电表',
      );
    else if (!roleOf.has(serves))
      c.add(at, 'reference', `no meter "${serves}" in this enterprise`, `本企业没有电表 "${serves}"`);
    else if (roleOf.get(serves) !== 'production')
      c.add(
        at,
        'reference',
        `meter "${serves}" is not a production meter`,
        `电表 "${serves}" 不是生产设施电表`,
      );
  }
  const facilities: RegistryFacility[] = [];
  if ((c.get<unknown[]>(m, q, 'facilities')?.length ?? 0) > 0 && role !== undefined && role !== 'treatment')
    c.add(
      join(q, 'facilities'),
      'consistency',
      'only a treatment meter powers a treatment facility',
      '只有治污设施电表可以关联治污设施状态',
    );
  c.each(m, q, 'facilities', (f, r) => {
    const outlet = c.get<string>(f, r, 'outlet');
    if (outlet !== undefined && !ownOutlets.has(outlet))
      c.add(
        join(r, 'outlet'),
        'reference',
        `no outlet "${outlet}" in this enterprise`,
        `本企业没有排口 "${outlet}"`,
      );
    const code = c.get<string>(f, r, 'code');
    if (outlet === undefined || code === undefined) return;
    if (facilities.some((x) => x.outlet === outlet && x.code === code))
      c.add(
        r,
        'duplicate',
        `facility ${code} of outlet ${outlet} is listed twice`,
        `排口 ${outlet} 的设施 ${code} 重复列出`,
      );
    else facilities.push({ outlet, code });
  });
  return compact({
    id: meterId ?? MISSING,
    role: role ?? MISSING,
    name: c.get<RegistryMeter['name']>(m, q, 'name') ?? MISSING,
    ratedWindowKwh: c.get<number>(m, q, 'ratedWindowKwh'),
    serves,
    mqttCredentialsRef: c.get<string>(m, q, 'mqttCredentialsRef'),
    facilities: facilities.length > 0 ? facilities : undefined,
  });
}
