/**
 * The centre's commands to data loggers, over the authenticated connection of each MN only.
 * Requests live in Postgres (`command-store.ts`): the gateway's own (clock calibration) are inserted
 * claimed by this instance; others (backfill after an offline gap, a supervisor's request) are
 * inserted queued by whichever instance consumed them, and the instance holding the logger's
 * connection claims them on its next poll. One attempt at a time per MN (`commands.ts` tracks it by
 * its QN), a fleet-wide send rate per instance, retries with exponential backoff, an expiry per
 * request; after each attempt the request goes back to Postgres (queued again or final), so a
 * reconnect to another instance carries on from there.
 */
import { randomUUID } from 'node:crypto';
import { encodePacket, formatQn, type DeviceIdentity } from '@offsite/hj212';
import type { Logger } from '@offsite/runtime';
import {
  afterAttempt,
  commandPacket,
  TokenBucket,
  type CommandRow,
  type RetryPolicy,
  type Trigger,
} from './command-plan.js';
import type { CommandStore } from './command-store.js';
import { CommandTracker, HISTORY_CNS, type AttemptResult, type LoggerPacket } from './commands.js';
import type { GatewayMetrics } from './metrics.js';

/** A logger's authenticated connection, as the engine uses it. */
export interface CommandLink {
  /** The connection (an attempt ends when it closes). */
  readonly owner: unknown;
  readonly device: DeviceIdentity;
  /** Archives the command in hj212.raw.v1 (acks=-1), then writes it; rejects when it was not written. */
  send(bytes: Buffer, cn: string): Promise<void>;
}

export interface CommandEngineOptions extends RetryPolicy {
  readonly store: CommandStore;
  readonly instance: string;
  /** From sending to the 9011, and between the packets that answer it, up to the 9012. */
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** Least time between two clock calibrations (1012) of one logger. */
  readonly calibrationIntervalMs: number;
  /** Commands sent per second over every connection of this instance, and the burst. */
  readonly perSecond: number;
  readonly burst: number;
  /** How often queued requests are claimed and leases renewed. */
  readonly pollMs: number;
  readonly leaseMs: number;
  /** A calibration not sent within this is dropped (expired). */
  readonly calibrationExpiryMs: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface CommandEngine {
  /** An authenticated packet of `mn` arrived over `link` (the link becomes the MN's way in). */
  attach(mn: string, link: CommandLink): void;
  /** The connection `owner` closed. */
  detach(mn: string, owner: unknown): void;
  /** A packet from the logger: its 9011/9012, a read's answer, or history data. */
  onPacket(mn: string, p: LoggerPacket): void;
  /** Whether a packet of `mn` with QN `qn` answers the command in flight to it. */
  awaits(mn: string, qn: string): boolean;
  /** Set the logger's clock (1012), at most once per interval per MN. */
  calibrate(mn: string, trigger: Extract<Trigger, 'clock-drift' | 'logger-asked'>, why: string): void;
  start(): void;
  stop(): Promise<void>;
}

export function createCommandEngine(o: CommandEngineOptions): CommandEngine {
  const log = o.logger.child({ component: 'commands' });
  const m = o.metrics;
  const links = new Map<string, CommandLink>();
  /** Claimed and not yet sent, per MN, oldest due first. */
  const queues = new Map<string, CommandRow[]>();
  /** The attempt in flight per MN. */
  const inflight = new Map<string, CommandRow>();
  /** MNs whose next attempt is being written to Postgres and Kafka. */
  const starting = new Set<string>();
  const lastCalibration = new Map<string, number>();
  const bucket = new TokenBucket(o.perSecond, o.burst, Date.now());
  let lastQnMs = 0;
  let pollTimer: NodeJS.Timeout | null = null;
  let wakeTimer: NodeJS.Timeout | null = null;
  let polling: Promise<void> = Promise.resolve();
  let stopped = false;

  const storeFailed = (err: unknown, what: string, id: string) =>
    log.error({ err: (err as Error).message, id }, `command record not written: ${what}`);

  /** QNs are the attempts' ids: strictly increasing per instance. */
  const nextQn = (nowMs: number): string => {
    lastQnMs = Math.max(nowMs, lastQnMs + 1);
    return formatQn(new Date(lastQnMs));
  };

  const tracker = new CommandTracker({
    timeoutMs: o.timeoutMs,
    onResult: (r) => void settle(r),
  });

  async function settle(r: AttemptResult): Promise<void> {
    const row = inflight.get(r.mn);
    if (!row) return;
    inflight.delete(r.mn);
    m.commands.inc({ cn: r.cn, outcome: r.outcome });
    const next = afterAttempt(row, r.outcome, r.exeRtn, Date.now(), o);
    const detail = {
      qn: r.qn,
      qnRtn: r.qnRtn,
      exeRtn: r.exeRtn,
      reply: r.reply,
      readings: r.readings,
      outcome: r.outcome,
    };
    log.info({ ...r, id: row.id, trigger: row.trigger, next: next.status }, 'command attempt finished');
    try {
      if (next.status === 'queued') {
        m.commandRequests.inc({ cn: r.cn, event: 'retried' });
        await o.store.requeue(row.id, o.instance, next.nextAttemptAt, detail);
      } else {
        m.commandRequests.inc({ cn: r.cn, event: next.status });
        await o.store.finish(row.id, o.instance, next.status, detail);
      }
    } catch (err) {
      storeFailed(err, next.status, row.id);
    }
    pumpOne(r.mn);
  }

  function wake(atMs: number): void {
    if (stopped || wakeTimer) return;
    wakeTimer = setTimeout(
      () => {
        wakeTimer = null;
        for (const mn of queues.keys()) pumpOne(mn);
      },
      Math.max(1, atMs - Date.now()),
    );
    wakeTimer.unref();
  }

  function pumpOne(mn: string): void {
    if (stopped || tracker.busy(mn) || starting.has(mn)) return;
    const link = links.get(mn);
    const q = queues.get(mn);
    if (!link || !q || q.length === 0) return;
    const head = q[0]!;
    const now = Date.now();
    if (head.nextAttemptAt.getTime() > now) return wake(head.nextAttemptAt.getTime());
    if (!bucket.take(now)) return wake(now + bucket.waitMs(now));
    q.shift();
    if (q.length === 0) queues.delete(mn);
    head.attempts += 1;
    const qn = nextQn(now);
    const bytes = encodePacket(commandPacket(head, link.device, qn, new Date(now)));
    const range =
      HISTORY_CNS.has(head.cn) && head.beginTime && head.endTime
        ? { begin: head.beginTime.getTime(), end: head.endTime.getTime() }
        : null;
    inflight.set(mn, head);
    starting.add(mn);
    tracker.start(mn, qn, head.cn, link.owner, range);
    void (async () => {
      try {
        await o.store.sent(head.id, o.instance, qn, head.attempts);
        await link.send(bytes, head.cn);
        m.commands.inc({ cn: head.cn, outcome: 'sent' });
        log.info({ mn, qn, cn: head.cn, id: head.id, attempt: head.attempts }, 'command sent to the logger');
      } catch (err) {
        log.warn({ mn, qn, cn: head.cn, err: (err as Error).message }, 'command not sent');
        tracker.end(mn, link.owner, 'not-sent');
      } finally {
        starting.delete(mn);
      }
    })();
  }

  function enqueue(rows: readonly CommandRow[]): void {
    for (const row of rows) {
      const q = queues.get(row.mn) ?? [];
      q.push(row);
      q.sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime());
      queues.set(row.mn, q);
    }
    for (const row of rows) pumpOne(row.mn);
  }

