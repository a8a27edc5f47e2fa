// Smoke suite: every real server that `offsite-infra up` starts answers through the client the
// project uses for it. Deeper behaviour is covered by each adapter's own integration tests.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import pg from 'pg';
import { createBatchConsumer, createDurableProducer, createKafkaClient, ensureTopics } from '@offsite/kafka';
import {
  createInfluxClient,
  createInfluxWriter,
  ensureDatabase1x,
  flux,
  queryRows,
  toLine,
} from '@offsite/influx';
import { requireEnv, silentLogger, until } from '@offsite/testing';

const run = randomUUID().slice(0, 8);

test('Postgres answers a parameterised query', async () => {
  const pool = new pg.Pool({ connectionString: requireEnv('OFFSITE_PG_URL'), max: 1 });
  try {
    const { rows } = await pool.query<{ echo: string; tz: string }>(
      "select $1::text as echo, current_setting('TimeZone') as tz",
      [run],
    );
    expect(rows[0]?.echo).toBe(run);
  } finally {
    await pool.end();
  }
});

test('MQTT 5 QoS 1 round trip through Mosquitto with the service account', async () => {
  const opts = {
    protocolVersion: 5 as const,
    username: requireEnv('OFFSITE_MQTT_USERNAME'),
    password: requireEnv('OFFSITE_MQTT_PASSWORD'),
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  };
  const sub = await mqtt.connectAsync(requireEnv('OFFSITE_MQTT_URL'), {
    ...opts,
    clientId: `smoke-sub-${run}`,
  });
  const pub = await mqtt.connectAsync(requireEnv('OFFSITE_MQTT_URL'), {
    ...opts,
    clientId: `smoke-pub-${run}`,
  });
  try {
    const topic = `offsite/v1/smoke-${run}/meters/m1/energy`;
    const received: { text: string; qos: number }[] = [];
    sub.on('message', (_t, payload, pkt) => received.push({ text: payload.toString(), qos: pkt.qos }));
    await sub.subscribeAsync(topic, { qos: 1 });
    // publishAsync resolves at QoS 1 only once the broker's PUBACK arrived.
    await pub.publishAsync(topic, JSON.stringify({ run }), { qos: 1 });
    await until(() => received.length === 1, 5_000, 'the MQTT message');
    expect(JSON.parse(received[0]!.text)).toEqual({ run });
    expect(received[0]!.qos).toBe(1);
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }
});

test('a BullMQ job enqueued with a fixed id runs once on a real Redis', async () => {
  const url = new URL(requireEnv('OFFSITE_REDIS_URL'));
  // Connection options, not instances: BullMQ then owns its connections and closes them.
  const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
  const name = `smoke-${run}`;
  const queue = new Queue(name, { connection });
  const done: Job[] = [];
  const worker = new Worker(name, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
    connection,
  });
  worker.on('completed', (job) => done.push(job));
  const admin = new Redis(url.toString());
  try {
    await queue.add('double', { n: 21 }, { jobId: 'same-id' });
    await queue.add('double', { n: 21 }, { jobId: 'same-id' }); // deduplicated by id
    await until(() => done.length >= 1, 10_000, 'the job');
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toHaveLength(1);
    expect(done[0]?.returnvalue).toEqual({ doubled: 42 });
    expect(await admin.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await admin.quit();
  }
});

test('Kafka: produce and consume in a consumer group through the kafka package', async () => {
  const kafka = createKafkaClient({
    brokers: requireEnv('OFFSITE_KAFKA_BROKERS').split(','),
    clientId: 'smoke',
    logger: silentLogger,
  });
  const topic = `smoke.${run}`;
  await ensureTopics(kafka, [{ topic, numPartitions: 2 }]);
  const producer = createDurableProducer(kafka, { logger: silentLogger });
  await producer.connect();
  await producer.send(topic, [{ key: 'ent-1', value: 'hello' }]);
  await producer.disconnect();
  const got: string[] = [];
  const consumer = createBatchConsumer({
    kafka,
    groupId: `smoke-${run}`,
    topics: [topic],
    logger: silentLogger,
    handle: async (b) => {
      got.push(...b.messages.map((m) => m.value!.toString()));
    },
  });
  await consumer.start();
  try {
    await until(() => got.length === 1, 30_000, 'the Kafka message');
    expect(got).toEqual(['hello']);
  } finally {
    await consumer.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }
});

test('InfluxDB: write through the influx package and read back with Flux', async () => {
  const conn = {
    url: requireEnv('OFFSITE_INFLUX_URL'),
    token: requireEnv('OFFSITE_INFLUX_TOKEN'),
    org: process.env.OFFSITE_INFLUX_ORG ?? '',
    bucket: requireEnv('OFFSITE_INFLUX_BUCKET'),
  };
  const client = createInfluxClient(conn, silentLogger);
  await ensureDatabase1x(client, conn.bucket.split('/')[0]!);
  await createInfluxWriter({ ...conn, logger: silentLogger }, client).write([
    toLine({ measurement: 'smoke', tags: { run }, fields: { v: 42.5 }, timeSeconds: 1_700_000_000 }),
  ]);
  const rows = await queryRows<{ _value: number }>(
    client,
    conn.org,
    flux`from(bucket: ${conn.bucket}) |> range(start: 2023-11-01T00:00:00Z, stop: 2023-12-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "smoke" and r.run == ${run})`,
  );
  expect(rows.map((r) => r._value)).toEqual([42.5]);
});

test('offsite-infra: a KRaft cluster id never starts with "-", which StorageTool would read as an option', () => {
  const script = new URL('../infra/kafka/cluster-id.sh', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'offsite-cluster-id-'));
  try {
    // A file left by a format that failed on such an id is replaced; 500 fresh ids (about 8 would start
    // with '-' if nothing prevented it) are all usable.
    const out = execFileSync(
      'bash',
      [
        '-c',
        `set -euo pipefail; . "$1"; f=$2/id
      printf '%s' -AAAAAAAAAAAAAAAAAAAAA >"$f"; ensure_kafka_cluster_id "$f"; cat "$f"; echo
      for i in $(seq 500); do rm -f "$f"; ensure_kafka_cluster_id "$f"; cat "$f"; echo; done`,
        'cluster-id',
        script,
        dir,
      ],
      {
        encoding: 'utf8',
      },
    );
    const ids = out.trim().split('\n');
    expect(ids).toHaveLength(501);
    expect(ids[0]).not.toBe('-AAAAAAAAAAAAAAAAAAAAA');
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
