// A budget of unauthenticated refusals per source address. Each refusal before authentication (a missing,
// unknown, stale or bad signature; a body too large to read) is kept in the DLQ with up to 256 KiB of its body, so
// a stranger could fill the DLQ; past its budget an address is answered 429 and its requests are not kept (counted
// only). A token bucket per address: `burst` refusals at once, refilled at `perMinute`. Authenticated requests never
// spend it and are never limited, so a platform behind the same address as a stranger still gets through.
// In memory, per gateway instance (n instances behind a load balancer allow n times the budget); at most
// `maxAddresses` buckets are kept, the least recently used dropped first (a dropped address starts full again).

export interface RefusalLimitOptions {
  perMinute: number;
  burst: number;
  maxAddresses?: number;
}

export interface RefusalLimiter {
  /** Spends one refusal of `address` at `nowMs`: true if within its budget, false if over (answer 429). */
  take(address: string, nowMs: number): boolean;
  /** Seconds until `address` has a refusal to spend again (for Retry-After), at least 1. */
  retryAfterS(address: string, nowMs: number): number;
  /** How many addresses are tracked now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRefusalLimiter(o: RefusalLimitOptions): RefusalLimiter {
  const max = o.maxAddresses ?? 10_000;
  const perMs = o.perMinute / 60_000;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const buckets = new Map<string, Bucket>();

  function refill(address: string, nowMs: number): Bucket {
    const b = buckets.get(address);
    if (b) buckets.delete(address);
    const tokens = b ? Math.min(o.burst, b.tokens + Math.max(0, nowMs - b.at) * perMs) : o.burst;
    const fresh = { tokens, at: nowMs };
    buckets.set(address, fresh);
    while (buckets.size > max) buckets.delete(buckets.keys().next().value!);
    return fresh;
  }

  return {
    take(address, nowMs) {
      const b = refill(address, nowMs);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    retryAfterS(address, nowMs) {
      const b = refill(address, nowMs);
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
    size: () => buckets.size,
  };
}
