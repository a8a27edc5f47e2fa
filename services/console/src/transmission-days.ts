/**
 * The stored transmission figures: per device and closed Asia/Shanghai day, the received and valid slot counts
 * of the device's expected slots that start in the day (table `console_transmission_days`, owned here). A month's
 * counts are the sum of its days: the days stored and still true are read from Postgres, the others (today, the
 * last hour's day, and any stale one) from InfluxDB, and those closed are stored for the next request. Kept filled
 * ahead of the requests for the current month by ./transmission-warm.ts; a month never warmed is read whole from
 * InfluxDB at its first request, as every request did without the store.
 *
 * A stored figure is reused only while it is still true:
 * - its `plan_key` equals the digest of the day's expected slots from the current registry (enterprise, cadence,
 *   registration, enabled, declared maintenance windows): any change of those for the device and day computes
 *   it again, with no invalidation to forget;
 * - its `late_version` equals the sum of the device's late-data counters of the days it read
 *   (`console_transmission_late`, raised by `noteLateData` for minute data that reached InfluxDB late). The
 *   counters are read before InfluxDB is, so data noted late while a figure was being computed leaves it stale,
 *   never reused.
 * A day is stored only once its last slot ended STORE_AFTER_MS ago, so minute data written within that hour of
 * its data time is in InfluxDB before its day can be stored; older data is noted late: the influx-writer reports
 * every minute reading it wrote 30 min or more after its data time on telemetry.late.v1 (its late.ts), and the
 * console's consumer (late-data.ts) passes them to `noteLateData`. Storing is on unless `storeDays` is false
 * (OFFSITE_CONSOLE_TRANSMISSION_STORE_DAYS) — a console whose late-data consumer does not run must turn it off.
 */
import { createHash } from 'node:crypto';
import type { InfluxDB } from '@influxdata/influxdb-client';
import {
  countDeviceSlots,
  deviceDaySlots,
  type DeviceDaySlots,
  type DeviceSlotCounts,
  type DeviceSlotPlan,
  type TransmissionPlan,
  type TransmissionRecord,
} from '@offsite/domain';
import { addDays } from '@offsite/domain/calendar';
import { minuteDataPresenceQueries, queryInfluxQL } from '@offsite/influx';
import type { Queryable } from '@offsite/store';
import { ConsoleError } from './errors.js';

export interface TransmissionSource {
  client: InfluxDB;
  /** `database` or `database/retention-policy`. */
  bucket: string;
  emissionMeasurement: string;
  /** Assessment threshold for 传输有效率, 0–1. */
  threshold: number;
  /**
   * Store closed days' figures and reuse them (absent or false: every request reads the month from InfluxDB).
   * Only while the influx-writer's late-data events reach `noteLateData` is a stored figure sure to be true.
   */
  storeDays?: boolean;
}

/** A day's figure is stored once its last expected slot ended this long ago. */
export const STORE_AFTER_MS = 60 * 60_000;
/** Enterprises whose InfluxDB queries run at once. */
const INFLUX_CONCURRENCY = 4;
const DAY_MS = 86_400_000;

/** Runs `fn` over `items`, at most `n` at once, keeping the order. */
async function mapLimited<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** The minute-data records of one enterprise in [from, to): one per device and minute holding data. */
export async function loadRecords(
  src: TransmissionSource,
  enterpriseId: string,
  from: Date,
  to: Date,
): Promise<TransmissionRecord[]> {
  return (await loadRecordsOf(src, [enterpriseId], from, to)).get(enterpriseId) ?? [];
}

/** Enterprises asked for in one InfluxDB query (two, with the flags): bounds a statement's length and its answer. */
export const ENTERPRISES_PER_QUERY = 50;

/** The minute-data records of some enterprises in [from, to), per enterprise, in one pair of queries. */
export async function loadRecordsOf(
  src: TransmissionSource,
  enterpriseIds: readonly string[],
  from: Date,
  to: Date,
): Promise<Map<string, TransmissionRecord[]>> {
  const q = minuteDataPresenceQueries(src.emissionMeasurement, enterpriseIds, from, to);
  let present, flagged;
  try {
    [present, flagged] = await Promise.all([
      queryInfluxQL(src.client, src.bucket, q.present),
      queryInfluxQL(src.client, src.bucket, q.flagged),
    ]);
  } catch (err) {
    throw new ConsoleError('EVIDENCE_UNAVAILABLE', 'cannot read telemetry from InfluxDB', {
      retryable: true,
      cause: err,
    });
  }
  const out = new Map<string, TransmissionRecord[]>();
  const of = (tags: Record<string, string>) => {
    const ent = tags.enterprise ?? '';
    return out.get(ent) ?? out.set(ent, []).get(ent)!;
  };
  for (const s of present) {
    const list = of(s.tags);
    for (const r of s.rows) list.push({ deviceMn: s.tags.device ?? '', time: Number(r.time), flags: ['N'] });
  }
  for (const s of flagged) {
    const list = of(s.tags);
    for (const r of s.rows)
      list.push({
        deviceMn: s.tags.device ?? '',
        time: Number(r.time),
        flags: [typeof r.flag === 'string' ? r.flag : null],
      });
  }
  return out;
}

