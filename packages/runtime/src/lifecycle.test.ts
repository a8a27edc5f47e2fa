import { EventEmitter } from 'node:events';
import { createLifecycle, installSignalHandlers, type Component, type Lifecycle } from './lifecycle.js';
import { createMemoryLogger, type MemoryLogger } from './memory-logger.js';
import { hasCode } from './errors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve exposed, for steps the test finishes by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function recorder(events: string[], name: string, extra: Partial<Component> = {}): Component {
  return {
    name,
    start: () => {
      events.push(`start ${name}`);
    },
    stop: () => {
      events.push(`stop ${name}`);
    },
    ...extra,
  };
}

function setup(options: { stepDeadlineMs?: number; shutdownDeadlineMs?: number } = {}): {
  lifecycle: Lifecycle;
  logger: MemoryLogger;
} {
  const logger = createMemoryLogger();
  const lifecycle = createLifecycle({ logger, shutdownDeadlineMs: 1_000, ...options });
  return { lifecycle, logger };
}

describe('createLifecycle', () => {
  it('starts in registration order and stops in reverse order', async () => {
    const events: string[] = [];
    const { lifecycle } = setup();
    for (const name of ['ops', 'kafka', 'influx', 'consumer']) lifecycle.register(recorder(events, name));
    await lifecycle.start();
    expect(lifecycle.state).toBe('running');
    const result = await lifecycle.shutdown('test');
    expect(events).toEqual([
      'start ops',
      'start kafka',
      'start influx',
      'start consumer',
      'stop consumer',
      'stop influx',
      'stop kafka',
      'stop ops',
    ]);
    expect(result).toMatchObject({ exitCode: 0, reason: 'test', failures: [] });
    expect(lifecycle.state).toBe('stopped');
  });

  it('run() resolves to 0 after a clean shutdown requested elsewhere', async () => {
    const { lifecycle } = setup();
    lifecycle.register(recorder([], 'a'));
    const running = lifecycle.run();
    await sleep(5);
    expect(lifecycle.isReady()).toBe(true);
    await lifecycle.shutdown('done');
    await expect(running).resolves.toBe(0);
  });

  it('when a component fails to start, stops the started ones in reverse and exits non-zero', async () => {
    const events: string[] = [];
    const { lifecycle, logger } = setup();
    lifecycle
      .register(recorder(events, 'a'))
      .register(recorder(events, 'b'))
      .register(
        recorder(events, 'c', {
          start: () => {
            events.push('start c');
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:29092'), { code: 'ECONNREFUSED' });
          },
        }),
      )
      .register(recorder(events, 'd'));
    await expect(lifecycle.run()).resolves.toBe(1);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
    expect(logger.entries.some((e) => e.level === 'error' && e.fields['step'] === 'c')).toBe(true);
  });

  it('start() rejects with LIFECYCLE_START_FAILED keeping the cause', async () => {
    const { lifecycle } = setup();
    const cause = new Error('boom');
    lifecycle.register({ name: 'x', start: () => Promise.reject(cause) });
    const error = await lifecycle.start().catch((e: unknown) => e);
    expect(hasCode(error, 'LIFECYCLE_START_FAILED')).toBe(true);
    expect((error as Error).cause).toBe(cause);
  });

  it('abandons a stop step that exceeds its deadline, logs it, aborts its signal and goes on', async () => {
    const events: string[] = [];
    const { lifecycle, logger } = setup({ stepDeadlineMs: 50 });
    let hangingSignal: AbortSignal | undefined;
    lifecycle
      .register(recorder(events, 'influx'))
      .register(
        recorder(events, 'bullmq', {
          stop: (signal) => {
            hangingSignal = signal;
            events.push('stop bullmq (hangs)');
            return new Promise<void>(() => undefined);
          },
        }),
      )
      .register(recorder(events, 'consumer'));
    await lifecycle.start();
    const began = Date.now();
    const result = await lifecycle.shutdown('test');
    expect(Date.now() - began).toBeGreaterThanOrEqual(45);
    expect(Date.now() - began).toBeLessThan(900);
    expect(events.slice(3)).toEqual(['stop consumer', 'stop bullmq (hangs)', 'stop influx']);
    expect(result.exitCode).toBe(1);
    expect(result.failures).toEqual([
      {
        component: 'bullmq',
        phase: 'stop',
        code: 'DEADLINE_EXCEEDED',
        message: 'stop bullmq did not finish within 50 ms',
      },
    ]);
    expect(hangingSignal?.aborted).toBe(true);
    const logged = logger.entries.find((e) => e.level === 'error' && e.fields['step'] === 'bullmq');
    expect(logged?.message).toMatch(/exceeded its deadline; abandoned/);
  });

  it('honours a per-component stop deadline over the default', async () => {
    const { lifecycle } = setup({ stepDeadlineMs: 20 });
    lifecycle.register({ name: 'slow-flush', stopTimeoutMs: 500, stop: () => sleep(60) });
    await lifecycle.start();
    await expect(lifecycle.shutdown('test')).resolves.toMatchObject({ exitCode: 0 });
  });

  it('bounds the whole shutdown by the global deadline: later steps are not run', async () => {
    // A fake clock makes the budget arithmetic deterministic; c and b "take" time by advancing it.
    let t = 0;
    const events: string[] = [];
    const logger = createMemoryLogger();
    const lifecycle = createLifecycle({ logger, shutdownDeadlineMs: 80, stepDeadlineMs: 500, now: () => t });
    lifecycle
      .register({ name: 'a', stop: () => void events.push('stop a') })
      .register({
        name: 'b',
        stop: () => {
          events.push('stop b');
          t += 40; // 90 ms in: past the global deadline, and it hangs too
          return new Promise<void>(() => undefined);
        },
      })
      .register({
        name: 'c',
        stop: () => {
          events.push('stop c');
          t += 50;
        },
      });
    await lifecycle.start();
    const result = await lifecycle.shutdown('test');
    expect(events).toEqual(['stop c', 'stop b']);
    expect(result.exitCode).toBe(1);
    expect(result.failures.map((f) => [f.component, f.code])).toEqual([
      ['b', 'DEADLINE_EXCEEDED'],
      ['a', 'DEADLINE_EXCEEDED'],
    ]);
    // b was given only what was left of the global budget, not its 500 ms step deadline.
    expect(result.failures[0]?.message).toBe('stop b did not finish within 30 ms');
    expect(
      logger.entries.some((e) => e.fields['step'] === 'a' && /global shutdown deadline/.test(e.message)),
    ).toBe(true);
  });

  it('reports a stop step that throws and still stops the rest', async () => {
    const events: string[] = [];
    const { lifecycle } = setup();
    lifecycle
      .register(recorder(events, 'a'))
      .register({ name: 'b', stop: () => Promise.reject(new Error('already closed')) });
    await lifecycle.start();
    const result = await lifecycle.shutdown('test');
    expect(result.failures).toEqual([
      { component: 'b', phase: 'stop', code: 'UNKNOWN', message: 'already closed' },
    ]);
    expect(events).toContain('stop a');
    expect(result.exitCode).toBe(1);
  });

  it('exits 1 when the shutdown was caused by an error, even if every step stops cleanly', async () => {
    const { lifecycle } = setup();
    lifecycle.register(recorder([], 'a'));
    const running = lifecycle.run();
    await sleep(5);
    await lifecycle.shutdown('consumer crashed', { error: new Error('rebalance failed') });
    await expect(running).resolves.toBe(1);
  });

  it('turns readiness false as soon as shutdown begins', async () => {
    const stopping = gate();
    const { lifecycle } = setup();
    lifecycle.register({ name: 'kafka', stop: () => stopping.promise, check: () => true });
    expect(lifecycle.isReady()).toBe(false);
    await lifecycle.start();
    expect(lifecycle.isReady()).toBe(true);
    const checks = lifecycle.healthChecks();
    expect(checks.map((c) => c.name)).toEqual(['lifecycle', 'kafka']);
    expect(await checks[0]?.check()).toEqual({ healthy: true });
    const shutdown = lifecycle.shutdown('test');
    expect(lifecycle.isReady()).toBe(false);
    expect(await checks[0]?.check()).toEqual({ healthy: false, detail: 'shutting down' });
    stopping.open();
    await shutdown;
  });

  it('shutdown during start lets the in-flight start settle, stops what started, starts nothing more', async () => {
    const events: string[] = [];
    const { lifecycle } = setup();
    lifecycle
      .register(recorder(events, 'a'))
      .register(
        recorder(events, 'b', {
          // Starts until told to give up, like a consumer waiting for a broker.
          start: (signal) =>
            new Promise<void>((resolve) => {
              events.push('start b');
              signal.addEventListener('abort', () => resolve());
            }),
        }),
      )
      .register(recorder(events, 'c'));
    const running = lifecycle.run();
    await sleep(5);
    expect(lifecycle.state).toBe('starting');
    const result = await lifecycle.shutdown('SIGTERM during start');
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(result.exitCode).toBe(0);
    await expect(running).resolves.toBe(0);
  });

  it('is idempotent and refuses late or duplicate registrations', async () => {
    const { lifecycle } = setup();
    lifecycle.register(recorder([], 'a'));
    expect(() => lifecycle.register(recorder([], 'a'))).toThrow(/already registered/);
    await lifecycle.start();
    expect(() => lifecycle.register(recorder([], 'b'))).toThrow(/lifecycle is running/);
    const first = lifecycle.shutdown('one');
    const second = lifecycle.shutdown('two');
    expect(second).toBe(first);
    expect((await second).reason).toBe('one');
  });
});

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

