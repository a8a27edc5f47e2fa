// The event ids an enterprise's buffer holds, for the engine's at-least-once check: a table of 32-bit hashes of the
// ids (open addressing, at most half full: 8 to 16 bytes an id, where a Set of the id strings took about 57). A hash
// found is confirmed on the buffer itself (sorted by data time and event id): first the reading with the same time and
// id, then, for an id seen again with another time or another id with the same hash (rare), a scan of the buffer. The
// answer is exactly the Set's.
import type { Reading } from './model.js';

const EMPTY = 0;

/** FNV-1a over the UTF-16 code units (of the id as a string: a reading kept as given may hold another type); never 0
 * (the empty slot). */
function hashOf(given: string): number {
  const id = String(given);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h === EMPTY ? 1 : h;
}

export class EventIds {
  private table = new Int32Array(16);
  private count = 0;

  /** The ids of a buffer (`readings` sorted by data time and event id). */
  static of(readings: readonly Reading[]): EventIds {
    const ids = new EventIds();
    for (const r of readings) ids.add(r.eventId);
    return ids;
  }

  /** Whether `readings` (the buffer these ids were added for, sorted) holds a reading with this event id. */
  has(id: string, dataTime: number, readings: readonly Reading[]): boolean {
    if (!this.maybe(hashOf(id))) return false;
    let lo = 0;
    let hi = readings.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = readings[mid]!;
      if (r.dataTime < dataTime || (r.dataTime === dataTime && r.eventId < id)) lo = mid + 1;
      else hi = mid;
    }
    const at = readings[lo];
    if (at !== undefined && at.dataTime === dataTime && at.eventId === id) return true;
    for (const r of readings) if (r.eventId === id) return true;
    return false;
  }

  add(id: string): void {
    if ((this.count + 1) * 2 > this.table.length) this.grow();
    this.put(this.table, hashOf(id));
    this.count += 1;
  }

  private maybe(h: number): boolean {
    const t = this.table;
    const mask = t.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = t[i]!;
      if (x === EMPTY) return false;
      if (x === h) return true;
    }
  }

  private put(t: Int32Array, h: number): void {
    const mask = t.length - 1;
    let i = h & mask;
    while (t[i] !== EMPTY) i = (i + 1) & mask;
    t[i] = h;
  }

  private grow(): void {
    const next = new Int32Array(this.table.length * 2);
    for (const h of this.table) if (h !== EMPTY) this.put(next, h);
    this.table = next;
  }
}
