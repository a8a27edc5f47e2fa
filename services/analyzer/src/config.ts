// The analyzer's environment, validated once at the edge (names as in .offsite/env for the servers).
import { Type } from '@sinclair/typebox';
import { InfluxTlsEnv, KafkaSecurityEnv, PgSchema, PgUrl, type ServiceConfig } from '@offsite/runtime';
import { groupJoinDeadlineMs } from '@offsite/kafka';

export const AnalyzerEnv = Type.Object({
  OFFSITE_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn')], {
    default: 'info',
  }),
  OFFSITE_OPS_HOST: Type.String({ default: '127.0.0.1' }),
  OFFSITE_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9105 }),
  OFFSITE_KAFKA_BROKERS: Type.Array(Type.String(), { minItems: 1 }),
  ...KafkaSecurityEnv,
  OFFSITE_PG_URL: PgUrl(),
  /** Postgres schema holding the registry and the analyzer tables. */
  OFFSITE_PG_SCHEMA: PgSchema(),
  OFFSITE_INFLUX_URL: Type.String({ format: 'uri' }),
  ...InfluxTlsEnv,
  OFFSITE_INFLUX_TOKEN: Type.String({ secret: true, default: '' }),
  OFFSITE_INFLUX_ORG: Type.String({ default: '-' }),
  OFFSITE_INFLUX_BUCKET: Type.String(),
  OFFSITE_ANALYZER_GROUP_ID: Type.String({ default: 'offsite-analyzer' }),
  OFFSITE_ANALYZER_TELEMETRY_TOPIC: Type.String({ default: 'telemetry.v1' }),
  OFFSITE_ANALYZER_DEVIATION_TOPIC: Type.String({ default: 'deviation.v1' }),
  OFFSITE_ANALYZER_DLQ_TOPIC: Type.String({ default: 'telemetry.dlq.v1' }),
  /** The console's review decisions, consumed by the group `<OFFSITE_ANALYZER_GROUP_ID>.review-decisions`. */
  OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC: Type.String({ default: 'review.decision.v1' }),
  /** The video-gateway's alarms, consumed by the group `<OFFSITE_ANALYZER_GROUP_ID>.video-alarms`. */
  OFFSITE_ANALYZER_VIDEO_ALARM_TOPIC: Type.String({ default: 'video-alarm.v1' }),
  /** The event-time watermark trails the largest reading end seen by this much. */
  OFFSITE_ANALYZER_ALLOWED_LATENESS_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  /** Wall-clock tick (offline detection when a partition goes quiet); 0 disables it. */
  OFFSITE_ANALYZER_TICK_INTERVAL_MS: Type.Integer({ minimum: 0, default: 60_000 }),
  OFFSITE_ANALYZER_TICK_LAG_MS: Type.Integer({ minimum: 0, default: 900_000 }),
  /** Checkpoint a partition at most every this many ms … (0 with 0 records: after every batch). */
  // Checkpoints are incremental (the readings since the last one), so frequent small ones cost less loop time
  // at once than rare big ones: one of 17k real-time readings stringified for ~200 ms per partition.
  OFFSITE_ANALYZER_CHECKPOINT_INTERVAL_MS: Type.Integer({ minimum: 0, default: 5_000 }),
  /** … or after this many records since the last one (0: no record limit). */
  OFFSITE_ANALYZER_CHECKPOINT_RECORDS: Type.Integer({ minimum: 0, default: 5_000 }),
  /**
   * Bytes fetched per partition per request (KafkaJS maxBytesPerPartition). Partitions are handled one after another,
   * so a record waits behind up to this much data of every partition: 4 MiB (~3,000 real-time packets) per partition
   * made the detection latency's p99 seconds at national load.
   */
  OFFSITE_ANALYZER_FETCH_MAX_BYTES_PER_PARTITION: Type.Integer({ minimum: 16_384, default: 524_288 }),
  /**
   * Kafka group session timeout. A member killed with kill -9 holds its partitions this long: the restarted process's
   * group join waits for it, so the start deadline below must be clearly longer.
   */
  OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, default: 30_000 }),
  /**
   * Bound on the analyzer's start (registry load, producer connect, group join). Unset: twice the session timeout
   * plus 30 s (90 s by default), so a join that waits out a killed member's session still finishes in time.
   */
  OFFSITE_ANALYZER_START_DEADLINE_MS: Type.Optional(Type.Integer({ minimum: 1_000 })),
  /** Within a long batch, hand off the deviations found so far every this many ms (0: at the end of the batch). */
  OFFSITE_ANALYZER_HANDOFF_INTERVAL_MS: Type.Integer({ minimum: 0, default: 200 }),
  /** Stability metrics (domain-rules §4): how often (0 disables), and the trailing window. */
  OFFSITE_ANALYZER_STABILITY_INTERVAL_MS: Type.Integer({ minimum: 0, default: 3_600_000 }),
  OFFSITE_ANALYZER_STABILITY_WINDOW_DAYS: Type.Integer({ minimum: 1, maximum: 3660, default: 90 }),
  OFFSITE_ANALYZER_STABLE_MIN_EFFECTIVE_RATE: Type.Number({ minimum: 0, maximum: 1, default: 0.9 }),
  /**
   * How often registered devices that never reported are judged offline (0 disables). Off as well when the
   * wall-clock tick is off (replays of historical data judge event time only, and such a device has none).
   */
  OFFSITE_ANALYZER_SILENT_DEVICES_INTERVAL_MS: Type.Integer({ minimum: 0, default: 60_000 }),
  /**
   * How often the year-to-date emission loads are judged against the permitted annual loads (0 disables; off as
   * well when the wall-clock tick is off). Each round reads the year's hourly data of every permitted outlet.
   */
  OFFSITE_ANALYZER_ANNUAL_LOAD_INTERVAL_MS: Type.Integer({ minimum: 0, default: 3_600_000 }),
  /**
   * How often the emissions-against-production cross-check judges the last whole Shanghai day (0 disables; off as well
   * when the wall-clock tick is off). Each round reads the baseline's hourly data (31 days) of every checked outlet.
   */
  OFFSITE_ANALYZER_PRODUCTION_EMISSION_INTERVAL_MS: Type.Integer({ minimum: 0, default: 86_400_000 }),
  /**
   * How often the peers cross-check judges the 30 days before the last Shanghai midnight (0 disables; off as well when
   * the wall-clock tick is off). Each round reads those days' hourly aggregates of every outlet with a process.
   */
  OFFSITE_ANALYZER_PEERS_INTERVAL_MS: Type.Integer({ minimum: 0, default: 86_400_000 }),
  /**
   * How often the cross-device consistency check judges the last whole Shanghai day (0 disables; off as well when the
   * wall-clock tick is off). Each round reads that day's hourly aggregates of every flue-gas outlet and the minute
   * data of every outlet with two or more devices.
   */
  OFFSITE_ANALYZER_CROSS_DEVICE_INTERVAL_MS: Type.Integer({ minimum: 0, default: 86_400_000 }),
  /** Rated window energy derivation for unconfigured meters: how often (0 disables), lookback, floor. */
  OFFSITE_ANALYZER_RATED_ENERGY_INTERVAL_MS: Type.Integer({ minimum: 0, default: 21_600_000 }),
  OFFSITE_ANALYZER_RATED_ENERGY_LOOKBACK_DAYS: Type.Integer({ minimum: 1, maximum: 3660, default: 60 }),
  OFFSITE_ANALYZER_RATED_ENERGY_MIN_KWH: Type.Number({ minimum: 0, default: 0.2 }),
  /** Lease of a scheduled job's round across instances (renewed while it runs; a dead holder's period is retaken after it). */
  OFFSITE_ANALYZER_JOB_LEASE_MS: Type.Integer({ minimum: 1_000, default: 60_000 }),
  /** Bounds of one produce request (deviation.v1, DLQ): below the broker's message.max.bytes (1 MiB default). */
  OFFSITE_KAFKA_BATCH_MAX_BYTES: Type.Integer({ minimum: 1024, default: 512 * 1024 }),
  OFFSITE_ANALYZER_PRODUCE_MAX_RECORDS: Type.Integer({ minimum: 1, default: 1000 }),
  OFFSITE_SHUTDOWN_DEADLINE_MS: Type.Integer({ minimum: 100, default: 25_000 }),
});

/** The analyzer component's start deadline: the configured one, else the group's join deadline (2 × session timeout + 30 s). */
export function analyzerStartDeadlineMs(env: {
  OFFSITE_ANALYZER_SESSION_TIMEOUT_MS: number;
  OFFSITE_ANALYZER_START_DEADLINE_MS?: number | undefined;
}): number {
  return (
    env.OFFSITE_ANALYZER_START_DEADLINE_MS ?? groupJoinDeadlineMs(env.OFFSITE_ANALYZER_SESSION_TIMEOUT_MS)
  );
}

/** The service's configuration: bootService loads it at start, `offsite config check analyzer` without starting. */
export const serviceConfig: ServiceConfig<typeof AnalyzerEnv> = {
  name: 'analyzer',
  schema: AnalyzerEnv,
};
