import fc from 'fast-check';
import {
  crc32C,
  groupMessagesPerPartition,
  installKafkajsFastPaths,
  kafkajsOriginals,
  makeProduceRequest,
  makeRecordEncoder,
} from './kafkajs-fast.js';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// Installed into this test file's module registry, before anything here loads KafkaJS (it fills
// kafkajsOriginals, which the tests compare against).
installKafkajsFastPaths();
const require = createRequire(import.meta.url);
const encoderPrototype = (require('kafkajs/src/protocol/encoder.js') as { prototype: object }).prototype;
type Enc = { buffer: Buffer };
const original = kafkajsOriginals.record!;
const fast = makeRecordEncoder(original, encoderPrototype);
const bytes = (e: unknown) => Buffer.from((e as Enc).buffer);

describe('KafkaJS fast paths are byte-identical to the originals', () => {
  test('record v0: strings (any Unicode), Buffers, null keys, offset and timestamp deltas', () => {
    const keyOrValue = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ maxLength: 2000 }),
      fc.uint8Array({ maxLength: 1200 }).map((a) => Buffer.from(a)),
      fc.constant(null),
      fc.constant(undefined),
    );
    const delta = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
      fc.maxSafeInteger(),
    );
    fc.assert(
      fc.property(keyOrValue, keyOrValue, fc.nat({ max: 100_000 }), delta, (key, value, offsetDelta, ts) => {
        const args = { key, value, offsetDelta, timestampDelta: ts };
        expect(bytes(fast(args))).toEqual(bytes(original(args)));
      }),
      { numRuns: 3_000 },
    );
  });

  test('record v0: a telemetry event, a record with headers and one with defaults', () => {
    const value = JSON.stringify({ schema: 'telemetry.v1', enterpriseId: 'ent-1', note: '青澜市' });
    for (const args of [
      { key: 'ent-1', value, offsetDelta: 1699, timestampDelta: 0 },
      { key: 'ent-1', value, headers: { a: 'b', c: ['d', 'e'] } },
      { key: 'ent-1', value, headers: {} },
      { value },
      { key: 'k', value: 'v', timestampDelta: 2 ** 30 },
      { key: 'k', value: 'v', timestampDelta: -(2 ** 30) },
    ])
      expect(bytes(fast(args))).toEqual(bytes(original(args)));
    // The record encoder is the KafkaJS Encoder the record batch expects.
    const e = fast({ key: 'k', value: 'v' }) as unknown as { size(): number; buf: Buffer };
    expect(Buffer.isBuffer(e.buf)).toBe(true);
    expect(e.size()).toBe(bytes(original({ key: 'k', value: 'v' })).length);
  });

  test('crc32C', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (a) => {
        const b = Buffer.from(a);
        expect(crc32C(b)).toBe(kafkajsOriginals.crc32C!(b));
      }),
      { numRuns: 1_000 },
    );
    // The standard check value: CRC-32C("123456789") = 0xe3069283.
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  test('groupMessagesPerPartition', () => {
    const partitionMetadata = Array.from({ length: 6 }, (_, i) => ({ partitionId: i }));
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 500 }), fc.integer({ min: 0, max: 6 }), (keys, n) => {
        const messages = keys.map((key, i) => ({ key, value: String(i) }));
        const partitioner = ({ message }: { message: { key?: unknown } }) =>
          String(message.key).length % Math.max(1, n);
        const args = { topic: 't', partitionMetadata: partitionMetadata.slice(0, n), messages, partitioner };
        expect(groupMessagesPerPartition(args)).toEqual(kafkajsOriginals.groupMessagesPerPartition!(args));
      }),
      { numRuns: 300 },
    );
  });

  // The original request module here is KafkaJS's, loaded after the record and CRC replacements (so it
  // runs them inside); those are compared with KafkaJS's own above.
  test('produce request v3: topics, partitions, sequences, producer ids, timestamps or none', async () => {
    type Long = { fromValue(v: unknown): unknown; fromInt(v: number): unknown };
    const Long = require('kafkajs/src/utils/long.js') as Long;
    const original = kafkajsOriginals.produceRequest!;
    const fastRequest = makeProduceRequest(
      original,
      encoderPrototype,
      Long as Parameters<typeof makeProduceRequest>[2],
    );
    const message = fc.record(
      {
        key: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null)),
        value: fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 700 }),
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        ),
        headers: fc.constantFrom(undefined, {}),
      },
      { requiredKeys: ['key', 'value'] },
    );
    const stamp = fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 1_700_000_000_000, max: 1_700_000_900_000 }).map(String),
    );
    const partition = fc.record({
      partition: fc.nat({ max: 11 }),
      firstSequence: fc.nat({ max: 2 ** 31 - 1 }),
      messages: fc.array(
        fc.tuple(message, stamp).map(([m, t]) => (t === undefined ? m : { ...m, timestamp: t })),
        {
          minLength: 1,
          maxLength: 40,
        },
      ),
    });
    const args = fc.record({
      acks: fc.constantFrom(-1, 1),
      timeout: fc.nat({ max: 60_000 }),
      transactionalId: fc.constantFrom(null, 'tx-1'),
      producerId: fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: -1, max: 2 ** 40 }).map((n) => Long.fromValue(n)),
      ),
      producerEpoch: fc.nat({ max: 32_000 }),
      topicData: fc.array(
        fc.record({
          topic: fc.string({ minLength: 1, maxLength: 30 }),
          partitions: fc.array(partition, { minLength: 1, maxLength: 4 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    });
    const realNow = Date.now;
    Date.now = () => 1_700_000_123_456; // both encoders read the clock for unstamped batches
    try {
      await fc.assert(
        fc.asyncProperty(args, async (a) => {
          const input = { ...a, producerId: a.producerId ?? undefined } as Parameters<typeof original>[0];
          const fast = fastRequest(input);
          const slow = original(input);
          const head = (r: typeof fast) => [r.apiKey, r.apiVersion, r.apiName, r.expectResponse()];
          expect(head(fast)).toEqual(head(slow));
          expect(bytes(await fast.encode())).toEqual(bytes(await slow.encode()));
        }),
        { numRuns: 300 },
      );
    } finally {
      Date.now = realNow;
    }
  });
});

