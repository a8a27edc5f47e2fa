import {
  DEFAULT_REMOTE_SENSING_RULES,
  haversineM,
  matchDetection,
  remoteSensingDeviation,
  remoteSensingDeviationId,
  statusAt,
  suspicion,
  type Detection,
  type SensedEnterprise,
} from './remote-sensing.js';

describe('haversineM, against distances worked out by hand (R = 6,371,008.8 m)', () => {
  test('0.01° along a meridian is R·0.01·π/180 = 1,111.95 m, anywhere', () => {
    expect(haversineM({ lat: 30, lon: 120 }, { lat: 30.01, lon: 120 })).toBeCloseTo(1111.95, 1);
    expect(haversineM({ lat: -45, lon: 10 }, { lat: -45.01, lon: 10 })).toBeCloseTo(1111.95, 1);
  });
  test('1° along the equator is 111,195.08 m; at 60°N 0.01° of longitude is half of 1,111.95 m', () => {
    expect(haversineM({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(111_195.08, 1);
    expect(haversineM({ lat: 60, lon: 120 }, { lat: 60, lon: 120.01 })).toBeCloseTo(555.97, 1);
  });
  test('antipodes are πR = 20,015,114.4 m apart; a point is 0 m from itself; order does not matter', () => {
    expect(haversineM({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(20_015_114.4, 0);
    expect(haversineM({ lat: 30.27, lon: 120.15 }, { lat: 30.27, lon: 120.15 })).toBe(0);
    const a = { lat: 30.2741, lon: 120.1552 };
    const b = { lat: 30.2745, lon: 120.156 };
    expect(haversineM(a, b)).toBeCloseTo(haversineM(b, a), 9);
  });
  test('a stack 0.0004° north and 0.0008° east of the site at 30.27°N: √(44.48² + 76.82²) ≈ 88.77 m', () => {
    // 0.0004° × 111,195.08 = 44.48 m north; 0.0008° × 111,195.08 × cos 30.2743° = 76.82 m east.
    expect(haversineM({ lat: 30.2741, lon: 120.1552 }, { lat: 30.2745, lon: 120.156 })).toBeCloseTo(88.77, 1);
  });
});

const site = { lat: 30.2741, lon: 120.1552 };
const ent = (over: Partial<SensedEnterprise> = {}): SensedEnterprise => ({
  id: 'ent-1',
  location: site,
  statusTimeline: [],
  outlets: [{ id: 'out-1', location: { lat: 30.2745, lon: 120.156 } }],
  ...over,
});
const detection = (over: Partial<Detection> = {}): Detection => ({
  id: 'fy4b-1',
  at: Date.parse('2026-11-20T02:00:00Z'),
  lat: 30.2831,
  lon: 120.1552,
  confidence: 0.9,
  kind: 'hotspot',
  ...over,
});

describe('matching a detection to the registry', () => {
  test('within the radius by the site or an outlet, nearest first; beyond it, nothing', () => {
    // 0.009° north of the site: 1,000.76 m from it; 959.4 m from the outlet (956.3 m north, 76.8 m west of it).
    const d = detection();
    const [m] = matchDetection(d, [ent()], 1000);
    expect(m).toMatchObject({ enterpriseId: 'ent-1', nearest: 'out-1', status: 'normal' });
    expect(m!.distanceM).toBeCloseTo(959.4, 1);
    expect(matchDetection(d, [ent({ outlets: [] })], 1000)).toEqual([]);
    expect(matchDetection(d, [ent({ outlets: [] })], 1001)[0]).toMatchObject({ nearest: 'site' });
    // An enterprise without any position is never matched.
    expect(matchDetection(d, [ent({ location: undefined, outlets: [{ id: 'o' }] })], 5000)).toEqual([]);
  });

  test('the status at the detection time is the latest timeline entry not after it', () => {
    const tl = [
      { status: 'shutdown' as const, from: '2026-11-01T00:00:00.000Z' },
      { status: 'resuming' as const, from: '2026-11-25T00:00:00.000Z' },
    ];
    expect(statusAt(tl, Date.parse('2026-10-31T23:59:59Z'))).toBe('normal');
    expect(statusAt(tl, Date.parse('2026-11-01T00:00:00Z'))).toBe('shutdown');
    expect(statusAt(tl, Date.parse('2026-11-26T00:00:00Z'))).toBe('resuming');
  });

  test('suspicious when shut down, or when an outlet in range was silent; else not', () => {
    const d = detection();
    const shut = ent({ statusTimeline: [{ status: 'shutdown', from: '2026-11-01T00:00:00.000Z' }] });
    expect(suspicion(matchDetection(d, [shut], 1000)[0]!, new Set())).toEqual({ kind: 'shutdown' });
    const running = matchDetection(d, [ent()], 1000)[0]!;
    expect(suspicion(running, new Set())).toBeNull();
    expect(suspicion(running, new Set(['out-1']))).toEqual({ kind: 'silent-outlets', outletIds: ['out-1'] });
  });

  test('the deviation carries the evidence in words and one id per detection and enterprise', () => {
    const d = detection();
    const m = matchDetection(
      d,
      [ent({ statusTimeline: [{ status: 'shutdown', from: '2026-11-01T00:00:00.000Z' }] })],
      1000,
    )[0]!;
    const dev = remoteSensingDeviation(d, m, { kind: 'shutdown' }, DEFAULT_REMOTE_SENSING_RULES, {
      file: 'a.csv',
      sha256: 'ab',
    });
    expect(dev).toMatchObject({
      id: remoteSensingDeviationId('ent-1', 'fy4b-1', d.at),
      rule: 'remote-sensing',
      enterpriseId: 'ent-1',
      siteId: 'out-1',
      suspectedFalsification: true,
      evidence: {
        detection: { at: '2026-11-20T02:00:00.000Z', lat: 30.2831, lon: 120.1552, confidence: 0.9 },
        distanceM: 959.4,
        status: 'shutdown',
        zh: expect.stringMatching(
          /^遥感热点（2026-11-20 10:00，置信度 0\.9）距排放口 out-1 959 米，而该企业当时登记为停产$/,
        ),
      },
    });
    expect(remoteSensingDeviationId('ent-1', 'fy4b-1', d.at)).not.toBe(
      remoteSensingDeviationId('ent-2', 'fy4b-1', d.at),
    );
  });
});
