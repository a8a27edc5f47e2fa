import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBatchConsumer, createKafkaClient, ensureTopics, type ConsumedMessage } from './index.js';
import { requireEnv, silentLogger, until } from '@offsite/testing';

// The fast paths write Produce v3–v7 requests themselves (KafkaJS picks the highest version the broker
// offers, v7 on 3.9 and 4.x). Each version is sent from a plain Node process, where the replacements are
// in force, and what the broker stored is read back with a consumer.
describe('produce requests written by the KafkaJS fast paths, against the real broker', () => {
  const brokers = requireEnv('OFFSITE_KAFKA_BROKERS').split(',');
  const kafka = createKafkaClient({ brokers, clientId: 'kafka-versions-test', logger: silentLogger });
  const topic = `test.kafka.versions.${randomUUID()}`;

  beforeAll(async () => {
    await ensureTopics(kafka, [{ topic, numPartitions: 1 }]);
  });
  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('the broker accepts v3 to v7 and stores the records as sent', async () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // Jest's flags are not a service's
    const out = execFileSync(
      process.execPath,
      ['--conditions=offsite-source', '--import', 'tsx', 'test/produce-versions.ts', brokers[0]!, topic],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), env, encoding: 'utf8' },
    );
    const report = JSON.parse(out) as {
      fast: Record<string, boolean>;
      produce: [number, number];
      results: {
        version: number;
        errorCode: number | null;
        baseOffset: string | null;
        error: string | null;
      }[];
    };
    expect(report.fast).toEqual({
      groupMessagesPerPartition: true,
      record: true,
      crc32C: true,
      produceRequest: true,
    });
    // Kafka 4 refuses Produce v0–v2 (it still lists v0 in ApiVersions, for old clients' version checks).
    expect(report.produce[0]).toBeLessThanOrEqual(3);
    expect(report.produce[1]).toBeGreaterThanOrEqual(7);
    expect(report.results).toEqual(
      [3, 4, 5, 6, 7].map((version, i) => ({
        version,
        errorCode: 0,
        baseOffset: String(i * 3),
        error: null,
      })),
    );

    const got: ConsumedMessage[] = [];
    const consumer = createBatchConsumer({
      kafka,
      groupId: `g-${randomUUID()}`,
      topics: [topic],
      logger: silentLogger,
      handle: async (batch) => {
        got.push(...batch.messages);
      },
    });
    await consumer.start();
    await until(() => got.length >= 15, 30_000, '15 records');
    await consumer.stop();
    expect(got.map((m) => [m.key?.toString(), JSON.parse(m.value!.toString())])).toEqual(
      [3, 4, 5, 6, 7].flatMap((version) =>
        [0, 1, 2].map((i) => [`v${version}-k${i}`, { version, i, text: '非现场监管' }]),
      ),
    );
  });
});
