// What the engine benches share: the loggers' factors and values, the one-outlet-per-enterprise registry, and the
// printing helpers (numbers, quantiles, the load average, the heap after a GC).
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RegistryView } from '@offsite/domain';

export const GAS = [
  'a21026', 'a21002', 'a34013', 'a19001', 'a00000', 'a01011', 'a01012', 'a01013', 'a01014', 'a21005',
  'a21001', 'a21024', 'a05002', 'a24088', 'a21003', 'a21004', 'a01017', 'a00001', 'a99001', 'a99002',
]; // prettier-ignore
export const WATER = [
  'w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w00000', 'w01010', 'w01014', 'w20122', 'w20115',
  'w20117', 'w20116', 'w20120', 'w20111', 'w20119', 'w01019', 'w01003', 'w99001', 'w99002', 'w99003',
]; // prettier-ignore
const BASE: Record<string, number> = { a19001: 9, a00000: 40, a21026: 30, a21002: 40, a34013: 8, w01001: 7 };

// Deterministic pseudo-random values (xorshift): every run measures the same input.
let seed = 12345;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return ((seed >>> 0) % 10_000) / 10_000;
}
export const val = (f: string) => Number(((BASE[f] ?? 20) * (0.9 + 0.25 * rnd())).toFixed(2));

/** Each id an enterprise with one gas outlet `OUT-<id>` (hourly limits on SO2, NOx, dust) and logger `MN-<id>`. */
export function loggerRegistry(ids: readonly string[]): RegistryView {
  const limit = (e: string, factor: string, value: number) => ({
    siteId: `OUT-${e}`,
    factor,
    value,
    unit: 'mg/m3',
    basis: 'hourly' as const,
    converted: true,
  });
  return {
    enterprises: ids.map((id) => ({ id })),
    outlets: ids.map((e) => ({ id: `OUT-${e}`, enterpriseId: e, kind: 'gas' as const, referenceO2: 9 })),
    limits: ids.flatMap((e) => [limit(e, 'a21026', 35), limit(e, 'a21002', 50), limit(e, 'a34013', 10)]),
    instrumentRanges: ids.map((e) => ({ siteId: `OUT-${e}`, factor: 'a21026', max: 500 })),
    devices: ids.map((e) => ({ id: `MN-${e}`, siteId: `OUT-${e}`, cadenceSeconds: 30 })),
    meters: [],
    maintenanceWindows: [],
  };
}

export const q = (sorted: ArrayLike<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** The machine's load average now (the 2 cores are shared: numbers are only comparable at similar load). */
export const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join('/')}`;

// A GC before reading the heap, without needing --expose-gc on the command line.
setFlagsFromString('--expose-gc');
export const gc = runInNewContext('gc') as () => void;
