import { createRequire } from 'node:module';
import { KafkaJSError, KafkaJSNonRetriableError } from 'kafkajs';
import { SEND_RETRIES, wholeSendRetried } from './producer.js';

const require = createRequire(import.meta.url);
type Retrier = (opts: object) => <T>(fn: () => Promise<T>) => Promise<T>;

describe('wholeSendRetried (createDurableProducer sends: one attempt per KafkaJS send, retried whole)', () => {
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
  };
  beforeEach(() => (waits.length = 0));

  it("KafkaJS's retrier with retries 0 (the producer's setting) reports a retriable failure as KafkaJSNumberOfRetriesExceeded", async () => {
    const createRetry = require('kafkajs/src/retry/index.js') as Retrier;
    const once = createRetry({ retries: 0, initialRetryTime: 1 });
    let calls = 0;
    const err = await once(async () => {
      calls++;
      throw new KafkaJSError('Closed connection', { retriable: true });
    }).catch((e: unknown) => e as Error);
    expect(calls).toBe(1);
    expect(err.name).toBe('KafkaJSNumberOfRetriesExceeded');
    const fatal = await once(async () => {
      throw new KafkaJSError('bad', { retriable: false });
    }).catch((e: unknown) => e as Error);
    expect(fatal.name).toBe('KafkaJSNonRetriableError');
  });

  it('sends again, whole, after a retriable failure, and resolves with the attempt that succeeded', async () => {
    const attempts: string[][] = [];
    const records = ['a', 'b', 'c'];
    let n = 0;
    const result = await wholeSendRetried(async () => {
      attempts.push([...records]);
      if (++n < 3)
        throw Object.assign(new Error('Closed connection'), { name: 'KafkaJSNumberOfRetriesExceeded' });
      return `ok after ${n}`;
    }, wait);
    expect(result).toBe('ok after 3');
    expect(attempts).toEqual([records, records, records]);
    expect(waits).toEqual([200, 400]);
  });

  it('gives a non-retriable error back at once, and the last error after SEND_RETRIES retries', async () => {
    let calls = 0;
    const fatal = new KafkaJSNonRetriableError('Invalid record');
    await expect(
      wholeSendRetried(async () => {
        calls++;
        throw fatal;
      }, wait),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      wholeSendRetried(async () => {
        calls++;
        throw Object.assign(new Error(`attempt ${calls}`), { name: 'KafkaJSNumberOfRetriesExceeded' });
      }, wait),
    ).rejects.toThrow(`attempt ${SEND_RETRIES + 1}`);
    expect(calls).toBe(SEND_RETRIES + 1);
    expect(waits).toEqual([200, 400, 800, 1_600, 3_200]);
  });
});
