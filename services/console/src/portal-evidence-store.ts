// Evidence files on disk, never orphaned: a file is written under a temporary name (`<key>.part`), its
// row is inserted in a transaction, and only after the commit is the file renamed to its key. A crash
// before the commit leaves a `.part` file without a row; a crash between the commit and the rename
// leaves a `.part` file with a row. The sweep at start-up settles both once they are older than its
// age limit (so that an upload in flight on another instance is never touched): a `.part` file with a
// row is renamed to its key, one without is removed, and a file named by a key no row has is removed.
// Reading falls back to the `.part` name for the moment between a commit and its rename.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@offsite/runtime';
import type pg from 'pg';

const KEY = /^[0-9a-f]{32}$/;
const PART = /^([0-9a-f]{32})\.part$/;

/**
 * Writes `bytes` under a new key, runs `commit(key)` (which inserts the row in its own transaction) and
 * then gives the file its final name. If `commit` throws, the file is removed and the error rethrown.
 */
export async function storeEvidenceFile<T>(
  dir: string,
  bytes: Uint8Array,
  commit: (key: string) => Promise<T>,
  log?: Pick<Logger, 'warn'>,
): Promise<T> {
  const key = randomBytes(16).toString('hex');
  const part = join(dir, `${key}.part`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(part, bytes, { flag: 'wx', mode: 0o600, flush: true });
  let out: T;
  try {
    out = await commit(key);
  } catch (err) {
    // No row, no file: nothing half-saved.
    await rm(part, { force: true });
    throw err;
  }
  // The row is committed; a failed rename is finished by the next sweep, and reads find the .part.
  await rename(part, join(dir, key)).catch((err: unknown) => {
    log?.warn({ key, err: (err as Error).message }, 'evidence file not renamed after commit; the sweep will');
  });
  return out;
}

/** The bytes stored under `key` (under its temporary name if the rename after the commit is pending). */
export async function readEvidenceFile(dir: string, key: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, key));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return readFile(join(dir, `${key}.part`));
  }
}

export interface SweepResult {
  /** `.part` files whose row exists, renamed to their key. */
  completed: string[];
  /** Files without a row (`.part` or final), removed. */
  removed: string[];
}

/** Settles the evidence directory: see the file's header. Files younger than `olderThanMs` are left alone. */
export async function sweepEvidenceDir(
  pool: Pick<pg.Pool, 'query'>,
  dir: string,
  o: { olderThanMs: number; now?: number; logger?: Pick<Logger, 'info' | 'warn'> },
): Promise<SweepResult> {
  const now = o.now ?? Date.now();
  const out: SweepResult = { completed: [], removed: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  const old: { name: string; key: string; part: boolean }[] = [];
  for (const name of names) {
    const part = PART.exec(name);
    if (!part && !KEY.test(name)) continue; // not ours
    const st = await stat(join(dir, name)).catch(() => null);
    if (!st?.isFile() || now - st.mtimeMs < o.olderThanMs) continue;
    old.push({ name, key: part ? part[1]! : name, part: Boolean(part) });
  }
  if (old.length === 0) return out;
  const known = new Set(
    (
      await pool.query<{ storage_key: string }>(
        'select storage_key from portal_evidence where storage_key = any($1::text[])',
        [old.map((f) => f.key)],
      )
    ).rows.map((r) => r.storage_key),
  );
  for (const f of old) {
    if (known.has(f.key)) {
      if (!f.part) continue;
      await rename(join(dir, f.name), join(dir, f.key));
      out.completed.push(f.key);
    } else {
      await rm(join(dir, f.name), { force: true });
      out.removed.push(f.name);
    }
  }
  if (out.completed.length + out.removed.length > 0)
    o.logger?.info(
      { completed: out.completed.length, removed: out.removed.length },
      'evidence directory swept',
    );
  return out;
}
