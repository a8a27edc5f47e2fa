/**
 * The whole simulated fleet in event time: `advanceTo(t)` returns every HJ 212 upload and meter
 * reading due up to t, ordered by event time. Pure and deterministic for a given seed and start.
 */
import type { Fleet } from './fleet.js';
import { DataLoggerModel, type Upload } from './logger-model.js';
import { MeterModel, type MeterPublish } from './meter-model.js';
import type { Scenario } from './scenarios.js';

export type Output = ({ kind: 'hj212' } & Upload) | ({ kind: 'meter' } & MeterPublish);

export interface SimulationOptions {
  readonly fleet: Fleet;
  readonly scenarios: readonly Scenario[];
  readonly seed: number;
  /** Event time the simulation starts at (ms). */
  readonly start: number;
  readonly meterIntervalS?: number;
}

export interface Simulation {
  readonly loggers: readonly DataLoggerModel[];
  readonly meters: readonly MeterModel[];
  advanceTo(t: number): Output[];
  /** Event time reached so far. */
  now(): number;
}

export function createSimulation(o: SimulationOptions): Simulation {
  const profile = new Map(o.fleet.enterprises.map((e) => [e.id, e.profile]));
  const loggers = o.fleet.loggers.map(
    (l) => new DataLoggerModel(l, profile.get(l.enterpriseId) ?? 'continuous', o.scenarios, o.seed, o.start),
  );
  const meters = o.fleet.meters.map(
    (m) =>
      new MeterModel(
        m,
        profile.get(m.enterpriseId) ?? 'continuous',
        o.scenarios,
        o.seed,
        o.start,
        o.meterIntervalS,
      ),
  );
  let reached = o.start;
  return {
    loggers,
    meters,
    now: () => reached,
    advanceTo(t) {
      const out: Output[] = [];
      for (const l of loggers) for (const u of l.advanceTo(t)) out.push({ kind: 'hj212', ...u });
      for (const m of meters) for (const p of m.advanceTo(t)) out.push({ kind: 'meter', ...p });
      out.sort((a, b) => a.sentAt - b.sentAt);
      reached = Math.max(reached, t);
      return out;
    },
  };
}
