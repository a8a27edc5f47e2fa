import { defaultConfig } from './config.js';
import {
  crossDeviceDeviation,
  crossDeviceDeviationId,
  crossDeviceText,
  deviceHourMeans,
  devicesDisagree,
  judgeDevices,
  judgeFlueGas,
  type DeviceMinute,
  type FlueGasHour,
} from './cross-device.js';

const HOUR = 3_600_000;
const DAY_START = Date.parse('2026-11-28T00:00:00+08:00');
const rules = defaultConfig.rules.crossDevice;

function hours(n: number, f: (i: number) => Omit<FlueGasHour, 'start'>): FlueGasHour[] {
  return Array.from({ length: n }, (_, i) => ({ start: DAY_START + i * HOUR, ...f(i) }));
}

describe('flue gas: O2 against flow against temperature', () => {
  // 20 burning hours (O2 6.0/6.5/7.0/7.5 %, 120 °C), then 4 hours at 20.9 % and 25 °C; the flow 100 throughout.
  const ambient = hours(24, (i) =>
    i < 20
      ? { o2: 6 + (i % 4) * 0.5, flow: 100, temperature: 120 }
      : { o2: 20.9, flow: 100, temperature: 25 },
  );

  it('flow steady while the stack holds ambient air for 4 hours → ambient-while-flowing', () => {
    const j = judgeFlueGas(ambient, rules);
    expect(j).toMatchObject({ check: 'flue-gas', status: 'flagged', reason: null });
    expect(j.findings).toEqual(['ambient-while-flowing']);
    expect(j.offHours).toEqual([20, 21, 22, 23].map((i) => DAY_START + i * HOUR));
    const f = (name: string) => j.figures.find((x) => x.figure === name)!;
    expect(f('ambient-while-flowing-hours')).toMatchObject({
      value: 4,
      threshold: { value: 3, side: 'at-least' },
      hours: { judged: 24, off: 4 },
      flagged: true,
    });
    // O2 sorted: 5×6.0, 5×6.5, 5×7.0, 5×7.5, 4×20.9 → median 7.0; |deviations| 5×0, 10×0.5, 5×1, 4×13.9 → MAD 0.5.
    expect(f('o2-mad')).toMatchObject({ value: 0.5, flagged: false });
    // Flow all 100: MAD 0, CV 0 — not varying.
    expect(f('flow-cv')).toMatchObject({ value: 0, flagged: false });
    expect(f('ambient-while-flowing-hours').zh).toContain('24 个小时中有 4 个小时烟气流量显示在排放');
    expect(f('ambient-while-flowing-hours').en).toMatch(/^4 of 24 hours .* physically implausible$/);
  });

  it('the same ambient hours with the fan near stopped (flow 10 < 50 % of the median) are consistent', () => {
    const stopped = ambient.map((h, i) => (i < 20 ? h : { ...h, flow: 10 }));
    const j = judgeFlueGas(stopped, rules);
    expect(j.status).toBe('clear');
    expect(j.figures.find((x) => x.figure === 'ambient-while-flowing-hours')).toMatchObject({
      value: 0,
      flagged: false,
    });
  });

  it('two ambient hours are fewer than the three that flag', () => {
    const two = ambient.map((h, i) => (i < 22 ? { ...h, o2: 6, temperature: 120 } : h));
    expect(judgeFlueGas(two, rules)).toMatchObject({ status: 'clear', findings: [] });
  });

  it('O2 constant while the flow swings between 60 and 140 → o2-flat-while-flow-varies', () => {
    const flat = hours(24, (i) => ({ o2: 8, flow: i % 2 === 0 ? 60 : 140, temperature: 150 }));
    const j = judgeFlueGas(flat, rules);
    expect(j).toMatchObject({ status: 'flagged', findings: ['o2-flat-while-flow-varies'], offHours: [] });
    // Flow median (60 + 140) / 2 = 100, MAD 40 → CV 1.4826 × 40 / 100 = 0.593; O2 MAD 0.
    expect(j.figures.find((x) => x.figure === 'flow-cv')).toMatchObject({
      value: 0.593,
      threshold: { value: 0.25, side: 'at-least' },
      flagged: true,
    });
    expect(j.figures.find((x) => x.figure === 'o2-mad')).toMatchObject({ value: 0, flagged: true });
    // With O2 moving against the load (9 % at low flow, 5 % at high): MAD 2, consistent.
    const moving = flat.map((h) => ({ ...h, o2: h.flow === 60 ? 9 : 5 }));
    expect(judgeFlueGas(moving, rules)).toMatchObject({ status: 'clear', findings: [] });
  });

  it('without temperatures only O2 against flow is judged; too few hours or none: not judged', () => {
    const noT = hours(24, (i) => ({ o2: 6 + (i % 4) * 0.5, flow: 100, temperature: null }));
    const j = judgeFlueGas(noT, rules);
    expect(j.status).toBe('clear');
    expect(j.figures.map((f) => f.figure)).toEqual(['o2-mad', 'flow-cv']);
    expect(judgeFlueGas(ambient.slice(0, 11), rules)).toMatchObject({
      status: 'not-judged',
      reason: 'too-few-hours',
    });
    expect(judgeFlueGas([], rules)).toMatchObject({ status: 'not-judged', reason: 'no-data' });
    // Hours without a valid O2 do not count.
    const holes = ambient.map((h, i) => (i % 2 === 0 ? { ...h, o2: null } : h));
    expect(judgeFlueGas(holes, rules)).toMatchObject({ status: 'clear' });
    expect(judgeFlueGas(holes.slice(0, 23), rules)).toMatchObject({ reason: 'too-few-hours' });
  });
});

