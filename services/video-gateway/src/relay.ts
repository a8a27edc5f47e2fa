// The relay of stored alarms Kafka never acknowledged (Kafka down or the process killed between the
// commit and the send, and the platform never sent again). It works like the console's review-decision
// relay (services/console/src/review-decisions.ts): a periodic round locks a batch of unstamped rows
// (`for update skip locked`: other gateway instances skip them), sends them with the same key and message
// as the webhook's own produce, and stamps `produced_at` in the same transaction only after Kafka
// acknowledged them. A crash or a failed commit after the acknowledgement sends the alarm again on a later
// round; the analyzer keeps video alarms by id, so a second copy changes nothing downstream.
import { kafkaMessage, kafkaTopics, type VideoAlarmV1 } from '@offsite/contracts';
import type { DurableProducer } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import { transaction } from '@offsite/store';
import type pg from 'pg';

export interface AlarmRelayOptions {
  pool: pg.Pool;
  producer: Pick<DurableProducer, 'send'>;
  alarmTopic: string;
  logger: Logger;
  intervalMs: number;
  /**
   * Alarms younger than this are left to their request's own produce (which may still be waiting for
   * Kafka): the relay would only send them a second time.
   */
  minAgeS: number;
  batchSize?: number;
  onRelayed?(n: number): void;
  /** After each round: the alarms still unstamped and the age of the oldest (0 when none). */
  onBacklog?(backlog: { count: number; oldestAgeS: number }): void;
}

export interface AlarmRelay {
  start(): void;
  /** One round now (or the one running); resolves when it is done. Failures are logged, not thrown. */
  kick(): Promise<void>;
  stop(): Promise<void>;
}

export function createAlarmRelay(o: AlarmRelayOptions): AlarmRelay {
  const log = o.logger.child({ component: 'alarm-relay' });
  const batchSize = o.batchSize ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let stopped = false;

  /** Sends and stamps one batch in one transaction; the number of alarms it relayed. */
  const relayBatch = () =>
    transaction(o.pool, async (client) => {
      const { rows } = await client.query<{ id: string; event: VideoAlarmV1 }>(
        `select id, event from video_alarms
          where produced_at is null and received_at <= now() - make_interval(secs => $1)
          order by received_at limit $2 for update skip locked`,
        [o.minAgeS, batchSize],
      );
      if (rows.length === 0) return 0;
      await o.producer.send(
        o.alarmTopic,
        rows.map((r) => kafkaMessage(kafkaTopics.videoAlarm, r.event)),
      );
      await client.query('update video_alarms set produced_at = now() where id = any($1::text[])', [
        rows.map((r) => r.id),
      ]);
      log.warn({ ids: rows.map((r) => r.id) }, 'stored video alarms Kafka had not acknowledged relayed');
      return rows.length;
    });

  async function backlog() {
    const { rows } = await o.pool.query<{ count: string; age: number | null }>(
      `select count(*)::text as count, extract(epoch from now() - min(received_at))::float8 as age
         from video_alarms where produced_at is null`,
    );
    o.onBacklog?.({ count: Number(rows[0]!.count), oldestAgeS: Math.max(0, rows[0]!.age ?? 0) });
  }

  async function relayAll() {
    let n: number;
    do {
      n = await relayBatch();
      if (n > 0) o.onRelayed?.(n);
    } while (n === batchSize && !stopped);
  }

  function kick(): Promise<void> {
    round ??= relayAll()
      .catch((err: unknown) =>
        log.warn(
          { err: (err as Error).message },
          'relaying stored video alarms failed; retried on the next round',
        ),
      )
      .then(() => backlog())
      .catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'counting unpublished video alarms failed'),
      )
      .finally(() => (round = undefined));
    return round;
  }

  return {
    start() {
      stopped = false;
      void kick();
      timer = setInterval(() => void kick(), o.intervalMs);
    },
    kick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await round;
    },
  };
}
