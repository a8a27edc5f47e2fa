import {
  energyPerInterval,
  facilityStatus,
  meterEvidence,
  runningBands,
  stateBands,
} from './evidence-meters.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T02:00:00.000Z');
/** A counter read every minute from T0, starting at `base` and adding `perMin(i)` kWh in minute i. */
function counter(minutes: number, base: number, perMin: (i: number) => number) {
  const out = [{ t: T0, v: base }];
  for (let i = 0; i < minutes; i++) out.push({ t: T0 + (i + 1) * MIN, v: out[i]!.v + perMin(i) });
  return out;
}

describe('energyPerInterval', () => {
  it('turns a counter of about 250,000 kWh into the energy of each 15-minute window', () => {
    const c = counter(60, 250_000, (i) => (i < 30 ? 2 : 0.1));
    const e = energyPerInterval(c, T0, T0 + 60 * MIN, 15 * MIN, 5 * MIN);
    expect(e.map((x) => x.start)).toEqual([
      '2026-03-02T02:00:00.000Z',
      '2026-03-02T02:15:00.000Z',
      '2026-03-02T02:30:00.000Z',
      '2026-03-02T02:45:00.000Z',
    ]);
    expect(e.map((x) => Number(x.kwh!.toFixed(3)))).toEqual([30, 30, 1.5, 1.5]);
  });

  it('aligns windows to the rule grid, and leaves out windows the readings do not span', () => {
    const c = counter(40, 1000, () => 1).map((p) => ({ ...p, t: p.t + 7 * MIN }));
    const e = energyPerInterval(c, T0 - 60 * MIN, T0 + 120 * MIN, 15 * MIN, 5 * MIN);
    // Readings from 02:07 to 02:47: the whole windows 02:15 and 02:30 only.
    expect(e).toEqual([
      { start: '2026-03-02T02:15:00.000Z', kwh: 15 },
      { start: '2026-03-02T02:30:00.000Z', kwh: 15 },
    ]);
  });

  it('gives no figure, and says why, for a window where the counter went back (reset, rollover, new meter)', () => {
    // Rolls over at 999,999.9 in minute 20: 999,990 … → 0.5, 1.5 …
    const c = counter(45, 999_970, () => 1).map((p) => ({
      ...p,
      v: p.v > 999_999.9 ? p.v - 999_999.9 : p.v,
    }));
    const e = energyPerInterval(c, T0, T0 + 45 * MIN, 15 * MIN, 5 * MIN);
    expect(e.map((x) => [x.kwh === null ? null : Math.round(x.kwh), x.unknown])).toEqual([
      [15, undefined],
      [null, 'reset'],
      [15, undefined],
    ]);
    // Never a negative or counter-sized figure.
    expect(e.every((x) => x.kwh === null || (x.kwh >= 0 && x.kwh < 100))).toBe(true);
  });

  it('gives no figure for a window with readings too far apart to interpolate', () => {
    // No readings between 02:16 and 02:31 (a 15-minute gap, more than the 5 minutes allowed).
    const c = counter(45, 5000, () => 1).filter((p) => p.t <= T0 + 16 * MIN || p.t >= T0 + 31 * MIN);
    const e = energyPerInterval(c, T0, T0 + 45 * MIN, 15 * MIN, 5 * MIN);
    expect(e.map((x) => [x.kwh, x.unknown])).toEqual([
      [15, undefined],
      [null, 'gap'],
      [null, 'gap'],
    ]);
  });
});

describe('runningBands', () => {
  it('turns 0/1 samples into running periods, cut at a gap in the readings', () => {
    const s = [0, 1, 1, 1, 0, 0, 1, 1].map((v, i) => ({ t: T0 + i * MIN, v }));
    // A gap of 20 minutes, then running again for two readings.
    s.push({ t: T0 + 27 * MIN, v: 1 }, { t: T0 + 28 * MIN, v: 1 });
    expect(runningBands(s, 5 * MIN)).toEqual([
      ['2026-03-02T02:01:00.000Z', '2026-03-02T02:04:00.000Z'],
      ['2026-03-02T02:06:00.000Z', '2026-03-02T02:07:00.000Z'],
      ['2026-03-02T02:27:00.000Z', '2026-03-02T02:28:00.000Z'],
    ]);
  });
});

