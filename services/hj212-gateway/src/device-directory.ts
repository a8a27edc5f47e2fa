/**
 * Device credentials by MN, cached for a short TTL (unknown MNs too, so a misconfigured logger
 * cannot hammer Postgres) and cleared whenever the registry changes (`registry_changed`). Concurrent
 * lookups of one MN share one query. The SM4 cipher of a 2025 device is built once per entry.
 */
import { createSm4EcbCipher, type SegmentCipher } from '@offsite/hj212';

/** What the gateway needs of a registry device (store's `DeviceAuth` satisfies it). */
export interface DeviceRecord {
  readonly mn: string;
  readonly enterpriseId: string;
  readonly outletId: string;
  readonly password: string;
  readonly sm4Key: string | null;
  readonly protocolVersion: number;
  readonly minuteIntervalS: number;
  readonly enabled: boolean;
}

export interface KnownDevice extends DeviceRecord {
  /** SM4 cipher for HJ 212-2025 devices with a key; undefined otherwise (or if the key is unusable). */
  readonly cipher: SegmentCipher | undefined;
}

export interface DeviceDirectory {
  lookup(mn: string): Promise<KnownDevice | null>;
  /** Forget every cached entry (called on registry_changed). */
  clear(): void;
  readonly size: number;
}

export interface DeviceDirectoryOptions {
  readonly find: (mn: string) => Promise<DeviceRecord | null>;
  readonly ttlMs: number;
  readonly now?: () => number;
  readonly maxEntries?: number;
}

interface Entry {
  readonly at: number;
  readonly value: Promise<KnownDevice | null>;
}

export function createDeviceDirectory(opts: DeviceDirectoryOptions): DeviceDirectory {
  const now = opts.now ?? Date.now;
  const max = opts.maxEntries ?? 200_000;
  let cache = new Map<string, Entry>();
  let generation = 0;

  const load = async (mn: string): Promise<KnownDevice | null> => {
    const d = await opts.find(mn);
    if (!d) return null;
    let cipher: SegmentCipher | undefined;
    if (d.protocolVersion === 2025 && d.sm4Key) {
      try {
        cipher = createSm4EcbCipher(d.sm4Key);
      } catch {
        cipher = undefined;
      }
    }
    return { ...d, cipher };
  };

  return {
    lookup(mn) {
      const hit = cache.get(mn);
      if (hit && now() - hit.at <= opts.ttlMs) return hit.value;
      const gen = generation;
      const value = load(mn);
      if (cache.size >= max) cache = new Map();
      const entry = { at: now(), value };
      cache.set(mn, entry);
      // A failed query is not cached; a result loaded across a clear() is not kept either.
      value.then(
        () => {
          if (gen !== generation && cache.get(mn) === entry) cache.delete(mn);
        },
        () => {
          if (cache.get(mn) === entry) cache.delete(mn);
        },
      );
      return value;
    },
    clear() {
      generation += 1;
      cache = new Map();
    },
    get size() {
      return cache.size;
    },
  };
}

/**
 * Comparison of a received PW with the registry's whose running time depends only on the longer
 * length, not on where they differ (every character is XORed, lengths included). No hashing: this
 * runs for every packet.
 */
export function passwordMatches(received: string | null, expected: string): boolean {
  if (received === null) return false;
  const n = Math.max(received.length, expected.length);
  let diff = received.length ^ expected.length;
  for (let i = 0; i < n; i++) diff |= (received.charCodeAt(i) | 0) ^ (expected.charCodeAt(i) | 0);
  return diff === 0;
}
