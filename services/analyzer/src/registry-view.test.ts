import { createEngine, makeConfig, readingFromTelemetry, type Reading } from '@offsite/domain';
import type { RegistrySnapshot } from '@offsite/store';
import { deviceView, registryViewFromSnapshot } from './registry-view.js';
import { ENT, HOUR, MIN, minuteTelemetry, MN, OUTLET, T0 } from '../test/testkit.js';

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
    expect(deviationRules(0)).toEqual([]); // the registry's "no real-time uploads" (store 002)
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

describe('registry → domain treatment mappings (facilities, production meters)', () => {
  type Snap = RegistrySnapshot['enterprises'][number];
  const meter = (
    id: string,
    role: 'production' | 'treatment' | 'total',
    over: Partial<Snap['meters'][number]> = {},
  ) => ({
    id,
    role,
    name: { zh: id, en: null },
    ratedWindowKwh: role === 'production' ? 10 : 5,
    servesMeterId: role === 'treatment' ? 'P1' : null,
    facilities: [],
    ...over,
  });

  function snap(meters: Snap['meters'], productionMeterIds: string[]): RegistrySnapshot {
    return {
      enterprises: [
        {
          id: ENT,
          statusTimeline: [],
          outlets: [
            {
              id: OUTLET,
              kind: 'gas',
              name: { zh: '排口', en: null },
              refO2Pct: 6,
              limits: [],
              devices: [device({ realtimeIntervalS: 60 })],
              productionMeterIds,
            },
          ],
          meters,
          maintenanceWindows: [],
        },
      ],
    } as unknown as RegistrySnapshot;
  }

  it('fills facilities on treatment meters and productionMeterIds on outlets, ignoring stale links', () => {
    const view = registryViewFromSnapshot(
      snap(
        [
          meter('P1', 'production', { facilities: [{ outletId: OUTLET, code: 'SB9' }] }), // stale: not treatment
          meter('P2', 'production'),
          meter('T1', 'treatment', { facilities: [{ outletId: OUTLET, code: 'SB1' }] }),
          meter('T2', 'treatment'),
          meter('ALL', 'total', { facilities: [{ outletId: OUTLET, code: 'SB2' }] }),
        ],
        ['P2', 'T1', 'gone'], // T1 is no production meter, `gone` no meter at all
      ),
    );
    expect(view.meters.map((m) => [m.id, m.facilities])).toEqual([
      ['P1', undefined],
      ['P2', undefined],
      ['T1', [{ siteId: OUTLET, code: 'SB1' }]],
      ['T2', undefined],
    ]);
    expect(view.outlets[0]!.productionMeterIds).toEqual(['P2']);
    // Nothing listed, or nothing valid listed: the domain default (every production meter of the enterprise).
    for (const ids of [[], ['T1']]) {
      const o = registryViewFromSnapshot(snap([meter('P1', 'production'), meter('T1', 'treatment')], ids))
        .outlets[0]!;
      expect('productionMeterIds' in o).toBe(false);
    }
  });

  /** Production and treatment meters both running for 150 minutes (1 and 0.5 kWh/min), the logger reporting SB1-RS. */
  function treatmentIdle(facilities: { outletId: string; code: string }[], rs: number): string[] {
    const view = registryViewFromSnapshot(
      snap([meter('P1', 'production'), meter('T1', 'treatment', { facilities })], []),
    );
    const engine = createEngine(makeConfig(), view);
    const readings: Reading[] = [];
    for (let k = 0; k <= 150; k++) {
      const t = T0 + k * MIN;
      for (const [id, kwh] of [
        ['P1', k],
        ['T1', k * 0.5],
      ] as const) {
        readings.push({
          eventId: `e-${id}-${k}`,
          enterpriseId: ENT,
          siteId: id,
          deviceId: id,
          kind: 'energy',
          interval: 'realtime',
          dataTime: t,
          measurements: [{ factor: 'energy_kwh', stat: 'Cou', value: kwh }],
        });
      }
      if (k >= 60 && k < 90) {
        readings.push({
          eventId: `s-${k}`,
          enterpriseId: ENT,
          siteId: OUTLET,
          deviceId: MN,
          kind: 'status',
          interval: 'realtime',
          dataTime: t,
          measurements: [{ factor: 'SB1', stat: 'RS', value: rs, flag: 'N' }],
        });
      }
    }
    const out = [];
    for (const r of readings.sort((a, b) => a.dataTime - b.dataTime)) out.push(...engine.ingest(r));
    out.push(...engine.advance(T0 + 150 * MIN));
    return out.flatMap((o) => (o.type === 'deviation' && o.rule === 'treatment-idle' ? [o.state] : []));
  }

  it('a mapped facility reporting RS=0 while production runs is treatment idle, although its meter runs', () => {
    expect(treatmentIdle([{ outletId: OUTLET, code: 'SB1' }], 0)).toEqual(['opened', 'resolved']);
    expect(treatmentIdle([{ outletId: OUTLET, code: 'SB1' }], 1)).toEqual([]);
    // Unmapped, or mapped to another facility: the status is not this meter's.
    expect(treatmentIdle([], 0)).toEqual([]);
    expect(treatmentIdle([{ outletId: OUTLET, code: 'SB2' }], 0)).toEqual([]);
  });
});
