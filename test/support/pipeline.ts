/**
 * Flow helpers: one isolated pipeline per test file on the shared servers — topics under a unique
 * prefix, a Postgres schema with the store migrations and a registry, an InfluxDB database — and the
 * services (`services/<name>/src/main.ts`) as child processes configured through their env.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Kafka } from 'kafkajs';
import { kafkaTopics } from '@offsite/contracts';
import { createInfluxClient, ensureDatabase1x } from '@offsite/influx';
import { createKafkaClient, ensureTopics } from '@offsite/kafka';
import { redisConnectionOptions } from '@offsite/runtime';
import { createPgPool, importRegistry, runMigrations, type RegistryFile } from '@offsite/store';
import { requireEnv, serviceNodeArgs, serviceNodeFlags, silentLogger } from '@offsite/testing';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export const hasMain = (service: string) => existsSync(join(repoRoot, 'services', service, 'src', 'main.ts'));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface Pipeline {
  readonly id: string;
  readonly prefix: string;
  readonly schema: string;
  readonly influxDb: string;
  readonly kafka: Kafka;
  readonly pool: pg.Pool;
  readonly registryPath: string;
  /** The servers it runs on (their addresses and credentials). */
  readonly servers: ServerEnv;
  /** Its Kafka topics (prefixed names). */
  readonly topics: readonly string[];
  topic(name: string): string;
  /** Env of every service: servers, schema, bucket, topics of this pipeline. */
  env(service: string): Record<string, string>;
  cleanup(): Promise<void>;
}

/** Server addresses and credentials, as `.offsite/env` names them (the process's own env by default). */
export type ServerEnv = Readonly<Record<string, string | undefined>>;

/** The value of `name` in `servers`, or an error naming what is missing. */
export function serverSetting(servers: ServerEnv, name: string): string {
  if (servers === process.env) return requireEnv(name);
  const v = servers[name];
  if (!v) throw new Error(`${name} is not set in the servers' env file`);
  return v;
}

