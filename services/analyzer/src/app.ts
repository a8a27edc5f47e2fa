// The analyzer wired to its adapters: Kafka consumer group → partition processor → Kafka / InfluxDB,
// checkpoints and registry in Postgres, registry reload on NOTIFY, wall-clock tick. main.ts composes it.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { kafkaMessage, kafkaTopics, type DeviationV1, type TelemetryDlqV1 } from '@offsite/contracts';
import type { EngineConfig, StabilityPolicy } from '@offsite/domain';
import { toLine, type InfluxQLRunner, type InfluxWriter } from '@offsite/influx';
import {
  createBatchConsumer,
  createDurableProducer,
  type BatchConsumer,
  type OutgoingMessage,
} from '@offsite/kafka';
import { withTimeout, type Logger } from '@offsite/runtime';
import {
  loadRegistrySnapshot,
  startRegistryListener,
  type Listener,
  type RegistrySnapshot,
} from '@offsite/store';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { aggregatePoint } from './aggregate-points.js';
import { loadRatedEnergy, recordDeviceReports, recordDeviations, recordLastSeen } from './analyzer-db.js';
import { createPgCheckpointStore } from './checkpoints.js';
import { chunkMessages } from './produce-chunks.js';
import { createPartitionProcessor, type PartitionProcessor, type ProcessorCounters } from './processor.js';
import { runRatedEnergyJob } from './rated-energy-job.js';
import { registryViewFromSnapshot } from './registry-view.js';
import { createReviewDecisionIntake } from './review-decisions.js';
import { createVideoAlarmIntake } from './video-alarms.js';
import { createScheduledJob, listenJobDone } from './schedule.js';
import { runSilentDevicesJob } from './silent-devices.js';
import { REREAD_MS, runAnnualLoadJob } from './annual-load-job.js';
import { markLateLoadHours } from './annual-load-state.js';
import { runCrossDeviceJob, type CrossDeviceRound } from './cross-device-job.js';
import { runPeersJob, type PeersRound } from './peers-job.js';
import { runProductionEmissionJob, type ProductionEmissionRound } from './production-emission-job.js';
import { runStabilityJob } from './stability-job.js';

export interface AnalyzerOptions {
  kafka: Kafka;
  /** Queries (checkpoints, registry); its connections must use the schema holding the tables. */
  pool: pg.Pool;
  /** Postgres schema whose registry_changed notifications count (the pool's search_path). */
  registrySchema: string;
  influx: InfluxWriter;
  engineConfig: EngineConfig;
  groupId: string;
  telemetryTopic?: string;
  deviationTopic?: string;
  dlqTopic?: string;
  /** The console's review decisions (consumer group `<groupId>.review-decisions`). */
  reviewDecisionTopic?: string;
  /** The video-gateway's alarms, a rule input (consumer group `<groupId>.video-alarms`). */
  videoAlarmTopic?: string;
  allowedLatenessMs: number;
  tickLagMs: number;
  /** 0 disables the wall-clock tick (replays of historical data). */
  tickIntervalMs: number;
  logger: Logger;
  counters?: ProcessorCounters;
  /** Checkpoint every N ms / M records per partition (both 0: after every batch). */
  checkpointIntervalMs: number;
  checkpointEveryRecords: number;
  /** Hand off a long batch's outputs every this many ms (0: end of batch only). */
  handoffIntervalMs?: number;
  /** Fetch at most this many bytes per partition (bounds a batch, hence how long a record waits behind others). */
  fetchMaxBytesPerPartition?: number;
  /** Kafka consumer group session timeout (KafkaJS default here 30 s); a killed member holds its partitions this long. */
  sessionTimeoutMs?: number;
  /** InfluxQL queries on the bucket the aggregates and the telemetry live in. */
  query: InfluxQLRunner;
  bucket: string;
  stability: { intervalMs: number; windowDays: number; policy: StabilityPolicy };
  ratedEnergy: { intervalMs: number; lookbackDays: number; minKwh: number };
  /** Registered devices that never reported, judged offline by wall clock (`silent-devices.ts`); default off. */
  silentDevices?: { intervalMs: number };
  /** Year-to-date emission loads against the permitted annual loads (`annual-load-job.ts`); default off. */
  annualLoad?: { intervalMs: number };
  /** The emissions-against-production cross-check of the last whole Shanghai day (`production-emission-job.ts`); default off. */
  productionEmission?: { intervalMs: number };
  /** The peers cross-check of the 30 days before the last Shanghai midnight (`peers-job.ts`); default off. */
  peers?: { intervalMs: number };
  /** The cross-device consistency check of the last whole Shanghai day (`cross-device-job.ts`); default off. */
  crossDevice?: { intervalMs: number };
  /**
   * Lease of a scheduled job's round (default 60 s, renewed while it runs): each period of the stability
   * and rated-energy schedules runs in one instance; another takes over a period whose holder died once
   * this ran out.
   */
  jobLeaseMs?: number;
  /** Deadline for each step of stop(). */
  stopDeadlineMs?: number;
  /** Bounds of one produce request (deviations, DLQ): bytes (default 512 KiB, below the broker's 1 MiB) and count. */
  produceMaxBytes?: number;
  produceMaxRecords?: number;
  /**
   * KafkaJS gave up restarting the crashed consumer (restart: false): the process should exit non-zero. A crash
   * it restarts from makes isRunning() false until a batch succeeds again.
   */
  onFatal?: (error: unknown) => void;
  clock?: () => number;
}

