import type { Logger } from '@offsite/runtime';
import { listenRegistryChanges, loadRegistrySnapshot } from '@offsite/store';
import type pg from 'pg';
import { indexRegistry, type RegistryIndex } from './registry-index.js';

export interface RegistrySource {
  /** The current index (the last snapshot that loaded). */
  current(): RegistryIndex;
  /** Loads the first snapshot and starts listening for `registry_changed`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  reload(): Promise<void>;
}

/**
 * Keeps an index of the registry in memory: loaded at start, reloaded (debounced) whenever the
 * registry triggers NOTIFY registry_changed for `schema`.
 */
export function createRegistrySource(opts: {
  pool: pg.Pool;
  listenClient: pg.Client;
  schema: string;
  logger: Logger;
  debounceMs?: number;
  onReload?(ok: boolean): void;
}): RegistrySource {
  const log = opts.logger.child({ component: 'registry' });
  let index: RegistryIndex | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const reload = async () => {
    try {
      const snapshot = await loadRegistrySnapshot(opts.pool);
      index = indexRegistry(snapshot);
      opts.onReload?.(true);
      log.info({ enterprises: index.enterpriseIds.length, readAt: snapshot.readAt }, 'registry loaded');
    } catch (err) {
      opts.onReload?.(false);
      log.error({ err }, 'registry reload failed; keeping the previous snapshot');
      if (!index) throw err;
    }
  };
  return {
    current() {
      if (!index) throw new Error('registry not loaded yet');
      return index;
    },
    reload,
    async start() {
      await reload();
      await opts.listenClient.connect();
      unlisten = await listenRegistryChanges(opts.listenClient, opts.schema, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void reload().catch(() => undefined), opts.debounceMs ?? 200);
      });
    },
    async stop() {
      if (timer) clearTimeout(timer);
      await unlisten?.().catch(() => undefined);
      await opts.listenClient.end().catch(() => undefined);
      await opts.pool.end().catch(() => undefined);
    },
  };
}
