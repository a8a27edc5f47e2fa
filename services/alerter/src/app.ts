import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { DeviationV1, NotificationV1 } from '@offsite/contracts';
import {
  isNotifyError,
  maskAddress,
  renderReminder,
  type Channel,
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
} from './policy.js';
import * as repo from './repo.js';

export interface AlerterOptions {
  db: repo.Db;
  connection: ConnectionOptions;
  /** BullMQ key prefix; unique per deployment (and per test). */
  prefix: string;
  policy: AlertPolicy;
  /** Channels by name; `sms` is tried in order (primary, then secondary on a failover error). */
  channels: { email?: Channel; sms?: Channel[]; outbox?: Channel };
  ack: { secret: string; baseUrl: string };
  logger: Logger;
  now?: () => Date;
  publish?: (event: NotificationV1) => Promise<void> | void;
  send?: {
    attempts?: number;
    backoffMs?: number;
    concurrency?: number;
    rateLimit?: { max: number; durationMs: number };
  };
}

interface Recipient {
  kind: 'enterprise-contact' | 'supervisor';
  id: string;
  name: string;
  email?: string;
  phone?: string;
  language: 'zh' | 'en';
}

interface SendJob {
  groupKey: string;
  deviationIds: string[];
  kind: ReminderKind;
  round: number;
  channel: ChannelName;
  recipient: { kind: Recipient['kind']; id: string };
  message: OutgoingNotification;
}

