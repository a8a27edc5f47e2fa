import type { TelemetryV1 } from '@offsite/contracts';
import { toLine } from '@offsite/influx';
import fc from 'fast-check';
import { telemetryToLines, telemetryToPoints } from './points.js';

const reading = (over: Partial<TelemetryV1> = {}): TelemetryV1 => ({
  schema: 'telemetry.v1',
  eventId: 'tel-1',
  enterpriseId: 'ent-qlhg',
  siteId: 'DA001',
  deviceId: '88888880000001',
  source: 'hj212',
  kind: 'emission',
  interval: 'hour',
  dataTime: '2024-03-01T02:00:00Z',
  receivedAt: '2024-03-01T03:00:05Z',
  irregularities: [],
  measurements: [
    { factor: 'a21026', stat: 'Avg', value: 12.5, unit: 'mg/m3', flag: 'N' },
    { factor: 'a21026', stat: 'Max', value: 20, unit: 'mg/m3', flag: 'N' },
    { factor: 'a21026', stat: 'ZsAvg', value: 14.1, flag: 'N' },
    { factor: 'a34013', stat: 'Avg', value: 3.2, flag: 'M' },
  ],
  ...over,
});

describe('telemetryToPoints', () => {
  it('makes one point per factor with one field per statistic, flag and unit, at dataTime in seconds', () => {
    const points = telemetryToPoints(reading());
    expect(points).toEqual([
      {
        measurement: 'emission',
        tags: {
          enterprise: 'ent-qlhg',
          site: 'DA001',
          device: '88888880000001',
          factor: 'a21026',
          interval: 'hour',
        },
        fields: { Avg: 12.5, Max: 20, ZsAvg: 14.1, flag: 'N', unit: 'mg/m3' },
        timeSeconds: Date.UTC(2024, 2, 1, 2) / 1000,
      },
      {
        measurement: 'emission',
        tags: {
          enterprise: 'ent-qlhg',
          site: 'DA001',
          device: '88888880000001',
          factor: 'a34013',
          interval: 'hour',
        },
        fields: { Avg: 3.2, flag: 'M' },
        timeSeconds: Date.UTC(2024, 2, 1, 2) / 1000,
      },
    ]);
    expect(toLine(points[0]!)).toBe(
      'emission,device=88888880000001,enterprise=ent-qlhg,factor=a21026,interval=hour,site=DA001 Avg=12.5,Max=20.0,ZsAvg=14.1,flag="N",unit="mg/m3" 1709258400',
    );
  });

  it('keeps a differing per-statistic flag in its own field and tags a non-default period', () => {
    const [p] = telemetryToPoints(
      reading({
        interval: 'minute',
        periodSeconds: 600,
        measurements: [
          { factor: 'w01018', stat: 'Avg', value: 40, flag: 'N' },
          { factor: 'w01018', stat: 'Cou', value: 7, flag: 'T' },
        ],
      }),
    );
    expect(p!.tags.interval).toBe('minute-600s');
    expect(p!.fields).toEqual({ Avg: 40, Cou: 7, flag: 'N', Cou_flag: 'T' });
  });

  it('gives the same line for a replayed reading (idempotent point identity) and truncates sub-seconds', () => {
    const a = telemetryToPoints(reading({ dataTime: '2024-03-01T02:00:00.900Z' })).map(toLine);
    const b = telemetryToPoints(
      reading({ dataTime: '2024-03-01T02:00:00Z', receivedAt: '2024-03-02T00:00:00Z' }),
    ).map(toLine);
    expect(a).toEqual(b);
  });
});

describe('telemetryToLines', () => {
  const viaPoints = (t: TelemetryV1) => telemetryToPoints(t).map(toLine).join('\n');

  it('encodes exactly the lines of telemetryToPoints + toLine for the fixtures above', () => {
    const cases = [
      reading(),
      reading({ interval: 'minute', periodSeconds: 600 }),
      reading({
        measurements: [
          { factor: 'w01018', stat: 'Avg', value: 40, flag: 'N' },
          { factor: 'a21026', stat: 'Avg', value: 1e21, unit: 'mg/m3' },
          { factor: 'w01018', stat: 'Cou', value: 7, flag: 'T', unit: 'm3' },
          { factor: 'w01018', stat: 'Avg', value: -0.5, flag: 'N' },
        ],
      }),
      reading({ siteId: 'site with, = specials', deviceId: 'dev\\x' }),
    ];
    for (const t of cases) {
      const { text, count } = telemetryToLines(t);
      expect(text).toBe(viaPoints(t));
      expect(count).toBe(telemetryToPoints(t).length);
    }
  });

  it('agrees with the two-step encoding for arbitrary measurement lists (property)', () => {
    const measurement = fc.record(
      {
        factor: fc.constantFrom('a21026', 'a34013', 'w01018', 'power_kw'),
        stat: fc.constantFrom('Avg', 'Min', 'Max', 'Rtd', 'Cou', 'ZsAvg'),
        value: fc.double({ noNaN: true, noDefaultInfinity: true }),
        flag: fc.constantFrom('N', 'T', 'M', 'D'),
        unit: fc.constantFrom('mg/m3', 'kWh', 'L/s "x"'),
      },
      { requiredKeys: ['factor', 'stat', 'value'] },
    );
    fc.assert(
      fc.property(fc.array(measurement, { maxLength: 12 }), (ms) => {
        const t = reading({ measurements: ms as TelemetryV1['measurements'] });
        expect(telemetryToLines(t).text).toBe(viaPoints(t));
      }),
    );
  });

  it('refuses what toLine refuses: a non-finite value and an invalid dataTime', () => {
    expect(() =>
      telemetryToLines(reading({ measurements: [{ factor: 'a', stat: 'Avg', value: Number.NaN }] })),
    ).toThrow(/finite/);
    expect(() => telemetryToLines(reading({ dataTime: 'yesterday' }))).toThrow(RangeError);
  });
});
