// deviation.v1 batches → cases and plan jobs. The consumer commits a partition's offsets only after
// this resolves, i.e. after every case upsert, every enqueue and every DLQ produce is durable.
import { validateDeviationV1, type TelemetryDlqV1 } from '@offsite/contracts';
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
}

export function createIntake(opts: IntakeOptions): (batch: ConsumedBatch) => Promise<void> {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'intake' });
  return async function handle(batch) {
    const rejected: TelemetryDlqV1[] = [];
    let lastBeat = Date.now();
    // In order: revisions of one deviation arrive in one partition and must be applied in order.
    for (const m of batch.messages) {
      const raw = m.value ?? Buffer.alloc(0);
      const reject = (code: string, message: string) => {
        rejected.push({
          schema: 'telemetry.dlq.v1',
          id: `alerter.${m.topic}.${m.partition}.${m.offset}`,
          source: 'kafka',
          reason: { code: `alerter.${code}`, message: message.slice(0, 2000) },
          raw: raw.toString('base64'),
          rawText: raw.toString('utf8').slice(0, 1_000_000),
          receivedAt: now().toISOString(),
          origin: { transport: 'kafka', topic: m.topic, partition: m.partition, offset: m.offset },
          irregularities: [],
        });
        opts.counters?.dlq?.(`alerter.${code}`);
      };
      let doc: unknown;
      try {
        doc = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        reject('json-invalid', (err as Error).message);
        continue;
      }
      const v = validateDeviationV1(doc);
      if (!v.ok) {
        reject('schema-invalid', v.errors.join('; '));
        continue;
      }
      await opts.alerter.handleDeviation(v.value);
      if (Date.now() - lastBeat > 3000) {
        await batch.heartbeat();
        lastBeat = Date.now();
      }
    }
    if (rejected.length > 0) {
      await opts.dlq(rejected);
      log.warn(
        { count: rejected.length, topic: batch.topic, partition: batch.partition },
        'records sent to the DLQ',
      );
    }
  };
}