/** An env file of `offsite-infra up` (`NAME=value` lines, `#` comments). */
export async function readServerEnv(path: string): Promise<ServerEnv> {
  const env: Record<string, string> = {};
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** A pipeline on the servers of `servers` (default: those of the process's env, i.e. OFFSITE_ENV_FILE's). */
export async function createPipeline(
  registry: RegistryFile,
  servers: ServerEnv = process.env,
): Promise<Pipeline> {
  const need = (name: string) => serverSetting(servers, name);
  const id = randomBytes(4).toString('hex');
  const prefix = `flow-${id}.`;
  const schema = `test_flow_${id}`;
  const influxDb = `flow_${id}`;
  const registryPath = join(tmpdir(), `offsite-flow-${id}.json`);
  await writeFile(registryPath, JSON.stringify(registry));

  const url = need('OFFSITE_PG_URL');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  // The store's pool: an idle connection the chaos run's Postgres restart terminates is logged, not thrown.
  const pool = createPgPool({ url, schema, max: 3, logger: silentLogger });
  await runMigrations(pool, { logger: silentLogger });
  await importRegistry(pool, { path: registryPath }, { logger: silentLogger });

  const influx = createInfluxClient(
    {
      url: need('OFFSITE_INFLUX_URL'),
      token: servers.OFFSITE_INFLUX_TOKEN ?? '',
      org: '-',
      bucket: influxDb,
    },
    silentLogger,
  );
  await ensureDatabase1x(influx, influxDb);

  const kafka = createKafkaClient({
    brokers: need('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: `flow-${id}`,
    logger: silentLogger,
  });
  const topics = [
    kafkaTopics.telemetry,
    kafkaTopics.telemetryDlq,
    kafkaTopics.telemetryLate,
    kafkaTopics.hj212Raw,
    kafkaTopics.deviation,
    kafkaTopics.notification,
    kafkaTopics.reviewDecision,
    kafkaTopics.messageRequest,
    kafkaTopics.hj212Command,
    kafkaTopics.complaintIntake,
  ];
  // The cluster's env file sets OFFSITE_KAFKA_REPLICATION_FACTOR=3 (a broker may die); one broker: 1.
  const replicationFactor = Number(servers.OFFSITE_KAFKA_REPLICATION_FACTOR ?? 1);
  await ensureTopics(
    kafka,
    topics.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions, replicationFactor })),
  );
  const topic = (name: string) => `${prefix}${name}`;

  const common: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    OFFSITE_LOG_LEVEL: 'warn',
    OFFSITE_KAFKA_BROKERS: need('OFFSITE_KAFKA_BROKERS'),
    OFFSITE_PG_URL: url,
    OFFSITE_PG_SCHEMA: schema,
    OFFSITE_INFLUX_URL: need('OFFSITE_INFLUX_URL'),
    OFFSITE_INFLUX_TOKEN: servers.OFFSITE_INFLUX_TOKEN ?? '',
    OFFSITE_INFLUX_ORG: '-',
    OFFSITE_INFLUX_BUCKET: `${influxDb}/autogen`,
    OFFSITE_REDIS_URL: need('OFFSITE_REDIS_URL'),
    OFFSITE_MQTT_URL: need('OFFSITE_MQTT_URL'),
    OFFSITE_MQTT_USERNAME: need('OFFSITE_MQTT_USERNAME'),
    OFFSITE_MQTT_PASSWORD: need('OFFSITE_MQTT_PASSWORD'),
  };
  const perService: Record<string, Record<string, string>> = {
    'hj212-gateway': {
      OFFSITE_KAFKA_TOPIC_PREFIX: prefix,
      OFFSITE_HJ212_COMMANDS_GROUP_ID: `flow-gw-commands-${id}`,
    },
    'influx-writer': {
      OFFSITE_TELEMETRY_TOPIC: topic('telemetry.v1'),
      OFFSITE_DLQ_TOPIC: topic('telemetry.dlq.v1'),
      OFFSITE_WRITER_LATE_TOPIC: topic('telemetry.late.v1'),
      OFFSITE_INFLUX_WRITER_GROUP: `flow-writer-${id}`,
    },
    'mqtt-ingestor': {
      OFFSITE_TELEMETRY_TOPIC: topic('telemetry.v1'),
      OFFSITE_DLQ_TOPIC: topic('telemetry.dlq.v1'),
      OFFSITE_MQTT_CLIENT_ID: `flow-${id}`,
    },
    alerter: {
      OFFSITE_ALERTER_TOPIC_PREFIX: prefix,
      OFFSITE_ALERTER_GROUP_ID: `flow-alerter-${id}`,
      OFFSITE_ALERTER_QUEUE_PREFIX: `flow-${id}`,
    },
    console: {
      OFFSITE_CONSOLE_REVIEW_DECISION_TOPIC: topic('review.decision.v1'),
      OFFSITE_CONSOLE_MESSAGE_REQUEST_TOPIC: topic('message.request.v1'),
      OFFSITE_CONSOLE_HJ212_COMMAND_TOPIC: topic('hj212.command.v1'),
      OFFSITE_CONSOLE_LATE_DATA_TOPIC: topic('telemetry.late.v1'),
      OFFSITE_CONSOLE_COMPLAINT_INTAKE_TOPIC: topic('complaint.intake.v1'),
      OFFSITE_CONSOLE_GROUP_ID: `flow-console-${id}`,
      OFFSITE_CONSOLE_DLQ_TOPIC: topic('telemetry.dlq.v1'),
    },
    analyzer: {
      OFFSITE_ANALYZER_TELEMETRY_TOPIC: topic('telemetry.v1'),
      OFFSITE_ANALYZER_DEVIATION_TOPIC: topic('deviation.v1'),
      OFFSITE_ANALYZER_DLQ_TOPIC: topic('telemetry.dlq.v1'),
      OFFSITE_ANALYZER_GROUP_ID: `flow-analyzer-${id}`,
      OFFSITE_ANALYZER_REVIEW_DECISION_TOPIC: topic('review.decision.v1'),
      // Historical event time: the watermark follows the data only.
      OFFSITE_ANALYZER_TICK_INTERVAL_MS: '0',
    },
  };

  return {
    id,
    prefix,
    schema,
    influxDb,
    kafka,
    pool,
    registryPath,
    servers,
    topics: topics.map((t) => topic(t.name)),
    topic,
    env: (service) => ({ ...common, ...(perService[service] ?? {}) }),
    async cleanup() {
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: topics.map((t) => topic(t.name)) }).catch(() => undefined);
      await a.disconnect();
      await pool.end();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
      await influx.transport
        .request(`/query?q=${encodeURIComponent(`DROP DATABASE "${influxDb}"`)}`, '', { method: 'POST' })
        .catch(() => undefined);
      // BullMQ keys of this pipeline's alerter (queue prefix flow-<id>).
      const redis = new Redis({
        ...redisConnectionOptions(need('OFFSITE_REDIS_URL')),
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `flow-${id}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly opsPort: number;
  /** Last lines of stderr+stdout, for failure messages. */
  tail(): string;
  waitReady(ms?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `services/<name>` from its sources (its `npm run dev`), or with `release` from an unpacked
 * release archive's copy of it, as production runs it: `node [its npm start flags] dist/main.js`
 * (`release.node`: that node binary instead of the test's own).
 */
export function startService(
  name: string,
  env: Record<string, string>,
  opsPort: number,
  release?: { dir: string; node?: string },
): ServiceProcess {
  const source = join(repoRoot, 'services', name);
  const args = release ? [...serviceNodeFlags(source), 'dist/main.js'] : serviceNodeArgs(source);
  const child = spawn(release?.node ?? process.execPath, args, {
    cwd: release ? release.dir : source,
    env: {
      ...env,
      OFFSITE_OPS_PORT: String(opsPort),
      ...(process.env.OFFSITE_FLOW_LOG_LEVEL
        ? { OFFSITE_LOG_LEVEL: process.env.OFFSITE_FLOW_LOG_LEVEL }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // OFFSITE_FLOW_LOG_DIR keeps every service's whole output (<dir>/<service>-<pid>.log) for diagnosis.
  const file = process.env.OFFSITE_FLOW_LOG_DIR
    ? createWriteStream(join(process.env.OFFSITE_FLOW_LOG_DIR, `${name}-${child.pid}.log`))
    : null;
  const keep = (d: Buffer) => {
    file?.write(d);
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => file?.end());
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    opsPort,
    tail: () => out,
    async waitReady(ms = 90_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}:\n${out}`);
        try {
          const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`, {
            signal: AbortSignal.timeout(1000),
          });
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`${name} not ready within ${ms} ms:\n${out}`);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Records a consumer group still has to read on a topic. */
export async function lag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [high, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
    );
    return high.reduce((a, p) => a + Number(p.high) - Math.max(Number(p.low), done.get(p.partition) ?? 0), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every record of a topic (from the beginning to the high watermarks at call time), parsed as JSON. */
export async function readAll<T>(kafka: Kafka, topic: string): Promise<T[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((a, o) => a + Number(o.high) - Number(o.low), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `flow-read-${randomBytes(4).toString('hex')}` });
  const out: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${out.length}/${total} of ${topic}`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.value) out.push(JSON.parse(message.value.toString()) as T);
            if (out.length >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
