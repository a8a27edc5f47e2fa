import type { Logger } from '@offsite/runtime';
import { OffsiteError } from '@offsite/runtime';

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/** The slice of @offsite/kafka's durable producer the batcher calls. */
export interface BatchSender {
  sendBatch(
    batches: {
      topic: string;
      messages: { key: string; value: string; headers?: Record<string, string> }[];
    }[],
  ): Promise<unknown>;
}

export interface ProduceBatcher {
  /** Resolves once Kafka acknowledged the record (acks=-1); retries on failure until close(). */
  produce(record: OutgoingRecord): Promise<void>;
  /** False while produce requests are failing. */
  isHealthy(): boolean;
  /** Stops retrying: records not yet acknowledged reject (their upstream is not acknowledged). */
  close(): void;
}

export interface ProduceBatcherOptions {
  sender: BatchSender;
  logger: Logger;
  maxBatch: number;
  /**
   * Bound on the values' bytes in one request (default 900,000): a partition's record batch must stay
   * under the broker's message.max.bytes (1 MiB by default), whatever the keys' spread.
   */
  maxBatchBytes?: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /**
   * How long a record may wait for others before a request goes (default 0: the records of the same
   * tick, plus those that arrive while a request is in flight). A request of a few dozen records costs
   * the ingestor and the broker about as much as one of a thousand; a few milliseconds of PUBACK delay
   * buys much larger ones below saturation (at saturation requests are large anyway and nothing waits).
   */
  lingerMs?: number;
  onBatch?(size: number): void;
  onError?(err: unknown): void;
}

interface Item {
  record: OutgoingRecord;
  /** performance.now() when it was queued. */
  at: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Coalesces records produced in the same tick (e.g. from several MQTT sessions) into one Kafka
 * request. One request is in flight at a time, so records keep their order.
 */
export function createProduceBatcher(opts: ProduceBatcherOptions): ProduceBatcher {
  const queue: Item[] = [];
  const maxBytes = opts.maxBatchBytes ?? 900_000;
  const lingerMs = opts.lingerMs ?? 0;
  let running = false;
  let healthy = true;
  let closed = false;
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

  const send = async (items: Item[]) => {
    const byTopic = new Map<string, Omit<OutgoingRecord, 'topic'>[]>();
    for (const { record } of items) {
      const list = byTopic.get(record.topic) ?? [];
      list.push({ key: record.key, value: record.value, headers: record.headers });
      byTopic.set(record.topic, list);
    }
    const batches = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    for (let attempt = 0; ; attempt++) {
      if (closed)
        throw new OffsiteError('PRODUCER_CLOSED', 'ingestor is shutting down; not acknowledged', {
          retryable: true,
        });
      try {
        await opts.sender.sendBatch(batches);
        opts.onBatch?.(items.length);
        if (!healthy) opts.logger.info({}, 'Kafka accepts produce requests again');
        healthy = true;
        return;
      } catch (err) {
        healthy = false;
        opts.onError?.(err);
        const base = Math.min(opts.retryMaxMs, opts.retryInitialMs * 2 ** Math.min(attempt, 20));
        const delay = base / 2 + (Math.random() * base) / 2;
        opts.logger.warn(
          { err, attempt, delayMs: Math.round(delay), records: items.length },
          'produce failed; retrying (upstream not acknowledged)',
        );
        await sleep(delay);
      }
    }
  };

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        // Linger: let the request fill up until its oldest record has waited lingerMs.
        if (lingerMs > 0 && !closed && queue.length < opts.maxBatch) {
          const wait = queue[0]!.at + lingerMs - performance.now();
          if (wait >= 1) {
            await new Promise((r) => setTimeout(r, wait));
            continue;
          }
        }
        let n = 0;
        let bytes = 0;
        while (n < queue.length && n < opts.maxBatch) {
          const size = queue[n]!.record.value.length + queue[n]!.record.key.length;
          if (n > 0 && bytes + size > maxBytes) break;
          bytes += size;
          n += 1;
        }
        // splice, not slice twice: the queue can hold thousands of held messages.
        const items = queue.splice(0, n);
        try {
          await send(items);
          for (const i of items) i.resolve();
        } catch (err) {
          for (const i of items) i.reject(err);
        }
      }
    } finally {
      running = false;
    }
  };

  return {
    isHealthy: () => healthy,
    produce(record) {
      if (closed)
        return Promise.reject(
          new OffsiteError('PRODUCER_CLOSED', 'ingestor is shutting down', { retryable: true }),
        );
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, at: lingerMs > 0 ? performance.now() : 0, resolve, reject });
        // Let the other sessions' messages of this tick join the request.
        if (!running) setImmediate(() => void pump());
      });
    },
    close() {
      closed = true;
      wake?.();
    },
  };
}
