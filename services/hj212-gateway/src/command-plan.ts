/**
 * The pure rules of the centre's commands: what packet a command row becomes, what follows an
 * attempt's outcome (retry with exponential backoff, or a final status), the fleet-wide send rate,
 * and which history requests close an offline gap.
 */
import {
  getDeviceTime,
  getMinuteInterval,
  getRealtimeInterval,
  historyRequest,
  setDeviceTime,
  type DeviceIdentity,
  type HistoryCn,
  type PacketInput,
} from '@offsite/hj212';
import type { AttemptOutcome } from './commands.js';

export type CommandCn = '1011' | '1012' | '1061' | '1063' | HistoryCn;
export const COMMAND_CNS: readonly CommandCn[] = ['1011', '1012', '1061', '1063', '2031', '2051', '2061'];
export type Trigger = 'clock-drift' | 'logger-asked' | 'offline-closed' | 'supervisor';
export type FinalStatus = 'fulfilled' | 'refused' | 'failed' | 'timed-out' | 'expired';

export interface CommandRow {
  readonly id: string;
  readonly mn: string;
  readonly cn: CommandCn;
  readonly beginTime: Date | null;
  readonly endTime: Date | null;
  readonly trigger: Trigger;
  readonly requestedBy: string | null;
  readonly expiresAt: Date;
  attempts: number;
  readonly maxAttempts: number;
  nextAttemptAt: Date;
}

/** The packet one attempt sends; 1012 carries the time of sending. */
export function commandPacket(row: CommandRow, device: DeviceIdentity, qn: string, at: Date): PacketInput {
  switch (row.cn) {
    case '1011':
      return getDeviceTime(device, qn);
    case '1012':
      return setDeviceTime(device, qn, at);
    case '1061':
      return getRealtimeInterval(device, qn);
    case '1063':
      return getMinuteInterval(device, qn);
    default:
      if (!row.beginTime || !row.endTime) throw new Error(`history request ${row.id} without its period`);
      return historyRequest(device, qn, row.cn, row.beginTime, row.endTime);
  }
}

export interface RetryPolicy {
  /** Wait before the second attempt; doubled for each further one, up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export function backoffMs(attempts: number, p: RetryPolicy): number {
  return Math.min(p.maxBackoffMs, p.backoffMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * ExeRtn values worth another attempt: failed for an unknown reason (2), the logger's own
 * communication timeout (4), busy (5), fault (6). Condition error (3) and no data (100) are final.
 */
const RETRYABLE_EXE = new Set(['2', '4', '5', '6']);

export type Next =
  { readonly status: 'queued'; readonly nextAttemptAt: Date } | { readonly status: FinalStatus };

/** What follows an attempt's outcome. `attempts` counts the attempts sent, this one included. */
export function afterAttempt(
  row: Pick<CommandRow, 'attempts' | 'maxAttempts' | 'expiresAt'>,
  outcome: AttemptOutcome,
  exeRtn: string | null,
  nowMs: number,
  p: RetryPolicy,
): Next {
  const retry = (final: FinalStatus, waitMs: number): Next => {
    if (row.attempts >= row.maxAttempts) return { status: final };
    const at = nowMs + waitMs;
    return at > row.expiresAt.getTime()
      ? { status: 'expired' }
      : { status: 'queued', nextAttemptAt: new Date(at) };
  };
  switch (outcome) {
    case 'done':
      return { status: 'fulfilled' };
    case 'refused':
      return { status: 'refused' };
    case 'failed':
      return exeRtn !== null && RETRYABLE_EXE.has(exeRtn)
        ? retry('failed', backoffMs(row.attempts, p))
        : { status: 'failed' };
    case 'timed-out':
      return retry('timed-out', backoffMs(row.attempts, p));
    case 'disconnected':
    case 'not-sent':
      // Not the logger's answer: sent again when it is connected (an attempt still counts, so a
      // logger that drops the connection on every request ends).
      return retry('failed', backoffMs(row.attempts, p));
  }
}

/** Sends per second over the whole fleet this gateway holds, with a burst. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  private refill(nowMs: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
  }

  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Until the next token. */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }
}

export interface Gap {
  /** Last data time before the gap and the first after it (UTC ms). */
  readonly start: number;
  readonly end: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SHANGHAI = 8 * HOUR;

/**
 * History requests that close an offline gap: minute data (2051) and hourly data (2061) from the hour
 * the gap started in, daily data (2031) from its Beijing day when it lasted a day or more.
 * BeginTime/EndTime are inclusive data times (interval starts). A minute record is stamped with its
 * interval's start, so the one the logger completed during the gap can begin before the last data
 * seen (a 60-minute interval: up to an hour before); minute intervals divide the hour, so the hour's
 * start covers it. Readings already stored that come again are stored once.
 */
export function backfillRequests(g: Gap): { cn: HistoryCn; begin: Date; end: Date }[] {
  const hourStart = Math.floor(g.start / HOUR) * HOUR;
  const out: { cn: HistoryCn; begin: Date; end: Date }[] = [
    { cn: '2051', begin: new Date(hourStart), end: new Date(g.end) },
    { cn: '2061', begin: new Date(hourStart), end: new Date(g.end) },
  ];
  if (g.end - g.start >= DAY) {
    const dayStart = Math.floor((g.start + SHANGHAI) / DAY) * DAY - SHANGHAI;
    out.push({ cn: '2031', begin: new Date(dayStart), end: new Date(g.end) });
  }
  return out;
}
