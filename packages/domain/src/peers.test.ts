import { defaultConfig, makeConfig } from './config.js';
import {
  DEFAULT_PEER_RULES,
  judgePeers,
  peerFigures,
  peerRiskPoints,
  peersDeviation,
  peersDeviationId,
  peersText,
  type PeerHour,
  type PeerMetric,
  type PeerOutletFigures,
} from './peers.js';

/** Six ceramics kilns' SO2 figures; the sixth is the odd one on each figure but the 折算 ratio. */
const rows: [number, number, number, number][] = [
  // concentration share, conversion ratio, below-limit share, maintenance hours
  [0.4, 1.5, 0.05, 2],
  [0.42, 1.52, 0.06, 3],
  [0.44, 1.48, 0.04, 4],
  [0.46, 1.5, 0.05, 3],
  [0.48, 1.51, 0.06, 2],
  [0.05, 1.5, 0.4, 40],
];
const outlets: PeerOutletFigures[] = rows.map(([c, r, b, m], i) => ({
  enterpriseId: `ent-${i + 1}`,
  siteId: `out-${i + 1}`,
  group: 'ceramics-kiln',
  factor: 'a21026',
  figures: { concentration: c, 'conversion-ratio': r, 'below-limit-share': b, 'maintenance-hours': m },
}));
const find = (js: ReturnType<typeof judgePeers>, site: string, metric: PeerMetric) =>
  js.find((j) => j.siteId === site && j.metric === metric)!;