/** One device's day: what it covers, whether it may be stored, and the key and late version it is valid for. */
interface Piece {
  plan: DeviceSlotPlan;
  slots: DeviceDaySlots;
  key: string;
  late: number;
  storable: boolean;
}

const planKey = (p: DeviceSlotPlan, s: DeviceDaySlots): string =>
  createHash('sha256')
    .update(
      `${p.device.enterpriseId}|${p.device.intervalS}|${s.ranges.map((r) => `${r.from}-${r.to}`).join(',')}`,
    )
    .digest('base64url');

/** The records of [from, to) among time-sorted ones. */
function slice(sorted: readonly TransmissionRecord[], from: number, to: number): TransmissionRecord[] {
  const first = (t: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.time < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return sorted.slice(first(from), first(to));
}

interface StoredDay {
  device_mn: string;
  day: string;
  plan_key: string;
  late_version: string;
  received: number;
  valid: number;
}

/** The late-data counters and the stored figures of the pieces' devices and days (and the day after). */
async function readStore(db: Queryable, pieces: readonly Piece[]) {
  const mns = [...new Set(pieces.map((x) => x.plan.device.mn))];
  const firstDay = pieces.reduce((a, x) => (x.slots.day < a ? x.slots.day : a), pieces[0]!.slots.day);
  const lastDay = addDays(
    pieces.reduce((a, x) => (x.slots.day > a ? x.slots.day : a), firstDay),
    1,
  );
  // The late-data counters first, then the stored figures, then InfluxDB.
  const late = await db.query<{ device_mn: string; day: string; version: string }>(
    `select device_mn, day::text as day, version from console_transmission_late
      where device_mn = any($1::text[]) and day between $2::date and $3::date`,
    [mns, firstDay, lastDay],
  );
  const lateOf = new Map(late.rows.map((r) => [`${r.device_mn}|${r.day}`, Number(r.version)]));
  const stored = await db.query<StoredDay>(
    `select device_mn, day::text as day, plan_key, late_version, received, valid from console_transmission_days
      where device_mn = any($1::text[]) and day between $2::date and $3::date`,
    [mns, firstDay, lastDay],
  );
  const storedOf = new Map(stored.rows.map((r) => [`${r.device_mn}|${r.day}`, r]));
  return { lateOf, storedOf };
}

/** What the month's counts took: days reused from the store, days read from InfluxDB, and those stored. */
export interface DayCountsUse {
  reused: number;
  computed: number;
  stored: number;
}

/**
 * Each device's received and valid counts over the plan's expected slots: stored days that are still true, the
 * others read from InfluxDB (closed ones stored for the next request).
 */
export async function monthCounts(
  db: Queryable,
  src: TransmissionSource,
  plan: TransmissionPlan,
  now: number,
  use?: DayCountsUse,
): Promise<Map<string, DeviceSlotCounts>> {
  const counts = new Map<string, DeviceSlotCounts>();
  const pieces: Piece[] = [];
  for (const p of plan.devices)
    for (const slots of deviceDaySlots(p))
      pieces.push({
        plan: p,
        slots,
        key: planKey(p, slots),
        late: 0,
        storable: src.storeDays === true && slots.readTo <= now - STORE_AFTER_MS,
      });
  if (pieces.length === 0) return counts;
  const { lateOf, storedOf } = src.storeDays
    ? await readStore(db, pieces)
    : { lateOf: new Map<string, number>(), storedOf: new Map<string, StoredDay>() };
  const add = (mn: string, c: DeviceSlotCounts) => {
    const sum = counts.get(mn) ?? { received: 0, valid: 0 };
    counts.set(mn, { received: sum.received + c.received, valid: sum.valid + c.valid });
  };
  const missing = new Map<string, Piece[]>();
  for (const x of pieces) {
    const mn = x.plan.device.mn;
    x.late = lateOf.get(`${mn}|${x.slots.day}`) ?? 0;
    // A slot that starts late in the day may end, and be read, in the next one.
    if (x.slots.readTo > x.slots.from + DAY_MS) x.late += lateOf.get(`${mn}|${addDays(x.slots.day, 1)}`) ?? 0;
    const s = storedOf.get(`${mn}|${x.slots.day}`);
    if (x.storable && s && s.plan_key === x.key && Number(s.late_version) === x.late) {
      add(mn, { received: s.received, valid: s.valid });
      if (use) use.reused++;
      continue;
    }
    const ent = x.plan.device.enterpriseId;
    const list = missing.get(ent);
    if (list) list.push(x);
    else missing.set(ent, [x]);
  }
  // Enterprises whose missing days span the same range (today's live read; a month not stored yet) are read
  // together, ENTERPRISES_PER_QUERY at a time.
  const byRange = new Map<string, { from: number; to: number; ents: [string, Piece[]][] }>();
  for (const [ent, list] of missing) {
    const from = Math.min(...list.map((x) => x.slots.from));
    const to = Math.max(...list.map((x) => x.slots.readTo));
    const r =
      byRange.get(`${from}|${to}`) ??
      byRange.set(`${from}|${to}`, { from, to, ents: [] }).get(`${from}|${to}`)!;
    r.ents.push([ent, list]);
  }
  const groups = [...byRange.values()].flatMap((r) =>
    Array.from({ length: Math.ceil(r.ents.length / ENTERPRISES_PER_QUERY) }, (_, i) => ({
      ...r,
      ents: r.ents.slice(i * ENTERPRISES_PER_QUERY, (i + 1) * ENTERPRISES_PER_QUERY),
    })),
  );
  const computed = await mapLimited(groups, INFLUX_CONCURRENCY, async (g) => {
    const recordsOf = await loadRecordsOf(
      src,
      g.ents.map(([ent]) => ent),
      new Date(g.from),
      new Date(g.to),
    );
    return g.ents.flatMap(([ent, list]) => {
      const byDevice = new Map<string, TransmissionRecord[]>();
      for (const r of recordsOf.get(ent) ?? []) {
        const l = byDevice.get(r.deviceMn);
        if (l) l.push(r);
        else byDevice.set(r.deviceMn, [r]);
      }
      for (const l of byDevice.values()) l.sort((a, b) => a.time - b.time);
      return list.map((x) => {
        const mine = slice(byDevice.get(x.plan.device.mn) ?? [], x.slots.from, x.slots.readTo);
        return { piece: x, counts: countDeviceSlots(x.plan, plan.from, x.slots.ranges, mine) };
      });
    });
  });
  const toStore: { piece: Piece; counts: DeviceSlotCounts }[] = [];
  for (const c of computed.flat()) {
    add(c.piece.plan.device.mn, c.counts);
    if (c.piece.storable) toStore.push(c);
  }
  if (use) use.computed += computed.flat().length;
  if (toStore.length) {
    await db.query(
      `insert into console_transmission_days (device_mn, day, plan_key, late_version, received, valid)
       select * from unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::int[], $6::int[])
       on conflict (device_mn, day) do update
         set plan_key = excluded.plan_key, late_version = excluded.late_version, received = excluded.received,
             valid = excluded.valid, computed_at = now()`,
      [
        toStore.map((c) => c.piece.plan.device.mn),
        toStore.map((c) => c.piece.slots.day),
        toStore.map((c) => c.piece.key),
        toStore.map((c) => c.piece.late),
        toStore.map((c) => c.counts.received),
        toStore.map((c) => c.counts.valid),
      ],
    );
    if (use) use.stored += toStore.length;
  }
  return counts;
}

/** Minute data of a device that reached InfluxDB late, by the Asia/Shanghai day of its data time. */
export interface LateMinuteData {
  deviceMn: string;
  /** `YYYY-MM-DD`, Asia/Shanghai. */
  day: string;
  writtenAt: Date;
}

/**
 * Raises the late-data counters of the given devices and days: their stored figures (and the previous day's,
 * whose last slot may reach into the day) are computed again on the next request. Idempotent in effect: a
 * repeated note only costs one more computation.
 */
export async function noteLateData(db: Queryable, notes: readonly LateMinuteData[]): Promise<void> {
  if (notes.length === 0) return;
  // One row per device and day (an upsert may touch a row once), raised once however often it was noted.
  const latest = new Map<string, LateMinuteData>();
  for (const n of notes) {
    const key = `${n.deviceMn}|${n.day}`;
    const seen = latest.get(key);
    if (!seen || n.writtenAt > seen.writtenAt) latest.set(key, n);
  }
  const rows = [...latest.values()];
  await db.query(
    `insert into console_transmission_late (device_mn, day, last_written)
     select * from unnest($1::text[], $2::date[], $3::timestamptz[])
     on conflict (device_mn, day) do update
       set version = console_transmission_late.version + 1,
           last_written = greatest(console_transmission_late.last_written, excluded.last_written)`,
    [rows.map((n) => n.deviceMn), rows.map((n) => n.day), rows.map((n) => n.writtenAt)],
  );
}
