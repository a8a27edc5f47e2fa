import { createBatcher } from './batcher.js';

describe('createBatcher', () => {
  it('sends items added in the same tick as one batch and resolves each with its own result', async () => {
    const batches: number[][] = [];
    const b = createBatcher(
      async (xs: number[]) => {
        batches.push(xs);
        return xs.map((x) => x * 10);
      },
      { maxSize: 100 },
    );
    const out = await Promise.all([1, 2, 3].map((x) => b.add(x)));
    expect(out).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects items arriving while batches are in flight, bounded by maxSize and maxInFlight', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const b = createBatcher(
      async (xs: number[]) => {
        batches.push(xs);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return xs;
      },
      { maxSize: 2, maxInFlight: 1 },
    );
    const first = b.add(0);
    await new Promise((r) => setImmediate(r));
    const rest = [1, 2, 3, 4, 5].map((x) => b.add(x));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[0]]); // one in flight: the others wait
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[0], [1, 2], [3, 4], [5]]);
    await b.drained();
  });

  it('never puts two items with the same key in one batch', async () => {
    const batches: string[][] = [];
    const b = createBatcher(
      async (xs: string[]) => {
        batches.push(xs);
        return xs;
      },
      { maxSize: 10, key: (x) => x },
    );
    await Promise.all(['a', 'b', 'a', 'c', 'a'].map((x) => b.add(x)));
    expect(batches).toEqual([['a', 'b', 'c'], ['a'], ['a']]);
  });

  it('rejects every item of a failed batch and keeps working afterwards', async () => {
    let fail = true;
    const b = createBatcher(
      async (xs: number[]) => {
        if (fail) throw Object.assign(new Error('db down'), { code: 'ECONNREFUSED' });
        return xs;
      },
      { maxSize: 10 },
    );
    const r = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(b.add(3)).resolves.toBe(3);
  });

  it('runs the items of a refused batch one by one, so only the bad one fails', async () => {
    const batches: string[][] = [];
    const b = createBatcher(
      async (xs: string[]) => {
        batches.push(xs);
        if (xs.includes('year 0000')) throw Object.assign(new Error('date out of range'), { code: '22008' });
        return xs.map((x) => x.toUpperCase());
      },
      { maxSize: 10 },
    );
    const r = await Promise.allSettled(['a', 'year 0000', 'b'].map((x) => b.add(x)));
    expect(r).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: expect.objectContaining({ code: '22008' }) },
      { status: 'fulfilled', value: 'B' },
    ]);
    expect(batches).toEqual([['a', 'year 0000', 'b'], ['a'], ['year 0000'], ['b']]);
  });

  it('rejects when the batch returns the wrong number of results', async () => {
    const b = createBatcher(async () => [1], { maxSize: 10 });
    const r = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });
});