describe('peers cross-check (median and MAD of the other outlets of the same process)', () => {
  const js = judgePeers(outlets);

  it('flags a concentration far below the peers: others 0.40–0.48 → median 0.44, MAD 0.02 (floor 0.022), z −11.96', () => {
    const j = find(js, 'out-6', 'concentration');
    expect(j.peers).toMatchObject({ n: 5, median: 0.44 });
    expect('mad' in j.peers && j.peers.mad).toBeCloseTo(0.02, 10);
    // scale = 1.4826 × max(0.02, 5 % × 0.44 = 0.022) = 0.0326172; z = (0.05 − 0.44) / 0.0326172.
    expect('scale' in j.peers && j.peers.scale).toBeCloseTo(0.0326172, 7);
    expect(j.z).toBeCloseTo(-11.9569, 3);
    expect(j.flagged).toBe(true);
    expect(j.words.zh).toBe(
      'a21026 浓度中位数占限值比例为 5.0%，同工艺 5 个排口中位数 44.0%（稳健 z = -11.96），明显偏低',
    );
    expect(j.words.en).toContain('far below its peers');
  });

  it('leaves out the outlet itself: the usual 0.40 against others with the odd one in (median 0.44, MAD 0.02) → z −1.23', () => {
    const j = find(js, 'out-1', 'concentration');
    expect(j.z).toBeCloseTo(-1.2263, 3);
    expect(j.flagged).toBe(false);
    expect(j.words.zh).toContain('在正常范围内');
  });

  it('flags clustering just below the limit (0.40 vs median 0.05, MAD 0.01 under the floor 0.02 → z 11.80) and maintenance (40 h vs 3, MAD 1 under the floor 4 h → z 6.24)', () => {
    const b = find(js, 'out-6', 'below-limit-share');
    expect(b.z).toBeCloseTo(0.35 / (1.4826 * 0.02), 3);
    expect(b.flagged).toBe(true);
    const m = find(js, 'out-6', 'maintenance-hours');
    expect(m.z).toBeCloseTo(37 / (1.4826 * 4), 3);
    expect(m.flagged).toBe(true);
    expect(m.words.en).toBe(
      'a21026 maintenance-flagged hours per 30 days 40.0 against a median of 3.0 over 5 peer outlets of the same process (robust z 6.24): far above its peers',
    );
    // The usual 折算 ratio is not flagged; nothing else of the group is.
    expect(find(js, 'out-6', 'conversion-ratio').flagged).toBe(false);
    expect(js.filter((j) => j.flagged).map((j) => `${j.siteId} ${j.metric}`)).toEqual([
      'out-6 concentration',
      'out-6 below-limit-share',
      'out-6 maintenance-hours',
    ]);
  });

  it('judges each figure on its suspicious side only: a high concentration is not the peers’ concern, a low 折算 ratio is', () => {
    const odd = outlets.map((o, i) =>
      i === 5
        ? {
            ...o,
            figures: {
              ...o.figures,
              concentration: 0.95,
              'conversion-ratio': 1.0,
              'below-limit-share': 0.01,
              'maintenance-hours': 0,
            },
          }
        : o,
    );
    const j = judgePeers(odd);
    // Others' ratios 1.5, 1.52, 1.48, 1.5, 1.51: median 1.5, MAD 0.01, floor 0.075 → scale 0.111195; z = −0.5 / 0.111195.
    expect(find(j, 'out-6', 'conversion-ratio').z).toBeCloseTo(-4.4966, 3);
    expect(j.filter((x) => x.flagged).map((x) => `${x.siteId} ${x.metric}`)).toEqual([
      'out-6 conversion-ratio',
    ]);
  });

  it('does not judge with fewer than 5 other outlets; unknown figures are skipped', () => {
    const small = judgePeers(outlets.slice(1));
    const j = find(small, 'out-6', 'concentration');
    expect(j.peers).toEqual({ gap: 'too-few-baseline-points', n: 4 });
    expect(j.flagged).toBe(false);
    expect(j.words.zh).toBe('a21026 浓度中位数占限值比例为 5.0%；同工艺可比排口仅 4 个，未比对');
    const zeros = outlets.map((o, i) => ({
      ...o,
      figures: {
        ...o.figures,
        'maintenance-hours': i === 5 ? 40 : 0,
        concentration: i === 0 ? null : o.figures.concentration,
      },
    }));
    const z = judgePeers(zeros);
    expect(z.some((x) => x.siteId === 'out-1' && x.metric === 'concentration')).toBe(false);
    // out-6's concentration now has only 4 others with the figure.
    expect(find(z, 'out-6', 'concentration').peers).toEqual({ gap: 'too-few-baseline-points', n: 4 });
  });

  it('peers that all have the same value (MAD 0, median 0): 200 maintenance hours against 0 → scale 1.4826 × 4 h, z 33.72, flagged; 12 h (z 2.02) is not', () => {
    const withHours = (h: number) =>
      outlets.map((o, i) => ({
        ...o,
        figures: {
          ...o.figures,
          'maintenance-hours': i === 5 ? h : 0,
          'below-limit-share': i === 5 ? 0.3 : 0,
        },
      }));
    const big = judgePeers(withHours(200));
    const m = find(big, 'out-6', 'maintenance-hours');
    expect(m.peers).toMatchObject({ n: 5, median: 0, mad: 0 });
    expect('scale' in m.peers && m.peers.scale).toBeCloseTo(5.9304, 4);
    expect(m.z).toBeCloseTo(200 / 5.9304, 3);
    expect(m.flagged).toBe(true);
    // Peers all at 0 % of hours just below the limit, the outlet at 30 %: floor 0.02 → z 0.3 / 0.029652 = 10.12.
    expect(find(big, 'out-6', 'below-limit-share').z).toBeCloseTo(10.1174, 3);
    expect(find(big, 'out-6', 'below-limit-share').flagged).toBe(true);
    const small = find(judgePeers(withHours(12)), 'out-6', 'maintenance-hours');
    expect(small.z).toBeCloseTo(12 / 5.9304, 3);
    expect(small.flagged).toBe(false);
    // The peers themselves, at 0 against four 0s and one 200: median 0, MAD 0 → not flagged.
    expect(find(big, 'out-1', 'maintenance-hours').flagged).toBe(false);
  });

  it('compares only within the same group and factor', () => {
    const mixed = [...outlets.slice(0, 5), { ...outlets[5]!, group: 'ceramics-dryer' }];
    expect(judgePeers(mixed).filter((j) => j.flagged)).toEqual([]);
    // judgePeers' defaults are the engine's (rules.peers): the judging part of them, nothing else.
    const { minPeers, zThreshold, minMadShare, minMad } = defaultConfig.rules.peers;
    expect(DEFAULT_PEER_RULES).toEqual({ minPeers, zThreshold, minMadShare, minMad });
  });

  it('risk points: 10 per flagged figure, at most 40', () => {
    expect(peerRiskPoints(js.filter((j) => j.enterpriseId === 'ent-6'))).toBe(30);
    expect(peerRiskPoints(js.filter((j) => j.enterpriseId === 'ent-1'))).toBe(0);
    const many = Array.from({ length: 5 }, () => ({ ...find(js, 'out-6', 'concentration') }));
    expect(peerRiskPoints(many)).toBe(40);
  });
});

