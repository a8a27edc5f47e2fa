import type pg from 'pg';
import type { Logger } from '@offsite/runtime';

export const CASES_CHANNEL = 'console_cases_changed';

/** Fans out Postgres NOTIFY `console_cases_changed` (payload: deviation id; migration 021 fires it on changes of a case, its review state, notifications and acknowledgements) to SSE subscribers. */
export interface LiveHub {
  subscribe(fn: (deviationId: string) => void): () => void;
  start(): Promise<void>;
  close(): Promise<void>;
  subscribers(): number;
}

export function createLiveHub(pool: pg.Pool, logger: Logger): LiveHub {
  const subs = new Set<(id: string) => void>();
  let client: pg.PoolClient | undefined;
  return {
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    subscribers: () => subs.size,
    async start() {
      client = await pool.connect();
      client.on('notification', (n) => {
        if (n.channel !== CASES_CHANNEL || !n.payload) return;
        for (const fn of subs) fn(n.payload);
      });
      client.on('error', (err) => logger.error({ err }, 'live updates connection failed'));
      await client.query(`listen ${CASES_CHANNEL}`);
    },
    async close() {
      subs.clear();
      if (!client) return;
      const c = client;
      client = undefined;
      await c.query(`unlisten ${CASES_CHANNEL}`).catch(() => undefined);
      c.release();
    },
  };
}
