/**
 * The centre's own commands to data loggers, tracked per device: at most one command in flight per
 * MN, identified by its QN. A logger answers a request with 9011 (QnRtn 1 = ready, anything else =
 * refused) and then, for a command it executes, 9012 (ExeRtn 1 = done, anything else = failed);
 * without both within the timeout the command timed out, and a closed connection ends it as
 * disconnected. Pure state with a timer per command; the gateway sends and archives the frames.
 */

export type CommandOutcome = 'done' | 'refused' | 'failed' | 'timed-out' | 'disconnected' | 'not-sent';

export interface CommandResult {
  readonly mn: string;
  readonly qn: string;
  readonly cn: string;
  readonly outcome: CommandOutcome;
  readonly qnRtn: string | null;
  readonly exeRtn: string | null;
  /** From sending to the outcome. */
  readonly ms: number;
}

export interface LoggerReply {
  readonly cn: string;
  readonly qn: string | null;
  readonly params: Readonly<Record<string, string>>;
}

interface Pending {
  readonly owner: unknown;
  readonly qn: string;
  readonly cn: string;
  readonly startedMs: number;
  readonly timer: NodeJS.Timeout;
  qnRtn: string | null;
}

export class CommandTracker {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly opts: { timeoutMs: number; onResult: (r: CommandResult) => void }) {}

  busy(mn: string): boolean {
    return this.pending.has(mn);
  }

  /** A command is being sent to the logger over the connection `owner`. */
  start(mn: string, qn: string, cn: string, owner: unknown): void {
    if (this.pending.has(mn)) throw new Error(`a command to ${mn} is already in flight`);
    const timer = setTimeout(() => this.finish(mn, 'timed-out', null), this.opts.timeoutMs);
    timer.unref();
    this.pending.set(mn, { owner, qn, cn, startedMs: Date.now(), timer, qnRtn: null });
  }

  /** A 9011 or 9012 from the logger; true when it answered the command in flight. */
  reply(mn: string, r: LoggerReply): boolean {
    const p = this.pending.get(mn);
    if (!p || r.qn !== p.qn) return false;
    if (r.cn === '9011') {
      p.qnRtn = r.params.QnRtn ?? null;
      if (p.qnRtn !== '1') this.finish(mn, 'refused', null);
      return true;
    }
    if (r.cn === '9012') {
      const exe = r.params.ExeRtn ?? null;
      this.finish(mn, exe === '1' ? 'done' : 'failed', exe);
      return true;
    }
    return false;
  }

  /** End the command `owner` sent to `mn` (its connection closed, or it could not be sent). */
  end(mn: string, owner: unknown, outcome: 'disconnected' | 'not-sent'): void {
    if (this.pending.get(mn)?.owner === owner) this.finish(mn, outcome, null);
  }

  private finish(mn: string, outcome: CommandOutcome, exeRtn: string | null): void {
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
      ms: Date.now() - p.startedMs,
    });
  }
}
