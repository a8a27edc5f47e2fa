/** The gateway's Prometheus metrics, declared once. */
import { defineMetrics, type Metrics, type Registry } from '@offsite/runtime';

export const gatewayMetricCatalog = {
  connections: { type: 'gauge', name: 'offsite_hj212_connections', help: 'Open data-logger connections' },
  connectionsTotal: {
    type: 'counter',
    name: 'offsite_hj212_connections_total',
    help: 'Connections accepted, refused (rejected-per-source, rejected-total-cap) and closed (closed; and why: idle-timeout, frame-deadline, auth-deadline, garbage-budget, bad-frame-budget, auth-throttled)',
    labelNames: ['event'],
  },
  packets: {
    type: 'counter',
    name: 'offsite_hj212_packets_total',
    help: 'Packets received by outcome (telemetry, accepted, auth-pw, auth-mn, crc-error, invalid, kafka-failed…)',
    labelNames: ['outcome'],
  },
  replies: {
    type: 'counter',
    name: 'offsite_hj212_replies_total',
    help: 'Replies sent by CN',
    labelNames: ['cn'],
  },
  replyLatency: {
    type: 'histogram',
    name: 'offsite_hj212_reply_latency_seconds',
    help: 'From the packet read to its reply written (includes the Kafka acknowledgement)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_hj212_dlq_total',
    help: 'Inputs sent to the DLQ by reason',
    labelNames: ['reason'],
  },
  kafkaBatch: {
    type: 'histogram',
    name: 'offsite_hj212_kafka_batch_messages',
    help: 'Messages per Kafka produce request',
    buckets: [1, 5, 20, 50, 100, 250, 500, 1000, 2500, 5000],
  },
  kafkaRequest: {
    type: 'histogram',
    name: 'offsite_hj212_kafka_request_seconds',
    help: 'Duration of one Kafka produce request (acks=-1), from send to acknowledgement',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  kafkaFailures: {
    type: 'counter',
    name: 'offsite_hj212_kafka_failures_total',
    help: 'Produce requests that failed',
  },
  pending: {
    type: 'gauge',
    name: 'offsite_hj212_kafka_pending_messages',
    help: 'Messages waiting for a Kafka acknowledgement',
  },
  unauthenticated: {
    type: 'gauge',
    name: 'offsite_hj212_unauthenticated_connections',
    help: 'Open connections that have not yet sent a frame with a valid MN/PW (on the tight budget)',
  },
  garbageBytes: {
    type: 'counter',
    name: 'offsite_hj212_garbage_bytes_total',
    help: 'Bytes outside any valid frame, kept in DLQ records',
  },
  logSuppressed: {
    type: 'counter',
    name: 'offsite_hj212_log_lines_suppressed_total',
    help: 'Warnings not written because they came faster than the log rate limit',
  },
  commands: {
    type: 'counter',
    name: 'offsite_hj212_commands_total',
    help: 'Attempts of centre commands to loggers by CN and outcome (sent, done, refused, failed, timed-out, disconnected, not-sent; skipped-busy and rate-limited when no calibration was requested)',
    labelNames: ['cn', 'outcome'],
  },
  commandRequests: {
    type: 'counter',
    name: 'offsite_hj212_command_requests_total',
    help: 'Command requests (calibration, backfill, supervisor) by CN and event: requested, fulfilled, refused, failed, timed-out (after the last attempt), expired (never sent in time), retried',
    labelNames: ['cn', 'event'],
  },
  clockDrift: {
    type: 'histogram',
    name: 'offsite_hj212_clock_drift_seconds',
    help: 'How far a logger clock (QN of a real-time upload or heartbeat) was from the receive time, when over the bound',
    buckets: [60, 120, 300, 600, 1800, 3600, 86_400, 864_000],
  },
  paused: {
    type: 'counter',
    name: 'offsite_hj212_backpressure_pauses_total',
    help: 'Socket pauses for backpressure',
  },
} as const;

export type GatewayMetrics = Metrics<typeof gatewayMetricCatalog>;

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return defineMetrics(registry, gatewayMetricCatalog);
}