export interface Analyzer {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
  reloadRegistry(): Promise<void>;
  /** One round of the scheduled jobs now (tests, operators). */
  runStability(): Promise<void>;
  runRatedEnergy(): Promise<void>;
  runSilentDevices(): Promise<void>;
  runAnnualLoad(): Promise<void>;
  /** The cross-check as of `now` (default the clock), outside the schedule (tests, `history cross-check`). */
  runProductionEmission(now?: number): Promise<ProductionEmissionRound>;
  /** The peers cross-check as of `now` (default the clock), outside the schedule (tests, `history peers`). */
  runPeers(now?: number): Promise<PeersRound>;
  /** The cross-device check as of `now` (default the clock), outside the schedule (tests, `history cross-device`). */
  runCrossDevice(now?: number): Promise<CrossDeviceRound>;
  /** The derived rated energies the engines use now (meter id → kWh per window). */
  ratedEnergy(): ReadonlyMap<string, number>;
  /** This instance's id in `analyzer_job_leases`. */
  readonly instanceId: string;
  readonly processor: PartitionProcessor;
}

export async function createAnalyzer(opts: AnalyzerOptions): Promise<Analyzer> {
  const log = opts.logger.child({ component: 'analyzer' });
  const telemetryTopic = opts.telemetryTopic ?? kafkaTopics.telemetry.name;
  const deviationTopic = opts.deviationTopic ?? kafkaTopics.deviation.name;
  const dlqTopic = opts.dlqTopic ?? kafkaTopics.telemetryDlq.name;
  const reviewDecisionTopic = opts.reviewDecisionTopic ?? kafkaTopics.reviewDecision.name;
  const videoAlarmTopic = opts.videoAlarmTopic ?? kafkaTopics.videoAlarm.name;
  const producer = createDurableProducer(opts.kafka, { logger: opts.logger });
  const clock = opts.clock ?? Date.now;
  const stopDeadlineMs = opts.stopDeadlineMs ?? 10_000;
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  let rated = await loadRatedEnergy(opts.pool);
  const registry = registryViewFromSnapshot(await loadRegistrySnapshot(opts.pool), rated);
  let consumer: BatchConsumer | undefined;
  let reviewConsumer: BatchConsumer | undefined;
  let videoConsumer: BatchConsumer | undefined;
  /** False from a consumer crash until a batch is handled again (a restart alone is not recovery). */
  let consumerHealthy = true;
  const limits = {
    maxBytes: opts.produceMaxBytes ?? 512 * 1024,
    maxRecords: opts.produceMaxRecords ?? 1000,
  };
  /** One request per chunk, one after another (order kept); each resolves once acknowledged by the ISR. */
  async function sendChunked(topic: string, messages: OutgoingMessage[]): Promise<void> {
    for (const chunk of chunkMessages(messages, limits)) await producer.send(topic, chunk);
  }

  async function sendDeviations(events: DeviationV1[]): Promise<void> {
    await sendChunked(
      deviationTopic,
      events.map((e) => kafkaMessage(kafkaTopics.deviation, e)),
    );
  }

  async function sendDlq(records: TelemetryDlqV1[]): Promise<void> {
    await sendChunked(
      dlqTopic,
      records.map((r) => kafkaMessage(kafkaTopics.telemetryDlq, r)),
    );
  }

  const processor = createPartitionProcessor({
    engineConfig: opts.engineConfig,
    registry,
    checkpoints: createPgCheckpointStore(opts.pool, opts.groupId),
    logger: opts.logger,
    allowedLatenessMs: opts.allowedLatenessMs,
    tickLagMs: opts.tickLagMs,
    checkpointIntervalMs: opts.checkpointIntervalMs,
    checkpointEveryRecords: opts.checkpointEveryRecords,
    handoffIntervalMs: opts.handoffIntervalMs ?? 0,
    rewind: (topic, partition, offset) => consumer?.consumer.seek({ topic, partition, offset }),
    clock,
    ...(opts.counters ? { counters: opts.counters } : {}),
    sinks: {
      deviations: sendDeviations,
      async aggregates(aggs) {
        await opts.influx.write(aggs.map((a) => toLine(aggregatePoint(a))));
      },
      async deviationLog(entries) {
        await recordDeviations(
          opts.pool,
          entries.map((e) => ({ output: e.output, rule: e.event.rule, severity: e.event.severity })),
        );
      },
      async lastSeen(byEnterprise, devices) {
        await recordLastSeen(opts.pool, byEnterprise);
        await recordDeviceReports(opts.pool, devices);
      },
      loadHours: (bySite) => markLateLoadHours(opts.pool, bySite, REREAD_MS),
      dlq: sendDlq,
    },
  });

  let listener: Listener | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;
  let checkpointTimer: NodeJS.Timeout | undefined;
  let ticking = false;
  let stopping = false;
  let checkpointing = false;

  async function reloadRegistry(): Promise<void> {
    const nextRated = await loadRatedEnergy(opts.pool);
    const view = registryViewFromSnapshot(await loadRegistrySnapshot(opts.pool), nextRated);
    await processor.setRegistry(view);
    rated = nextRated;
  }

  const jobs = {
    db: opts.pool,
    schema: opts.registrySchema,
    owner: instanceId,
    leaseMs: opts.jobLeaseMs ?? 60_000,
    logger: opts.logger,
  };
  const ratedJob = createScheduledJob({
    ...jobs,
    name: 'rated-energy',
    intervalMs: opts.ratedEnergy.intervalMs,
    async run() {
      const derived = await runRatedEnergyJob(
        {
          db: opts.pool,
          query: opts.query,
          bucket: opts.bucket,
          rated: { lookbackDays: opts.ratedEnergy.lookbackDays, minKwh: opts.ratedEnergy.minKwh },
          logger: opts.logger,
        },
        await loadRegistrySnapshot(opts.pool),
        clock(),
      );
      if (derived.size > 0) await reloadRegistry();
      return derived.size > 0;
    },
  });
  const stabilityJob = createScheduledJob({
    ...jobs,
    name: 'stability',
    intervalMs: opts.stability.intervalMs,
    // The window ends at the last full hour, whose aggregates close once the watermark (the allowed lateness
    // behind the data) passed it: start a minute after that.
    phaseMs: opts.allowedLatenessMs + 60_000,
    async run() {
      await runStabilityJob(
        {
          db: opts.pool,
          query: opts.query,
          bucket: opts.bucket,
          windowDays: opts.stability.windowDays,
          policy: opts.stability.policy,
          logger: opts.logger,
        },
        await loadRegistrySnapshot(opts.pool),
        clock(),
      );
      // The metrics live in Postgres only: nothing for the other instances to refresh.
      return false;
    },
  });

  /** A round over the registry as it is now that leaves nothing for the other instances to refresh. */
  const registryRound = (
    name: string,
    intervalMs: number,
    round: (snapshot: RegistrySnapshot, now: number) => Promise<unknown>,
    phaseMs?: number,
  ) =>
    createScheduledJob({
      ...jobs,
      name,
      intervalMs,
      ...(phaseMs !== undefined ? { phaseMs } : {}),
      async run() {
        await round(await loadRegistrySnapshot(opts.pool), clock());
        return false;
      },
    });

  const silentJob = registryRound('silent-devices', opts.silentDevices?.intervalMs ?? 0, (snapshot, now) =>
    runSilentDevicesJob(
      { db: opts.pool, engineConfig: opts.engineConfig, emit: sendDeviations, logger: opts.logger },
      snapshot,
      now,
    ),
  );

  /** What the rounds judging InfluxDB's hours need (annual loads, the cross-checks). */
  const hourRounds = {
    db: opts.pool,
    query: opts.query,
    bucket: opts.bucket,
    engineConfig: opts.engineConfig,
    allowedLatenessMs: opts.allowedLatenessMs,
    emit: sendDeviations,
    logger: opts.logger,
  };
  const annualLoadJob = registryRound(
    'annual-load',
    opts.annualLoad?.intervalMs ?? 0,
    (snapshot, now) => runAnnualLoadJob(hourRounds, snapshot, now),
    // The last whole hour's aggregates close once the watermark passed it (as for the stability round).
    opts.allowedLatenessMs + 120_000,
  );
  const productionEmissionJob = registryRound(
    'production-emission',
    opts.productionEmission?.intervalMs ?? 0,
    (snapshot, now) => runProductionEmissionJob(hourRounds, snapshot, now),
    // A day's last hour closes once the watermark passed it: shortly after Shanghai midnight (16:00 UTC) + the lateness.
    (16 * 3_600_000 + opts.allowedLatenessMs + 180_000) % (opts.productionEmission?.intervalMs || 86_400_000),
  );
  const peersJob = registryRound(
    'peers',
    opts.peers?.intervalMs ?? 0,
    (snapshot, now) => runPeersJob(hourRounds, snapshot, now),
    // The window ends at Shanghai midnight, as the production-emission round's day: a minute after that round.
    (16 * 3_600_000 + opts.allowedLatenessMs + 240_000) % (opts.peers?.intervalMs || 86_400_000),
  );
  const crossDeviceJob = registryRound(
    'cross-device',
    opts.crossDevice?.intervalMs ?? 0,
    (snapshot, now) => runCrossDeviceJob(hourRounds, snapshot, now),
    // The judged day closes at Shanghai midnight, as the production-emission round's: a minute after the peers round.
    (16 * 3_600_000 + opts.allowedLatenessMs + 300_000) % (opts.crossDevice?.intervalMs || 86_400_000),
  );

  return {
    processor,
    instanceId,
    ratedEnergy: () => rated,
    reloadRegistry,
    runStability: () => stabilityJob.runNow(),
    runRatedEnergy: () => ratedJob.runNow(),
    runSilentDevices: () => silentJob.runNow(),
    runAnnualLoad: () => annualLoadJob.runNow(),
    runProductionEmission: async (now = clock()) =>
      runProductionEmissionJob(hourRounds, await loadRegistrySnapshot(opts.pool), now),
    runPeers: async (now = clock()) => runPeersJob(hourRounds, await loadRegistrySnapshot(opts.pool), now),
    runCrossDevice: async (now = clock()) =>
      runCrossDeviceJob(hourRounds, await loadRegistrySnapshot(opts.pool), now),
    isRunning: () => consumerHealthy && (consumer?.isRunning() ?? false),
    async start() {
      await producer.connect();
      const reloadSoon = (why: unknown) => {
        // An import touches several tables: one reload after the burst.
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => {
          reloadRegistry().catch((err: unknown) => log.error({ err, why }, 'registry reload failed'));
        }, 200);
      };
      listener = await startRegistryListener({
        pool: opts.pool,
        schema: opts.registrySchema,
        onChange: (change) => reloadSoon(change),
        // Another instance derived rated energies: the engines here take them too.
        alsoListen: (client) =>
          listenJobDone(client, opts.registrySchema, (done) => {
            if (!done.changed || done.job !== 'rated-energy' || done.owner === instanceId) return;
            log.info({ owner: done.owner }, 'rated energy derived by another instance: reloading');
            reloadSoon(done);
          }),
        // Notifications sent while the connection was down are lost: reload once it is back.
        onResumed: () => reloadSoon('listen connection restored'),
        logger: opts.logger,
      });
      if (stopping) {
        await listener.stop();
        throw new Error('analyzer stopped while starting');
      }
      consumer = createBatchConsumer({
        kafka: opts.kafka,
        groupId: opts.groupId,
        topics: [telemetryTopic],
        logger: opts.logger,
        ...(opts.fetchMaxBytesPerPartition !== undefined
          ? { maxBytesPerPartition: opts.fetchMaxBytesPerPartition }
          : {}),
        ...(opts.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
        handle: async (batch) => {
          await processor.handleBatch(batch.topic, batch.partition, batch.messages, batch.heartbeat);
          consumerHealthy = true;
        },
        onAssignment: (assigned) => {
          processor
            .assigned(assigned)
            .catch((err: unknown) => log.error({ err }, 'assignment handling failed'));
        },
        // Until the next assignment the partitions may have another owner: no engine here may tick or
        // checkpoint them. The next batch restores from the checkpoint.
        onMembershipLost: (why) => {
          processor.assigned([]).catch((err: unknown) => log.error({ err, why }, 'dropping engines failed'));
        },
      });
      consumer.consumer.on(consumer.consumer.events.CRASH, (e) => {
        consumerHealthy = false;
        if (!e.payload.restart) {
          log.error({ err: e.payload.error }, 'Kafka consumer crashed and will not restart');
          opts.onFatal?.(e.payload.error);
        }
      });
      await consumer.start();
      reviewConsumer = createBatchConsumer({
        kafka: opts.kafka,
        groupId: `${opts.groupId}.review-decisions`,
        topics: [reviewDecisionTopic],
        logger: opts.logger,
        handle: createReviewDecisionIntake({
          db: opts.pool,
          dlq: sendDlq,
          logger: opts.logger,
          ...(opts.counters?.dlq ? { counters: { dlq: opts.counters.dlq } } : {}),
        }),
      });
      reviewConsumer.consumer.on(reviewConsumer.consumer.events.CRASH, (e) => {
        if (!e.payload.restart) {
          log.error({ err: e.payload.error }, 'review-decision consumer crashed and will not restart');
          opts.onFatal?.(e.payload.error);
        }
      });
      await reviewConsumer.start();
      videoConsumer = createBatchConsumer({
        kafka: opts.kafka,
        groupId: `${opts.groupId}.video-alarms`,
        topics: [videoAlarmTopic],
        logger: opts.logger,
        handle: createVideoAlarmIntake({
          db: opts.pool,
          emit: sendDeviations,
          dlq: sendDlq,
          logger: opts.logger,
          counters: {
            ...(opts.counters?.dlq ? { dlq: opts.counters.dlq } : {}),
            alarms: (outcome) => {
              if (outcome === 'opened') opts.counters?.deviations?.('opened', 1);
            },
          },
        }),
      });
      videoConsumer.consumer.on(videoConsumer.consumer.events.CRASH, (e) => {
        if (!e.payload.restart) {
          log.error({ err: e.payload.error }, 'video-alarm consumer crashed and will not restart');
          opts.onFatal?.(e.payload.error);
        }
      });
      await videoConsumer.start();
      // stop() ran while the group join was pending (the start deadline passed): leave, start no timers or jobs.
      if (stopping) {
        await Promise.all(
          [consumer, reviewConsumer, videoConsumer].map((c) =>
            c?.stop().catch((err: unknown) => log.warn({ err }, 'consumer stop after abandoned start')),
          ),
        );
        throw new Error('analyzer stopped while starting');
      }
      if (opts.tickIntervalMs > 0) {
        tickTimer = setInterval(() => {
          if (ticking) return;
          ticking = true;
          processor
            .tick()
            .catch((err: unknown) => log.error({ err }, 'tick failed'))
            .finally(() => (ticking = false));
        }, opts.tickIntervalMs);
      }
      if (opts.checkpointIntervalMs > 0) {
        // Writes the checkpoints that are due when no batch arrives to trigger them.
        checkpointTimer = setInterval(
          () => {
            if (checkpointing) return;
            checkpointing = true;
            processor
              .checkpointDue()
              .catch((err: unknown) => log.error({ err }, 'timed checkpoint failed'))
              .finally(() => (checkpointing = false));
          },
          Math.max(100, Math.floor(opts.checkpointIntervalMs / 2)),
        );
      }
      ratedJob.start();
      stabilityJob.start();
      silentJob.start();
      annualLoadJob.start();
      productionEmissionJob.start();
      peersJob.start();
      crossDeviceJob.start();
    },
    async stop() {
      stopping = true;
      // First: a batch in progress stops at the next record, so the consumer can leave the group promptly.
      processor.stop();
      clearInterval(tickTimer);
      clearInterval(checkpointTimer);
      clearTimeout(reloadTimer);
      await Promise.all([
        ratedJob.stop(stopDeadlineMs),
        stabilityJob.stop(stopDeadlineMs),
        silentJob.stop(stopDeadlineMs),
        annualLoadJob.stop(stopDeadlineMs),
        productionEmissionJob.stop(stopDeadlineMs),
        peersJob.stop(stopDeadlineMs),
        crossDeviceJob.stop(stopDeadlineMs),
      ]);
      await withTimeout(
        Promise.all([consumer?.stop(), reviewConsumer?.stop(), videoConsumer?.stop()]),
        stopDeadlineMs,
        'consumer stop',
      ).catch((err: unknown) => log.warn({ err }, 'consumer did not stop in time'));
      // What was processed since the last checkpoint: saved now, so a restart does not replay it.
      await withTimeout(processor.checkpointDue(true), stopDeadlineMs, 'final checkpoints').catch(
        (err: unknown) => log.warn({ err }, 'final checkpoints incomplete: the next start replays'),
      );
      await listener?.stop();
      await withTimeout(producer.disconnect(), stopDeadlineMs, 'producer disconnect');
    },
  };
}