type PlanJob = { groupKey: string; round?: number };

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function createAlerter(opts: AlerterOptions) {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'alerter' });
  const { db, policy } = opts;
  const qopts = { connection: opts.connection, prefix: opts.prefix };
  const planQueue = new Queue<PlanJob>('plan', qopts);
  const sendQueues: Record<ChannelName, Queue<SendJob>> = {
    email: new Queue<SendJob>('send-email', qopts),
    sms: new Queue<SendJob>('send-sms', qopts),
    outbox: new Queue<SendJob>('send-outbox', qopts),
  };
  const workers: Worker[] = [];

  const delayUntil = (t: Date) => Math.max(0, t.getTime() - now().getTime());
  const entryByName = (name: string | null): PolicyEntry | undefined =>
    policy.entries.find((e) => e.name === name);

  async function handleDeviation(
    ev: DeviationV1,
  ): Promise<'ignored' | 'suppressed' | 'planned' | 'updated' | 'resolved'> {
    const row = await repo.upsertCase(db, ev);
    if (!row) return 'ignored'; // same or older revision: a redelivery or a replay
    if (ev.state === 'resolved') {
      if (row.group_key) await planResolution(row.group_key);
      return 'resolved';
    }
    if (row.group_key) return 'updated';
    const ent = await repo.enterpriseInfo(db, ev.enterpriseId);
    const decision = decide(
      ev,
      {
        supervisionClass: ent?.supervision_class ?? 'general',
        inMaintenance: await repo.inMaintenance(db, ev.enterpriseId, ev.siteId, ev.windowStart),
        siteOffline: ev.rule !== 'offline' && (await repo.siteOffline(db, ev.siteId)),
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
    await repo.setCaseGroup(db, ev.id, groupKey, decision.entry.name);
    const bucketEnd = new Date((Math.floor(t.getTime() / policy.groupWaitMs) + 1) * policy.groupWaitMs);
    const at = afterQuietHours(bucketEnd, policy.quietHours, decision.entry.urgent);
    await planQueue.add(
      'round',
      { groupKey, round: 1 },
      {
        jobId: `${groupKey}.r1`,
        delay: delayUntil(at),
        removeOnComplete: 1000,
        attempts: 5,
        backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
      },
    );
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
        attempts: 5,
        backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
      },
    );
  }

  async function recipientsFor(
    cases: repo.CaseRow[],
    entry: PolicyEntry,
    escalation: boolean,
  ): Promise<{ list: Recipient[]; ent: repo.EnterpriseInfo | null }> {
    const first = cases[0]!;
    const ent = await repo.enterpriseInfo(db, first.enterprise_id);
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
    if (escalation) return { list: officers, ent };
    const supervisorsOnly = cases.some(
      (c) => c.suspected_falsification || FALSIFICATION_RULES.includes(c.rule),
    );
    const list: Recipient[] = [];
    if (!supervisorsOnly) {
      for (const c of await repo.contactsByRole(db, first.enterprise_id, entry.enterpriseRoles))
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
    return { list, ent };
  }

  async function fanOut(
    groupKey: string,
    kind: ReminderKind,
    round: number,
    suffix: string,
    escalation = false,
  ): Promise<number> {
    const all = await repo.casesInGroup(db, groupKey);
    const cases = kind === 'resolved' ? all : all.filter((c) => c.state !== 'resolved');
    const entry = entryByName(all[0]?.policy ?? null);
    if (cases.length === 0 || !entry) return 0;
    const { list, ent } = await recipientsFor(cases, entry, escalation);
    const supervisorsOnly = groupKey.endsWith('.f');
    const items = await Promise.all(
      cases.map(async (c) => ({
        rule: c.rule,
        ...(c.event.factor ? { factor: c.event.factor } : {}),
        severity: c.severity,
        facility: await repo.siteName(db, c.site_id),
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
    let n = 0;
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
        const id = safe(`${groupKey}.${r.kind === 'supervisor' ? 's' : 'c'}${r.id}.${channel}.${suffix}`);
        const job: SendJob = {
          groupKey,
          deviationIds: cases.map((c) => c.deviation_id),
          kind: model.kind,
          round,
          channel,
          recipient: { kind: r.kind, id: r.id },
          message: { id, to: { address, name: r.name }, language: r.language, ...rendered },
        };
        await sendQueues[channel].add(model.kind, job, {
          jobId: id,
          attempts: opts.send?.attempts ?? 6,
          backoff: { type: 'exponential', delay: opts.send?.backoffMs ?? 1000, jitter: 0.5 },
          removeOnComplete: 10_000,
          removeOnFail: 10_000,
        });
        n++;
      }
    }
    return n;
  }

  async function processPlan(job: Job<PlanJob>): Promise<void> {
    const { groupKey } = job.data;
    if (job.name === 'resolved') {
      await fanOut(groupKey, 'resolved', 1, 'resolved');
      return;
    }
    const cases = (await repo.casesInGroup(db, groupKey)).filter((c) => c.state !== 'resolved');
    const entry = entryByName(cases[0]?.policy ?? null);
    if (!entry || cases.length === 0) return;
    const acked = await repo.isAcknowledged(db, groupKey);
    if (job.name === 'escalate') {
      if (acked) return log.info({ groupKey }, 'acknowledged: no escalation');
      await fanOut(groupKey, 'escalation', 1, 'esc', true);
      return;
    }
    const round = job.data.round ?? 1;
    if (round > 1 && acked) return; // the enterprise confirmed: stop repeating
    await fanOut(groupKey, 'reminder', round, `r${round}`);
    const opt = {
      removeOnComplete: 1000,
      attempts: 5,
      backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
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
    await opts.publish({
      schema: 'notification.v1',
      at: now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
      ...e,
    });
  }

  async function processSend(
    job: Job<SendJob>,
  ): Promise<{ provider: string; providerMessageId: string } | { skipped: true }> {
    const d = job.data;
    const m = d.message;
    const masked = maskAddress(m.to.address);
    // Record the send before calling the provider: a redelivered or stalled job whose send was
    // recorded as `sent` is skipped. Residual window: a crash after the provider accepted and
    // before `sent` was written re-sends with the same Message-ID / OutId (see README).
    const claim = await repo.claimSend(db, {
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
    if (!claim.proceed) return { skipped: true };
    const chain =
      d.channel === 'sms'
        ? (opts.channels.sms ?? [])
        : [opts.channels[d.channel]].filter((c): c is Channel => !!c);
    if (chain.length === 0) throw new UnrecoverableError(`no ${d.channel} channel configured`);
    const base = {
      id: m.id,
      deviationId: d.deviationIds[0],
      recipient: { kind: d.recipient.kind, id: safe(d.recipient.id), address: masked },
      channel: d.channel,
      round: d.round,
      attempt: job.attemptsMade + 1,
    };
    let lastErr: unknown;
    for (const [i, ch] of chain.entries()) {
      try {
        const r = await ch.send(m);
        await repo.recordAttempt(db, {
          notificationId: m.id,
          attempt: claim.attempts,
          provider: r.provider,
          providerMessageId: r.providerMessageId,
          status: 'sent',
          latencyMs: r.latencyMs,
        });
        await repo.markNotification(db, m.id, 'sent', r.provider, r.providerMessageId);
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
        const failover = isNotifyError(err) && err.failover && i < chain.length - 1;
        log.warn({ notificationId: m.id, provider: ch.provider, code, failover }, 'send failed');
        if (!failover) break;
      }
    }
    const permanent = isNotifyError(lastErr) && !lastErr.retryable;
    const exhausted = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (permanent || exhausted) {
      await repo.markNotification(db, m.id, 'failed');
      const code = (isNotifyError(lastErr) ? lastErr.code : 'notify_unknown')
        .toLowerCase()
        .replace(/_/g, '-');
      await emit({
        ...base,
        provider: chain[chain.length - 1]!.provider,
        status: 'failed',
        error: { code, message: (lastErr as Error).message.slice(0, 2000) || code, retryable: !permanent },
      });
    }
    if (permanent) throw new UnrecoverableError((lastErr as Error).message);
    throw lastErr;
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
    const wopts = { connection: opts.connection, prefix: opts.prefix };
    workers.push(new Worker<PlanJob>('plan', processPlan, { ...wopts, concurrency: 5 }));
    for (const name of ['email', 'sms', 'outbox'] as const) {
      const rl = opts.send?.rateLimit;
      workers.push(
        new Worker<SendJob>(`send-${name}`, processSend, {
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
    await Promise.allSettled([planQueue.close(), ...Object.values(sendQueues).map((q) => q.close())]);
  }

  return { handleDeviation, acknowledge, start, close, queues: { plan: planQueue, ...sendQueues } };
}

export type Alerter = ReturnType<typeof createAlerter>;