  async function poll(): Promise<void> {
    try {
      const { expired } = await o.store.maintain(o.instance, o.leaseMs);
      for (const e of expired) m.commandRequests.inc({ cn: e.cn, event: 'expired' });
      const mns = [...links.keys()].filter((mn) => !tracker.busy(mn) && !queues.has(mn));
      enqueue(await o.store.claim(o.instance, mns, 1000, o.leaseMs));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'command queue not read');
    }
  }

  return {
    attach(mn, link) {
      const had = links.get(mn);
      if (had === link) return;
      links.set(mn, link);
      if (!had) pumpOne(mn);
    },

    detach(mn, owner) {
      if (links.get(mn)?.owner !== owner) return;
      links.delete(mn);
      tracker.end(mn, owner, 'disconnected');
      const held = queues.get(mn);
      queues.delete(mn);
      if (held)
        void o.store.release(o.instance, mn).catch((err) => storeFailed(err, 'release', held[0]?.id ?? mn));
    },

    onPacket(mn, p) {
      tracker.reply(mn, p);
    },

    awaits(mn, qn) {
      return tracker.awaits(mn, qn);
    },

    calibrate(mn, trigger, why) {
      const nowMs = Date.now();
      const pending = inflight.get(mn)?.cn === '1012' || (queues.get(mn) ?? []).some((r) => r.cn === '1012');
      if (pending) {
        m.commands.inc({ cn: '1012', outcome: 'skipped-busy' });
        return;
      }
      const last = lastCalibration.get(mn);
      if (last !== undefined && nowMs - last < o.calibrationIntervalMs) {
        m.commands.inc({ cn: '1012', outcome: 'rate-limited' });
        return;
      }
      lastCalibration.delete(mn);
      lastCalibration.set(mn, nowMs);
      if (lastCalibration.size > 100_000)
        lastCalibration.delete(lastCalibration.keys().next().value as string);
      const row: CommandRow = {
        id: `calibration-${randomUUID()}`,
        mn,
        cn: '1012',
        beginTime: null,
        endTime: null,
        trigger,
        requestedBy: null,
        expiresAt: new Date(nowMs + o.calibrationExpiryMs),
        attempts: 0,
        maxAttempts: o.maxAttempts,
        nextAttemptAt: new Date(nowMs),
      };
      m.commandRequests.inc({ cn: '1012', event: 'requested' });
      log.info({ mn, trigger, why }, "setting the logger's clock (1012)");
      o.store
        .insert(row, o.instance, o.leaseMs)
        .then(() => enqueue([row]))
        .catch((err) => storeFailed(err, 'calibration', row.id));
    },

    start() {
      const tick = () => {
        polling = poll().finally(() => {
          if (!stopped) {
            pollTimer = setTimeout(tick, o.pollMs);
            pollTimer.unref();
          }
        });
      };
      tick();
    },

    async stop() {
      stopped = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (wakeTimer) clearTimeout(wakeTimer);
      await polling;
      // What this instance claimed goes back to the queue for the next holder of the connection.
      await o.store.release(o.instance, null).catch((err) => storeFailed(err, 'release', o.instance));
    },
  };
}
