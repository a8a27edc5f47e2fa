import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { DeviationV1, MessageRequestV1, NotificationV1 } from '@offsite/contracts';
import { OffsiteError } from '@offsite/runtime/errors';
import {
  isNotifyError,
  maskAddress,
  renderPlainMessage,
  renderReminder,
  type Channel,
  type DeliveryReceipt,
  type Logger,
  type OutgoingNotification,
  type ReminderKind,
} from '@offsite/notify';
import { signAckToken, verifyAckToken } from './ack.js';
import {
  afterQuietHours,
  decide,
  FALSIFICATION_RULES,
  groupKeyFor,
  type AlertPolicy,
  type ChannelName,
  type PolicyEntry,
  scalePolicyTimers,
} from './policy.js';
import { createBatcher } from './batcher.js';
import * as repo from './repo.js';

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
  channels: { email?: Channel; sms?: Channel[]; outbox?: Channel };
  ack: { secret: string; baseUrl: string };
  logger: Logger;
  now?: () => Date;
  /** notification.v1 events; a failure is logged and counted, never fails the send (Postgres is the record). */
  publish?: (event: NotificationV1) => Promise<void> | void;
  send?: {
    attempts?: number;
    backoffMs?: number;
    concurrency?: number;
    /** Workers per provider queue, each with `concurrency` jobs at once. Default 1. */
    workersPerQueue?: number;
    /** Plan jobs (group rounds, escalations, resolution notices) run at once. Default 10. */
    planConcurrency?: number;
    /** Default limit for every provider queue. */
    rateLimit?: RateLimit;
    /** Per-provider limits (`smtp`, `aliyun-sms`, `tencent-sms`, `outbox-email`, …). */
    rateLimits?: Record<string, RateLimit>;
  };
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

export interface RateLimit {
  max: number;
  durationMs: number;
}

/** Receipts of one callback: stored now, repeated by the provider (already stored), or for no notification of ours. */
export interface ReceiptCounts {
  new: number;
  repeat: number;
  unknown: number;
}

export type HandleOutcome = 'ignored' | 'replayed' | 'suppressed' | 'planned' | 'updated' | 'resolved';

interface Recipient {
  kind: 'enterprise-contact' | 'supervisor';
  id: string;
  name: string;
  email?: string;
  phone?: string;
  language: 'zh' | 'en';
}

interface SendJob {
  /** Position in the channel's provider chain (0 = primary); a failover hands the job to the next. */
  hop?: number;
  groupKey: string;
  deviationIds: string[];
  kind: ReminderKind | MessageRequestV1['kind'];
  round: number;
  channel: ChannelName;
  recipient: { kind: Recipient['kind'] | MessageRequestV1['recipient']['kind']; id: string };
  message: OutgoingNotification;
}

type PlanJob = { groupKey: string; round?: number };

/**
 * Retry policy of plan jobs (rounds, escalations, resolution notices). Planning only reads Postgres and
 * enqueues sends with deterministic ids, so a retry never doubles a message; giving up would lose the
 * reminder. 12 attempts with exponential backoff from 0.5 s keep retrying for ~8.5-17 minutes (jitter),
 * longer than a Postgres or Redis restart; 5 attempts (~7.5 s) lost every reminder of a group when
 * Postgres restarted under load (the kill flow with server restarts found it).
 */
