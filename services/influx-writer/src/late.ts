/**
 * Late minute data (telemetry.late.v1): the minute `emission` readings of one InfluxDB write whose data time
 * the writer's clock, once InfluxDB accepted the write, had passed by LATE_AFTER_MS or more — one event per
 * device and Asia/Shanghai day, however many readings of it the write held.
 *
 * Why this rule makes the console's stored transmission figures exact: the console stores a device's day once
 * the day's last slot ended its STORE_AFTER_MS (one hour) ago, counting the minute data of [day start, last slot
 * end). A reading (data time t) is missing from a figure only if InfluxDB took it after the console read the day,
 * which is at least an hour after t; the writer's clock after the write is later still. So every reading a
 * stored figure may miss was written more than an hour after its data time, and this rule, at half of that,
 * reports it even when the two hosts' clocks disagree by up to 30 minutes.
 */
import { randomUUID } from 'node:crypto';
import type { TelemetryLateV1 } from '@offsite/contracts';

/** Readings written this long after their data time (or longer) are late. */
export const LATE_AFTER_MS = 30 * 60_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** What a minute emission reading keeps for the late-data check. */
export interface MinuteReading {
  enterpriseId: string;
  deviceId: string;
  /** Data time, ms since the epoch. */
  time: number;
}

/** `YYYY-MM-DD` of the Asia/Shanghai day (UTC+8, no daylight saving) holding `ms`. */
export const shanghaiDay = (ms: number): string =>
  new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);

/** The telemetry.late.v1 events of the written readings, observed at `observedAt` (after the write). */
export function lateEvents(readings: Iterable<MinuteReading>, observedAt: Date): TelemetryLateV1[] {
  const cutoff = observedAt.getTime() - LATE_AFTER_MS;
  const byDay = new Map<string, { r: MinuteReading; day: string; n: number; first: number; last: number }>();
  for (const r of readings) {
    if (r.time > cutoff) continue;
    const day = shanghaiDay(r.time);
    // \u0001 cannot occur in registry ids.
    const key = `${r.enterpriseId}\u0001${r.deviceId}\u0001${day}`;
    const a = byDay.get(key);
    if (a) {
      a.n += 1;
      if (r.time < a.first) a.first = r.time;
      if (r.time > a.last) a.last = r.time;
    } else byDay.set(key, { r, day, n: 1, first: r.time, last: r.time });
  }
  const at = observedAt.toISOString();
  return [...byDay.values()].map((a) => ({
    schema: 'telemetry.late.v1',
    id: `${a.r.deviceId}:${a.day}:${randomUUID()}`,
    enterpriseId: a.r.enterpriseId,
    deviceId: a.r.deviceId,
    day: a.day,
    readings: a.n,
    firstDataTime: new Date(a.first).toISOString(),
    lastDataTime: new Date(a.last).toISOString(),
    observedAt: at,
  }));
}
