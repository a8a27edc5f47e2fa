// Monthly transmission statistics (domain-rules §6a, HJ 75 / HJ 355 practice): per device, enterprise and
// district, 传输率 = records received ÷ records expected, 有效率 = valid records ÷ records received,
// 传输有效率 = their product (= valid ÷ expected), judged against an assessment threshold (default 90 %).
//
// A record is one data time of a device at its registered cadence (the minute data, CN 2051, every
// `intervalS` seconds). The month is the Asia/Shanghai calendar month; its slots are aligned to the month's
// first Shanghai midnight: slot k is [from + k·intervalS, from + (k+1)·intervalS).
// - Expected: the slots that end by `until` (the month's end, or now in the current month), start at or after
//   the device's registration, and do not start inside a declared maintenance window of the device, its
//   outlet or its enterprise. A disabled device is not assessed (no history of disabling is kept, so the
//   current setting decides for the whole month).
// - Received: expected slots holding at least one record (several records in one slot count once; records
//   in slots that are not expected — before registration, inside declared maintenance, after `until` — are
//   left out of both counts).
// - Valid: received slots whose every value is flagged `N` (a value without a flag counts as `N`). Any
//   other flag — D, F, C, M outside a declared window, S, T, B… — makes the record invalid.
// Enterprise, district and city figures sum the devices' counts (aggregated by expected counts).
import { monthRange, shanghaiDate, startOfShanghaiDay } from './calendar.js';

export interface TransmissionDevice {
  mn: string;
  enterpriseId: string;
  districtId: string;
  outletId: string;
  /** Registered cadence of the counted records (minute data) in seconds, > 0. */
  intervalS: number;
  /** When the device was registered (epoch ms); null = before any month asked for. */
  registeredAt: number | null;
  enabled: boolean;
}

/** A declared maintenance window: of one device, else of one outlet, else of the whole enterprise. */
export interface TransmissionMaintenance {
  enterpriseId: string;
  deviceMn: string | null;
  outletId: string | null;
  /** [from, to) epoch ms. */
  from: number;
  to: number;
}

/** Values received for one device and data time; several entries with the same time are merged. */
export interface TransmissionRecord {
  deviceMn: string;
  /** Data time, epoch ms. */
  time: number;
  /** The data flags of the values at that time (one per factor or statistic). */
  flags: readonly (string | null)[];
}

export interface TransmissionInput {
  /** `YYYY-MM`, an Asia/Shanghai calendar month. */
  month: string;
  /** Slots must end by this instant (epoch ms) to be expected; the month's end when later. */
  until: number;
  devices: readonly TransmissionDevice[];
  maintenance: readonly TransmissionMaintenance[];
  records: readonly TransmissionRecord[];
  /** Assessment threshold for 传输有效率, 0–1; default 0.9. */
  threshold?: number;
}

export interface TransmissionCounts {
  expected: number;
  received: number;
  valid: number;
  /** null when nothing was expected (not assessed). */
  transmissionRate: number | null;
  validityRate: number | null;
  effectiveRate: number | null;
  /** Assessed and 传输有效率 below the threshold (a device without data: 0 %, flagged). */
  belowThreshold: boolean;
}

export type DeviceTransmissionStatus = 'assessed' | 'disabled' | 'not-expected';

export interface DeviceTransmission extends TransmissionCounts {
  mn: string;
  enterpriseId: string;
  districtId: string;
  outletId: string;
  intervalS: number;
  status: DeviceTransmissionStatus;
  /** Slots left out because they start inside declared maintenance. */
  maintenanceSlots: number;
}

export interface GroupTransmission extends TransmissionCounts {
  id: string;
  devices: number;
}

export interface TransmissionStatistics {
  month: string;
  from: number;
  to: number;
  until: number;
  threshold: number;
  devices: DeviceTransmission[];
  enterprises: GroupTransmission[];
  districts: GroupTransmission[];
  total: TransmissionCounts & { devices: number };
}

export const DEFAULT_TRANSMISSION_THRESHOLD = 0.9;

/** Tolerance for the threshold comparison (0.9 computed as 9/10 must not fall below 0.9). */
const EPS = 1e-12;

export function transmissionCounts(
  expected: number,
  received: number,
  valid: number,
  threshold: number,
): TransmissionCounts {
  if (expected <= 0)
    return {
      expected: 0,
      received: 0,
      valid: 0,
      transmissionRate: null,
      validityRate: null,
      effectiveRate: null,
      belowThreshold: false,
    };
  const transmissionRate = received / expected;
  const validityRate = received === 0 ? 0 : valid / received;
  const effectiveRate = transmissionRate * validityRate;
  return {
    expected,
    received,
    valid,
    transmissionRate,
    validityRate,
    effectiveRate,
    belowThreshold: effectiveRate < threshold - EPS,
  };
}

