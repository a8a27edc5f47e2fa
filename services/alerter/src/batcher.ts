// Natural batching of small Postgres writes: items added while a batch is in flight (or in the
// same tick) go out together as one statement. No added latency when idle: an item added to an
// idle batcher is flushed on the next turn of the event loop.

export interface BatcherOptions<I> {
  /** Most items per statement. */
  maxSize: number;
  /** Statements in flight at once (default 2: one running while the next fills). */
  maxInFlight?: number;
  /** Items with the same key never share a batch (an upsert may not touch one row twice). */
  key?: (item: I) => string;
}

interface Pending<I, O> {
  items: I[];
  keys: Set<string>;
  waiters: { resolve(o: O): void; reject(e: unknown): void }[];
}

/**
 * `run` receives a batch and returns one result per item, in order; it must be all or nothing (one
 * statement). When a batch of several items fails, each item is run again alone: a value the database
 * refuses then fails only its own caller, not the unrelated items that happened to share its
 * statement. A failed item rejects its caller, who retries on its own as after a failed single write.
 */
export function createBatcher<I, O>(
  run: (items: I[]) => Promise<O[]>,
  opts: BatcherOptions<I>,
): { add(item: I): Promise<O>; drained(): Promise<void> } {
  const maxInFlight = opts.maxInFlight ?? 2;
  const queue: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;
  let idle: (() => void)[] = [];

  const resultOf = (out: O[], n: number): O[] => {
    if (out.length !== n) throw new Error(`batch returned ${out.length} results for ${n} items`);
    return out;
  };

  async function settle(b: Pending<I, O>): Promise<void> {
    let out: O[];
    try {
      out = await run(b.items);
    } catch (err) {
      if (b.items.length === 1) throw err;
      await Promise.all(
        b.items.map((item, i) =>
          run([item]).then(
            (one) => b.waiters[i]!.resolve(resultOf(one, 1)[0]!),
            (e: unknown) => b.waiters[i]!.reject(e),
          ),
        ),
      );
      return;
    }
    resultOf(out, b.items.length).forEach((o, i) => b.waiters[i]!.resolve(o));
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const b = queue.shift()!;
      inFlight++;
      settle(b)
        .catch((err: unknown) => b.waiters.forEach((w) => w.reject(err)))
        .finally(() => {
          inFlight--;
          pump();
        });
    }
    if (inFlight === 0 && queue.length === 0) {
      const done = idle;
      idle = [];
      done.forEach((f) => f());
    }
  }

  return {
    add(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        const k = opts.key?.(item);
        let b = queue.find((p) => p.items.length < opts.maxSize && (k === undefined || !p.keys.has(k)));
        if (!b) {
          b = { items: [], keys: new Set(), waiters: [] };
          queue.push(b);
        }
        b.items.push(item);
        if (k !== undefined) b.keys.add(k);
        b.waiters.push({ resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
    drained(): Promise<void> {
      if (inFlight === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((r) => idle.push(r));
    },
  };
}
