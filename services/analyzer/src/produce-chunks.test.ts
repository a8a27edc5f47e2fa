import { chunkMessages, messageBytes } from './produce-chunks.js';

const msg = (i: number, size: number) => ({
  key: `k${i}`,
  value: 'x'.repeat(size),
  headers: { h: String(i) },
});

describe('chunkMessages', () => {
  it('bounds every chunk by bytes, keeps the order and loses nothing', () => {
    const messages = Array.from({ length: 3000 }, (_, i) => msg(i, 700 + (i % 50)));
    const chunks = chunkMessages(messages, { maxBytes: 512 * 1024, maxRecords: 100_000 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks)
      expect(c.reduce((s, m) => s + messageBytes(m), 0)).toBeLessThanOrEqual(512 * 1024);
    expect(chunks.flat()).toEqual(messages);
  });
  it('bounds every chunk by count', () => {
    const chunks = chunkMessages(
      Array.from({ length: 25 }, (_, i) => msg(i, 10)),
      { maxBytes: 1e9, maxRecords: 10 },
    );
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
  });
  it('sends a single message above the byte bound alone (the broker decides)', () => {
    const chunks = chunkMessages([msg(0, 10), msg(1, 5000), msg(2, 10)], { maxBytes: 1000, maxRecords: 10 });
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
    expect(chunkMessages([], { maxBytes: 1000, maxRecords: 10 })).toEqual([]);
  });
});
