/**
 * The one batching producer: gathers the records of many callers (the gateway's connections, the
 * MQTT ingestor's messages, …) into few Kafka requests. `publish()` resolves only once Kafka
 * acknowledged (acks=-1) the request that carried the records; the caller acknowledges its own
 * upstream (an HJ 212 reply, an MQTT PUBACK) only after that.
 *
 * One request is in flight at a time (the durable producer allows one); records arriving
 * meanwhile wait and go out together in the next request, so the batch size adapts to the load. A
 * new batch waits at most `lingerMs` for company (0: the records of the same event-loop turn), or
 * goes at once when it reaches `batchMax` records or `batchMaxBytes`.
 *
 * A failed request rejects its records, or with `retry` is sent again after a backoff until it
 * succeeds or the publisher closes.
 */
import type { OutgoingMessage } from './producer.js';

/** A coded error (`code`), with `retryable` set: the caller may try again. */
export class PublisherError extends Error {
  readonly retryable = true;
  constructor(
    readonly code: 'KAFKA_PRODUCE_FAILED' | 'PUBLISHER_CLOSED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublisherError';
  }
}

/** The narrow producer port the publisher needs (`DurableProducer` satisfies it). */
export interface BatchProducer {
  sendBatch(batches: { topic: string; messages: OutgoingMessage[] }[]): Promise<unknown>;
}

export interface OutRecord {
  readonly topic: string;
  readonly message: OutgoingMessage;
}

export interface PublisherOptions {
  readonly producer: BatchProducer;
  readonly lingerMs: number;
  readonly batchMax: number;
  /**
   * Most bytes (keys + values) in one request, so no partition's record batch exceeds the broker's
   * message.max.bytes (1 MiB by default). Default 512 KiB. One publish() larger than this still goes alone.
   */
  readonly batchMaxBytes?: number;
  /** Above this many records waiting or in flight, `full` is true (callers pause their sockets). */
  readonly maxPending: number;
  /** After each produce request: its record count, outcome and duration (send → acknowledgement). */
  readonly onBatch?: (size: number, ok: boolean, error: unknown, seconds: number) => void;
  readonly onPending?: (pending: number) => void;
  /** Send a failed request again after a jittered exponential backoff, until it succeeds or close(). */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** Told once per failed attempt (with retry) before the wait. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number, records: number) => void;
}

