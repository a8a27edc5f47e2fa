// `redis://[user:password@]host[:port][/db]` → the connection options ioredis and BullMQ take. Workers
// need `maxRetriesPerRequest: null` (BullMQ refuses blocking commands that give up), so it is set here.
import { OffsiteError } from './errors.js';

export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  maxRetriesPerRequest: null;
}

export function redisConnectionOptions(url: string): RedisConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new OffsiteError('REDIS_URL_INVALID', 'not a redis:// URL', { retryable: false, cause });
  }
  if (u.protocol !== 'redis:')
    throw new OffsiteError('REDIS_URL_INVALID', `unsupported scheme ${u.protocol}`, { retryable: false });
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0))
    throw new OffsiteError('REDIS_URL_INVALID', `database ${u.pathname.slice(1)} is not a number`, {
      retryable: false,
    });
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    maxRetriesPerRequest: null,
  };
}
