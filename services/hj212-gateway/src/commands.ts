/**
 * The attempt in flight of the centre's command to a data logger, tracked per device: at most one per
 * MN, identified by its QN. A logger answers a request with 9011 (QnRtn 1 = ready, anything else =
 * refused), then sends what was asked (a read's answer under the command's CN and QN; the history a
 * 2031/2051/2061 asked for, as data uploads of that CN), then 9012 (ExeRtn 1 = done, anything else =
 * failed). Each 9011 and each packet that answers restarts the timeout; without the 9012 in time the
 * attempt timed out, and a closed connection ends it as disconnected. Pure state with a timer per
 * attempt; the engine sends, archives and records.
 */

export type AttemptOutcome = 'done' | 'refused' | 'failed' | 'timed-out' | 'disconnected' | 'not-sent';

export interface AttemptResult {
  readonly mn: string;
  readonly qn: string;
  readonly cn: string;
  readonly outcome: AttemptOutcome;
  readonly qnRtn: string | null;
  readonly exeRtn: string | null;
  /** A read's answer (SystemTime, RtdInterval, MinInterval…), when one came. */
  readonly reply: Readonly<Record<string, string>> | null;
  /** Data packets that came back for a history request. */
  readonly readings: number;
  /** From sending to the outcome. */
  readonly ms: number;
}

export interface LoggerPacket {
  readonly cn: string;
  readonly qn: string | null;
  readonly params: Readonly<Record<string, string>>;
  /** DataTime in UTC (ISO 8601), for data uploads. */
  readonly dataTimeUtc?: string | null;
}

/** The period a history request asked for (ms since epoch, both ends included). */
export interface HistoryRange {
  readonly begin: number;
  readonly end: number;
}

interface Pending {
  readonly owner: unknown;
  readonly qn: string;
  readonly cn: string;
  readonly range: HistoryRange | null;
  readonly startedMs: number;
  timer: NodeJS.Timeout;
  qnRtn: string | null;
  reply: Record<string, string> | null;
  readings: number;
}

export const HISTORY_CNS: ReadonlySet<string> = new Set(['2031', '2051', '2061']);

export class CommandTracker {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly opts: { timeoutMs: number; onResult: (r: AttemptResult) => void }) {}

  busy(mn: string): boolean {
    return this.pending.has(mn);
  }

  /** Whether the command in flight to `mn` has the QN `qn` (a packet with it answers the centre). */
  awaits(mn: string, qn: string): boolean {
    return this.pending.get(mn)?.qn === qn;
  }

  /** A command is being sent to the logger over the connection `owner`. */
  start(mn: string, qn: string, cn: string, owner: unknown, range: HistoryRange | null = null): void {
    if (this.pending.has(mn)) throw new Error(`a command to ${mn} is already in flight`);
    this.pending.set(mn, {
      owner,
      qn,
      cn,
      range,
      startedMs: Date.now(),
      timer: this.arm(mn),
      qnRtn: null,
      reply: null,
      readings: 0,
    });
  }

  /**
   * A packet from the logger: its 9011/9012, a read's answer, or history data. True when it belonged
   * to the attempt in flight.
   */
  reply(mn: string, r: LoggerPacket): boolean {
    const p = this.pending.get(mn);
    if (!p) return false;
    if (r.cn === '9011' && r.qn === p.qn) {
      p.qnRtn = r.params.QnRtn ?? null;
      if (p.qnRtn !== '1') this.finish(mn, 'refused', null);
      else this.rearm(mn, p);
      return true;
    }
    if (r.cn === '9012' && r.qn === p.qn) {
      const exe = r.params.ExeRtn ?? null;
      this.finish(mn, exe === '1' ? 'done' : 'failed', exe);
      return true;
    }
    if (r.cn !== p.cn) return false;
    if (p.range) {
      const t = r.dataTimeUtc ? Date.parse(r.dataTimeUtc) : NaN;
      if (r.qn !== p.qn && !(t >= p.range.begin && t <= p.range.end)) return false;
      p.readings += 1;
    } else {
      if (r.qn !== p.qn) return false;
      p.reply = { ...r.params };
    }
    this.rearm(mn, p);
    return true;
  }

  /** End the command `owner` sent to `mn` (its connection closed, or it could not be sent). */
  end(mn: string, owner: unknown, outcome: 'disconnected' | 'not-sent'): void {
    if (this.pending.get(mn)?.owner === owner) this.finish(mn, outcome, null);
  }

  private arm(mn: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.finish(mn, 'timed-out', null), this.opts.timeoutMs);
    timer.unref();
    return timer;
  }

  private rearm(mn: string, p: Pending): void {
    clearTimeout(p.timer);
    p.timer = this.arm(mn);
  }

  private finish(mn: string, outcome: AttemptOutcome, exeRtn: string | null): void {
    const p = this.pending.get(mn);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(mn);
    this.opts.onResult({
      mn,
      qn: p.qn,
      cn: p.cn,
      outcome,
      qnRtn: p.qnRtn,
      exeRtn,
      reply: p.reply,
      readings: p.readings,
      ms: Date.now() - p.startedMs,
    });
  }
}
