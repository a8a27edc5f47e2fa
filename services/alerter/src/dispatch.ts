// Dispatch: the BullMQ queues and workers, enqueueing, and the send worker that claims a message in
// Postgres, calls its provider, records the outcome and hands a failover to the next provider.
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { MessageRequestV1 } from '@offsite/contracts';
import { OffsiteError } from '@offsite/runtime/errors';
import { isNotifyError, maskAddress, renderPlainMessage, type Channel, type Logger } from '@offsite/notify';
import { createBatcher } from './batcher.js';
import {
  failoverJobId,
  idSafe,
  PLAN_QUEUE,
  providerOfSendQueue,
  sendJobOptions,
  sendQueueName,
  type JobSpec,
  type PlanJobData,
  type PlanJobName,
  type PlanJobSpec,
  type SendJobData,
  type SendJobName,
  type SendJobSpec,
  type SendRetry,
} from './jobs.js';
import type { NotificationEvents } from './notification-events.js';
import type { ChannelName } from './policy.js';
import { recordAccepted, type RecordRetry } from './record-accepted.js';
import * as repo from './repo.js';

export interface RateLimit {
  max: number;
  durationMs: number;
}

export interface SendSettings extends SendRetry {
  concurrency?: number;
  /** Workers per provider queue, each with `concurrency` jobs at once. Default 1. */
  workersPerQueue?: number;
  /** Plan jobs (group rounds, escalations, resolution notices) run at once. Default 10. */
  planConcurrency?: number;
  /** Default limit for every provider queue. */
  rateLimit?: RateLimit;
  /** Per-provider limits (`smtp`, `aliyun-sms`, `tencent-sms`, `outbox-email`, …). */
  rateLimits?: Record<string, RateLimit>;
}

export interface DispatchDeps {
  db: repo.Db;
  connection: ConnectionOptions;
  prefix: string;
  channels: { email?: Channel; sms?: Channel[]; wechat?: Channel; outbox?: Channel };
  events: NotificationEvents;
  logger: Logger;
  send?: SendSettings;
  jobLockMs?: number;
  counters?: { send?(provider: string, status: 'sent' | 'failed' | 'failover' | 'skipped'): void };
  /** How an accepted send's record waits out a Postgres outage (defaults in record-accepted.ts). */
  recordRetry?: RecordRetry;
}

export type PlanQueue = Queue<PlanJobData, void, PlanJobName>;
export type SendQueue = Queue<SendJobData, SendResult, SendJobName>;
export type PlanJob = Job<PlanJobData, void, PlanJobName>;
export type SendResult =
  { provider: string; providerMessageId: string } | { skipped: true } | { handedOffTo: string };

