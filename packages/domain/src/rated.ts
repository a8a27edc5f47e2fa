// Rated window energy of a meter, derived from its history (domain-rules §3, treatment idle).
import { DAY_MS } from './time.js';

export interface RatedEnergyOptions {
  /** History considered, ending at `asOf` (default 60 days). */
  lookbackDays: number;
  /** Windows below this energy (kWh) are ignored: the line was stopped (default 0.2). */
  minKwh: number;
  /** Energies are binned to this resolution (kWh) before taking the mode (default 0.1). */
  binKwh: number;
}

export const defaultRatedEnergyOptions: RatedEnergyOptions = { lookbackDays: 60, minKwh: 0.2, binKwh: 0.1 };

/**
 * The mode of the window energies above their mean (windows in [asOf − lookback, asOf), ignoring windows below
 * `minKwh`), binned to `binKwh`; ties go to the higher bin. Null when there is no usable window.
 */
export function deriveRatedWindowEnergy(
  windows: readonly { start: number; kwh: number }[],
  asOf: number,
  options: Partial<RatedEnergyOptions> = {},
): number | null {
  const o = { ...defaultRatedEnergyOptions, ...options };
  const from = asOf - o.lookbackDays * DAY_MS;
  const used = windows.filter(
    (w) => w.start >= from && w.start < asOf && Number.isFinite(w.kwh) && w.kwh >= o.minKwh,
  );
  if (used.length === 0) return null;
  const mean = used.reduce((s, w) => s + w.kwh, 0) / used.length;
  const counts = new Map<number, number>();
  for (const w of used) {
    if (w.kwh <= mean) continue;
    const bin = Math.round(w.kwh / o.binKwh);
    counts.set(bin, (counts.get(bin) ?? 0) + 1);
  }
  if (counts.size === 0) return Math.round(mean / o.binKwh) * o.binKwh; // all windows equal
  let best = -Infinity;
  let bestN = 0;
  for (const [bin, n] of counts) {
    if (n > bestN || (n === bestN && bin > best)) {
      best = bin;
      bestN = n;
    }
  }
  return Number((best * o.binKwh).toFixed(10));
}
