// The registry LISTEN connection, kept alive across Postgres restarts. A checked-out pg client has no
// 'error' listener of the pool's, so a terminated backend (Postgres restart, admin command) emitted an
// unhandled 'error' and crashed the process. Here the lost connection is logged, discarded and replaced
// with backoff; after a reconnect `onResumed` runs, since NOTIFYs sent while it was gone are lost.
import type { Logger } from '@offsite/runtime';
import { listenRegistryChanges, type RegistryChange } from '@offsite/store';
import type pg from 'pg';

export interface RegistryListenerOptions {
  pool: Pick<pg.Pool, 'connect'>;
  schema: string;
  onChange(change: RegistryChange): void;
  /** The connection came back after a loss: changes may have been missed (reload the registry). */
  onResumed(): void;
  logger: Logger;
  /** First retry delay; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface RegistryListener {
  /** True while a LISTEN connection is up. */
  isListening(): boolean;
  /** Number of reconnects after a loss (tests, logs). */
  readonly resumes: number;
  stop(): Promise<void>;
}

/** Connects and LISTENs once (a failure here fails the start); later losses are repaired in the background. */
export async function startRegistryListener(opts: RegistryListenerOptions): Promise<RegistryListener> {
  const log = opts.logger.child({ component: 'registry-listener' });
  const firstRetry = opts.retryMs ?? 1_000;
  const maxRetry = opts.maxRetryMs ?? 30_000;
  /** The live connection and how to give it back exactly once (pg-pool throws on a double release). */
  let current: { client: pg.PoolClient; release(err?: Error): void } | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = firstRetry;
  let resumes = 0;

  async function connect(): Promise<void> {
    const c = await opts.pool.connect();
    let released = false;
    let lost = false;
    const release = (err?: Error) => {
      if (released) return;
      released = true;
      // With an error the pool destroys the connection instead of keeping it.
      c.release(err);
    };
    const onLost = (err?: Error) => {
      if (lost || released) return;
      lost = true;
      if (current?.client === c) {
        current = undefined;
        unlisten = undefined;
      }
      release(err ?? new Error('registry listener connection ended'));
      if (stopped) return;
      log.warn({ err }, 'registry LISTEN connection lost: reconnecting');
      schedule();
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    try {
      const off = await listenRegistryChanges(c, opts.schema, (change) => opts.onChange(change));
      if (lost) return;
      if (stopped) {
        // stop() ran while this reconnect was under way: do not keep the connection.
        await off().catch(() => undefined);
        release();
        return;
      }
      current = { client: c, release };
      unlisten = off;
    } catch (err) {
      lost = true;
      release(err as Error);
      throw err;
    }
  }

  function schedule(): void {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      connect().then(
        () => {
          if (stopped || !current) return;
          delay = firstRetry;
          resumes++;
          log.info({ resumes }, 'registry LISTEN connection restored');
          opts.onResumed();
        },
        (err: unknown) => {
          if (stopped) return;
          delay = Math.min(maxRetry, delay * 2);
          log.warn({ err, retryInMs: delay }, 'registry LISTEN reconnect failed');
          schedule();
        },
      );
    }, delay);
  }

  await connect();
  return {
    isListening: () => current !== undefined,
    get resumes() {
      return resumes;
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      const cur = current;
      const off = unlisten;
      current = undefined;
      unlisten = undefined;
      if (!cur) return;
      try {
        await off?.();
        cur.release();
      } catch (err) {
        log.warn({ err }, 'unlisten failed');
        cur.release(err as Error);
      }
    },
  };
}