describe('devices of one stack', () => {
  const minute = (device: string, factor: string, t: number, value: number, flag: string | null = 'N') => ({
    device,
    factor,
    time: t,
    value,
    flag,
  });

  it('hourly means of the valid minute values per device and factor', () => {
    const m = deviceHourMeans([
      minute('A', 'a21026', DAY_START, 10),
      minute('A', 'a21026', DAY_START + 10 * 60_000, 20),
      minute('A', 'a21026', DAY_START + 20 * 60_000, 30, null),
      minute('A', 'a21026', DAY_START + 30 * 60_000, 100, 'D'),
      minute('A', 'a21026', DAY_START + HOUR, 7),
      minute('B', 'a21026', DAY_START + 50 * 60_000, 12),
    ]);
    expect(m.get('a21026')!.get('A')).toEqual(
      new Map([
        [DAY_START, 20],
        [DAY_START + HOUR, 7],
      ]),
    );
    expect(m.get('a21026')!.get('B')).toEqual(new Map([[DAY_START, 12]]));
  });

  it('the tolerance: max(10 % of the larger value, the absolute floor)', () => {
    expect(devicesDisagree(100, 89, rules)).toBe(true); // 11 > 10
    expect(devicesDisagree(100, 91, rules)).toBe(false); // 9 ≤ 10
    expect(devicesDisagree(5, 5.9, rules)).toBe(false); // 0.9 ≤ max(0.59, 1)
    expect(devicesDisagree(5, 6.2, rules)).toBe(true); // 1.2 > max(0.62, 1)
  });

  /** Two devices, 24 hours of six 10-minute values: A's SO2 at 50; B's at 40 in the first `low` hours, else 49. */
  function twoDevices(low: number): DeviceMinute[] {
    const out: DeviceMinute[] = [];
    for (let h = 0; h < 24; h++)
      for (let k = 0; k < 6; k++) {
        const t = DAY_START + h * HOUR + k * 600_000;
        out.push(minute('A', 'a21026', t, 50), minute('B', 'a21026', t, h < low ? 40 : 49));
        out.push(minute('A', 'a19001', t, 7), minute('B', 'a19001', t, 7.3));
      }
    return out;
  }

  it('13 of 24 hours apart by 10 (> 5) → the pair disagrees for most of the day', () => {
    const j = judgeDevices(twoDevices(13), ['A', 'B'], () => rules);
    expect(j).toMatchObject({ check: 'devices', status: 'flagged', findings: ['devices-disagree'] });
    expect(j.offHours).toEqual(Array.from({ length: 13 }, (_, i) => DAY_START + i * HOUR));
    const so2 = j.figures.find((f) => f.factor === 'a21026')!;
    // A's hourly medians 50; B's: 13 × 40 and 11 × 49 → median 40.
    expect(so2).toMatchObject({
      device: 'A',
      otherDevice: 'B',
      value: 50,
      other: 40,
      threshold: { value: 0.1, side: 'tolerance' },
      hours: { judged: 24, off: 13 },
      flagged: true,
    });
    expect(so2.zh).toContain('24 个小时中，13 个小时相差超过容差 max(10%, 1)');
    // O2 7 against 7.3: 0.3 ≤ max(0.73, 1) every hour.
    expect(j.figures.find((f) => f.factor === 'a19001')).toMatchObject({
      hours: { judged: 24, off: 0 },
      flagged: false,
    });
  });

  it('12 of 24 hours is half the day, not most of it', () => {
    expect(judgeDevices(twoDevices(12), ['A', 'B'], () => rules)).toMatchObject({
      status: 'clear',
      offHours: [],
    });
  });

  it("a factor's own tolerance (the engine's factor overrides)", () => {
    const loose = (f: string) => (f === 'a21026' ? { ...rules, absTolerance: 15 } : rules);
    expect(judgeDevices(twoDevices(24), ['A', 'B'], loose).status).toBe('clear');
  });

  it('one device, no data or fewer than 12 common hours: not judged', () => {
    expect(judgeDevices(twoDevices(13), ['A'], () => rules)).toMatchObject({ reason: 'single-device' });
    expect(judgeDevices([], ['A', 'B'], () => rules)).toMatchObject({ reason: 'no-data' });
    const short = twoDevices(13).filter((m) => m.time < DAY_START + 11 * HOUR);
    expect(judgeDevices(short, ['A', 'B'], () => rules)).toMatchObject({ reason: 'too-few-hours' });
    // A device the registry does not list on the outlet is not compared.
    expect(judgeDevices(twoDevices(13), ['A', 'C'], () => rules)).toMatchObject({
      reason: 'too-few-hours',
    });
  });
});

