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
 * `run` receives a batch and returns one result per item, in order. A failed batch rejects every
 * item of it (each caller retries on its own, as it would after a failed single write).
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

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const b = queue.shift()!;
      inFlight++;
      run(b.items)
        .then(
          (out) => {
            if (out.length !== b.items.length)
              throw new Error(`batch returned ${out.length} results for ${b.items.length} items`);
            b.waiters.forEach((w, i) => w.resolve(out[i]!));
          },
          (err: unknown) => b.waiters.forEach((w) => w.reject(err)),
        )
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
