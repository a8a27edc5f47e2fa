/**
 * The days before the run, for the enterprises of the emission-drop scenarios: what their loggers' hourly data
 * (CN 2061, with the flow's and the pollutants' `Cou`) and their production meters' readings would have been,
 * running as usual (no scenario). The driver sends them after the run's own data through the same ingest paths
 * (the gateway, MQTT), so the influx-writer stores them like any data; the analyzer, whose watermark the run already
 * moved, refuses them as older than its lateness horizon (they end `gapDays` before the run) and judges nothing on
 * them. The emissions-against-production cross-check then has its baseline of the days before the judged day.
 */
import type { Fleet } from './fleet.js';
import { createSimulation, type Output } from './simulation.js';
import type { Scenario } from './scenarios.js';

const DAY_MS = 86_400_000;

export interface HistoryOptions {
  /** Days of history, ending `gapDays` before `start`. */
  readonly days: number;
  /** Days left out just before the run: the analyzer's lateness horizon (48 h) must lie after the history. */
  readonly gapDays: number;
  /** Interval of the history's meter readings (s). */
  readonly meterIntervalS: number;
}

export function historyOutputs(
  fleet: Fleet,
  scenarios: readonly Scenario[],
  seed: number,
  start: number,
  o: HistoryOptions,
): Output[] {
  const ids = new Set(scenarios.filter((s) => s.kind === 'emission-drop').map((s) => s.enterpriseId));
  if (ids.size === 0 || o.days <= 0) return [];
  const from = start - (o.days + o.gapDays) * DAY_MS;
  const to = start - o.gapDays * DAY_MS;
  const sim = createSimulation({
    fleet: {
      enterprises: fleet.enterprises.filter((e) => ids.has(e.id)),
      loggers: fleet.loggers.filter((l) => ids.has(l.enterpriseId)),
      meters: fleet.meters.filter((m) => ids.has(m.enterpriseId) && m.role === 'production'),
    },
    scenarios: [],
    seed,
    start: from,
    meterIntervalS: o.meterIntervalS,
  });
  const out: Output[] = [];
  // A day at a time: the loggers' minute and real-time uploads are generated (the hourly data come from them), not kept.
  for (let t = from + DAY_MS; t <= to; t += DAY_MS)
    for (const x of sim.advanceTo(t - 1)) if (x.kind === 'meter' || x.cn === '2061') out.push(x);
  return out;
}