describe('an outlet’s figures from its hourly aggregates (peerFigures)', () => {
  const H = 3_600_000;
  const rules = { windowDays: 30, minValidHours: 4, nearShare: 0.9 };
  const hour = (
    i: number,
    value: number | null,
    converted: number | null,
    valid = true,
    flag = 'N',
  ): PeerHour => ({
    start: i * H,
    value,
    converted,
    valid,
    flag,
  });

  it('a converted limit of 100: medians, ratio, near hours and maintenance hours counted by hand', () => {
    const hours = [
      hour(0, 20, 30), // ratio 1.5, 30 %
      hour(1, 40, 92), // ratio 2.3, 92 % → near
      hour(2, 50, 95), // ratio 1.9, 95 % → near
      hour(3, 60, 100), // at the limit: not "below" it
      hour(4, 10, 12), // ratio 1.2, 12 %
      hour(5, 70, 200, false), // invalid: left out
      hour(6, null, null, false, 'M'), // maintenance
      hour(7, 5, 5, false, 'M'), // maintenance
    ];
    const { figures, counts } = peerFigures(hours, { value: 100, converted: true }, rules);
    // Valid converted values 30, 92, 95, 100, 12 → median 92 → 0.92 of the limit.
    expect(figures.concentration).toBeCloseTo(0.92, 10);
    // Ratios 1.5, 2.3, 1.9, 1.6667, 1.2 → median 1.6667.
    expect(figures['conversion-ratio']).toBeCloseTo(100 / 60, 10);
    // 2 of 5 valid hours in [90, 100).
    expect(figures['below-limit-share']).toBeCloseTo(0.4, 10);
    expect(figures['maintenance-hours']).toBe(2);
    expect(counts).toEqual({ hours: 8, validHours: 5, ratioHours: 5, nearHours: 2, maintenanceHours: 2 });
  });

  it('a measured limit (water, VOCs): the measured value is compared, no 折算 ratio; 15 days scale maintenance to 30', () => {
    const hours = [
      hour(0, 8, null),
      hour(1, 9.5, null),
      hour(2, 2, null),
      hour(3, 4, null),
      hour(4, 1, null, false, 'M'),
    ];
    const { figures } = peerFigures(hours, { value: 10, converted: false }, { ...rules, windowDays: 15 });
    // 8, 9.5, 2, 4 → median 6 → 0.6; near: 9.5 only → 1/4.
    expect(figures.concentration).toBeCloseTo(0.6, 10);
    expect(figures['conversion-ratio']).toBeNull();
    expect(figures['below-limit-share']).toBeCloseTo(0.25, 10);
    expect(figures['maintenance-hours']).toBe(2);
  });

  it('too few valid hours: only the maintenance hours are known; no hour at all: nothing is', () => {
    const few = peerFigures(
      [hour(0, 5, 6), hour(1, 5, 6), hour(2, null, null, false, 'M')],
      { value: 10, converted: true },
      rules,
    );
    expect(few.figures).toEqual({
      concentration: null,
      'conversion-ratio': null,
      'below-limit-share': null,
      'maintenance-hours': 1,
    });
    expect(peerFigures([], { value: 10, converted: true }, rules).figures['maintenance-hours']).toBeNull();
  });
});

describe('the peers deviation', () => {
  const rules = makeConfig().rules.peers;
  // The window of 30 days ending 2026-11-29 00:00 Asia/Shanghai.
  const end = Date.parse('2026-11-28T16:00:00Z');
  const window = { start: end - 30 * 86_400_000, end };
  const js = judgePeers(outlets).filter((j) => j.siteId === 'out-6');
  const input = (siteId: string, judgements: typeof js, previous: { revision: number } | null) => ({
    enterpriseId: siteId.replace('out', 'ent'),
    siteId,
    factor: 'a21026',
    window,
    judgements,
    counts: null,
    previous,
    rules,
  });

  it('opens one deviation per outlet, factor and Shanghai month, for supervisors, with every figure in words', () => {
    const d = peersDeviation(input('out-6', js, null))!;
    expect(d).toMatchObject({
      rule: 'peers',
      state: 'opened',
      revision: 1,
      factor: 'a21026',
      suspectedFalsification: true,
      windowStart: window.start,
      windowEnd: end,
    });
    expect(d.id).toBe(peersDeviationId('ent-6', 'out-6', 'a21026', end));
    // A window ending later in November is the same deviation; one ending in December is another.
    expect(peersDeviationId('ent-6', 'out-6', 'a21026', end - 5 * 86_400_000)).toBe(d.id);
    expect(peersDeviationId('ent-6', 'out-6', 'a21026', end + 3 * 86_400_000)).not.toBe(d.id);
    expect(d.evidence.findings).toEqual(['concentration', 'below-limit-share', 'maintenance-hours']);
    expect(d.evidence.group).toBe('ceramics-kiln');
    expect(peersText(d.evidence)).toMatch(
      /^ceramics-kiln, 30 days to 2026-11-29: a21026 median concentration/,
    );
    // Already in the log, or nothing flagged: nothing.
    expect(peersDeviation(input('out-6', js, { revision: 1 }))).toBeNull();
    const clear = judgePeers(outlets).filter((j) => j.siteId === 'out-1');
    expect(peersDeviation(input('out-1', clear, null))).toBeNull();
  });
});
