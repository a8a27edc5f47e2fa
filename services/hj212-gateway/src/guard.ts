/**
 * The gateway's defences against unauthenticated senders, as pure state (no sockets, no timers):
 * - `ConnectionBudget`: per connection, how much garbage (bytes, and bad frames or garbage pieces
 *   without a valid frame between them) it may send before it is closed, and how many frames it
 *   may have in flight; tight until the connection's first frame with a valid MN/PW.
 * - `AuthThrottle`: failed authentications counted per source (`sourceKey`: an IPv4 address, an
 *   IPv6 /64) and per MN in a fixed window. Connections that already authenticated and (source,
 *   MN) pairs that authenticated before are never throttled. A source over its limit gets no
 *   answer for other pairs, which stops MN enumeration through the different QnRtn answers
 *   (4 = unknown MN, 3 = wrong PW). An MN over its limit of wrong PWs still has its PW checked for
 *   every source, but each new (source, MN) pair gets only a few attempts per window, so guessing
 *   slows to a crawl while the real logger, from any address, is still answered.
 * - `LogLimiter`: at most N log lines per second for what senders can provoke; the count of
 *   suppressed lines goes with the next line that is written.
 * - `SourceCounter`: open connections per source address.
 */

export interface BudgetLimits {
  /** Garbage bytes without a valid frame between them. */
  readonly garbageBytes: number;
  /** Bad frames and garbage pieces without a valid frame between them. */
  readonly badFrames: number;
  /** Frames decoded and waiting for Kafka at once. */
  readonly framesInFlight: number;
}

export type BudgetVerdict = 'ok' | 'garbage-budget' | 'bad-frame-budget';

export class ConnectionBudget {
  private authenticatedFlag = false;
  private garbageBytes = 0;
  private badFrames = 0;

  constructor(
    private readonly unauthenticated: BudgetLimits,
    private readonly authenticated: BudgetLimits,
  ) {}

  get isAuthenticated(): boolean {
    return this.authenticatedFlag;
  }

  get limits(): BudgetLimits {
    return this.authenticatedFlag ? this.authenticated : this.unauthenticated;
  }

  /** One piece of garbage (bytes the splitter could not frame). */
  garbage(bytes: number): BudgetVerdict {
    this.garbageBytes += bytes;
    this.badFrames += 1;
    return this.verdict();
  }

  /** A frame that was rejected (decode error, failed authentication, invalid content). */
  badFrame(): BudgetVerdict {
    this.badFrames += 1;
    return this.verdict();
  }

  /** A frame that was accepted; `authenticated` when it carried a valid MN/PW. */
  validFrame(authenticated: boolean): void {
    if (authenticated) this.authenticatedFlag = true;
    this.garbageBytes = 0;
    this.badFrames = 0;
  }

  private verdict(): BudgetVerdict {
    const l = this.limits;
    if (this.garbageBytes > l.garbageBytes) return 'garbage-budget';
    if (this.badFrames > l.badFrames) return 'bad-frame-budget';
    return 'ok';
  }
}

export interface AuthThrottleOptions {
  readonly windowMs: number;
  /** Failed authentications (unknown MN, disabled device, wrong PW) per source address per window. */
  readonly failuresPerSource: number;
  /** Wrong PWs for one MN, from any source, per window. */
  readonly failuresPerMn: number;
  /** Attempts per window for each (source, MN) pair not known to the MN while the MN is over its limit. Default 2. */
  readonly attemptsPerPair?: number;
  /** Sources remembered per MN as having authenticated (the oldest forgotten first). Default 16. */
  readonly knownPerMn?: number;
  /** Most entries each table keeps (the oldest go first). Default 100,000. */
  readonly maxEntries?: number;
}

interface Window {
  start: number;
  count: number;
}

export type ThrottleScope = 'source' | 'mn';

export class AuthThrottle {
  private readonly sources = new Map<string, Window>();
  private readonly mns = new Map<string, Window>();
  /** Attempts of (source, MN) pairs not known to a throttled MN. */
  private readonly pairs = new Map<string, Window>();
  /** Sources that authenticated as an MN (MN → source keys, oldest first), exempt from every limit for it. */
  private readonly known = new Map<string, Set<string>>();
  private readonly maxEntries: number;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  /** Whether a source is over its failure limit now. */
  sourceBlocked(source: string, nowMs: number): boolean {
    return this.over(this.sources, source, this.opts.failuresPerSource, nowMs);
  }

