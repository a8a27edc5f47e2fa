/**
 * Batches produce requests from every connection into few Kafka requests. `publish()` resolves only
 * once Kafka acknowledged (acks=-1) the request that carried the records, and rejects if it failed;
 * the caller replies to the data logger only after it resolved.
 *
 * One request is in flight at a time (the idempotent producer allows one anyway); records arriving
 * meanwhile wait and go out together in the next request, so the batch size adapts to the load. A
 * new batch waits at most `lingerMs` for company, or goes at once when it reaches `batchMax`.
 */
import { OffsiteError, withTimeout } from '@offsite/runtime';
import type { OutgoingMessage } from '@offsite/kafka';

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

  const schedule = () => {
    if (sending || queued === 0) return;
    if (queued >= opts.batchMax || queuedBytes >= maxBytes || opts.lingerMs === 0) {
      if (timer) clearTimeout(timer);
      timer = null;
      void flush();
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
    const run = (async () => {
      const t0 = performance.now();
      try {
        await opts.producer.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
        healthy = true;
        opts.onBatch?.(size, true, undefined, (performance.now() - t0) / 1000);
        for (const w of batch) w.resolve();
      } catch (error) {
        healthy = false;
        opts.onBatch?.(size, false, error, (performance.now() - t0) / 1000);
        const err = new OffsiteError('KAFKA_PRODUCE_FAILED', 'Kafka did not acknowledge the records', {
          retryable: true,
          cause: error,
        });
        for (const w of batch) w.reject(err);
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
        return Promise.reject(
          new OffsiteError('PUBLISHER_CLOSED', 'the publisher is closed', { retryable: true }),
        );
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
      if (timer) clearTimeout(timer);
      timer = null;
      const drain = async () => {
        while (sending || queue.length > 0) {
          if (sending) await sending;
          else await flush();
        }
      };
      try {
        await withTimeout(drain(), deadlineMs, 'publisher drain');
      } finally {
        const left = queue;
        queue = [];
        queued = 0;
        queuedBytes = 0;
        const err = new OffsiteError('PUBLISHER_CLOSED', 'the publisher closed before sending', {
          retryable: true,
        });
        for (const w of left) w.reject(err);
      }
    },
  };
}

function sizeOf(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}
