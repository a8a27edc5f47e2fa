import { createRefusalLimiter } from './refusal-limit.js';

test('an address spends its burst, is refused, and gets refusals back at the refill rate', () => {
  const l = createRefusalLimiter({ perMinute: 6, burst: 3 });
  const t0 = 1_000_000;
  expect([1, 2, 3, 4].map(() => l.take('10.0.0.1', t0))).toEqual([true, true, true, false]);
  // 6 a minute: one every 10 s.
  expect(l.retryAfterS('10.0.0.1', t0)).toBe(10);
  expect(l.take('10.0.0.1', t0 + 9_000)).toBe(false);
  expect(l.take('10.0.0.1', t0 + 10_000)).toBe(true);
  expect(l.take('10.0.0.1', t0 + 10_001)).toBe(false);
  // Another address has its own budget.
  expect(l.take('10.0.0.2', t0)).toBe(true);
  // A long pause refills to the burst, not beyond.
  expect([1, 2, 3, 4].map(() => l.take('10.0.0.1', t0 + 3_600_000))).toEqual([true, true, true, false]);
});

test('at most maxAddresses buckets; the least recently used is dropped and starts full again', () => {
  const l = createRefusalLimiter({ perMinute: 1, burst: 1, maxAddresses: 2 });
  expect(l.take('a', 0)).toBe(true);
  expect(l.take('b', 0)).toBe(true);
  expect(l.take('a', 1)).toBe(false); // a is now the most recently used
  expect(l.take('c', 2)).toBe(true); // drops b
  expect(l.size()).toBe(2);
  expect(l.take('a', 3)).toBe(false);
  expect(l.take('b', 3)).toBe(true);
});
