// Offline judged by arrival (domain-rules §3: "no data from a device for ≥ threshold; resolves when data resume").
// An offline deviation is opened when the watermark passes lastSeen + threshold with nothing arrived. When a reading
// of that device then arrives, the outage is *held*: gap [lastSeen, arrival] is kept in the engine state, and readings
// whose time falls inside it (a logger replaying its cache) neither split nor fill it, so the deviation resolves at
// the arrival instead of being retracted. Shared by the incremental engine and the test oracle (same results).

/** An outage closed by an arrival. `end` = max(watermark at the arrival, the arriving reading's time). */
export interface HeldGap {
  start: number;
  end: number;
  /** Readings with a time inside (start, end) that arrived before the replay settled (watermark < end + threshold). */
  replayed: number;
  /** Watermark at the latest later arrival of the device (a slow replay keeps it alive), when past `end`. */
  alive?: number;
}

export type HeldGaps = Readonly<Record<string, readonly HeldGap[]>>;

export interface OfflineGap {
  start: number;
  /** Absent: still open at the watermark. */
  end?: number;
  held?: HeldGap;
}

/** The latest instant the device is known alive: its latest data time or the end of an outage closed by arrival. */
export function lastAlive(lastDataTime: number, held: readonly HeldGap[] | undefined): number {
  let last = lastDataTime;
  for (const h of held ?? []) last = Math.max(last, h.end, h.alive ?? -Infinity);
  return last;
}

/**
 * Records an arrival of a reading seen at `t` (before it joins the buffer): closes an open outage (watermark −
 * lastAlive ≥ threshold) as a held gap, and counts the reading as replayed when it falls inside a held gap that has
 * not settled yet. Returns whether the held gaps changed.
 */
export function noteArrival(
  held: HeldGap[],
  lastAliveAt: number,
  watermark: number | null,
  thresholdMs: number,
  t: number,
  enabled: boolean,
): boolean {
  if (watermark === null || !enabled) return false;
  let changed = false;
  if (Number.isFinite(lastAliveAt) && lastAliveAt > -8e15 && watermark - lastAliveAt >= thresholdMs) {
    held.push({ start: lastAliveAt, end: Math.max(watermark, t), replayed: 0 });
    changed = true;
  }
  for (const h of held) {
    if (t > h.start && t < h.end && watermark < h.end + thresholdMs) {
      h.replayed += 1;
      changed = true;
    }
  }
  const latest = held[held.length - 1];
  if (latest && watermark > (latest.alive ?? latest.end)) {
    latest.alive = watermark;
    changed = true;
  }
  return changed;
}

/** Whether the replay counting of a held gap is over (its final count is shown from then on). */
export function settled(h: HeldGap, watermark: number, thresholdMs: number): boolean {
  return watermark >= h.end + thresholdMs;
}

/**
 * Gaps of one device: held gaps as recorded; between data times (those inside a held gap ignored) a gap ≥ threshold
 * is a data gap, except right after a held gap's end (the device was alive at the arrival; data times run ahead of
 * the watermark); the last alive instant opens a gap when the watermark is ≥ threshold past it.
 * `times` must be sorted ascending.
 */
export function offlineGaps(
  times: readonly number[],
  held: readonly HeldGap[] | undefined,
  watermark: number,
  thresholdMs: number,
): OfflineGap[] {
  const hs = held ?? [];
  const points: { t: number; held?: HeldGap; alive?: true }[] = [];
  for (const t of times) if (!hs.some((h) => t > h.start && t <= h.end)) points.push({ t });
  for (const h of hs) {
    points.push({ t: h.end, held: h });
    if (h.alive !== undefined) points.push({ t: h.alive, alive: true });
  }
  // Stable sort: at equal times data points come first, so a held end is the later point. A data time equal to a
  // held end is left out above (the held gap already ends there).
  points.sort((a, b) => a.t - b.t);
  const out: OfflineGap[] = [];
  for (let i = 0; i < points.length; i++) {
    const b = points[i]!;
    if (b.alive) continue;
    if (b.held) {
      out.push({ start: b.held.start, end: b.held.end, held: b.held });
      continue;
    }
    const a = points[i - 1];
    if (!a || a.held || a.alive) continue;
    if (b.t - a.t >= thresholdMs) out.push({ start: a.t, end: b.t });
  }
  const last = points[points.length - 1];
  if (last !== undefined && watermark - last.t >= thresholdMs) out.push({ start: last.t });
  return out;
}

/** Evidence fields of a gap closed by arrival; the replay count appears once the replay settled (one more revision). */
export function heldEvidence(h: HeldGap, watermark: number, thresholdMs: number): Record<string, unknown> {
  return {
    resumedBy: 'arrival',
    gapStart: h.start,
    gapEnd: h.end,
    ...(settled(h, watermark, thresholdMs) ? { replayedReadings: h.replayed } : {}),
  };
}
