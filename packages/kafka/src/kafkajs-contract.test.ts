// The contract between the fast paths and KafkaJS: with them installed, the produce path KafkaJS runs
// (its grouping by partition and the Produce request of every version the brokers take) writes the same
// bytes as KafkaJS as it ships, for batches like the ingestors'. The decoding side is KafkaJS's own (the
// replacements are all on the encoding side).
import { jest } from '@jest/globals';
import { createRequire } from 'node:module';
import { installKafkajsFastPaths, kafkajsOriginals } from './kafkajs-fast.js';
import { memoisedDefaultPartitioner } from './producer.js';
import { telemetry } from '../test/telemetry-batch.js';

// Installed into this file's module registry before anything here loads KafkaJS, as a composition root does.
const installed = installKafkajsFastPaths();
const require = createRequire(import.meta.url);

interface Encoded {
  buffer: Buffer;
}
type ProduceProtocol = {
  protocol(v: { version: number }): (args: unknown) => { request: { encode(): Promise<Encoded> } };
};
type Group = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: unknown;
}) => Record<number, unknown[]>;
type Long = { fromValue(v: unknown): unknown };

const load = () => ({
  produce: require('kafkajs/src/protocol/requests/produce/index.js') as ProduceProtocol,
  group: require('kafkajs/src/producer/groupMessagesPerPartition.js') as Group,
  Long: require('kafkajs/src/utils/long.js') as Long,
});
const patched = load();
// KafkaJS as it ships: a module registry of its own, in which nothing is replaced.
let pristine!: ReturnType<typeof load>;
jest.isolateModules(() => {
  pristine = load();
});

/** What KafkaJS's producer does with one topic's messages: group by partition, then build the topic data. */
function topicData(group: Group, topic: string, messages: unknown[], partitions: number) {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
  }));
  const byPartition = group({
    topic,
    partitionMetadata,
    messages,
    partitioner: memoisedDefaultPartitioner(),
  });
  return {
    byPartition,
    data: [
      {
        topic,
        partitions: Object.keys(byPartition).map((p, n) => ({
          partition: Number(p),
          firstSequence: n * 1000,
          messages: byPartition[Number(p)]!,
        })),
      },
    ],
  };
}

const batches = {
  'the mqtt-ingestor: 1,700 events over 6 partitions, no timestamps': () =>
    Array.from({ length: 1700 }, (_, i) => telemetry(i, 300)),
  'timestamps given (the analyzer, the gateway)': () =>
    Array.from({ length: 400 }, (_, i) => ({
      ...telemetry(i, 40),
      timestamp: String(1_772_323_200_000 + i * 7),
    })),
  // A null key goes to a partition the default partitioner picks at random: this one names its partition.
  'Buffer values and a null key': () =>
    Array.from({ length: 50 }, (_, i) => ({
      key: i === 3 ? null : `k${i % 5}`,
      value: Buffer.from(telemetry(i, 5).value),
      ...(i === 3 ? { partition: 2 } : {}),
    })),
  'headers (the DLQ, notification events): the original encoder runs': () =>
    Array.from({ length: 30 }, (_, i) => ({
      ...telemetry(i, 3),
      headers: { 'offsite-schema': 'telemetry.v1' },
    })),
};

describe('KafkaJS with the fast paths installed writes what KafkaJS as it ships writes', () => {
  test('every replacement is in force in the registry KafkaJS loads from', () => {
    expect(installed).toEqual({
      groupMessagesPerPartition: true,
      record: true,
      crc32C: true,
      produceRequest: true,
    });
    expect(patched.group).not.toBe(kafkajsOriginals.groupMessagesPerPartition);
    expect(pristine.group).not.toBe(patched.group);
  });

  for (const [name, make] of Object.entries(batches))
    test(name, async () => {
      const messages = make();
      const fast = topicData(patched.group, 'telemetry.v1', messages, 6);
      const slow = topicData(pristine.group, 'telemetry.v1', messages, 6);
      expect(fast.byPartition).toEqual(slow.byPartition);
      const realNow = Date.now;
      Date.now = () => 1_772_323_260_000; // both encoders stamp unstamped batches with the clock
      try {
        // Kafka 4 takes Produce v3–v7; KafkaJS negotiates v7 with it and with 3.9.
        for (const version of [3, 4, 5, 6, 7]) {
          for (const producerId of [undefined, 4242]) {
            const args = (L: Long) => ({
              acks: -1,
              timeout: 30_000,
              compression: 0,
              topicData: fast.data,
              ...(producerId === undefined ? {} : { producerId: L.fromValue(producerId), producerEpoch: 3 }),
            });
            const a = await patched.produce.protocol({ version })(args(patched.Long)).request.encode();
            const b = await pristine.produce.protocol({ version })(args(pristine.Long)).request.encode();
            expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
          }
        }
      } finally {
        Date.now = realNow;
      }
    });
});