describe('the deviation', () => {
  const day = { start: DAY_START, end: DAY_START + 24 * HOUR };
  const flat = judgeFlueGas(
    hours(24, (i) => ({ o2: 8, flow: i % 2 === 0 ? 60 : 140, temperature: 150 })),
    rules,
  );
  const input = { enterpriseId: 'ent-1', siteId: 'out-1', day, judgement: flat, previous: null, rules };

  it('one per outlet, sub-check and day, suspected falsification, with its figures and thresholds', () => {
    const d = crossDeviceDeviation(input)!;
    expect(d).toMatchObject({
      id: crossDeviceDeviationId('ent-1', 'out-1', 'flue-gas', DAY_START),
      rule: 'cross-device',
      subject: 'flue-gas',
      state: 'opened',
      revision: 1,
      suspectedFalsification: true,
      windowStart: day.start,
      windowEnd: day.end,
    });
    expect(d.evidence).toMatchObject({
      check: 'flue-gas',
      dayText: '2026-11-28 00:00',
      findings: ['o2-flat-while-flow-varies'],
      thresholds: { o2FlatMad: 0.05, flowVariesCv: 0.25, minAmbientHours: 3 },
    });
    expect(crossDeviceText(d.evidence)).toMatch(
      /^2026-11-28 flue-gas: O2 hourly means' median absolute deviation 0/,
    );
    expect(crossDeviceDeviationId('ent-1', 'out-1', 'devices', DAY_START)).not.toBe(d.id);
  });

  it('none when the log holds it or nothing was flagged', () => {
    expect(crossDeviceDeviation({ ...input, previous: { revision: 1 } })).toBeNull();
    const clear = judgeFlueGas(
      hours(24, (i) => ({ o2: i % 2 === 0 ? 9 : 5, flow: i % 2 === 0 ? 60 : 140, temperature: 150 })),
      rules,
    );
    expect(crossDeviceDeviation({ ...input, judgement: clear })).toBeNull();
  });
});
