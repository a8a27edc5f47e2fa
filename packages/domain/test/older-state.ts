// An engine state as the engines before state version 3 kept it (deviation fingerprints as the JSON of the content), for
// the tests of restoring older checkpoints.
import type { DeviationRecord } from '../src/deviation-records.js';
import type { EngineState } from '../src/engine.js';
import { fingerprint64 } from '../src/fingerprint.js';

/** A record's fingerprint as engine states before version 3 kept it: the JSON of its content. */
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
  expect(fingerprint64(json)).toBe(d.fingerprint);
  return json;
}

/** A version-3 state as an engine of `version` (1 or 2) kept it (deviation fingerprints as JSON). */
export function olderState(s: EngineState, version: 1 | 2): EngineState {
  const deviations = Object.fromEntries(
    Object.entries(s.deviations).map(([id, d]) => [id, { ...d, fingerprint: oldFingerprint(d) }]),
  );
  return { ...s, version, deviations };
}
