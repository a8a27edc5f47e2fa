import { createPublisher, type BatchProducer, type OutRecord } from './publisher.js';

type Batches = Parameters<BatchProducer['sendBatch']>[0];

/** A producer that records each request and completes it when told to. */
function controllable() {
  const requests: { batches: Batches; done: (err?: Error) => void }[] = [];
  const producer: BatchProducer = {
    sendBatch: (batches) =>
      new Promise((resolve, reject) => {
        requests.push({ batches, done: (err) => (err ? reject(err) : resolve(undefined)) });
      }),
  };
  return { producer, requests };
}

const rec = (topic: string, v: string): OutRecord => ({ topic, message: { key: 'k', value: v } });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('publisher', () => {
  it('resolves a publish only after its request is acknowledged', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({ producer, lingerMs: 0, batchMax: 100, maxPending: 1000 });
    let done = false;
    const pr = p.publish([rec('a', '1')]).then(() => (done = true));
    await tick(5);
    expect(requests).toHaveLength(1);
    expect(done).toBe(false);
    requests[0]!.done();
    await pr;
    expect(done).toBe(true);
  });

  it('groups records that arrive while a request is in flight into the next request, by topic', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({ producer, lingerMs: 1, batchMax: 100, maxPending: 1000 });
    const first = p.publish([rec('a', '1')]);
    await tick(5);
    const rest = [p.publish([rec('a', '2'), rec('b', '3')]), p.publish([rec('a', '4')])];
    await tick(5);
    expect(requests).toHaveLength(1);
    requests[0]!.done();
    await first;
    await tick(5);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.batches).toEqual([
      {
        topic: 'a',
        messages: [
          { key: 'k', value: '2' },
          { key: 'k', value: '4' },
        ],
      },
      { topic: 'b', messages: [{ key: 'k', value: '3' }] },
    ]);
    requests[1]!.done();
    await Promise.all(rest);
  });

  it('rejects every publish of a failed request with a retryable coded error', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({ producer, lingerMs: 0, batchMax: 100, maxPending: 1000 });
    const pr = p.publish([rec('a', '1')]);
    await tick(2);
    requests[0]!.done(new Error('broker down'));
    await expect(pr).rejects.toMatchObject({ code: 'KAFKA_PRODUCE_FAILED', retryable: true });
    expect(p.healthy).toBe(false);
  });

  it('never splits one publish across requests and respects batchMax between publishes', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({ producer, lingerMs: 50, batchMax: 3, maxPending: 1000 });
    const a = p.publish([rec('a', '1'), rec('a', '2')]);
    const b = p.publish([rec('a', '3'), rec('a', '4')]);
    await tick(5); // batchMax reached: sent without waiting for the linger
    expect(requests).toHaveLength(1);
    expect(requests[0]!.batches[0]!.messages).toHaveLength(2);
    requests[0]!.done();
    await a;
    await tick(60);
    expect(requests[1]!.batches[0]!.messages).toHaveLength(2);
    requests[1]!.done();
    await b;
  });

  it('starts a new request before the byte limit is passed', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({
      producer,
      lingerMs: 20,
      batchMax: 1000,
      batchMaxBytes: 100,
      maxPending: 1000,
    });
    const big = 'x'.repeat(60);
    const a = p.publish([rec('a', big)]);
    const b = p.publish([rec('a', big)]);
    await tick(5); // the byte limit is reached: no linger
    expect(requests).toHaveLength(1);
    expect(requests[0]!.batches[0]!.messages).toHaveLength(1);
    requests[0]!.done();
    await a;
    await tick(30);
    expect(requests).toHaveLength(2);
    requests[1]!.done();
    await b;
  });

  it('reports full above maxPending and calls drain listeners when it empties', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({ producer, lingerMs: 0, batchMax: 100, maxPending: 2 });
    let drained = 0;
    p.onDrain(() => drained++);
    const pr = p.publish([rec('a', '1'), rec('a', '2')]);
    expect(p.full).toBe(true);
    await tick(2);
    requests[0]!.done();
    await pr;
    expect(p.full).toBe(false);
    expect(drained).toBe(1);
  });

  it('close() sends what waits, then refuses new records', async () => {
    const requests: Batches[] = [];
    const p = createPublisher({
      producer: { sendBatch: async (b) => void requests.push(b) },
      lingerMs: 100,
      batchMax: 100,
      maxPending: 1000,
    });
    const pr = p.publish([rec('a', '1')]);
    await p.close(1000);
    await pr;
    expect(requests).toHaveLength(1);
    await expect(p.publish([rec('a', '2')])).rejects.toMatchObject({ code: 'PUBLISHER_CLOSED' });
  });

  it('without linger, the records of one event-loop turn share a request; later ones take the next', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({ producer, lingerMs: 0, batchMax: 100, maxPending: 1000 });
    const first = [p.publish([rec('a', '1')]), p.publish([rec('a', '2')])];
    await tick(5);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.batches[0]!.messages).toHaveLength(2);
    requests[0]!.done();
    await Promise.all(first);
    const later = p.publish([rec('a', '3')]);
    await tick(5);
    expect(requests).toHaveLength(2);
    requests[1]!.done();
    await later;
  });

  it('with retry, a failed request is sent again until Kafka acknowledges it', async () => {
    const { producer, requests } = controllable();
    const retries: number[] = [];
    const p = createPublisher({
      producer,
      lingerMs: 0,
      batchMax: 100,
      maxPending: 1000,
      retry: { initialMs: 1, maxMs: 4 },
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    let settled = false;
    const pr = p.publish([rec('a', '1')]).then(() => (settled = true));
    await tick(5);
    requests[0]!.done(new Error('NOT_ENOUGH_REPLICAS'));
    await tick(20);
    expect(settled).toBe(false);
    expect(p.healthy).toBe(false);
    requests[1]!.done(new Error('NOT_ENOUGH_REPLICAS'));
    await tick(20);
    expect(requests[2]!.batches).toEqual(requests[0]!.batches);
    requests[2]!.done();
    await pr;
    expect(retries).toEqual([0, 1]);
    expect(p.healthy).toBe(true);
  });

  it('with retry, closing stops retrying and rejects what Kafka has not acknowledged', async () => {
    const { producer, requests } = controllable();
    const p = createPublisher({
      producer,
      lingerMs: 0,
      batchMax: 100,
      maxPending: 1000,
      retry: { initialMs: 60_000, maxMs: 60_000 },
    });
    const pr = p.publish([rec('a', '1')]);
    await tick(5);
    requests[0]!.done(new Error('broker down'));
    await tick(5);
    await p.close(1000);
    await expect(pr).rejects.toMatchObject({ code: 'PUBLISHER_CLOSED', retryable: true });
    expect(requests).toHaveLength(1);
  });
});
