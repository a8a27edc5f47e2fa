// A LISTEN connection kept alive across Postgres restarts. A checked-out pg client has no 'error'
// listener of the pool's, so a terminated backend (Postgres restart, admin command) would emit an
// unhandled 'error' and crash the process, and a lost connection would never listen again. Here the
// lost connection is logged, discarded and replaced with backoff; after a reconnect `onResumed` runs,
// since NOTIFYs sent while it was gone are lost.
import type pg from 'pg';
import { isRetryablePgError, StoreError } from './errors.js';
import type { Logger } from './logger.js';

export interface ListenerOptions {
  pool: Pick<pg.Pool, 'connect'>;
  /** Names the listener in logs ("registry", "live updates"). */
  name: string;
  /** LISTENs on the connection (e.g. `listenChannel`); resolves to the function that stops listening. */
  subscribe(client: pg.PoolClient): Promise<() => Promise<void>>;
  /** The connection came back after a loss: notifications may have been missed. */
  onResumed(): void;
  /** The connection was lost (before the reconnects start). */
  onLost?(): void;
  /** A reconnect attempt failed (the next one follows after the backoff). */
  onRetryFailed?(): void;
  logger: Logger;
  /** First retry delay; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface Listener {
  /** True while a LISTEN connection is up. */
  isListening(): boolean;
  /** Number of reconnects after a loss (tests, logs). */
  readonly resumes: number;
  stop(): Promise<void>;
}

/**
 * LISTEN on `channel` and pass each notification's payload on (empty payloads included as '').
 * Returns a function that stops listening; the caller owns the connection.
 */
export async function listenChannel(
  client: pg.ClientBase,
  channel: string,
  onPayload: (payload: string) => void,
): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel))
    throw new StoreError('QUERY_FAILED', `bad channel name ${channel}`, { retryable: false });
  const handler = (msg: pg.Notification) => {
    if (msg.channel === channel) onPayload(msg.payload ?? '');
  };
  client.on('notification', handler);
  try {
    await client.query(`listen ${channel}`);
  } catch (err) {
    client.off('notification', handler);
    throw new StoreError('QUERY_FAILED', `listen ${channel} failed: ${(err as Error).message}`, {
      retryable: isRetryablePgError(err),
      cause: err,
    });
  }
  return async () => {
    client.off('notification', handler);
    await client.query(`unlisten ${channel}`);
  };
}

/** Connects and LISTENs once (a failure here fails the start); later losses are repaired in the background. */
export async function startListener(opts: ListenerOptions): Promise<Listener> {
  const log = opts.logger.child({ component: 'listener', listener: opts.name });
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
      release(err ?? new Error(`${opts.name} listener connection ended`));
      if (stopped) return;
      log.warn({ err }, `${opts.name} LISTEN connection lost: reconnecting`);
      opts.onLost?.();
      schedule();
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    try {
      const off = await opts.subscribe(c);
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
          log.info({ resumes }, `${opts.name} LISTEN connection restored`);
          opts.onResumed();
        },
        (err: unknown) => {
          if (stopped) return;
          delay = Math.min(maxRetry, delay * 2);
          log.warn({ err, retryInMs: delay }, `${opts.name} LISTEN reconnect failed`);
          opts.onRetryFailed?.();
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
