// video-alarm.v1 (the video-gateway's accepted alarms) → deviations. The analyzer owns deviations, so it learns of
// an alarm from the event, never from the gateway's tables. An alarm kind that is a rule input
// (`discharge-outside-hours`) opens one deviation per alarm: deviation.v1 first (acks = all), then the deviation log;
// the consumer commits a partition's offsets only after this resolved. A redelivered alarm finds its deviation in the
// log and opens nothing again (a crash between the produce and the log write produces the same id and revision
// again, which downstream de-duplicates). Other kinds are counted and left alone; undecodable records go to the DLQ.
import {
  decodeKafkaRecord,
  validateVideoAlarmV1,
  type DeviationV1,
  type TelemetryDlqV1,
} from '@offsite/contracts';
import {
  videoAlarmDeviation,
  videoAlarmDeviationId,
  VIDEO_ALARM_RULES,
  type VideoAlarmRules,
} from '@offsite/domain';
import type { ConsumedBatch } from '@offsite/kafka';
import type { Logger } from '@offsite/runtime';
import { deviationHeads, recordDeviations, type Db } from './analyzer-db.js';
import { deviationEvent } from './deviation-event.js';

export interface VideoAlarmIntakeOptions {
  db: Db;
  /** Produces deviation events durably before resolving. */
  emit(events: DeviationV1[]): Promise<void>;
  /** Produces DLQ records durably before resolving. */
  dlq(records: TelemetryDlqV1[]): Promise<void>;
  logger: Logger;
  rules?: VideoAlarmRules;
  now?: () => Date;
  counters?: {
    dlq?(reason: string): void;
    alarms?(outcome: 'opened' | 'duplicate' | 'not-a-rule-input'): void;
  };
}

export function createVideoAlarmIntake(
  opts: VideoAlarmIntakeOptions,
): (batch: ConsumedBatch) => Promise<void> {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: 'video-alarms' });
  return async function handle(batch) {
    const rejected: TelemetryDlqV1[] = [];
    for (const m of batch.messages) {
      const v = decodeKafkaRecord(m, validateVideoAlarmV1, 'analyzer', now);
      if (!v.ok) {
        rejected.push(v.dlq);
        opts.counters?.dlq?.(v.dlq.reason.code);
        continue;
      }
      const alarm = v.value;
      if (!VIDEO_ALARM_RULES[alarm.alarmType]) {
        opts.counters?.alarms?.('not-a-rule-input');
        continue;
      }
      const id = videoAlarmDeviationId(alarm);
      const prev = (await deviationHeads(opts.db, [id])).get(id);
      const deviation = videoAlarmDeviation(alarm, prev ? { revision: prev.revision } : null, opts.rules);
      if (!deviation) {
        opts.counters?.alarms?.('duplicate');
        continue;
      }
      const ev = deviationEvent(deviation, now().getTime());
      await opts.emit([ev]);
      await recordDeviations(opts.db, [{ output: deviation, rule: ev.rule, severity: ev.severity }]);
      opts.counters?.alarms?.('opened');
      log.info(
        { alarmId: alarm.id, deviationId: id, enterpriseId: alarm.enterpriseId },
        'video alarm opened a deviation',
      );
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
