// The alerter, composed from its parts: case intake (deviation → case), planning (groups, rounds,
// escalations, fan-out), dispatch (BullMQ queues and workers, send claims, failover), delivery
// receipts and acknowledgements. Each part takes its dependencies as parameters.
import type { ConnectionOptions } from 'bullmq';
import type { MessageRequestV1, NotificationV1 } from '@offsite/contracts';
import type { Channel, Logger } from '@offsite/notify';
import { createAcknowledgements } from './acknowledgements.js';
import { createCaseIntake, type HandleOutcome } from './case-intake.js';
import { createDispatch, type SendSettings } from './dispatch.js';
import { createNotificationEvents } from './notification-events.js';
import { createPlanning } from './planning.js';
import { scalePolicyTimers, type AlertPolicy } from './policy.js';
import { createReceipts } from './receipts.js';
import type * as repo from './repo.js';

export type { HandleOutcome } from './case-intake.js';
export type { RateLimit } from './dispatch.js';
export type { ReceiptCounts } from './receipts.js';
export { PLAN_RETRY } from './jobs.js';

export interface AlerterOptions {
  db: repo.Db;
  connection: ConnectionOptions;
  /** BullMQ key prefix; unique per deployment (and per test). */
  prefix: string;
  policy: AlertPolicy;
  /**
   * Channels by name; `sms` is tried in order (primary, then secondary on a failover error). Every
   * channel instance needs its own `provider` name: each provider has its own BullMQ queue
   * (`send-<provider>`) and rate limit.
   */
  channels: { email?: Channel; sms?: Channel[]; wechat?: Channel; outbox?: Channel };
  ack: { secret: string; baseUrl: string };
  logger: Logger;
  now?: () => Date;
  /** notification.v1 events; a failure is logged and counted, never fails the send (Postgres is the record). */
  publish?: (event: NotificationV1) => Promise<void> | void;
  send?: SendSettings;
  /**
   * Timers run this many times faster than the wall clock (group wait, repeat interval, escalation
   * delay): the demo plays event time at 480×. Default 1.
   */
  timeScale?: number;
  /**
   * BullMQ job lock (ms): a job whose worker died is picked up again after at most about twice
   * this (lock expiry + stalled check). Default 30 s.
   */
  jobLockMs?: number;
  counters?: {
    deviation?(outcome: HandleOutcome): void;
    send?(provider: string, status: 'sent' | 'failed' | 'failover' | 'skipped'): void;
    publishFailed?(): void;
  };
}

export function createAlerter(opts: AlerterOptions) {
  const now = opts.now ?? (() => new Date());
  const { db, logger, counters } = opts;
  const policy = scalePolicyTimers(opts.policy, opts.timeScale ?? 1);
  const events = createNotificationEvents({
    ...(opts.publish ? { publish: opts.publish } : {}),
    now,
    logger,
    ...(counters ? { counters } : {}),
  });
  const dispatch = createDispatch({
    db,
    connection: opts.connection,
    prefix: opts.prefix,
    channels: opts.channels,
    events,
    logger,
    ...(opts.send ? { send: opts.send } : {}),
    ...(opts.jobLockMs !== undefined ? { jobLockMs: opts.jobLockMs } : {}),
    ...(counters ? { counters } : {}),
  });
  const planning = createPlanning({ db, policy, dispatch, ack: opts.ack, logger, now });
  const intake = createCaseIntake({ db, policy, planning, ...(counters ? { counters } : {}) });
  const acks = createAcknowledgements({ db, secret: opts.ack.secret, now });
  const receipts = createReceipts({ db, events });

  return {
    handleDeviation: intake.handleDeviation,
    handleMessageRequest: (req: MessageRequestV1) => dispatch.enqueueMessageRequest(req),
    acknowledge: acks.acknowledge,
    ackView: acks.ackView,
    recordReceipts: receipts.recordReceipts,
    start: () => dispatch.start(planning.processPlan),
    close: dispatch.close,
    /** True while every worker is running (for /readyz). */
    isRunning: dispatch.isRunning,
    queues: dispatch.queues,
  };
}

export type Alerter = ReturnType<typeof createAlerter>;