interface Waiting {
  readonly records: readonly OutRecord[];
  readonly bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

export interface Publisher {
  publish(records: readonly OutRecord[]): Promise<void>;
  /** Records waiting or in flight. */
  readonly pending: number;
  readonly full: boolean;
  /** Called once whenever `full` turns false again. */
  onDrain(listener: () => void): void;
  /** Send what is waiting and wait for it, under a deadline; later publish() calls reject. */
  close(deadlineMs: number): Promise<void>;
  /** Whether the last produce request succeeded (none yet counts as healthy). */
  readonly healthy: boolean;
}

export function createPublisher(opts: PublisherOptions): Publisher {
  const maxBytes = opts.batchMaxBytes ?? 512 * 1024;
  let queue: Waiting[] = [];
  let queuedBytes = 0;
  let queued = 0;
  let inFlight = 0;
  let sending: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let healthy = true;
  const drainListeners: (() => void)[] = [];
  let wasFull = false;

  const pendingCount = () => queued + inFlight;
  const notePending = () => {
    opts.onPending?.(pendingCount());
    const full = pendingCount() >= opts.maxPending;
    if (wasFull && !full) for (const l of drainListeners) l();
    wasFull = full;
  };

  // A retry's wait, cut short by close().
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  let immediate = false;

  const schedule = () => {
    if (sending || queued === 0) return;
    if (queued >= opts.batchMax || queuedBytes >= maxBytes || closed) {
      if (timer) clearTimeout(timer);
      timer = null;
      void flush();
    } else if (opts.lingerMs === 0) {
      // The records of this event-loop turn go together.
      if (!immediate) {
        immediate = true;
        setImmediate(() => {
          immediate = false;
          void flush();
        });
      }
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        void flush();
      }, opts.lingerMs);
    }
  };

  const flush = async (): Promise<void> => {
    if (sending || queue.length === 0) return;
    // Take whole publish() calls up to batchMax records (a call is never split across requests).
    const batch: Waiting[] = [];
    let size = 0;
    let bytes = 0;
    while (queue.length > 0) {
      const next = queue[0] as Waiting;
      if (batch.length > 0 && (size + next.records.length > opts.batchMax || bytes + next.bytes > maxBytes))
        break;
      batch.push(next);
      size += next.records.length;
      bytes += next.bytes;
      queue.shift();
    }
    queued -= size;
    queuedBytes -= bytes;
    inFlight += size;
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const w of batch) {
      for (const r of w.records) {
        const list = byTopic.get(r.topic);
        if (list) list.push(r.message);
        else byTopic.set(r.topic, [r.message]);
      }
    }
    const batches = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const run = (async () => {
      try {
        for (let attempt = 0; ; attempt++) {
          const t0 = performance.now();
          try {
            await opts.producer.sendBatch(batches);
            healthy = true;
            opts.onBatch?.(size, true, undefined, (performance.now() - t0) / 1000);
            for (const w of batch) w.resolve();
            return;
          } catch (error) {
            healthy = false;
            opts.onBatch?.(size, false, error, (performance.now() - t0) / 1000);
            if (opts.retry && !closed) {
              const base = Math.min(opts.retry.maxMs, opts.retry.initialMs * 2 ** Math.min(attempt, 20));
              const delay = base / 2 + (Math.random() * base) / 2;
              opts.onRetry?.(error, attempt, Math.round(delay), size);
              await sleep(delay);
              if (!closed) continue;
            }
            const err = closed
              ? new PublisherError('PUBLISHER_CLOSED', 'the publisher closed before Kafka acknowledged', {
                  cause: error,
                })
              : new PublisherError('KAFKA_PRODUCE_FAILED', 'Kafka did not acknowledge the records', {
                  cause: error,
                });
            for (const w of batch) w.reject(err);
            return;
          }
        }
      } finally {
        inFlight -= size;
        notePending();
      }
    })();
    sending = run;
    await run;
    sending = null;
    schedule();
  };

  return {
    publish(records) {
      if (closed) {
        return Promise.reject(new PublisherError('PUBLISHER_CLOSED', 'the publisher is closed'));
      }
      if (records.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        let bytes = 0;
        for (const r of records)
          bytes += sizeOf(r.message.value) + (r.message.key ? sizeOf(r.message.key) : 0);
        queue.push({ records, bytes, resolve, reject });
        queued += records.length;
        queuedBytes += bytes;
        notePending();
        schedule();
      });
    },
    get pending() {
      return pendingCount();
    },
    get full() {
      return pendingCount() >= opts.maxPending;
    },
    get healthy() {
      return healthy;
    },
    onDrain(listener) {
      drainListeners.push(listener);
    },
    async close(deadlineMs) {
      closed = true;
      wake?.();
      if (timer) clearTimeout(timer);
      timer = null;
      const drain = async () => {
        while (sending || queue.length > 0) {
          if (sending) await sending;
          else await flush();
        }
      };
      try {
        let deadline: NodeJS.Timeout | undefined;
        await Promise.race([
          drain(),
          new Promise<void>((_, reject) => {
            deadline = setTimeout(
              () =>
                reject(
                  new PublisherError('PUBLISHER_CLOSED', `publisher drain timed out after ${deadlineMs} ms`),
                ),
              deadlineMs,
            );
          }),
        ]).finally(() => clearTimeout(deadline));
      } finally {
        const left = queue;
        queue = [];
        queued = 0;
        queuedBytes = 0;
        const err = new PublisherError('PUBLISHER_CLOSED', 'the publisher closed before sending');
        for (const w of left) w.reject(err);
      }
    },
  };
}

function sizeOf(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}