  /**
   * Whether an authentication attempt is refused now, and by which limit. An attempt that is let
   * through while its MN is over the limit uses one of its pair's attempts.
   * `connectionAuthenticated`: the connection already carried a valid MN/PW.
   */
  blocked(
    source: string,
    mn: string | null,
    nowMs: number,
    connectionAuthenticated = false,
  ): ThrottleScope | null {
    if (mn !== null && this.known.get(mn)?.has(source)) return null;
    if (!connectionAuthenticated && this.sourceBlocked(source, nowMs)) return 'source';
    if (mn !== null && this.over(this.mns, mn, this.opts.failuresPerMn, nowMs)) {
      const pair = `${mn}\u0000${source}`;
      if (this.over(this.pairs, pair, this.opts.attemptsPerPair ?? 2, nowMs)) return 'mn';
      this.count(this.pairs, pair, nowMs);
    }
    return null;
  }

  /** A failed authentication; `wrongPw` when the MN exists and the PW was wrong. */
  failure(source: string, mn: string | null, wrongPw: boolean, nowMs: number): void {
    this.count(this.sources, source, nowMs);
    if (wrongPw && mn !== null) this.count(this.mns, mn, nowMs);
  }

  success(source: string, mn: string): void {
    let set = this.known.get(mn);
    if (!set) {
      set = new Set();
      this.known.set(mn, set);
      this.trim(this.known);
    }
    set.delete(source);
    set.add(source);
    if (set.size > (this.opts.knownPerMn ?? 16)) set.delete(set.values().next().value as string);
  }

  private over(table: Map<string, Window>, key: string, limit: number, nowMs: number): boolean {
    const w = table.get(key);
    if (!w) return false;
    if (nowMs - w.start >= this.opts.windowMs) {
      table.delete(key);
      return false;
    }
    return w.count >= limit;
  }

  private count(table: Map<string, Window>, key: string, nowMs: number): void {
    const w = table.get(key);
    if (w && nowMs - w.start < this.opts.windowMs) {
      w.count += 1;
      return;
    }
    table.delete(key);
    table.set(key, { start: nowMs, count: 1 });
    this.trim(table);
  }

  private trim(table: Map<string, unknown>): void {
    while (table.size > this.maxEntries) {
      const oldest = table.keys().next().value as string;
      table.delete(oldest);
    }
  }
}

/**
 * The key a source address is counted under: an IPv4 address as it is (also when IPv4-mapped), an
 * IPv6 address by its /64 (one subscriber's prefix), so an attacker cannot escape the limits by
 * hopping through the addresses of its own prefix.
 */
export function sourceKey(address: string): string {
  const a = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1] as string;
  if (!a.includes(':')) return a;
  const [head = '', tail] = a.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const prefix = groups
    .slice(0, 4)
    .map((g) => (g.includes('.') ? '0' : Number.parseInt(g || '0', 16).toString(16)));
  while (prefix.length < 4) prefix.push('0');
  return `${prefix.join(':')}::/64`;
}

export class LogLimiter {
  private windowStart = 0;
  private used = 0;
  private suppressedCount = 0;
  /** Lines suppressed in total (for the metric). */
  totalSuppressed = 0;

  constructor(private readonly perSecond: number) {}

  /**
   * Whether a line may be written now. When it may, `suppressed` is how many were dropped since the
   * last line written (to be logged with it), then reset.
   */
  take(nowMs: number): { ok: true; suppressed: number } | { ok: false } {
    if (nowMs - this.windowStart >= 1000) {
      this.windowStart = nowMs;
      this.used = 0;
    }
    if (this.used >= this.perSecond) {
      this.suppressedCount += 1;
      this.totalSuppressed += 1;
      return { ok: false };
    }
    this.used += 1;
    const suppressed = this.suppressedCount;
    this.suppressedCount = 0;
    return { ok: true, suppressed };
  }
}

export class SourceCounter {
  private readonly open = new Map<string, number>();

  count(source: string): number {
    return this.open.get(source) ?? 0;
  }

  add(source: string): void {
    this.open.set(source, this.count(source) + 1);
  }

  remove(source: string): void {
    const n = this.count(source) - 1;
    if (n <= 0) this.open.delete(source);
    else this.open.set(source, n);
  }

  get sources(): number {
    return this.open.size;
  }
}
