import fc from 'fast-check';
import { cmpReading } from './deviation-records.js';
import { EventIds } from './event-ids.js';
import type { Reading } from './model.js';

const reading = (eventId: string, dataTime: number): Reading => ({
  eventId,
  enterpriseId: 'E1',
  siteId: 'OUT1',
  deviceId: 'MN1',
  kind: 'emission',
  interval: 'realtime',
  dataTime,
  measurements: [],
});

/** Ingests like the engine: a reading whose id the buffer holds is ignored, else it goes in sorted. */
function ingest(ids: EventIds, buffer: Reading[], r: Reading): boolean {
  if (ids.has(r.eventId, r.dataTime, buffer)) return false;
  ids.add(r.eventId);
  buffer.push(r);
  buffer.sort(cmpReading);
  return true;
}

describe('the event-id index answers as a Set of the ids', () => {
  // FNV-1a 32-bit collisions: the same hash, different ids.
  const colliding = ['costarring', 'liquid', 'declinate', 'macallums', 'altarage', 'zinke'];

  it('on random ids and times, repeats with the same or another time, and ids with the same hash', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...colliding)),
            fc.integer({ min: 0, max: 20 }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const ids = new EventIds();
          const buffer: Reading[] = [];
          const set = new Set<string>();
          for (const [id, t] of ops) {
            expect(ingest(ids, buffer, reading(id, t))).toBe(!set.has(id));
            set.add(id);
          }
          const rebuilt = EventIds.of(buffer);
          for (const [id, t] of ops) expect(rebuilt.has(id, t + 1, buffer)).toBe(true);
          for (const id of colliding) expect(rebuilt.has(id, 0, buffer)).toBe(set.has(id));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an id with the hash of one held is not taken for it', () => {
    const ids = new EventIds();
    const buffer: Reading[] = [];
    expect(ingest(ids, buffer, reading('costarring', 5))).toBe(true);
    expect(ids.has('liquid', 5, buffer)).toBe(false);
    expect(ingest(ids, buffer, reading('liquid', 5))).toBe(true);
    expect(ingest(ids, buffer, reading('liquid', 9))).toBe(false);
    expect(ingest(ids, buffer, reading('costarring', 5))).toBe(false);
  });

  it('grows past its first table', () => {
    const ids = new EventIds();
    const buffer: Reading[] = [];
    for (let i = 0; i < 5_000; i++) {
      ids.add(`tel-${i}`);
      buffer.push(reading(`tel-${i}`, i));
    }
    buffer.sort(cmpReading);
    for (let i = 0; i < 5_000; i++) expect(ids.has(`tel-${i}`, i, buffer)).toBe(true);
    expect(ids.has('tel-5000', 5_000, buffer)).toBe(false);
  });
});
