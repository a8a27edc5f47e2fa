import { createMemoryLogger } from '@offsite/runtime';
import { createProduceBatcher, type BatchSender } from './produce-batcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordingSender(): BatchSender & { requests: number[] } {
  const requests: number[] = [];
  return {
    requests,
    sendBatch: async (batches) => {
      requests.push(batches.reduce((n, b) => n + b.messages.length, 0));
      await sleep(1);
    },
  };
}
const record = (i: number) => ({ topic: 't', key: `k${i % 3}`, value: `v${i}` });
const options = { logger: createMemoryLogger(), retryInitialMs: 1, retryMaxMs: 10 };

describe('produce batcher', () => {
  it('without linger, records of different ticks go in different requests', async () => {
    const sender = recordingSender();
    const b = createProduceBatcher({ ...options, sender, maxBatch: 100 });
    const first = b.produce(record(0));
    await sleep(20);
    await Promise.all([first, b.produce(record(1))]);
    expect(sender.requests).toEqual([1, 1]);
  });

  it('with linger, records arriving within it share one request, each resolved after it', async () => {
    const sender = recordingSender();
    const b = createProduceBatcher({ ...options, sender, maxBatch: 100, lingerMs: 60 });
    const done: number[] = [];
    const a = b.produce(record(0)).then(() => done.push(0));
    await sleep(10);
    const c = b.produce(record(1)).then(() => done.push(1));
    await sleep(10);
    expect(sender.requests).toEqual([]); // nothing sent before the first record waited 60 ms
    await Promise.all([a, c]);
    expect(sender.requests).toEqual([2]);
    expect(done).toEqual([0, 1]);
  });

  it('a full request does not wait for the linger', async () => {
    const sender = recordingSender();
    // A linger longer than the test timeout: waiting for it would fail the test.
    const b = createProduceBatcher({ ...options, sender, maxBatch: 3, lingerMs: 60_000 });
    await Promise.all([0, 1, 2].map((i) => b.produce(record(i))));
    expect(sender.requests).toEqual([3]);
  });

  it('closing while lingering rejects the waiting records (their upstream stays unacknowledged)', async () => {
    const sender = recordingSender();
    const b = createProduceBatcher({ ...options, sender, maxBatch: 100, lingerMs: 50 });
    const p = b.produce(record(0));
    b.close();
    await expect(p).rejects.toMatchObject({ code: 'PRODUCER_CLOSED' });
    expect(sender.requests).toEqual([]);
  });
});
