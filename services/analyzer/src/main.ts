// Composition root: config → logger → adapters → analyzer → lifecycle → ops server → signals.
import { makeConfig } from '@offsite/domain';
import { createInfluxClient, createInfluxWriter, queryInfluxQL } from '@offsite/influx';
import { installKafkajsFastPaths, createKafkaClient } from '@offsite/kafka';
import { bootService, defineMetrics, influxConnection, kafkaSecurity, withTimeout } from '@offsite/runtime';
import { createPgPool } from '@offsite/store';
import { createAnalyzer, type Analyzer } from './app.js';
import { analyzerStartDeadlineMs, serviceConfig } from './config.js';

const { env, logger, registry, lifecycle, run } = bootService({ ...serviceConfig, process });
// Before the first Kafka client: KafkaJS loads then, capturing the modules the fast paths replace.
installKafkajsFastPaths(logger.child({ component: 'kafka' }));

const metrics = defineMetrics(registry, {
  readings: { type: 'counter', name: 'offsite_analyzer_readings_total', help: 'Readings ingested' },
  rejected: {
    type: 'counter',
    name: 'offsite_analyzer_rejected_total',
    help: 'Readings the engine rejected (too late)',
    labelNames: ['code'],
  },
  dlq: {
    type: 'counter',
    name: 'offsite_analyzer_dlq_total',
    help: 'Records sent to the DLQ',
    labelNames: ['reason'],
  },
  deviations: {
    type: 'counter',
    name: 'offsite_analyzer_deviation_events_total',
    help: 'deviation.v1 events produced',
    labelNames: ['state'],
  },
  aggregates: {
    type: 'counter',
    name: 'offsite_analyzer_aggregates_written_total',
    help: 'Aggregate points written',
  },
  checkpoints: { type: 'counter', name: 'offsite_analyzer_checkpoints_total', help: 'Checkpoints written' },
  gone: {
    type: 'counter',
    name: 'offsite_analyzer_records_gone_total',
    help: 'Records past the checkpoint that Kafka no longer had (retention): never analysed',
  },
  phase: {
    type: 'counter',
    name: 'offsite_analyzer_phase_seconds_total',
    help: 'Wall seconds of the partition loop per phase (decode, engine, handoff, checkpoint)',
    labelNames: ['phase'],
  },
});

const pool = createPgPool({ url: env.OFFSITE_PG_URL, schema: env.OFFSITE_PG_SCHEMA, max: 5, logger });
const kafka = createKafkaClient({
  ...kafkaSecurity(env),
  brokers: [...env.OFFSITE_KAFKA_BROKERS],
  clientId: 'offsite-analyzer',
  logger: logger.child({ component: 'kafka' }),
});
const influx = createInfluxWriter({
  ...influxConnection(env),
  logger: logger.child({ component: 'influx' }),
});

const influxQuery = createInfluxClient(influxConnection(env), logger.child({ component: 'influx' }));

