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
    name: 'offsite_alerter_receipts_rejected_total',
    help: 'SMS receipt and WeChat callbacks refused (4xx), and WeChat user messages refused or not handed on (kept in OFFSITE_ALERTER_RECEIPT_REJECT_DIR), by channel (sms, wechat), provider and reason',
    labelNames: ['channel', 'provider', 'reason'],
  },
  wechatComplaints: {
    type: 'counter',
    name: 'offsite_alerter_wechat_complaints_total',
    help: "Users' text messages to the WeChat official account, by outcome: passed-on (complaint.intake.v1 acknowledged by Kafka), refused (kept, answered with the reason), failed (kept, answered 503)",
    labelNames: ['outcome'],
  },
  receipts: {
    type: 'counter',
    name: 'offsite_alerter_receipts_total',
    help: 'SMS and WeChat delivery receipts, by channel (sms, wechat), provider and outcome: new (stored), repeat (the provider pushed it again), unknown (no notification of ours)',
    labelNames: ['channel', 'provider', 'outcome'],
  },
} as const;

export type AlerterMetrics = Metrics<typeof alerterMetricDefinitions>;
