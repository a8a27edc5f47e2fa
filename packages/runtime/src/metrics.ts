/**
 * Prometheus metrics from typed definitions: a service declares its metrics once, in one object,
 * and gets back counters, gauges and histograms whose label names are checked by the compiler.
 *
 *   const metrics = defineMetrics(registry, {
 *     packets: { type: 'counter', name: 'offsite_hj212_packets_total', help: 'Packets received', labelNames: ['result'] },
 *     batchSize: { type: 'histogram', name: 'offsite_influx_batch_points', help: 'Points per write', buckets: [100, 1000, 5000] },
 *   });
 *   metrics.packets.inc({ result: 'ok' });
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

interface BaseDefinition {
  /** Full metric name, snake_case, `offsite_` prefixed, unit suffixed (`_seconds`, `_total`). */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

export interface CounterDefinition extends BaseDefinition {
  readonly type: 'counter';
}
export interface GaugeDefinition extends BaseDefinition {
  readonly type: 'gauge';
}
export interface HistogramDefinition extends BaseDefinition {
  readonly type: 'histogram';
  readonly buckets?: readonly number[];
}

export type MetricDefinition = CounterDefinition | GaugeDefinition | HistogramDefinition;

type LabelsOf<D> = D extends { readonly labelNames: readonly (infer L extends string)[] } ? L : never;

export type MetricFor<D extends MetricDefinition> = D extends CounterDefinition
  ? Counter<LabelsOf<D>>
  : D extends GaugeDefinition
    ? Gauge<LabelsOf<D>>
    : Histogram<LabelsOf<D>>;

export type Metrics<Defs extends Record<string, MetricDefinition>> = {
  readonly [K in keyof Defs]: MetricFor<Defs[K]>;
};

/** Creates every metric in `definitions`, registered in `registry` (names must be unique there). */
export function defineMetrics<const Defs extends Record<string, MetricDefinition>>(
  registry: Registry,
  definitions: Defs,
): Metrics<Defs> {
  const result: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(definitions)) {
    const common = {
      name: definition.name,
      help: definition.help,
      labelNames: [...(definition.labelNames ?? [])],
      registers: [registry],
    };
    switch (definition.type) {
      case 'counter':
        result[key] = new Counter(common);
        break;
      case 'gauge':
        result[key] = new Gauge(common);
        break;
      case 'histogram':
        result[key] = new Histogram(
          definition.buckets ? { ...common, buckets: [...definition.buckets] } : common,
        );
        break;
    }
  }
  return result as Metrics<Defs>;
}

export interface CreateMetricsRegistryOptions {
  /** Node process metrics (CPU, memory, event-loop lag, GC); off by default. */
  defaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ service: 'analyzer' }`. */
  defaultLabels?: Record<string, string>;
}

/** A fresh registry per service (never prom-client's global one, so tests do not collide). */
export function createMetricsRegistry(options: CreateMetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

export type { Registry };
