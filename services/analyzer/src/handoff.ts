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
  const rejected = outputs.filter((o) => o.type === 'rejected');
  for (const r of rejected) {
    c.rejected?.(r.code, 1);
    deps.logger.warn({ topic, partition, eventId: r.eventId, code: r.code }, r.message);
  }
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
