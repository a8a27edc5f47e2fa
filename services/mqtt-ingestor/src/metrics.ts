import { defineMetrics, type Metrics, type Registry } from '@offsite/runtime';

export const ingestorMetricDefinitions = {
  messages: {
    type: 'counter',
    name: 'offsite_mqtt_messages_total',
    help: 'MQTT messages handled, by outcome (telemetry, ignored, dlq)',
    labelNames: ['outcome'],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_dlq_messages_total',
    help: 'Messages sent to telemetry.dlq.v1, by reason',
    labelNames: ['reason'],
  },
  produceErrors: {
    type: 'counter',
    name: 'offsite_kafka_produce_errors_total',
    help: 'Failed Kafka produce requests (retried)',
  },
  ackSeconds: {
    type: 'histogram',
    name: 'offsite_mqtt_ack_delay_seconds',
    help: 'Time from receiving a message to its PUBACK being released (Kafka acknowledged)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  },
  produceBatch: {
    type: 'histogram',
    name: 'offsite_kafka_produce_batch_messages',
    help: 'Messages per Kafka produce request',
    buckets: [1, 4, 16, 64, 256, 1024, 4096],
  },
  pubacksHeld: {
    type: 'gauge',
    name: 'offsite_mqtt_pubacks_held',
    help: 'QoS 1 messages received whose PUBACK waits for their Kafka produce (bounded by sessions × receive maximum)',
  },
  connected: {
    type: 'gauge',
    name: 'offsite_mqtt_connected',
    help: 'Connected MQTT sessions',
  },
  registryReloads: {
    type: 'counter',
    name: 'offsite_registry_reloads_total',
    help: 'Registry snapshot reloads, by result',
    labelNames: ['result'],
  },
} as const;

export type IngestorMetrics = Metrics<typeof ingestorMetricDefinitions>;
export const createIngestorMetrics = (registry: Registry): IngestorMetrics =>
  defineMetrics(registry, ingestorMetricDefinitions);
