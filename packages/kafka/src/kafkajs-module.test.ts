// KafkaJS's request queue, as loaded through kafkajs(): its pending-request timer is never negative (Node 23+
// reports a negative delay as a TimeoutNegativeWarning on stderr).
import { createRequire } from 'node:module';
import { kafkajs } from './kafkajs-module.js';

const require = createRequire(import.meta.url);

interface Queue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

function queue(throttledUntil: number, pending: unknown[]): Queue & { checked: number } {
  kafkajs();
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: Queue };
  const q = Object.create(RequestQueue.prototype) as Queue & { checked: number };
  Object.assign(q, { throttledUntil, throttleCheckTimeoutId: null, pending, checked: 0 });
  q.checkPendingRequests = () => void q.checked++;
  return q;
}

/** The delays the method passes to setTimeout. */
function delays(q: Queue): number[] {
  const seen: number[] = [];
  const real = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    seen.push(ms ?? 0);
    return real(fn, ms);
  }) as typeof setTimeout;
  try {
    q.scheduleCheckPendingRequests();
  } finally {
    globalThis.setTimeout = real;
  }
  return seen;
}

test('never throttled and nothing pending: the check runs after 1 ms, not after minus the epoch', async () => {
  const q = queue(-1, []);
  expect(delays(q)).toEqual([1]);
  await new Promise((r) => setTimeout(r, 20));
  expect(q.checked).toBe(1);
  expect(q.throttleCheckTimeoutId).toBeNull();
});

test('throttled: the check waits for the throttle; pending and not throttled: KafkaJS’s 10 ms', () => {
  const throttled = queue(Date.now() + 5_000, []);
  const [ms] = delays(throttled);
  expect(ms).toBeGreaterThan(4_000);
  expect(ms).toBeLessThanOrEqual(5_000);
  clearTimeout(throttled.throttleCheckTimeoutId!);

  const pending = queue(-1, [{}]);
  expect(delays(pending)).toEqual([10]);
  clearTimeout(pending.throttleCheckTimeoutId!);
});

test('a check already scheduled is not scheduled twice', () => {
  const q = queue(-1, []);
  delays(q);
  expect(delays(q)).toEqual([]);
  clearTimeout(q.throttleCheckTimeoutId!);
});