function appliesTo(w: TransmissionMaintenance, d: TransmissionDevice): boolean {
  if (w.enterpriseId !== d.enterpriseId) return false;
  if (w.deviceMn !== null) return w.deviceMn === d.mn;
  if (w.outletId !== null) return w.outletId === d.outletId;
  return true;
}

function isValidFlag(flag: string | null): boolean {
  return flag === null || flag === '' || flag === 'N';
}

/** [from, to) epoch ms: a run of consecutive expected slots of one device. */
export interface SlotRange {
  from: number;
  to: number;
}

/** The slots a device is assessed on in the month: how many, which (as runs), and how many maintenance took. */
export interface DeviceSlotPlan {
  device: TransmissionDevice;
  expected: number;
  maintenanceSlots: number;
  /** The expected slots as runs of consecutive slots, in time order (empty for a disabled device). */
  ranges: SlotRange[];
}

function deviceSlotPlan(
  d: TransmissionDevice,
  from: number,
  until: number,
  windows: readonly TransmissionMaintenance[],
): DeviceSlotPlan {
  if (!d.enabled) return { device: d, expected: 0, maintenanceSlots: 0, ranges: [] };
  const step = d.intervalS * 1000;
  const start = Math.max(from, d.registeredAt ?? from);
  const firstSlot = Math.ceil((start - from) / step);
  const lastSlot = Math.floor((until - from) / step) - 1;
  const ranges: SlotRange[] = [];
  let expected = 0;
  let maintenanceSlots = 0;
  for (let k = firstSlot; k <= lastSlot; k++) {
    const t = from + k * step;
    if (windows.some((w) => w.from <= t && t < w.to)) {
      maintenanceSlots++;
      continue;
    }
    expected++;
    const last = ranges.at(-1);
    if (last && last.to === t) last.to = t + step;
    else ranges.push({ from: t, to: t + step });
  }
  return { device: d, expected, maintenanceSlots, ranges };
}

/** The received and valid slot counts of one device (each at most its expected, valid at most received). */
export interface DeviceSlotCounts {
  received: number;
  valid: number;
}

/** Whether `t` falls in one of the (time-ordered) ranges. */
function inRanges(ranges: readonly SlotRange[], t: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (t < r.from) hi = mid - 1;
    else if (t >= r.to) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Counts one device's received and valid slots from its records (the arithmetic of the rules above). */
function countRecords(
  plan: DeviceSlotPlan,
  from: number,
  records: readonly TransmissionRecord[],
): DeviceSlotCounts {
  const step = plan.device.intervalS * 1000;
  const slotValid = new Map<number, boolean>();
  for (const r of records) {
    if (!inRanges(plan.ranges, r.time)) continue;
    const k = Math.floor((r.time - from) / step);
    const ok = r.flags.every(isValidFlag);
    slotValid.set(k, (slotValid.get(k) ?? true) && ok);
  }
  let valid = 0;
  for (const ok of slotValid.values()) if (ok) valid++;
  return { received: slotValid.size, valid };
}

function deviceStatistics(
  plan: DeviceSlotPlan,
  counts: DeviceSlotCounts,
  threshold: number,
): DeviceTransmission {
  const d = plan.device;
  const base = {
    mn: d.mn,
    enterpriseId: d.enterpriseId,
    districtId: d.districtId,
    outletId: d.outletId,
    intervalS: d.intervalS,
  };
  if (!d.enabled)
    return { ...base, ...transmissionCounts(0, 0, 0, threshold), status: 'disabled', maintenanceSlots: 0 };
  if (!(counts.valid >= 0 && counts.valid <= counts.received && counts.received <= plan.expected))
    throw new RangeError(
      `device ${d.mn}: counts out of range (expected ${plan.expected}, received ${counts.received}, valid ${counts.valid})`,
    );
  return {
    ...base,
    ...transmissionCounts(plan.expected, counts.received, counts.valid, threshold),
    status: plan.expected > 0 ? 'assessed' : 'not-expected',
    maintenanceSlots: plan.maintenanceSlots,
  };
}

function group(
  devices: readonly DeviceTransmission[],
  key: (d: DeviceTransmission) => string,
  threshold: number,
): GroupTransmission[] {
  const sums = new Map<string, { expected: number; received: number; valid: number; devices: number }>();
  for (const d of devices) {
    const s = sums.get(key(d)) ?? { expected: 0, received: 0, valid: 0, devices: 0 };
    s.expected += d.expected;
    s.received += d.received;
    s.valid += d.valid;
    s.devices += 1;
    sums.set(key(d), s);
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, s]) => ({
      id,
      devices: s.devices,
      ...transmissionCounts(s.expected, s.received, s.valid, threshold),
    }));
}