export const PLAN_RETRY = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
} as const;

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function createAlerter(opts: AlerterOptions) {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'alerter' });
  const { db } = opts;
  const policy = scalePolicyTimers(opts.policy, opts.timeScale ?? 1);
  const qopts = { connection: opts.connection, prefix: opts.prefix };
  const planQueue = new Queue<PlanJob>('plan', qopts);
  // One queue per provider, so each provider has its own rate limit and a slow or throttled
  // provider does not hold back the others.
  const chains: Record<ChannelName, Channel[]> = {
    email: opts.channels.email ? [opts.channels.email] : [],
    sms: opts.channels.sms ?? [],
    outbox: opts.channels.outbox ? [opts.channels.outbox] : [],
  };
  const sendQueues = new Map<string, Queue<SendJob>>();
  for (const ch of Object.values(chains).flat()) {
    if (sendQueues.has(ch.provider)) {
      if (
        Object.values(chains)
          .flat()
          .filter((c) => c.provider === ch.provider).length > 1
      )
        throw new OffsiteError(
          'ALERTER_DUPLICATE_PROVIDER',
          `two channels are named ${ch.provider}; give each its own provider name`,
        );
      continue;
    }
    if (!/^[A-Za-z0-9._-]+$/.test(ch.provider))
      throw new OffsiteError('ALERTER_BAD_PROVIDER', `provider name ${ch.provider} is not queue-safe`);
    sendQueues.set(ch.provider, new Queue<SendJob>(`send-${ch.provider}`, qopts));
  }
  const workers: Worker[] = [];
  const sendOpts = () => ({
    attempts: opts.send?.attempts ?? 6,
    backoff: { type: 'exponential', delay: opts.send?.backoffMs ?? 1000, jitter: 0.5 },
    removeOnComplete: 10_000,
    removeOnFail: 10_000,
  });

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

  // The same for the steps of intake and planning that every deviation and every round takes: case
  // upserts, group assignments, the round's group context, and enqueues (one addBulk per queue). Each caller
  // still awaits its own item, so nothing is enqueued before its case has its group, and a failed
  // batch fails each of its callers (intake does not commit the offset; a plan job retries).
  const upserts = createBatcher((evs: DeviationV1[]) => repo.upsertCases(db, evs), {
    maxSize: 200,
    key: (ev) => ev.id,
  });
  const caseGroups = createBatcher(
    async (items: { deviationId: string; groupKey: string; policy: string }[]) => {
      await repo.setCaseGroups(db, items);
      return items.map(() => undefined);
    },
    { maxSize: 200, key: (g) => g.deviationId },
  );
  const contexts = createBatcher((keys: string[]) => repo.groupContexts(db, keys), { maxSize: 100 });
  type Bulk<T> = { name: string; data: T; opts: { jobId: string } & Record<string, unknown> };
  const bulkAdder = <T>(addBulk: (items: Bulk<T>[]) => Promise<unknown>) =>
    createBatcher(
      async (items: Bulk<T>[]) => {
        await addBulk(items);
        return items.map(() => undefined);
      },
      { maxSize: 500, key: (j) => j.opts.jobId },
    );
  const planAdds = bulkAdder<PlanJob>((items) => planQueue.addBulk(items));
  const sendAdds = new Map(
    [...sendQueues].map(([provider, q]) => [provider, bulkAdder<SendJob>((items) => q.addBulk(items))]),
  );

  const delayUntil = (t: Date) => Math.max(0, t.getTime() - now().getTime());
  const entryByName = (name: string | null): PolicyEntry | undefined =>
    policy.entries.find((e) => e.name === name);

  async function handleDeviation(ev: DeviationV1): Promise<HandleOutcome> {
    const outcome = await handle(ev);
    opts.counters?.deviation?.(outcome);
    return outcome;
  }

  async function handle(ev: DeviationV1): Promise<HandleOutcome> {
    const upserted = await upserts.add(ev);
    if (!upserted) {
      // Same or older revision: a redelivery or a replay. A redelivery of the stored revision may
      // follow a crash between the upsert and the enqueue, so finish what that run left undone;
      // every step below is idempotent (deterministic job ids, Postgres send claims).
      const stored = await repo.getCase(db, ev.id);
      if (!stored || stored.revision !== ev.revision || stored.suppressed_reason) return 'ignored';
      if (stored.state === 'resolved') {
        if (stored.group_key) await planResolution(stored.group_key);
        return 'replayed';
      }
      if (stored.group_key) {
        if (!(await repo.hasAnyNotification(db, stored.group_key)))
          await planFirstRound(stored.group_key, entryByName(stored.policy)?.urgent ?? false);
        return 'replayed';
      }
      return (await plan(ev)) === 'planned' ? 'replayed' : 'ignored';
    }
    const fresh = upserted.row;
    if (ev.state === 'resolved') {
      if (fresh.group_key) await planResolution(fresh.group_key);
      return 'resolved';
    }
    if (fresh.group_key) return 'updated';
    return plan(ev, upserted.ctx);
  }

  /** First round of a group: at the end of its group-wait bucket, after quiet hours unless urgent. */
  async function planFirstRound(groupKey: string, urgent: boolean): Promise<void> {
    const bucket = Number(/\.(\d+)(?:\.f)?$/.exec(groupKey)?.[1] ?? NaN);
    const bucketEnd = Number.isFinite(bucket) ? new Date((bucket + 1) * policy.groupWaitMs) : now();
    const at = afterQuietHours(bucketEnd, policy.quietHours, urgent);
    await planAdds.add({
      name: 'round',
      data: { groupKey, round: 1 },
      opts: {
        jobId: `${groupKey}.r1`,
        delay: delayUntil(at),
        removeOnComplete: 1000,
        ...PLAN_RETRY,
      },
    });
  }

  async function plan(ev: DeviationV1, known?: repo.PlanContext): Promise<'suppressed' | 'planned'> {
    const ctx =
      known ??
      (await repo.planContext(db, ev.enterpriseId, ev.siteId, ev.windowStart, ev.rule !== 'offline'));
    const decision = decide(
      ev,
      {
        supervisionClass: ctx.ent?.supervision_class ?? 'general',
        inMaintenance: ctx.inMaintenance,
        siteOffline: ctx.siteOffline,
      },
      policy,
    );
    if (decision.kind === 'suppress') {
      await repo.setSuppressed(db, ev.id, decision.reason);
      log.info({ deviationId: ev.id, reason: decision.reason }, 'deviation suppressed');
      return 'suppressed';
    }
    const t = now();
    const base = groupKeyFor(ev.enterpriseId, decision.entry.name, t, policy.groupWaitMs);
    const groupKey = decision.supervisorsOnly ? `${base}.f` : base;
    await caseGroups.add({ deviationId: ev.id, groupKey, policy: decision.entry.name });
    await planFirstRound(groupKey, decision.entry.urgent);
    return 'planned';
  }

  async function planResolution(groupKey: string): Promise<void> {
    const cases = await repo.casesInGroup(db, groupKey);
    const entry = entryByName(cases[0]?.policy ?? null);
    if (!entry?.resolutionNotice || cases.some((c) => c.state !== 'resolved')) return;
    if (!(await repo.hasNotifications(db, groupKey))) return;
    await planQueue.add(
      'resolved',
      { groupKey },
      {
        jobId: `${groupKey}.resolved`,
        removeOnComplete: 1000,
        ...PLAN_RETRY,
      },
    );
  }

  function recipientsFor(
    cases: repo.CaseRow[],
    ctx: repo.GroupContext,
    entry: PolicyEntry,
    escalation: boolean,
  ): Recipient[] {
    const { ent } = ctx;
    const supervisorsOnly = cases.some(
      (c) => c.suspected_falsification || FALSIFICATION_RULES.includes(c.rule),
    );
    const staff = (p: {
      id: string;
      name: string;
      email?: string;
      phone?: string;
      language?: 'zh' | 'en';
    }): Recipient => ({
      kind: 'supervisor',
      id: p.id,
      name: p.name,
      ...(p.email ? { email: p.email } : {}),
      ...(p.phone ? { phone: p.phone } : {}),
      language: p.language ?? 'zh',
    });
    const officers = ent ? (policy.staff.districtOfficers[ent.district_id] ?? []).map(staff) : [];
    if (escalation) return officers;
    const list: Recipient[] = [];
    if (!supervisorsOnly) {
      for (const c of ctx.contacts.filter((k) =>
        (entry.enterpriseRoles as readonly string[]).includes(k.role),
      ))
        list.push({
          kind: 'enterprise-contact',
          id: c.id,
          name: c.name,
          ...(c.email ? { email: c.email } : {}),
          ...(c.phone ? { phone: c.phone } : {}),
          language: c.language,
        });
    }
    if (entry.districtOfficers) list.push(...officers);
    if (entry.citySupervisors || supervisorsOnly) list.push(...policy.staff.citySupervisors.map(staff));
    return list;
  }

  async function fanOut(
    groupKey: string,
    kind: ReminderKind,
    round: number,
    suffix: string,
    escalation = false,
    loaded?: repo.GroupContext,
  ): Promise<number> {
    const ctx = loaded ?? (await contexts.add(groupKey));
    const all = ctx.cases;
    const cases = kind === 'resolved' ? all : all.filter((c) => c.state !== 'resolved');
    const entry = entryByName(all[0]?.policy ?? null);
    if (cases.length === 0 || !entry) return 0;
    const list = recipientsFor(cases, ctx, entry, escalation);
    const { ent, sites: facilities } = ctx;
    const supervisorsOnly = groupKey.endsWith('.f');
    const items = await Promise.all(
      cases.map(async (c) => ({
        rule: c.rule,
        ...(c.event.factor ? { factor: c.event.factor } : {}),
        severity: c.severity,
        facility: facilities.get(c.site_id) ?? { zh: c.site_id },
        openedAt: new Date(c.opened_at),
        ...(c.resolved_at ? { resolvedAt: new Date(c.resolved_at) } : {}),
        evidence: c.event.evidence.values.map((v) => ({
          time: new Date(v.time),
          factor: v.factor,
          stat: v.stat,
          value: v.value,
          ...(v.limit !== undefined ? { limit: v.limit } : {}),
          ...(v.flag ? { flag: v.flag } : {}),
        })),
        summary: c.event.evidence.summary,
      })),
    );
    const resuming = cases.some((c) => c.in_resumption_window)
      ? ent?.resumption_date
        ? { date: ent.resumption_date }
        : {}
      : undefined;
    const jobs: Promise<void>[] = [];
    for (const r of list) {
      const ackable = r.kind === 'enterprise-contact' && kind === 'reminder';
      const exp = new Date(now().getTime() + policy.ackTtlMs);
      const model = {
        kind: supervisorsOnly ? ('supervisor-alert' as const) : kind,
        round,
        bureau: policy.bureau,
        enterprise: {
          zh: ent?.name_zh ?? cases[0]!.enterprise_id,
          ...(ent?.name_en ? { en: ent.name_en } : {}),
        },
        recipientName: r.name,
        items,
        ...(resuming && r.kind === 'enterprise-contact' ? { resumption: resuming } : {}),
        ...(ackable
          ? {
              ackUrl: `${opts.ack.baseUrl}?t=${signAckToken({ g: groupKey, r: r.id, exp: exp.getTime() }, opts.ack.secret)}`,
              ackExpiresAt: exp,
            }
          : {}),
      };
      const rendered = renderReminder(model, r.language);
      for (const channel of entry.channels) {
        const address = channel === 'sms' ? r.phone : r.email;
        if (!address) continue;
        const first = chains[channel][0];
        if (!first) {
          log.warn({ groupKey, channel }, 'policy names a channel that is not configured; not sent');
          continue;
        }
        const id = safe(`${groupKey}.${r.kind === 'supervisor' ? 's' : 'c'}${r.id}.${channel}.${suffix}`);
        const job: SendJob = {
          hop: 0,
          groupKey,
          deviationIds: cases.map((c) => c.deviation_id),
          kind: model.kind,
          round,
          channel,
          recipient: { kind: r.kind, id: r.id },
          message: { id, to: { address, name: r.name }, language: r.language, ...rendered },
        };
        jobs.push(
          sendAdds
            .get(first.provider)!
            .add({ name: model.kind, data: job, opts: { jobId: id, ...sendOpts() } }),
        );
      }
    }
    // One addBulk per provider queue for this fan-out and the others running meanwhile (ids keep it
    // idempotent).
    await Promise.all(jobs);
    return jobs.length;
  }

  async function processPlan(job: Job<PlanJob>): Promise<void> {
    const { groupKey } = job.data;
    if (job.name === 'resolved') {
      await fanOut(groupKey, 'resolved', 1, 'resolved');
      return;
    }
    const state = await contexts.add(groupKey);
    const cases = state.cases.filter((c) => c.state !== 'resolved');
    const entry = entryByName(cases[0]?.policy ?? null);
    if (!entry || cases.length === 0) return;
    const acked = state.acked;
    if (job.name === 'escalate') {
      if (acked) return log.info({ groupKey }, 'acknowledged: no escalation');
      await fanOut(groupKey, 'escalation', 1, 'esc', true, state);
      return;
    }
    const round = job.data.round ?? 1;
    if (round > 1 && acked) return; // the enterprise confirmed: stop repeating
    await fanOut(groupKey, 'reminder', round, `r${round}`, false, state);
    const opt = {
      removeOnComplete: 1000,
      ...PLAN_RETRY,
    };
    if (round < entry.repeat.maxCount) {
      const at = afterQuietHours(
        new Date(now().getTime() + entry.repeat.intervalMs),
        policy.quietHours,
        entry.urgent,
      );
      await planQueue.add(
        'round',
        { groupKey, round: round + 1 },
        { ...opt, jobId: `${groupKey}.r${round + 1}`, delay: delayUntil(at) },
      );
    }
    if (round === 1 && entry.escalateAfterMs !== undefined && !groupKey.endsWith('.f'))
      await planQueue.add(
        'escalate',
        { groupKey },
        { ...opt, jobId: `${groupKey}.esc`, delay: entry.escalateAfterMs },
      );
  }

  async function emit(e: Omit<NotificationV1, 'schema' | 'at'>): Promise<void> {
    if (!opts.publish) return;
    try {
      await opts.publish({
        schema: 'notification.v1',
        at: now()
          .toISOString()
          .replace(/\.\d+Z$/, 'Z'),
        ...e,
      });
    } catch (err) {
      // The send itself is recorded in Postgres; the event stream is best effort after it.
      opts.counters?.publishFailed?.();
      log.error({ err, notificationId: e.id, status: e.status }, 'notification event not published');
    }
  }

  async function processSend(
    job: Job<SendJob>,
  ): Promise<{ provider: string; providerMessageId: string } | { skipped: true } | { handedOffTo: string }> {
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
      opts.counters?.send?.(job.queueName.replace(/^send-/, ''), 'skipped');
      return { skipped: true };
    }
    const chain = chains[d.channel];
    const hop = d.hop ?? 0;
    const ch = chain[hop];
    if (!ch) throw new UnrecoverableError(`no ${d.channel} provider #${hop} configured`);
    const base = {
      id: m.id,
      deviationId: d.deviationIds[0],
      recipient: { kind: d.recipient.kind, id: safe(d.recipient.id), address: masked },
      channel: d.channel,
      round: d.round,
      attempt: job.attemptsMade + 1,
    };
    let lastErr: unknown;
    {
      try {
        const r = await ch.send(m);
        await sentRecords.add({
          notificationId: m.id,
          attempt: claim.attempts,
          provider: r.provider,
          providerMessageId: r.providerMessageId,
          latencyMs: Math.round(r.latencyMs),
        });
        opts.counters?.send?.(ch.provider, 'sent');
        await emit({
          ...base,
          provider: r.provider,
          status: 'sent',
          providerMessageId: r.providerMessageId,
          latencyMs: r.latencyMs,
        });
        return { provider: r.provider, providerMessageId: r.providerMessageId };
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
            .add(job.name, { ...d, hop: hop + 1 }, { jobId: `${m.id}.h${hop + 1}`, ...sendOpts() });
          opts.counters?.send?.(ch.provider, 'failover');
          return { handedOffTo: next.provider };
        }
      }
    }
    const permanent = isNotifyError(lastErr) && !lastErr.retryable;
    const exhausted = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (permanent || exhausted) {
      await repo.markNotification(db, m.id, 'failed');
      opts.counters?.send?.(ch.provider, 'failed');
      const code = (isNotifyError(lastErr) ? lastErr.code : 'notify_unknown')
        .toLowerCase()
        .replace(/_/g, '-');
      await emit({
        ...base,
        provider: ch.provider,
        status: 'failed',
        error: { code, message: (lastErr as Error).message.slice(0, 2000) || code, retryable: !permanent },
      });
    }
    if (permanent) throw new UnrecoverableError((lastErr as Error).message);
    throw lastErr;
  }

  /**
   * A message another service rendered (message.request.v1): one send job under the request's id, so
   * a repeated request is the same job and, once sent, the same claim; no group, no rounds.
   */
  async function handleMessageRequest(req: MessageRequestV1): Promise<'queued' | 'unroutable'> {
    const first = chains[req.channel][0];
    if (!first) {
      log.warn({ id: req.id, channel: req.channel }, 'no provider for the requested channel; not sent');
      return 'unroutable';
    }
    const id = safe(req.id);
    const job: SendJob = {
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
    };
    await sendQueues.get(first.provider)!.add(req.kind, job, { jobId: id, ...sendOpts() });
    return 'queued';
  }

  /** Acknowledgement by the enterprise: a function the console can mount; the alerter's tiny server uses it too. */
  async function acknowledge(input: {
    token: string;
    cause: string;
    expectedFixAt?: string;
  }): Promise<{ ok: true; groupKey: string } | { ok: false; reason: string }> {
    const v = verifyAckToken(input.token, opts.ack.secret, now());
    if (!v.ok) return v;
    const cause = input.cause.trim();
    if (!cause) return { ok: false, reason: 'cause-required' };
    const fix = input.expectedFixAt ? new Date(input.expectedFixAt) : null;
    if (fix && Number.isNaN(fix.getTime())) return { ok: false, reason: 'bad-fix-time' };
    await repo.insertAck(db, v.claims.g, v.claims.r, cause.slice(0, 2000), fix?.toISOString() ?? null);
    return { ok: true, groupKey: v.claims.g };
  }

  function start(): void {
    const lock = opts.jobLockMs ?? 30_000;
    // A stalled job is re-run (its send claim in Postgres keeps a finished send from repeating).
    const wopts = {
      connection: opts.connection,
      prefix: opts.prefix,
      lockDuration: lock,
      stalledInterval: lock,
      maxStalledCount: 3,
    };
    workers.push(
      new Worker<PlanJob>('plan', processPlan, { ...wopts, concurrency: opts.send?.planConcurrency ?? 10 }),
    );
    for (const provider of sendQueues.keys()) {
      const rl = opts.send?.rateLimits?.[provider] ?? opts.send?.rateLimit;
      // Several workers per queue: each has its own Redis connections and fetch loop, so fetching
      // and completing jobs is not one connection's round trip after another. BullMQ's limiter
      // is kept in Redis, so the rate limit holds across them.
      for (let i = 0; i < (opts.send?.workersPerQueue ?? 1); i++)
        workers.push(
          new Worker<SendJob>(`send-${provider}`, processSend, {
            ...wopts,
            concurrency: opts.send?.concurrency ?? 20,
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

  /** SMS delivery receipts (parsed by notify): stored, and published as delivered/failed events. */
  async function recordReceipts(receipts: DeliveryReceipt[]): Promise<ReceiptCounts> {
    const counts: ReceiptCounts = { new: 0, repeat: 0, unknown: 0 };
    for (const r of receipts) {
      const stored = await repo.insertReceipt(db, r);
      counts[stored.outcome]++;
      if (stored.outcome !== 'new') continue;
      const n = stored.notification;
      await emit({
        id: n.id,
        ...(n.deviation_ids[0] ? { deviationId: n.deviation_ids[0] } : {}),
        recipient: { kind: n.recipient_kind, id: safe(n.recipient_id), address: n.address_masked },
        channel: n.channel,
        provider: r.provider,
        round: n.round,
        status: r.delivered ? 'delivered' : 'failed',
        providerMessageId: r.providerMessageId,
        ...(r.delivered
          ? {}
          : {
              error: {
                code: `receipt-${(r.errorCode ?? 'undelivered').toLowerCase()}`,
                message: r.errorMessage ?? r.errorCode ?? 'not delivered',
                retryable: false,
              },
            }),
      });
    }
    return counts;
  }

  /** What the acknowledgement page shows for a token: the enterprise and the deviations of the group. */
  async function ackView(token: string): Promise<
    | { ok: false; reason: string }
    | {
        ok: true;
        groupKey: string;
        expiresAt: Date;
        enterprise: { zh: string; en?: string };
        items: {
          rule: string;
          facility: { zh: string; en?: string };
          openedAt: Date;
          resolvedAt?: Date;
          summary: string;
        }[];
        acknowledged: boolean;
      }
  > {
    const v = verifyAckToken(token, opts.ack.secret, now());
    if (!v.ok) return v;
    const ctx = await repo.groupContext(db, v.claims.g);
    const { cases, ent, sites: facilities } = ctx;
    if (cases.length === 0) return { ok: false, reason: 'unknown-group' };
    const items = await Promise.all(
      cases.map(async (c) => ({
        rule: c.rule,
        facility: facilities.get(c.site_id) ?? { zh: c.site_id },
        openedAt: new Date(c.opened_at),
        ...(c.resolved_at ? { resolvedAt: new Date(c.resolved_at) } : {}),
        summary: c.event.evidence.summary,
      })),
    );
    return {
      ok: true,
      groupKey: v.claims.g,
      expiresAt: new Date(v.claims.exp),
      enterprise: {
        zh: ent?.name_zh ?? cases[0]!.enterprise_id,
        ...(ent?.name_en ? { en: ent.name_en } : {}),
      },
      items,
      acknowledged: ctx.acked,
    };
  }

  return {
    handleDeviation,
    handleMessageRequest,
    acknowledge,
    ackView,
    recordReceipts,
    start,
    close,
    /** True while every worker is running (for /readyz). */
    isRunning: () => workers.length > 0 && workers.every((w) => w.isRunning()),
    queues: { plan: planQueue, send: sendQueues },
  };
}

export type Alerter = ReturnType<typeof createAlerter>;
