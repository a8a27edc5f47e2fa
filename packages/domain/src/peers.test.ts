import {
  DEFAULT_PEER_RULES,
  judgePeers,
  peerRiskPoints,
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
  group: 'ceramics|kiln',
  factor: 'a21026',
  figures: { concentration: c, 'conversion-ratio': r, 'below-limit-share': b, 'maintenance-hours': m },
}));
const find = (js: ReturnType<typeof judgePeers>, site: string, metric: PeerMetric) =>
  js.find((j) => j.siteId === site && j.metric === metric)!;

describe('peers cross-check (median and MAD of the other outlets of the same industry and process)', () => {
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
      'a21026 浓度中位数占限值比例为 5.0%，同行业同工艺 5 个排口中位数 44.0%（稳健 z = -11.96），明显偏低',
    );
    expect(j.words.en).toContain('far below its peers');
  });

  it('leaves out the outlet itself: the usual 0.40 against others with the odd one in (median 0.44, MAD 0.02) → z −1.23', () => {
    const j = find(js, 'out-1', 'concentration');
    expect(j.z).toBeCloseTo(-1.2263, 3);
    expect(j.flagged).toBe(false);
    expect(j.words.zh).toContain('在正常范围内');
  });

  it('flags clustering just below the limit (0.40 vs median 0.05, MAD 0.01 → z 23.61) and maintenance (40 h vs 3, MAD 1 → z 24.96)', () => {
    const b = find(js, 'out-6', 'below-limit-share');
    expect(b.z).toBeCloseTo(0.35 / 0.014826, 3);
    expect(b.flagged).toBe(true);
    const m = find(js, 'out-6', 'maintenance-hours');
    expect(m.z).toBeCloseTo(37 / 1.4826, 3);
    expect(m.flagged).toBe(true);
    expect(m.words.en).toBe(
      'a21026 maintenance-flagged hours per 30 days 40.0 against a median of 3.0 over 5 peer outlets of the same industry and process (robust z 24.96): far above its peers',
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

  it('does not judge with fewer than 5 other outlets, nor against peers that are all equal at 0; unknown figures are skipped', () => {
    const small = judgePeers(outlets.slice(1));
    const j = find(small, 'out-6', 'concentration');
    expect(j.peers).toEqual({ gap: 'too-few-baseline-points', n: 4 });
    expect(j.flagged).toBe(false);
    expect(j.words.zh).toBe('a21026 浓度中位数占限值比例为 5.0%；同行业同工艺可比排口仅 4 个，未比对');
    const zeros = outlets.map((o, i) => ({
      ...o,
      figures: {
        ...o.figures,
        'maintenance-hours': i === 5 ? 40 : 0,
        concentration: i === 0 ? null : o.figures.concentration,
      },
    }));
    const z = judgePeers(zeros);
    expect(find(z, 'out-6', 'maintenance-hours').peers).toEqual({ gap: 'zero-spread', n: 5 });
    expect(z.some((x) => x.siteId === 'out-1' && x.metric === 'concentration')).toBe(false);
    // out-6's concentration now has only 4 others with the figure.
    expect(find(z, 'out-6', 'concentration').peers).toEqual({ gap: 'too-few-baseline-points', n: 4 });
  });

  it('compares only within the same group and factor', () => {
    const mixed = [...outlets.slice(0, 5), { ...outlets[5]!, group: 'ceramics|dryer' }];
    expect(judgePeers(mixed).filter((j) => j.flagged)).toEqual([]);
    expect(DEFAULT_PEER_RULES).toEqual({ minPeers: 5, zThreshold: 3.5, minMadShare: 0.05 });
  });

  it('risk points: 10 per flagged figure, at most 40', () => {
    expect(peerRiskPoints(js.filter((j) => j.enterpriseId === 'ent-6'))).toBe(30);
    expect(peerRiskPoints(js.filter((j) => j.enterpriseId === 'ent-1'))).toBe(0);
    const many = Array.from({ length: 5 }, () => ({ ...find(js, 'out-6', 'concentration') }));
    expect(peerRiskPoints(many)).toBe(40);
  });
});