/** What the month's statistics need besides the records. */
export type TransmissionPlanInput = Omit<TransmissionInput, 'records'>;

/** The month's bounds and each device's expected slots: what a count of records must cover. */
export interface TransmissionPlan {
  month: string;
  from: number;
  to: number;
  until: number;
  threshold: number;
  devices: DeviceSlotPlan[];
}

export function transmissionPlan(input: TransmissionPlanInput): TransmissionPlan {
  const threshold = input.threshold ?? DEFAULT_TRANSMISSION_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1))
    throw new RangeError(`threshold must be within 0..1: ${threshold}`);
  const range = monthRange(input.month);
  const from = range.from.getTime();
  const to = range.to.getTime();
  const until = Math.max(from, Math.min(to, input.until));
  const devices = input.devices.map((d) => {
    if (!(Number.isInteger(d.intervalS) && d.intervalS > 0))
      throw new RangeError(`device ${d.mn}: intervalS must be a positive integer: ${d.intervalS}`);
    const windows = input.maintenance.filter((w) => appliesTo(w, d));
    return deviceSlotPlan(d, from, until, windows);
  });
  return { month: range.month, from, to, until, threshold, devices };
}

/**
 * The statistics from each device's received and valid slot counts, counted elsewhere over
 * exactly the plan's ranges; a device without counts received nothing.
 */
export function transmissionFromCounts(
  plan: TransmissionPlan,
  counts: ReadonlyMap<string, DeviceSlotCounts>,
): TransmissionStatistics {
  const { threshold } = plan;
  const devices = plan.devices.map((p) =>
    deviceStatistics(p, counts.get(p.device.mn) ?? { received: 0, valid: 0 }, threshold),
  );
  const all = group(devices, () => '', threshold)[0];
  return {
    month: plan.month,
    from: plan.from,
    to: plan.to,
    until: plan.until,
    threshold,
    devices,
    enterprises: group(devices, (d) => d.enterpriseId, threshold),
    districts: group(devices, (d) => d.districtId, threshold),
    total: all ?? { ...transmissionCounts(0, 0, 0, threshold), devices: 0 },
  };
}

/**
 * One Asia/Shanghai day of a device's plan: the expected slots that start in the day (as runs) and the instant
 * the last of them ends (a slot of an interval that does not divide the day may end the next day). The day's
 * received and valid counts depend only on these slots and the records in [from, readTo): summed over the
 * month's days they give the month's counts, because every expected slot starts in exactly one day.
 */
export interface DeviceDaySlots {
  /** `YYYY-MM-DD` in Asia/Shanghai. */
  day: string;
  from: number;
  readTo: number;
  ranges: SlotRange[];
}

const DAY_MS = 86_400_000;

/** The plan's expected slots split by the Shanghai day they start in (days without expected slots left out). */
export function deviceDaySlots(plan: DeviceSlotPlan): DeviceDaySlots[] {
  const step = plan.device.intervalS * 1000;
  const out: DeviceDaySlots[] = [];
  for (const r of plan.ranges) {
    for (let t = r.from; t < r.to;) {
      const dayEnd = startOfShanghaiDay(t) + DAY_MS;
      // The first slot start at or after the day's end, within the run.
      const end = Math.min(r.to, t + Math.ceil((dayEnd - t) / step) * step);
      const day = shanghaiDate(t);
      const last = out.at(-1);
      if (last && last.day === day) {
        last.ranges.push({ from: t, to: end });
        last.readTo = end;
      } else out.push({ day, from: startOfShanghaiDay(t), readTo: end, ranges: [{ from: t, to: end }] });
      t = end;
    }
  }
  return out;
}

/** A device's received and valid counts over some of its plan's slots (e.g. one day's), from its records. */
export function countDeviceSlots(
  plan: DeviceSlotPlan,
  monthFrom: number,
  ranges: readonly SlotRange[],
  records: readonly TransmissionRecord[],
): DeviceSlotCounts {
  return countRecords({ ...plan, ranges: [...ranges] }, monthFrom, records);
}

/** The month's statistics of every given device from its records, with enterprise, district and overall sums. */
export function transmissionStatistics(input: TransmissionInput): TransmissionStatistics {
  const plan = transmissionPlan(input);
  const byDevice = new Map<string, TransmissionRecord[]>();
  for (const r of input.records) {
    if (r.time < plan.from || r.time >= plan.until) continue;
    const list = byDevice.get(r.deviceMn);
    if (list) list.push(r);
    else byDevice.set(r.deviceMn, [r]);
  }
  const counts = new Map(
    plan.devices.map((p) => [p.device.mn, countRecords(p, plan.from, byDevice.get(p.device.mn) ?? [])]),
  );
  return transmissionFromCounts(plan, counts);
}
