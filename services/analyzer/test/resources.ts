// Names of a test's own Postgres schema, Kafka topics and InfluxDB database, and their removal.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { makeConfig } from '@offsite/domain';
import {
  createInfluxClient,
  createInfluxWriter,
  ensureDatabase1x,
  queryInfluxQL,
  type InfluxWriter,
} from '@offsite/influx';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { importRegistry, runMigrations } from '@offsite/store';
import { requireEnv, silentLogger } from '@offsite/testing';
import type { DeviationV1 } from '@offsite/contracts';
import type { Consumer, Kafka } from 'kafkajs';
import pg from 'pg';
import type { AnalyzerOptions } from '../src/app.js';

export function testResources(name: string) {
  const suffix = randomBytes(4).toString('hex');
  const influxDb = `test_analyzer_${name}_${suffix}`;
  const bucket = `${influxDb}/autogen`;
  return {
    suffix,
    schema: `test_analyzer_${name}_${suffix}`,
    telemetryTopic: `test.analyzer-${name}.telemetry.${suffix}`,
    deviationTopic: `test.analyzer-${name}.deviation.${suffix}`,
    dlqTopic: `test.analyzer-${name}.dlq.${suffix}`,
    reviewTopic: `test.analyzer-${name}.review.${suffix}`,
    videoAlarmTopic: `test.analyzer-${name}.video-alarm.${suffix}`,
    influxDb,
    bucket,
    influxConn: () => ({
      url: requireEnv('OFFSITE_INFLUX_URL'),
      token: process.env.OFFSITE_INFLUX_TOKEN ?? '',
      org: process.env.OFFSITE_INFLUX_ORG ?? '-',
      bucket,
    }),
  };
}

export type TestResources = ReturnType<typeof testResources>;

/** Deletes the topics, drops the schema and the InfluxDB database (best effort for the topics and the database). */
export async function dropResources(kafka: Kafka, r: TestResources): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({
      topics: [r.telemetryTopic, r.deviationTopic, r.dlqTopic, r.reviewTopic, r.videoAlarmTopic],
    })
    .catch(() => undefined);
  await admin.disconnect();
  const c = new pg.Client({ connectionString: requireEnv('OFFSITE_PG_URL') });
  await c.connect();
  await c.query(`drop schema if exists ${r.schema} cascade`);
  await c.end();
  await createInfluxClient(r.influxConn(), silentLogger)
    .transport.request(`/query?q=${encodeURIComponent(`DROP DATABASE "${r.influxDb}"`)}`, '', {
      method: 'POST',
    })
    .catch(() => undefined);
}

export interface TestServers {
  kafka: Kafka;
  pool: pg.Pool;
  influx: ReturnType<typeof createInfluxClient>;
  writer: InfluxWriter;
}

/**
 * The test's schema with a registry of `registry/` (default the example's), its InfluxDB database and its topics
 * (telemetry in 2 partitions).
 */
export async function openTestServers(
  r: TestResources,
  clientId: string,
  registryFile: 'example.yaml' | 'demo.yaml' = 'example.yaml',
): Promise<TestServers> {
  const kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId,
    logger: silentLogger,
  });
  const url = requireEnv('OFFSITE_PG_URL');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${r.schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${r.schema}`, max: 4 });
  await runMigrations(pool, { logger: silentLogger });
  const registry = fileURLToPath(new URL(`../../../registry/${registryFile}`, import.meta.url));
  await importRegistry(pool, { path: registry }, { logger: silentLogger });
  const influx = createInfluxClient(r.influxConn(), silentLogger);
  await ensureDatabase1x(influx, r.influxDb);
  const writer = createInfluxWriter({ ...r.influxConn(), logger: silentLogger });
  await ensureTopics(kafka, [
    { topic: r.telemetryTopic, numPartitions: 2 },
    { topic: r.deviationTopic, numPartitions: 1 },
    { topic: r.dlqTopic, numPartitions: 1 },
    { topic: r.reviewTopic, numPartitions: 1 },
    { topic: r.videoAlarmTopic, numPartitions: 1 },
  ]);
  return { kafka, pool, influx, writer };
}

/**
 * An in-process analyzer on the test's servers as the job tests run it: no wall-clock tick, a checkpoint after every
 * batch, every scheduled round off (the tests run them with runStability() and the like).
 */
export function jobTestAnalyzerOptions(
  r: TestResources,
  s: TestServers,
  group: string,
): Omit<AnalyzerOptions, 'logger' | 'clock'> {
  return {
    kafka: s.kafka,
    pool: s.pool,
    registrySchema: r.schema,
    influx: s.writer,
    engineConfig: makeConfig(),
    groupId: `g-${group}-${r.suffix}`,
    telemetryTopic: r.telemetryTopic,
    deviationTopic: r.deviationTopic,
    dlqTopic: r.dlqTopic,
    reviewDecisionTopic: r.reviewTopic,
    videoAlarmTopic: r.videoAlarmTopic,
    allowedLatenessMs: 10 * 60_000,
    tickLagMs: 15 * 60_000,
    tickIntervalMs: 0,
    checkpointIntervalMs: 0,
    checkpointEveryRecords: 0,
    query: (b, q) => queryInfluxQL(s.influx, b, q),
    bucket: r.bucket,
    stability: { intervalMs: 0, windowDays: 2, policy: { minEffectiveTransmissionRate: 0.9 } },
    ratedEnergy: { intervalMs: 0, lookbackDays: 60, minKwh: 0.2 },
    silentDevices: { intervalMs: 0 },
  };
}

/** Produces durably (idempotent, acks from every in-sync replica). */
export async function produceTo(
  kafka: Kafka,
  topic: string,
  messages: { key: string; value: string }[],
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Stops the analyzer and the test's consumer, closes the pool and drops the test's resources. */
export async function closeTestServers(
  r: TestResources,
  s: { kafka: Kafka; pool: pg.Pool },
  analyzer: { stop(): Promise<void> } | undefined,
  collector: { disconnect(): Promise<void> } | undefined,
): Promise<void> {
  await analyzer?.stop();
  await collector?.disconnect();
  await s.pool.end();
  await dropResources(s.kafka, r);
}

/** A consumer of the test's deviation.v1 topic from its beginning that pushes every event onto `events`. */
export async function collectDeviations(
  kafka: Kafka,
  r: TestResources,
  events: DeviationV1[],
): Promise<Consumer> {
  const collector = kafka.consumer({ groupId: `test-collector-${r.suffix}` });
  await collector.connect();
  await collector.subscribe({ topics: [r.deviationTopic], fromBeginning: true });
  await collector.run({
    eachMessage: async ({ message }) =>
      void events.push(JSON.parse(message.value!.toString()) as DeviationV1),
  });
  return collector;
}
