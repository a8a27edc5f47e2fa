import { defineMetrics, type Metrics, type Registry } from '@offsite/runtime';

export const writerMetricDefinitions = {
  points: {
    type: 'counter',
    name: 'offsite_influx_points_written_total',
    help: 'Points InfluxDB accepted',
    labelNames: ['measurement'],
  },
  readings: {
    type: 'counter',
    name: 'offsite_influx_writer_readings_total',
    help: 'telemetry.v1 messages handled, by outcome',
    labelNames: ['outcome'],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_dlq_messages_total',
    help: 'Messages sent to telemetry.dlq.v1, by reason',
    labelNames: ['reason'],
  },
  writeErrors: {
    type: 'counter',
    name: 'offsite_influx_write_errors_total',
    help: 'Failed InfluxDB write requests, by error code',
    labelNames: ['code'],
  },
  batchPoints: {
    type: 'histogram',
    name: 'offsite_influx_batch_points',
    help: 'Points per InfluxDB write request',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
  },
  flushSeconds: {
    type: 'histogram',
    name: 'offsite_influx_flush_seconds',
    help: 'Time from the first buffered reading to InfluxDB accepting its flush',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  lateReadings: {
    type: 'counter',
    name: 'offsite_influx_writer_late_readings_total',
    help: 'Minute emission readings written 30 min or more after their data time (reported on telemetry.late.v1)',
  },
  lateEvents: {
    type: 'counter',
    name: 'offsite_influx_writer_late_events_total',
    help: 'telemetry.late.v1 events published (one per device and Asia/Shanghai day of a write)',
  },
  influxUp: {
    type: 'gauge',
    name: 'offsite_influx_up',
    help: '1 while the last InfluxDB write succeeded, 0 while writes are being retried',
  },
} as const;

export type WriterMetrics = Metrics<typeof writerMetricDefinitions>;

export const createWriterMetrics = (registry: Registry): WriterMetrics =>
  defineMetrics(registry, writerMetricDefinitions);
