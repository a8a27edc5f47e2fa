// Offline for a registered device that has never reported (domain-rules §3 offline: "no data from a device for ≥
// max(3 × its cadence, 10 min)"). The engine judges offline from a device's last data; a device without any has
// none, so its silence is counted from when it was first expected instead: the later of when the analyzer started
// watching it and when it was registered or enabled (the caller's `watchFrom`). Declared maintenance of the device,
// its outlet or its enterprise and the enterprise's shutdown (停产) are quiet periods: nothing is expected during
// one, and the silence counts again from its end.

/** [start, end) epoch ms; `end` may be Infinity (shut down until further notice). */
export interface QuietPeriod {
  start: number;
  end: number;
}

export interface SilentDeviceInput {
  /** When the device was first expected to report (epoch ms). */
  watchFrom: number;
  /** The judging instant (epoch ms). */
  now: number;
  /** The offline rule's threshold for the device (`offlineThresholdMs`). */
  thresholdMs: number;
  quiet: readonly QuietPeriod[];
}

/**
 * The instant the device's silence counts from when it is offline at `now` (silent for at least the threshold
 * since it was expected or since the last quiet period ended, and not inside a quiet period); null otherwise.
 */
export function silentSince(i: SilentDeviceInput): number | null {
  let since = i.watchFrom;
  for (const q of i.quiet) {
    if (q.start <= i.now && i.now < q.end) return null;
    if (q.end <= i.now && q.end > since && q.start < q.end) since = q.end;
  }
  return i.now - since >= i.thresholdMs ? since : null;
}

/**
 * The enterprise's shutdown periods from its status timeline (entries in any order, `from` epoch ms): each
 * `shutdown` entry lasts until the next entry, the last one until further notice.
 */
export function shutdownPeriods(timeline: readonly { status: string; from: number }[]): QuietPeriod[] {
  const sorted = [...timeline].sort((a, b) => a.from - b.from);
  const out: QuietPeriod[] = [];
  sorted.forEach((e, k) => {
    if (e.status === 'shutdown') out.push({ start: e.from, end: sorted[k + 1]?.from ?? Infinity });
  });
  return out;
}