describe('installSignalHandlers', () => {
  it('first SIGTERM shuts down gracefully and exits 0', async () => {
    const events: string[] = [];
    const { lifecycle } = setup();
    lifecycle.register(recorder(events, 'a')).register(recorder(events, 'b'));
    const proc = new FakeProcess();
    installSignalHandlers(lifecycle, proc);
    await lifecycle.start();
    proc.emit('SIGTERM');
    expect(lifecycle.state).toBe('stopping');
    await sleep(10);
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(proc.exits).toEqual([0]);
  });

  it('a second signal exits at once with 128 + signal number while a stop still hangs', async () => {
    const stopping = gate();
    for (const [signal, expected] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      const { lifecycle, logger } = setup({ stepDeadlineMs: 5_000 });
      lifecycle.register({ name: 'stuck', stop: () => stopping.promise });
      const proc = new FakeProcess();
      installSignalHandlers(lifecycle, proc);
      await lifecycle.start();
      proc.emit('SIGTERM');
      await sleep(5);
      expect(proc.exits).toEqual([]);
      proc.emit(signal);
      expect(proc.exits).toEqual([expected]);
      expect(lifecycle.state).toBe('stopping');
      expect(logger.entries.some((e) => /second signal/.test(e.message))).toBe(true);
    }
    stopping.open();
  });

  it('exits 1 when a step timed out during the graceful shutdown', async () => {
    const { lifecycle } = setup({ stepDeadlineMs: 20 });
    lifecycle.register({ name: 'stuck', stop: () => new Promise<void>(() => undefined) });
    const proc = new FakeProcess();
    installSignalHandlers(lifecycle, proc);
    await lifecycle.start();
    proc.emit('SIGINT');
    await sleep(80);
    expect(proc.exits).toEqual([1]);
  });
});
