import { Partitioners } from 'kafkajs';
import { memoisedDefaultPartitioner } from './producer.js';

const meta = (n: number) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

describe('memoisedDefaultPartitioner', () => {
  it('chooses the partition the default partitioner chooses, for every key, topic and partition count, twice', () => {
    const memo = memoisedDefaultPartitioner();
    const plain = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 6, 12])
      for (const topic of ['telemetry.v1', 'hj212.raw.v1'])
        for (let i = 0; i < 300; i++)
          for (let round = 0; round < 2; round++) {
            const args = { topic, partitionMetadata: meta(n), message: { key: `ent-${i}`, value: 'x' } };
            expect(memo(args)).toBe(plain(args));
          }
  });

  it('keeps an explicit partition', () => {
    const memo = memoisedDefaultPartitioner();
    expect(
      memo({ topic: 't', partitionMetadata: meta(6), message: { key: 'k', value: 'v', partition: 4 } }),
    ).toBe(4);
  });
});