describe('meterEvidence', () => {
  it('gives each meter of the pair its power, energy per window and running bands, and no counter readings', () => {
    const rows = counter(30, 250_000, () => 2).flatMap((p, i) => [
      { time: p.t, site: 'mtr-p', factor: 'energy_kwh', value: p.v },
      { time: p.t, site: 'mtr-p', factor: 'power_kw', value: 120 },
      { time: p.t, site: 'mtr-p', factor: 'running', value: 1 },
      { time: p.t, site: 'mtr-t', factor: 'energy_kwh', value: 80_000 + i * 0.01 },
      { time: p.t, site: 'mtr-t', factor: 'power_kw', value: 0.6 },
      { time: p.t, site: 'mtr-t', factor: 'running', value: 0 },
      { time: p.t, site: 'other', factor: 'power_kw', value: 999 },
    ]);
    const m = meterEvidence(
      rows,
      new Map([
        ['mtr-p', 'production'],
        ['mtr-t', 'treatment'],
      ]),
      { from: T0, to: T0 + 30 * MIN },
      { windowMinutes: 15, maxGapMs: 5 * MIN },
    );
    expect(m.map((x) => [x.meterId, x.role])).toEqual([
      ['mtr-p', 'production'],
      ['mtr-t', 'treatment'],
    ]);
    expect(m[0]!.energy.map((e) => e.kwh)).toEqual([30, 30]);
    expect(m[1]!.energy.map((e) => Number(e.kwh!.toFixed(2)))).toEqual([0.15, 0.15]);
    expect(m[0]!.running).toEqual([['2026-03-02T02:00:00.000Z', '2026-03-02T02:30:00.000Z']]);
    expect(m[1]!.running).toEqual([]);
    expect(m[1]!.powerKw.every(([, v]) => v === 0.6)).toBe(true);
    expect(JSON.stringify(m)).not.toContain('250000');
  });
});

describe('stateBands', () => {
  const at = (min: number, v: number) => ({ t: T0 + min * MIN, v });
  it('joins repeated states into one band each, ending at the first sample of another state', () => {
    const s = [at(0, 1), at(1, 1), at(2, 0), at(3, 0), at(4, 4), at(5, 0), at(6, 0)];
    expect(stateBands(s, 5 * MIN)).toEqual([
      ['2026-03-02T02:00:00.000Z', '2026-03-02T02:02:00.000Z', 1],
      ['2026-03-02T02:02:00.000Z', '2026-03-02T02:04:00.000Z', 0],
      ['2026-03-02T02:04:00.000Z', '2026-03-02T02:05:00.000Z', 4],
      ['2026-03-02T02:05:00.000Z', '2026-03-02T02:06:00.000Z', 0],
    ]);
  });

  it('breaks a band where samples stop for longer than the gap, and keeps sparse but regular samples joined', () => {
    // Every minute, then nothing for 30 minutes: two bands of state 1.
    const s = [at(0, 1), at(1, 1), at(2, 1), at(32, 1), at(33, 1)];
    expect(stateBands(s, 5 * MIN).map((b) => [b[0].slice(11, 16), b[1].slice(11, 16)])).toEqual([
      ['02:00', '02:02'],
      ['02:32', '02:33'],
    ]);
    // A logger reporting status every 10 minutes (with its minute data): one band.
    const sparse = [0, 10, 20, 30].map((m) => at(m, 0));
    expect(stateBands(sparse, 5 * MIN)).toEqual([
      ['2026-03-02T02:00:00.000Z', '2026-03-02T02:30:00.000Z', 0],
    ]);
  });
});

describe('facilityStatus', () => {
  it('gives each linked facility the bands of its own outlet and code', () => {
    const rows = [
      { time: T0, site: 'out-1', code: 'SB1', value: 0 },
      { time: T0 + MIN, site: 'out-1', code: 'SB1', value: 0 },
      { time: T0, site: 'out-1', code: 'SB2', value: 1 },
      { time: T0 + MIN, site: 'out-1', code: 'SB2', value: 1 },
      { time: T0, site: 'out-2', code: 'SB1', value: 5 },
    ];
    const f = facilityStatus(rows, [{ meterId: 't1', outletId: 'out-1', code: 'SB1' }], 5 * MIN);
    expect(f).toEqual([
      {
        meterId: 't1',
        outletId: 'out-1',
        code: 'SB1',
        bands: [['2026-03-02T02:00:00.000Z', '2026-03-02T02:01:00.000Z', 0]],
      },
    ]);
  });
});
