import type pg from 'pg';
import { StoreError } from './errors.js';
import type { Logger } from './logger.js';
import { createRegistryCache } from './registry-cache.js';

const errors: unknown[] = [];
const logger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: (obj) => void errors.push(obj),
  debug: () => undefined,
  child: () => logger,
};

/** A pool whose queries fail as when Postgres is down and that records its calls. */
function fakes() {
  const calls: string[] = [];
  const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25432'), { code: 'ECONNREFUSED' });
  const pool = {
    query: () => Promise.reject(down),
    connect: () => (calls.push('pool.connect'), Promise.reject(down)),
    end: () => (calls.push('pool.end'), Promise.resolve()),
  } as unknown as pg.Pool;
  return { calls, pool };
}

beforeEach(() => {
  errors.length = 0;
});

test('current() before the first snapshot throws REGISTRY_NOT_LOADED (retryable)', () => {
  const { pool } = fakes();
  const cache = createRegistryCache({ pool, schema: 'public', index: () => 1, logger });
  let err: unknown;
  try {
    cache.current();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe('REGISTRY_NOT_LOADED');
  expect((err as StoreError).retryable).toBe(true);
});

test('start() fails when the first snapshot cannot be read, before connecting the listener', async () => {
  const { calls, pool } = fakes();
  const reloads: boolean[] = [];
  let indexed = 0;
  const index = () => ++indexed;
  const cache = createRegistryCache({
    pool,
    schema: 'public',
    index,
    logger,
    onReload: (ok) => reloads.push(ok),
  });
  await expect(cache.start()).rejects.toMatchObject({ code: 'QUERY_FAILED', retryable: true });
  expect(reloads).toEqual([false]);
  expect(indexed).toBe(0);
  expect(calls).toEqual([]);
  expect(errors).toHaveLength(1);
});

test('stop() ends the pool even when never started', async () => {
  const { calls, pool } = fakes();
  const cache = createRegistryCache({ pool, schema: 'public', index: () => 1, logger });
  await cache.stop();
  expect(calls).toEqual(['pool.end']);
});
