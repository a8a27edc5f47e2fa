import { createEngine, makeConfig } from '@offsite/domain';
import type { RegistrySnapshot } from '@offsite/store';
import { deviceView, registryViewFromSnapshot } from './registry-view.js';
import { HOUR, MIN, minuteTelemetry, MN, OUTLET, T0 } from './testkit.js';
import { readingFromTelemetry } from './telemetry.js';

type Device = RegistrySnapshot['enterprises'][number]['outlets'][number]['devices'][number];
const device = (over: Partial<Record<keyof Device, unknown>>): Device =>
  ({
    mn: MN,
    protocolVersion: 2017,
    realtimeIntervalS: 30,
    minuteIntervalS: 600,
    enabled: true,
    ...over,
  }) as Device;

describe('registry → domain device mapping', () => {
  it('judges a device with a real-time cadence on its real-time stream', () => {
    expect(deviceView(device({}), OUTLET)).toEqual({
      id: MN,
      siteId: OUTLET,
      cadenceSeconds: 30,
      cadenceInterval: 'realtime',
    });
  });

  it.each([null, undefined, 0])('judges a device without real-time cadence (%p) on its minute data', (rt) => {
    expect(deviceView(device({ realtimeIntervalS: rt, minuteIntervalS: 300 }), OUTLET)).toEqual({
      id: MN,
      siteId: OUTLET,
      cadenceSeconds: 300,
      cadenceInterval: 'minute',
    });
  });

  function snapshot(realtimeIntervalS: number | null): RegistrySnapshot {
    return {
      enterprises: [
        {
          id: 'ent-t1',
          statusTimeline: [],
          outlets: [
            {
              id: OUTLET,
              kind: 'gas',
              name: { zh: '排口', en: null },
              refO2Pct: 6,
              limits: [],
              devices: [device({ realtimeIntervalS })],
            },
          ],
          meters: [],
          maintenanceWindows: [],
        },
      ],
    } as unknown as RegistrySnapshot;
  }

  /** Six hours of 10-minute data from a logger that sends no real-time data (`skip`: which slots are missing). */
  function deviationRules(realtimeIntervalS: number | null, skip = (_slot: number) => false): string[] {
    const engine = createEngine(makeConfig(), registryViewFromSnapshot(snapshot(realtimeIntervalS)));
    const out = [];
    for (let t = T0, i = 0; t < T0 + 6 * HOUR; t += 10 * MIN, i++) {
      if (skip(i % 6)) continue;
      out.push(...engine.ingest(readingFromTelemetry(minuteTelemetry(t, 20 + (i % 3), i % 2 ? 5.5 : 6.5))));
      out.push(...engine.advance(t + 10 * MIN));
    }
    out.push(...engine.advance(T0 + 6 * HOUR));
    return out.flatMap((o) => (o.type === 'deviation' ? [`${o.rule}:${o.state}`] : []));
  }

  it('a complete minute-only logger mapped on its minute data raises nothing', () => {
    expect(deviationRules(null)).toEqual([]);
  });

  it('the same logger judged on a declared real-time stream it never sends flaps offline (the old false alarm)', () => {
    const rules = deviationRules(30);
    expect(rules.filter((r) => r === 'offline:opened').length).toBeGreaterThan(30);
  });

  it('still judges capture on the minute data: 4 of 6 ten-minute values per hour → low capture after 3 hours', () => {
    const rules = deviationRules(null, (slot) => slot === 2 || slot === 4);
    expect(rules[0]).toBe('low-capture:opened');
    expect(new Set(rules)).toEqual(new Set(['low-capture:opened', 'low-capture:updated']));
  });
});