let analyzer: Analyzer | undefined;
lifecycle.register({
  name: 'postgres',
  start: async () => void (await pool.query('select 1')),
  stop: () => withTimeout(pool.end(), 5_000, 'pg pool end'),
});
lifecycle.register({
  name: 'analyzer',
  start: async (signal) => {
    // The deadline passed (or shutdown began) while starting: stop what did start, so nothing keeps running.
    signal.addEventListener('abort', () => void analyzer?.stop().catch(() => undefined), { once: true });
    analyzer = await createAnalyzer({
      kafka,
      pool,
      registrySchema: env.OFFSITE_PG_SCHEMA,
      influx,
      engineConfig: makeConfig(),
      groupId: env.OFFSITE_ANALYZER_GROUP_ID,
      telemetryTopic: env.OFFSITE_ANALYZER_TELEMETRY_TOPIC,
      deviationTopic: env.OFFSITE_ANALYZER_DEVIATION_TOPIC,
      dlqTopic: env.OFFSITE_ANALYZER_DLQ_TOPIC,
      reviewDecisionTopic: env.OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC,
      videoAlarmTopic: env.OFFSITE_ANALYZER_VIDEO_ALARM_TOPIC,
      allowedLatenessMs: env.OFFSITE_ANALYZER_ALLOWED_LATENESS_MS,
      tickLagMs: env.OFFSITE_ANALYZER_TICK_LAG_MS,
      tickIntervalMs: env.OFFSITE_ANALYZER_TICK_INTERVAL_MS,
      checkpointIntervalMs: env.OFFSITE_ANALYZER_CHECKPOINT_INTERVAL_MS,
      checkpointEveryRecords: env.OFFSITE_ANALYZER_CHECKPOINT_RECORDS,
      handoffIntervalMs: env.OFFSITE_ANALYZER_HANDOFF_INTERVAL_MS,
      fetchMaxBytesPerPartition: env.OFFSITE_ANALYZER_FETCH_MAX_BYTES_PER_PARTITION,
      sessionTimeoutMs: env.OFFSITE_ANALYZER_SESSION_TIMEOUT_MS,
      query: (bucket, q) => queryInfluxQL(influxQuery, bucket, q),
      bucket: env.OFFSITE_INFLUX_BUCKET,
      stability: {
        intervalMs: env.OFFSITE_ANALYZER_STABILITY_INTERVAL_MS,
        windowDays: env.OFFSITE_ANALYZER_STABILITY_WINDOW_DAYS,
        policy: { minEffectiveTransmissionRate: env.OFFSITE_ANALYZER_STABLE_MIN_EFFECTIVE_RATE },
      },
      ratedEnergy: {
        intervalMs: env.OFFSITE_ANALYZER_RATED_ENERGY_INTERVAL_MS,
        lookbackDays: env.OFFSITE_ANALYZER_RATED_ENERGY_LOOKBACK_DAYS,
        minKwh: env.OFFSITE_ANALYZER_RATED_ENERGY_MIN_KWH,
      },
      silentDevices: {
        intervalMs:
          env.OFFSITE_ANALYZER_TICK_INTERVAL_MS === 0 ? 0 : env.OFFSITE_ANALYZER_SILENT_DEVICES_INTERVAL_MS,
      },
      annualLoad: {
        intervalMs:
          env.OFFSITE_ANALYZER_TICK_INTERVAL_MS === 0 ? 0 : env.OFFSITE_ANALYZER_ANNUAL_LOAD_INTERVAL_MS,
      },
      productionEmission: {
        intervalMs:
          env.OFFSITE_ANALYZER_TICK_INTERVAL_MS === 0
            ? 0
            : env.OFFSITE_ANALYZER_PRODUCTION_EMISSION_INTERVAL_MS,
      },
      peers: {
        intervalMs: env.OFFSITE_ANALYZER_TICK_INTERVAL_MS === 0 ? 0 : env.OFFSITE_ANALYZER_PEERS_INTERVAL_MS,
      },
      crossDevice: {
        intervalMs:
          env.OFFSITE_ANALYZER_TICK_INTERVAL_MS === 0 ? 0 : env.OFFSITE_ANALYZER_CROSS_DEVICE_INTERVAL_MS,
      },
      jobLeaseMs: env.OFFSITE_ANALYZER_JOB_LEASE_MS,
      // The final checkpoints write every partition's engine state; give them most of the shutdown budget.
      stopDeadlineMs: Math.floor((env.OFFSITE_SHUTDOWN_DEADLINE_MS * 2) / 3),
      produceMaxBytes: env.OFFSITE_KAFKA_BATCH_MAX_BYTES,
      produceMaxRecords: env.OFFSITE_ANALYZER_PRODUCE_MAX_RECORDS,
      onFatal: (error) => void lifecycle.shutdown('Kafka consumer crashed and gave up restarting', { error }),
      logger,
      counters: {
        readings: (n) => metrics.readings.inc(n),
        rejected: (code, n) => metrics.rejected.inc({ code }, n),
        dlq: (reason) => metrics.dlq.inc({ reason }),
        deviations: (state, n) => metrics.deviations.inc({ state }, n),
        aggregates: (n) => metrics.aggregates.inc(n),
        checkpoints: () => metrics.checkpoints.inc(),
        gone: (n) => metrics.gone.inc(n),
        phase: (phase, seconds) => metrics.phase.inc({ phase }, seconds),
      },
    });
    signal.throwIfAborted();
    await analyzer.start();
  },
  stop: () => analyzer?.stop(),
  // A restart after kill -9 joins the group only once the killed member's session expired.
  startTimeoutMs: analyzerStartDeadlineMs(env),
  stopTimeoutMs: Math.floor(env.OFFSITE_SHUTDOWN_DEADLINE_MS * 0.8),
  check: () => analyzer?.isRunning() ?? false,
});

await run();
