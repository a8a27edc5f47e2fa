import { EventEmitter } from 'node:events';
import { consumerComponent, groupJoinDeadlineMs, type BatchConsumer } from './consumer.js';

// A stand-in with the BatchConsumer surface the component uses: start/stop/isRunning and CRASH events.
function fakeConsumer() {
  const events = new EventEmitter();
  let running = false;
  const c = {
    consumer: {
      events: { CRASH: 'consumer.crash' },
      on: (ev: string, fn: (e: unknown) => void) => events.on(ev, fn),
    },
    start: async () => {
      running = true;
    },
    stop: async () => {
      running = false;
    },
    isRunning: () => running,
    crash: (restart: boolean) =>
      events.emit('consumer.crash', { payload: { restart, error: new Error('x') } }),
  };
  return c as unknown as BatchConsumer & typeof c;
}

test('the join deadline outlasts a dead predecessor’s session and the rebalance after it', () => {
  expect(groupJoinDeadlineMs()).toBe(90_000);
  expect(groupJoinDeadlineMs(6_000)).toBe(42_000);
});

test('a consumer step: built at start, ready while a member, fatal only for a crash KafkaJS will not restart', async () => {
  const fake = fakeConsumer();
  const fatal: string[] = [];
  let built = 0;
  const step = consumerComponent({
    name: 'intake',
    sessionTimeoutMs: 10_000,
    build: () => {
      built += 1;
      return fake;
    },
    onFatal: (reason) => fatal.push(reason),
  });
  expect(step.startTimeoutMs).toBe(50_000);
  expect(built).toBe(0);
  expect(step.gatesReadiness).toBeUndefined();
  expect(step.check?.()).toEqual({ healthy: false, detail: 'not started' });
  await step.start?.(new AbortController().signal);
  expect(built).toBe(1);
  expect(step.check?.()).toBe(true);
  fake.crash(true);
  expect(fatal).toEqual([]);
  fake.crash(false);
  expect(fatal).toEqual(['intake crashed']);
  await step.stop?.(new AbortController().signal);
  expect(step.check?.()).toMatchObject({ healthy: false });
});

test('a consumer step that does not gate readiness returns before the join and reports membership', async () => {
  const fake = fakeConsumer();
  let join!: () => void;
  fake.start = () => new Promise<void>((resolve) => (join = resolve));
  const fatal: string[] = [];
  const step = consumerComponent({
    name: 'intake',
    gatesReadiness: false,
    build: () => fake,
    onFatal: (reason) => fatal.push(reason),
  });
  expect(step.gatesReadiness).toBe(false);
  expect(step.startTimeoutMs).toBeUndefined();
  // Resolves while the join is still pending: the service's HTTP server starts right after.
  await step.start?.(new AbortController().signal);
  expect(step.isMember()).toBe(false);
  expect(step.check?.()).toEqual({ healthy: false, detail: 'not a group member (joining or rebalancing)' });
  (fake as unknown as { isRunning: () => boolean }).isRunning = () => true;
  join();
  expect(step.isMember()).toBe(true);
  expect(step.check?.()).toBe(true);
  expect(fatal).toEqual([]);

  // A start that fails outside shutdown is fatal; one failing because shutdown stopped it is not.
  const second = fakeConsumer();
  let failSecond!: (e: Error) => void;
  second.start = () => new Promise<void>((_, reject) => (failSecond = reject));
  const failing = consumerComponent({
    name: 'other',
    gatesReadiness: false,
    build: () => second,
    onFatal: (reason) => fatal.push(reason),
  });
  await failing.start?.(new AbortController().signal);
  failSecond(new Error('broker unreachable'));
  await new Promise((r) => setImmediate(r));
  expect(fatal).toEqual(['other failed to start']);
  await step.stop?.(new AbortController().signal);
});
