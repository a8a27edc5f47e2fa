// deviation.v1 batches → cases and plan jobs. The consumer commits a partition's offsets only after
// this resolves, i.e. after every case upsert, every enqueue and every DLQ produce is durable.
//
// Deviations of one enterprise are handled one after another in arrival order (revisions of a
// deviation, and an offline deviation before the flat line it inhibits, keep their order); different
// enterprises run at the same time, up to `concurrency`, so the alerter's statement batchers can
// share one upsert, one group update and one enqueue among them instead of one round trip each.
import { decodeKafkaRecord, validateDeviationV1, type TelemetryDlqV1 } from '@offsite/contracts';
import type { ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/notify';
import type { Alerter } from './app.js';

export interface IntakeOptions {
  alerter: Pick<Alerter, 'handleDeviation'>;
  /** Produces DLQ records durably (acks = all) before resolving. */
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  logger: Logger;
  now?: () => Date;
  counters?: { dlq?(reason: string): void };
  /** Deviations handled at once (different enterprises). Default 64. */
  concurrency?: number;
}

export function createIntake(opts: IntakeOptions): (batch: ConsumedBatch) => Promise<void> {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'intake' });
  const limit = Math.max(1, opts.concurrency ?? 64);
  return async function handle(batch) {
    const rejected: TelemetryDlqV1[] = [];
    let lastBeat = Date.now();
    const beat = async () => {
      if (Date.now() - lastBeat <= 3000) return;
      lastBeat = Date.now(); // before the await: one heartbeat at a time
      await batch.heartbeat();
    };
    // Free slots of `limit`, handed from one finished deviation to the next waiting one.
    let running = 0;
    const waiting: (() => void)[] = [];
    const slot = async () => {
      if (running < limit) {
        running++;
        return;
      }
      await new Promise<void>((r) => waiting.push(r));
    };
    const release = () => {
      const next = waiting.shift();
      if (next) next();
      else running--;
    };
    const chains = new Map<string, Promise<void>>();
    for (const m of batch.messages) {
      const v = decodeKafkaRecord(m, validateDeviationV1, 'alerter', now);
      if (!v.ok) {
        rejected.push(v.dlq);
        opts.counters?.dlq?.(v.dlq.reason.code);
        continue;
      }
      const ev = v.value;
      // A failure stops the rest of that enterprise's chain (order kept); the batch fails below.
      const prev = chains.get(ev.enterpriseId) ?? Promise.resolve();
      chains.set(
        ev.enterpriseId,
        prev.then(async () => {
          await slot();
          try {
            await opts.alerter.handleDeviation(ev);
          } finally {
            release();
          }
          await beat();
        }),
      );
    }
    // Every chain settles before the batch fails, so a redelivery never runs beside this one.
    const failed = (await Promise.allSettled(chains.values())).find(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    if (failed) throw failed.reason;
    if (rejected.length > 0) {
      await opts.dlq(rejected);
      log.warn(
        { count: rejected.length, topic: batch.topic, partition: batch.partition },
        'records sent to the DLQ',
      );
    }
  };
}