describe('KafkaJS fast paths in a service process', () => {
  // A plain Node process shows what a service runs: importing `@offsite/kafka` installs nothing and loads
  // no KafkaJS; `installKafkajsFastPaths()` then puts every replacement in force.
  test('importing @offsite/kafka changes nothing; installKafkajsFastPaths puts every replacement in force', () => {
    const script = `
      import { installKafkajsFastPaths, kafkajsFastPaths } from './src/index.ts';
      import { kafkajsOriginals } from './src/kafkajs-fast.ts';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loadedOnImport = require.cache[require.resolve('kafkajs')] !== undefined;
      const before = kafkajsFastPaths();
      const installed = installKafkajsFastPaths();
      require('kafkajs');
      const mod = (p) => require('kafkajs/src/' + p);
      console.log(JSON.stringify({
        loadedOnImport,
        before,
        installed,
        inForce: {
          groupMessagesPerPartition: mod('producer/groupMessagesPerPartition.js') !== kafkajsOriginals.groupMessagesPerPartition,
          record: mod('protocol/recordBatch/record/v0/index.js') !== kafkajsOriginals.record,
          crc32C: mod('protocol/recordBatch/crc32C/index.js') !== kafkajsOriginals.crc32C,
          produceRequest: ['3', '4', '5', '6', '7'].every(
            (v) => mod('protocol/requests/produce/v' + v + '/request.js') !== kafkajsOriginals.produceRequest),
        },
      }));`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // jest's flags are not the service's
    const out = execFileSync(
      process.execPath,
      ['--conditions=offsite-source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env,
        encoding: 'utf8',
      },
    );
    const all = { groupMessagesPerPartition: true, record: true, crc32C: true, produceRequest: true };
    const none = { groupMessagesPerPartition: false, record: false, crc32C: false, produceRequest: false };
    expect(JSON.parse(out)).toEqual({ loadedOnImport: false, before: none, installed: all, inForce: all });
  });

  test('once KafkaJS has loaded, installing reports what is not in force', () => {
    const script = `
      import { createRequire } from 'node:module';
      createRequire(import.meta.url)('kafkajs');
      const { installKafkajsFastPaths } = await import('./src/index.ts');
      const warned = [];
      console.log(JSON.stringify({ installed: installKafkajsFastPaths({ warn: (o) => warned.push(o) }), warned: warned.length }));`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const out = execFileSync(
      process.execPath,
      ['--conditions=offsite-source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), env, encoding: 'utf8' },
    );
    // KafkaJS's producer captured groupMessagesPerPartition when it loaded; the produce path loads lazily.
    expect(JSON.parse(out)).toEqual({
      installed: { groupMessagesPerPartition: false, record: true, crc32C: true, produceRequest: true },
      warned: 1,
    });
  });
});
