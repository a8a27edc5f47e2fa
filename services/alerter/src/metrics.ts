// The alerter's metrics (besides the runtime's defaults).
import type { Metrics } from '@offsite/runtime';

export const alerterMetricDefinitions = {
  deviations: {
    type: 'counter',
    name: 'offsite_alerter_deviations_total',
    help: 'deviation.v1 events handled, by outcome',
    labelNames: ['outcome'],
  },
  sends: {
    type: 'counter',
    name: 'offsite_alerter_sends_total',
    help: 'Send jobs by provider and result (sent, failed, failover, skipped = already sent)',
    labelNames: ['provider', 'status'],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_alerter_dlq_total',
    help: 'Records sent to the DLQ',
    labelNames: ['reason'],
  },
  publishFailed: {
    type: 'counter',
    name: 'offsite_alerter_event_publish_failures_total',
    help: 'notification.v1 events that could not be produced',
  },
  receiptsRejected: {
    type: 'counter',
    name: 'offsite_alerter_sms_receipts_rejected_total',
    help: 'SMS receipt and WeChat callbacks refused with a 4xx, and WeChat user messages not taken (kept in OFFSITE_ALERTER_RECEIPT_REJECT_DIR), by provider and reason',
    labelNames: ['provider', 'reason'],
  },
  receipts: {
    type: 'counter',
    name: 'offsite_alerter_sms_receipts_total',
    help: 'SMS and WeChat delivery receipts, by provider and outcome: new (stored), repeat (the provider pushed it again), unknown (no notification of ours)',
    labelNames: ['provider', 'outcome'],
  },
} as const;

export type AlerterMetrics = Metrics<typeof alerterMetricDefinitions>;
