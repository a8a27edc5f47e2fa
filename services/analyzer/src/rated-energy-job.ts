// Rated window energy per meter (domain-rules §3, treatment idle), derived on a schedule from the
// cumulative energy in InfluxDB for meters the registry leaves unconfigured; stored in
// analyzer_rated_energy and handed to the engines through the registry view.
import { deriveRatedWindowEnergy, type RatedEnergyOptions } from '@offsite/domain';
import { meterWindowLastQuery, type InfluxQLRunner } from '@offsite/influx';
import type { Logger } from '@offsite/runtime';
import type { RegistrySnapshot } from '@offsite/store';
import { upsertRatedEnergy, type Db } from './analyzer-db.js';
import { metersNeedingRatedEnergy } from './registry-view.js';

const WINDOW_MS = 15 * 60_000;

export interface RatedEnergyJobOptions {
  db: Db;
  query: InfluxQLRunner;
  /** Bucket of the telemetry (measurement `energy`, field `Cou` of factor `energy_kwh`, tag site = meter). */
  bucket: string;
  rated: Pick<RatedEnergyOptions, 'lookbackDays' | 'minKwh'>;
  logger: Logger;
}

/**
 * 15-minute window energies from the last cumulative reading of each window: a window's energy is the
 * difference to the previous window's last reading, counted only between adjacent windows (a gap would
 * lump several windows into one) and never negative (a meter reset or replacement).
 */
export function windowEnergies(lastPerWindow: readonly { stop: number; cou: number }[]): {
  start: number;
  kwh: number;
}[] {
  const sorted = [...lastPerWindow].sort((a, b) => a.stop - b.stop);
  const out: { start: number; kwh: number }[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.stop - prev.stop !== WINDOW_MS) continue;
    const kwh = cur.cou - prev.cou;
    if (!(kwh >= 0)) continue;
    out.push({ start: cur.stop - WINDOW_MS, kwh });
  }
  return out;
}

export async function loadWindowEnergies(
  opts: Pick<RatedEnergyJobOptions, 'query' | 'bucket'>,
  enterpriseId: string,
  meterId: string,
  from: Date,
  to: Date,
): Promise<{ start: number; kwh: number }[]> {
  const series = await opts.query(
    opts.bucket,
    meterWindowLastQuery(enterpriseId, meterId, from, to, WINDOW_MS / 60_000),
  );
  // Several series (device or interval tags) for one meter: the largest reading per window. A window is keyed by
  // its end, cut at `to` (the last window may be partial).
  const byStop = new Map<number, number>();
  for (const s of series)
    for (const r of s.rows) {
      const stop = Math.min(Number(r.time) + WINDOW_MS, to.getTime());
      if (typeof r.cou !== 'number' || !Number.isFinite(stop)) continue;
      byStop.set(stop, Math.max(byStop.get(stop) ?? -Infinity, r.cou));
    }
  return windowEnergies([...byStop].map(([stop, cou]) => ({ stop, cou })));
}

/** Derives and stores the rated energy of every unconfigured meter; returns the meters updated. */
export async function runRatedEnergyJob(
  opts: RatedEnergyJobOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<Map<string, number>> {
  const log = opts.logger.child({ component: 'rated-energy' });
  const asOf = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  const from = asOf - opts.rated.lookbackDays * 86_400_000;
  const derived = new Map<string, number>();
  for (const { meterId, enterpriseId } of metersNeedingRatedEnergy(snapshot)) {
    try {
      const windows = await loadWindowEnergies(opts, enterpriseId, meterId, new Date(from), new Date(asOf));
      const rated = deriveRatedWindowEnergy(windows, asOf, opts.rated);
      if (rated === null) {
        log.debug({ meterId }, 'no usable energy window: rated energy not derived');
        continue;
      }
      const used = windows.filter((w) => w.start >= from && w.kwh >= opts.rated.minKwh).length;
      await upsertRatedEnergy(opts.db, meterId, rated, used);
      derived.set(meterId, rated);
    } catch (err) {
      log.error({ err, meterId }, 'rated energy derivation failed');
    }
  }
  log.info({ meters: derived.size }, 'rated window energies derived');
  return derived;
}
