// `@offsite/domain/testing`: for tests of this package and of the services that keep engine states (the analyzer's
// checkpoint store), not for production code. An engine state as the engines before state version 3 kept it
// (deviation fingerprints as the JSON of the content), to test restoring older checkpoints.
import type { DeviationRecord } from './deviation-records.js';
import type { EngineState } from './engine.js';
import { fingerprint64 } from './fingerprint.js';

/**
 * A record's fingerprint as engine states before version 3 kept it: the JSON of its content. Throws when that JSON
 * does not hash to the record's version-3 fingerprint (the two forms must describe the same content).
 */
export function oldFingerprint(d: DeviationRecord): string {
  const json = d.retracted
    ? JSON.stringify(['retracted', d.windowEnd])
    : JSON.stringify([
        d.windowStart,
        d.windowEnd ?? null,
        d.severity,
        d.suspected,
        d.inResumptionWindow,
        d.evidence,
      ]);
  if (fingerprint64(json) !== d.fingerprint)
    throw new Error(
      `deviation ${d.id}: its content's JSON does not hash to its fingerprint ${d.fingerprint}`,
    );
  return json;
}

/** A version-3 state as an engine of `version` (1 or 2) kept it (deviation fingerprints as JSON). */
export function olderState(s: EngineState, version: 1 | 2): EngineState {
  const deviations = Object.fromEntries(
    Object.entries(s.deviations).map(([id, d]) => [id, { ...d, fingerprint: oldFingerprint(d) }]),
  );
  return { ...s, version, deviations };
}
