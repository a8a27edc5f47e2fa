import { shutdownPeriods, silentSince } from './silent-device.js';

const MIN = 60_000;
const T = Date.parse('2026-11-28T08:00:00+08:00');
const thr = 10 * MIN;

describe('a registered device that never reported', () => {
  it('is offline once the threshold passed since it was expected, not before', () => {
    expect(silentSince({ watchFrom: T, now: T + thr - 1, thresholdMs: thr, quiet: [] })).toBeNull();
    expect(silentSince({ watchFrom: T, now: T + thr, thresholdMs: thr, quiet: [] })).toBe(T);
  });
  it('is not offline inside declared maintenance or a shutdown, and counts again from its end', () => {
    const maint = { start: T + 5 * MIN, end: T + 60 * MIN };
    expect(silentSince({ watchFrom: T, now: T + 30 * MIN, thresholdMs: thr, quiet: [maint] })).toBeNull();
    expect(silentSince({ watchFrom: T, now: T + 65 * MIN, thresholdMs: thr, quiet: [maint] })).toBeNull();
    expect(silentSince({ watchFrom: T, now: T + 70 * MIN, thresholdMs: thr, quiet: [maint] })).toBe(
      maint.end,
    );
    // A window that ended before the device was expected, or one still to come, changes nothing.
    const past = { start: T - 60 * MIN, end: T - 30 * MIN };
    const future = { start: T + 2 * 60 * MIN, end: T + 3 * 60 * MIN };
    expect(silentSince({ watchFrom: T, now: T + thr, thresholdMs: thr, quiet: [past, future] })).toBe(T);
  });
  it('an enterprise shut down until further notice keeps its devices quiet', () => {
    const quiet = shutdownPeriods([
      { status: 'normal', from: T - 10 * 24 * 60 * MIN },
      { status: 'shutdown', from: T - 60 * MIN },
    ]);
    expect(quiet).toEqual([{ start: T - 60 * MIN, end: Infinity }]);
    expect(silentSince({ watchFrom: T, now: T + 24 * 60 * MIN, thresholdMs: thr, quiet })).toBeNull();
  });
  it('a shutdown ends at the next status entry, and the silence counts from the resumption', () => {
    const resumed = T + 60 * MIN;
    const quiet = shutdownPeriods([
      { status: 'resuming', from: resumed },
      { status: 'shutdown', from: T - 24 * 60 * MIN },
    ]);
    expect(quiet).toEqual([{ start: T - 24 * 60 * MIN, end: resumed }]);
    expect(silentSince({ watchFrom: T, now: resumed + thr - 1, thresholdMs: thr, quiet })).toBeNull();
    expect(silentSince({ watchFrom: T, now: resumed + thr, thresholdMs: thr, quiet })).toBe(resumed);
  });
});