export function createDispatch(deps: DispatchDeps) {
  const { db } = deps;
  const log = deps.logger.child({ component: 'alerter' });
  const qopts = { connection: deps.connection, prefix: deps.prefix };
  const planQueue: PlanQueue = new Queue(PLAN_QUEUE, qopts);
  const chains: Record<ChannelName, Channel[]> = {
    email: deps.channels.email ? [deps.channels.email] : [],
    sms: deps.channels.sms ?? [],
    wechat: deps.channels.wechat ? [deps.channels.wechat] : [],
    outbox: deps.channels.outbox ? [deps.channels.outbox] : [],
  };
  const sendQueues = createSendQueues(chains, qopts);
  const sendOpts = () => sendJobOptions(deps.send);
  const workers: (Worker<PlanJobData, void, PlanJobName> | Worker<SendJobData, SendResult, SendJobName>)[] =
    [];

  // Send claims and `sent` records go to Postgres in batches: under load, the jobs running at the
  // same time share one statement each way instead of three round trips per send. A claim is still
  // committed before its provider call; a `sent` record before its job completes.
  const claims = createBatcher((items: repo.SendClaim[]) => repo.claimSends(db, items), {
    maxSize: 200,
    key: (c) => c.id,
  });
  const sentRecords = createBatcher(
    async (items: Parameters<typeof repo.recordSent>[1]) => {
      await repo.recordSent(db, items);
      return items.map(() => undefined);
    },
    { maxSize: 200, key: (s) => s.notificationId },
  );
  // Enqueues of the fan-outs and first rounds running at the same time share one addBulk per queue;
  // each caller still awaits its own job.
  const bulkAdder = <N extends string, D>(addBulk: (items: JobSpec<N, D>[]) => Promise<unknown>) =>
    createBatcher(
      async (items: JobSpec<N, D>[]) => {
        await addBulk(items);
        return items.map(() => undefined);
      },
      { maxSize: 500, key: (j) => j.opts.jobId },
    );
  const planAdds = bulkAdder<PlanJobName, PlanJobData>((items) => planQueue.addBulk(items));
  const sendAdds = new Map(
    [...sendQueues].map(([provider, q]) => [
      provider,
      bulkAdder<SendJobName, SendJobData>((items) => q.addBulk(items)),
    ]),
  );

  /** The first provider of a channel, or undefined when the channel is not configured. */
  const firstProvider = (channel: ChannelName): Channel | undefined => chains[channel][0];

  /** Adds a plan job; `batched` shares one addBulk with the plan jobs enqueued meanwhile. */
  async function enqueuePlan(spec: PlanJobSpec, batched = false): Promise<void> {
    if (batched) await planAdds.add(spec);
    else await planQueue.add(spec.name, spec.data, spec.opts);
  }

  /** Adds a send job to its provider's queue; `batched` shares one addBulk per queue. */
  async function enqueueSend(
    provider: string,
    name: SendJobName,
    data: SendJobData,
    batched = false,
  ): Promise<void> {
    const spec: SendJobSpec = { name, data, opts: { jobId: data.message.id, ...sendOpts() } };
    if (batched) await sendAdds.get(provider)!.add(spec);
    else await sendQueues.get(provider)!.add(spec.name, spec.data, spec.opts);
  }

  /**
   * A message another service rendered (message.request.v1): one send job under the request's id, so
   * a repeated request is the same job and, once sent, the same claim; no group, no rounds.
   */
  async function enqueueMessageRequest(req: MessageRequestV1): Promise<'queued' | 'unroutable'> {
    const first = firstProvider(req.channel);
    if (!first) {
      log.warn({ id: req.id, channel: req.channel }, 'no provider for the requested channel; not sent');
      return 'unroutable';
    }
    const id = idSafe(req.id);
    await enqueueSend(first.provider, req.kind, {
      hop: 0,
      groupKey: id,
      deviationIds: [],
      kind: req.kind,
      round: 1,
      channel: req.channel,
      recipient: { kind: req.recipient.kind, id: req.recipient.id },
      message: {
        id,
        to: { address: req.recipient.address, ...(req.recipient.name ? { name: req.recipient.name } : {}) },
        language: req.language,
        ...renderPlainMessage(req),
      },
    });
    return 'queued';
  }

  async function processSend(job: Job<SendJobData, SendResult, SendJobName>): Promise<SendResult> {
    const d = job.data;
    const m = d.message;
    const masked = maskAddress(m.to.address);
    // Record the send before calling the provider: a redelivered or stalled job whose send was
    // recorded as `sent` is skipped. Residual window: a crash after the provider accepted and
    // before `sent` was written re-sends with the same Message-ID / OutId (see README).
    const claim = await claims.add({
      id: m.id,
      groupKey: d.groupKey,
      deviationIds: d.deviationIds,
      kind: d.kind,
      round: d.round,
      recipientKind: d.recipient.kind,
      recipientId: d.recipient.id,
      addressMasked: masked,
      channel: d.channel,
    });
    if (!claim.proceed) {
      deps.counters?.send?.(providerOfSendQueue(job.queueName), 'skipped');
      return { skipped: true };
    }
    const chain = chains[d.channel];
    const hop = d.hop ?? 0;
    const ch = chain[hop];
    if (!ch) throw new UnrecoverableError(`no ${d.channel} provider #${hop} configured`);
    const base = {
      id: m.id,
      deviationId: d.deviationIds[0],
      recipient: { kind: d.recipient.kind, id: idSafe(d.recipient.id), address: masked },
      channel: d.channel,
      round: d.round,
      attempt: job.attemptsMade + 1,
    };
    let lastErr: unknown;
    let r: Awaited<ReturnType<typeof ch.send>> | undefined;
    try {
      r = await ch.send(m);
    } catch (err) {
      lastErr = err;
      const code = isNotifyError(err) ? err.code : 'NOTIFY_UNKNOWN';
      await repo.recordAttempt(db, {
        notificationId: m.id,
        attempt: claim.attempts,
        provider: ch.provider,
        status: 'failed',
        errorCode: code,
        errorMessage: (err as Error).message,
      });
      const next = isNotifyError(err) && err.failover ? chain[hop + 1] : undefined;
      log.warn({ notificationId: m.id, provider: ch.provider, code, failover: !!next }, 'send failed');
      if (next) {
        // Hand the message to the next provider's queue (its own rate limit and retries).
        await sendQueues
          .get(next.provider)!
          .add(job.name, { ...d, hop: hop + 1 }, { jobId: failoverJobId(m.id, hop + 1), ...sendOpts() });
        deps.counters?.send?.(ch.provider, 'failover');
        return { handedOffTo: next.provider };
      }
    }
    if (r) {
      // The provider accepted: nothing may send this message again. A failure to record it is not
      // a failed send (no retry, no failover); a Postgres outage is waited out.
      const accepted = r;
      await recordAccepted(
        () =>
          sentRecords.add({
            notificationId: m.id,
            attempt: claim.attempts,
            provider: accepted.provider,
            providerMessageId: accepted.providerMessageId,
            latencyMs: Math.round(accepted.latencyMs),
          }),
        { log, notificationId: m.id, ...deps.recordRetry },
      );
      deps.counters?.send?.(ch.provider, 'sent');
      await deps.events.emit({
        ...base,
        provider: r.provider,
        status: 'sent',
        providerMessageId: r.providerMessageId,
        latencyMs: r.latencyMs,
      });
      return { provider: r.provider, providerMessageId: r.providerMessageId };
    }
    const permanent = isNotifyError(lastErr) && !lastErr.retryable;
    const exhausted = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (permanent || exhausted) {
      await repo.markNotification(db, m.id, 'failed');
      deps.counters?.send?.(ch.provider, 'failed');
      const code = (isNotifyError(lastErr) ? lastErr.code : 'notify_unknown')
        .toLowerCase()
        .replace(/_/g, '-');
      await deps.events.emit({
        ...base,
        provider: ch.provider,
        status: 'failed',
        error: { code, message: (lastErr as Error).message.slice(0, 2000) || code, retryable: !permanent },
      });
    }
    if (permanent) throw new UnrecoverableError((lastErr as Error).message);
    throw lastErr;
  }

  /** Starts the plan workers (running `processPlan`) and the send workers of every provider queue. */
  function start(processPlan: (job: PlanJob) => Promise<void>): void {
    const lock = deps.jobLockMs ?? 30_000;
    // A stalled job is re-run (its send claim in Postgres keeps a finished send from repeating).
    const wopts = { ...qopts, lockDuration: lock, stalledInterval: lock, maxStalledCount: 3 };
    workers.push(
      new Worker<PlanJobData, void, PlanJobName>(PLAN_QUEUE, processPlan, {
        ...wopts,
        concurrency: deps.send?.planConcurrency ?? 10,
      }),
    );
    for (const provider of sendQueues.keys()) {
      const rl = deps.send?.rateLimits?.[provider] ?? deps.send?.rateLimit;
      // Several workers per queue: each has its own Redis connections and fetch loop, so fetching
      // and completing jobs is not one connection's round trip after another. BullMQ's limiter
      // is kept in Redis, so the rate limit holds across them.
      for (let i = 0; i < (deps.send?.workersPerQueue ?? 1); i++)
        workers.push(
          new Worker<SendJobData, SendResult, SendJobName>(sendQueueName(provider), processSend, {
            ...wopts,
            concurrency: deps.send?.concurrency ?? 20,
            ...(rl ? { limiter: { max: rl.max, duration: rl.durationMs } } : {}),
          }),
        );
    }
    for (const w of workers) w.on('error', (err) => log.error({ err }, 'worker error'));
  }

  async function close(): Promise<void> {
    await Promise.allSettled(workers.map((w) => w.close()));
    await Promise.allSettled([planQueue.close(), ...[...sendQueues.values()].map((q) => q.close())]);
  }

  return {
    firstProvider,
    enqueuePlan,
    enqueueSend,
    enqueueMessageRequest,
    start,
    close,
    /** True while every worker is running (for /readyz). */
    isRunning: () => workers.length > 0 && workers.every((w) => w.isRunning()),
    queues: { plan: planQueue, send: sendQueues },
  };
}

export type Dispatch = ReturnType<typeof createDispatch>;

/** One queue per provider name; two channels with one provider name, or a name unfit for a queue, are refused. */
function createSendQueues(
  chains: Record<ChannelName, Channel[]>,
  qopts: { connection: ConnectionOptions; prefix: string },
): Map<string, SendQueue> {
  const all = Object.values(chains).flat();
  const queues = new Map<string, SendQueue>();
  for (const ch of all) {
    if (queues.has(ch.provider)) {
      if (all.filter((c) => c.provider === ch.provider).length > 1)
        throw new OffsiteError(
          'ALERTER_DUPLICATE_PROVIDER',
          `two channels are named ${ch.provider}; give each its own provider name`,
        );
      continue;
    }
    if (!/^[A-Za-z0-9._-]+$/.test(ch.provider))
      throw new OffsiteError('ALERTER_BAD_PROVIDER', `provider name ${ch.provider} is not queue-safe`);
    queues.set(ch.provider, new Queue(sendQueueName(ch.provider), qopts));
  }
  return queues;
}
