// Limits on failed logins, shared by every console instance through Redis, and a bound on argon2 work.
//
// Failures are counted per source address, per username and overall, in fixed windows. A browser
// that has logged in to an account before holds a device cookie for it (a random token, its hash kept
// in Redis with the username): its attempts at that account are limited by their own counter only,
// so an attacker who locks a username, a source (a shared NAT) or everything cannot lock the real user
// out of a browser they used before. Counters are reserved atomically before argon2 runs (a burst
// cannot overshoot a limit) and released when the attempt succeeds or never ran.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConsoleError } from './errors.js';

export interface LoginLimits {
  /** Redis key prefix (one per deployment and per test). */
  prefix: string;
  windowMs: number;
  maxPerSource: number;
  maxPerUser: number;
  maxOverall: number;
  /** Failures per remembered browser (device cookie) and account. */
  maxPerDevice: number;
  /** How long a browser stays remembered after a successful login. */
  deviceTtlMs: number;
}

export type LimitScope = 'source' | 'user' | 'overall' | 'device';

export interface Reservation {
  /** The attempt came from a browser remembered for this account. */
  trusted: boolean;
  /** `failed` keeps the reserved counts; `succeeded` and `not-tried` give them back. */
  settle(outcome: 'failed' | 'succeeded' | 'not-tried'): Promise<void>;
}

export interface LoginGuard {
  readonly redis: Redis;
  readonly prefix: string;
  readonly deviceTtlMs: number;
  /** Reserves one failure in each applicable counter, or says which limit is reached. */
  reserve(a: {
    ip: string;
    username: string;
    deviceToken?: string | undefined;
  }): Promise<Reservation | { refused: LimitScope; retryAfterMs: number }>;
  /** After a success: the device token to keep (the given one if it is already this account's, else a new one). */
  remember(username: string, deviceToken: string | undefined, trusted: boolean): Promise<string>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// KEYS: the counters; ARGV[1]: window ms; ARGV[1 + i]: the limit of KEYS[i]. Refuses (1-based index
// of the full counter, its TTL) without counting, or counts the attempt in every counter ({0, 0}).
const RESERVE = `
for i, k in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', k) or '0')
  if n >= tonumber(ARGV[i + 1]) then return {i, redis.call('PTTL', k)} end
end
for i, k in ipairs(KEYS) do
  redis.call('INCR', k)
  redis.call('PEXPIRE', k, ARGV[1], 'NX')
end
return {0, 0}`;
// Gives a reserved count back (only while its window lasts: a DECR on an expired key would start a
// counter without a TTL).
const RELEASE = `
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 and tonumber(redis.call('GET', k)) > 0 then redis.call('DECR', k) end
end
return 0`;

export function createLoginGuard(redis: Redis, l: LoginLimits): LoginGuard {
  const key = (...parts: string[]) => [l.prefix, 'login', ...parts].join(':');
  const deviceKey = (token: string) => key('device', sha256(token));

  async function take(keys: string[], limits: number[]): Promise<[number, number]> {
    const r = (await redis.eval(RESERVE, keys.length, ...keys, l.windowMs, ...limits)) as [number, number];
    return [Number(r[0]), Number(r[1])];
  }
  function reservation(keys: string[], trusted: boolean): Reservation {
    let settled = false;
    return {
      trusted,
      async settle(outcome) {
        if (settled) return;
        settled = true;
        if (outcome !== 'failed') await redis.eval(RELEASE, keys.length, ...keys);
      },
    };
  }

  return {
    redis,
    prefix: l.prefix,
    deviceTtlMs: l.deviceTtlMs,
    async reserve({ ip, username, deviceToken }) {
      const user = username.toLowerCase();
      if (deviceToken && /^[A-Za-z0-9_-]{20,100}$/.test(deviceToken)) {
        const owner = await redis.get(deviceKey(deviceToken));
        if (owner === user) {
          const keys = [key('fail', 'device', sha256(deviceToken))];
          const [full] = await take(keys, [l.maxPerDevice]);
          // A remembered browser that keeps failing loses its privilege: the common limits apply.
          if (full === 0) return reservation(keys, true);
        }
      }
      const keys = [key('fail', 'source', ip), key('fail', 'user', user), key('fail', 'overall')];
      const scopes: LimitScope[] = ['source', 'user', 'overall'];
      const [full, ttl] = await take(keys, [l.maxPerSource, l.maxPerUser, l.maxOverall]);
      if (full > 0) return { refused: scopes[full - 1]!, retryAfterMs: Math.max(ttl, 1_000) };
      return reservation(keys, false);
    },
    async remember(username, deviceToken, trusted) {
      const token = trusted && deviceToken ? deviceToken : randomBytes(32).toString('base64url');
      await redis.set(deviceKey(token), username.toLowerCase(), 'PX', l.deviceTtlMs);
      return token;
    },
  };
}

/** A bound on concurrent argon2 work with a short queue; beyond the queue an attempt is refused (BUSY). */
export interface ArgonGate {
  run<T>(fn: () => Promise<T>): Promise<T>;
  stats(): {
    active: number;
    waiting: number;
    peakActive: number;
    peakWaiting: number;
    rejected: number;
    /** Verifications run so far. */
    runs: number;
  };
}

export function createArgonGate(o: { concurrency: number; queue: number }): ArgonGate {
  let active = 0;
  let peakActive = 0;
  let peakWaiting = 0;
  let rejected = 0;
  let runs = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(fn) {
      if (active >= o.concurrency) {
        if (waiting.length >= o.queue) {
          rejected++;
          throw new ConsoleError('BUSY', '登录繁忙，请稍后再试 / too many logins at once, try again shortly');
        }
        // The finishing task hands its slot over: `active` stays as it is.
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          peakWaiting = Math.max(peakWaiting, waiting.length);
        });
      } else active++;
      peakActive = Math.max(peakActive, active);
      runs++;
      try {
        return await fn();
      } finally {
        const w = waiting.shift();
        if (w) w();
        else active--;
      }
    },
    stats: () => ({ active, waiting: waiting.length, peakActive, peakWaiting, rejected, runs }),
  };
}
