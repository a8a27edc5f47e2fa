// Hand-off: a batch's outputs to their sinks (DLQ records to Kafka, the last value of each aggregate
// window to InfluxDB, deviation events to Kafka, then the deviation log); resolves once all are durable.
import type { TelemetryDlqV1 } from '@offsite/contracts';
import type { AggregateOutput, DeviationOutput, Output } from '@offsite/domain';
import type { Logger } from '@offsite/runtime';
import { deviationEvent } from './deviation-event.js';
import type { OutputSinks, ProcessorCounters } from './partition-state.js';

export interface HandOffDeps {
  sinks: OutputSinks;
  counters: ProcessorCounters;
  clock: () => number;
  logger: Logger;
}

/** Event ids a batch's summary of refused readings names (the first ones; the counter has the number). */
export const REJECTED_IDS_LOGGED = 5;

/**
 * The readings the engine refused in a batch (too late, not a finite time): counted per code
 * (`offsite_analyzer_rejected_total{code}`) and one warning per batch with the count per code, the first reason and
 * the first event ids — not a line per reading (a logger replaying a week of cache refused thousands).
 */
function logRejected(deps: HandOffDeps, topic: string, partition: number, outputs: Output[]): void {
  const rejected = outputs.filter((o) => o.type === 'rejected');
  if (rejected.length === 0) return;
  const byCode: Record<string, number> = {};
  for (const r of rejected) byCode[r.code] = (byCode[r.code] ?? 0) + 1;
  for (const [code, n] of Object.entries(byCode)) deps.counters.rejected?.(code, n);
  deps.logger.warn(
    {
      topic,
      partition,
      rejected: rejected.length,
      byCode,
      eventIds: rejected.slice(0, REJECTED_IDS_LOGGED).map((r) => r.eventId),
      firstReason: rejected[0]!.message,
    },
    `${rejected.length} readings refused by the engine in this batch`,
  );
}

export async function handOff(
  deps: HandOffDeps,
  topic: string,
  partition: number,
  outputs: Output[],
  dlq: TelemetryDlqV1[],
): Promise<void> {
  const h0 = performance.now();
  const { sinks, counters: c } = deps;
  const deviations = outputs.filter((o): o is DeviationOutput => o.type === 'deviation');
  // A window recomputed several times within the batch: only its last value matters.
  const aggs = new Map<string, AggregateOutput>();
  for (const o of outputs) {
    if (o.type === 'aggregate') aggs.set(`${o.siteId}|${o.factor}|${o.interval}|${o.start}`, o);
  }
  logRejected(deps, topic, partition, outputs);
  if (dlq.length > 0) await sinks.dlq(dlq);
  if (aggs.size > 0) {
    await sinks.aggregates([...aggs.values()]);
    c.aggregates?.(aggs.size);
  }
  if (deviations.length > 0) {
    const now = deps.clock();
    const events = deviations.map((d) => deviationEvent(d, now));
    await sinks.deviations(events);
    await sinks.deviationLog?.(deviations.map((output, i) => ({ output, event: events[i]! })));
    for (const d of deviations) c.deviations?.(d.state, 1);
  }
  c.phase?.('handoff', (performance.now() - h0) / 1000);
}
