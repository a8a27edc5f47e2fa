// The peers cross-check (大数据分析: 同行比对), pure: each outlet's figures for a factor over a period against the other
// outlets of its peer group (the same industry and process in the city), by median and MAD (`robust.ts`). The outlet
// itself is left out of its own baseline, so one odd outlet does not hide itself. Four figures, each with the
// direction that is suspicious:
// - concentration: the median hourly concentration as a share of the limit — far below the peers (dilution, a
//   tampered analyser);
// - 折算 ratio: the median converted / measured concentration — far off the peers either way (an O2 reading bent to
//   lower the converted value, or a wrong reference);
// - below-limit share: the share of valid hours whose converted value lies in [nearShare × limit, limit) — far above
//   the peers (data clustering just under the limit);
// - maintenance hours per 30 days — far above the peers (maintenance flags covering bad data).
// A group with fewer than `minPeers` other outlets with the figure is not judged (recorded with the reason).
import { robustBaseline, robustZ, type RobustBaseline } from './robust.js';

export type PeerMetric = 'concentration' | 'conversion-ratio' | 'below-limit-share' | 'maintenance-hours';
export const PEER_METRICS: readonly PeerMetric[] = [
  'concentration',
  'conversion-ratio',
  'below-limit-share',
  'maintenance-hours',
];

/** Which side of the peers is suspicious. */
const DIRECTION: Record<PeerMetric, 'low' | 'high' | 'both'> = {
  concentration: 'low',
  'conversion-ratio': 'both',
  'below-limit-share': 'high',
  'maintenance-hours': 'high',
};

export interface PeerOutletFigures {
  enterpriseId: string;
  siteId: string;
  /** The peer group: industry and process (the registry's), e.g. `ceramics|kiln`. */
  group: string;
  factor: string;
  /** null: not known for this outlet (no data, no O2 reference, …); the outlet is then not judged on it. */
  figures: Record<PeerMetric, number | null>;
}

export interface PeerRules {
  /** Other outlets with the figure the group needs (default 5). */
  minPeers: number;
  /** |z| at or beyond which a figure is flagged (default 3.5). */
  zThreshold: number;
  /** The MAD floor as a share of the median (default 0.05; `robustBaseline`). */
  minMadShare: number;
}

export const DEFAULT_PEER_RULES: PeerRules = { minPeers: 5, zThreshold: 3.5, minMadShare: 0.05 };

export interface PeerJudgement {
  enterpriseId: string;
  siteId: string;
  group: string;
  factor: string;
  metric: PeerMetric;
  value: number;
  /** The other outlets' baseline, or why there is none. */
  peers: RobustBaseline | { gap: 'too-few-baseline-points' | 'zero-spread'; n: number };
  z: number | null;
  flagged: boolean;
  /** The comparison in words, both languages. */
  words: { zh: string; en: string };
}

const METRIC_WORDS: Record<PeerMetric, { zh: string; en: string }> = {
  concentration: { zh: '浓度中位数占限值比例', en: 'median concentration as a share of the limit' },
  'conversion-ratio': { zh: '折算浓度与实测浓度之比', en: 'converted / measured concentration ratio' },
  'below-limit-share': {
    zh: '贴近限值（限值 90%–100%）的小时占比',
    en: 'share of hours just below the limit',
  },
  'maintenance-hours': { zh: '每 30 天维护标记小时数', en: 'maintenance-flagged hours per 30 days' },
};

const PERCENT: ReadonlySet<PeerMetric> = new Set(['concentration', 'below-limit-share']);
const show = (m: PeerMetric, v: number) =>
  PERCENT.has(m) ? `${(v * 100).toFixed(1)}%` : v.toFixed(m === 'maintenance-hours' ? 1 : 3);

function words(
  o: PeerOutletFigures,
  metric: PeerMetric,
  value: number,
  peers: PeerJudgement['peers'],
  z: number | null,
  flagged: boolean,
): { zh: string; en: string } {
  const what = METRIC_WORDS[metric];
  if (!('median' in peers))
    return {
      zh: `${o.factor} ${what.zh}为 ${show(metric, value)}；同行业同工艺可比排口仅 ${peers.n} 个，未比对`,
      en: `${o.factor} ${what.en} ${show(metric, value)}; only ${peers.n} comparable peer outlet(s), not compared`,
    };
  const zt = z!.toFixed(2);
  const side =
    z! < 0 ? { zh: '明显偏低', en: 'far below its peers' } : { zh: '明显偏高', en: 'far above its peers' };
  return {
    zh:
      `${o.factor} ${what.zh}为 ${show(metric, value)}，同行业同工艺 ${peers.n} 个排口中位数 ${show(metric, peers.median)}` +
      `（稳健 z = ${zt}）${flagged ? `，${side.zh}` : '，在正常范围内'}`,
    en:
      `${o.factor} ${what.en} ${show(metric, value)} against a median of ${show(metric, peers.median)} over ${peers.n} ` +
      `peer outlets of the same industry and process (robust z ${zt})${flagged ? `: ${side.en}` : ': within the usual range'}`,
  };
}

/** Every outlet's judgement per figure it has, against the other outlets of its group with the same factor. */
export function judgePeers(
  outlets: readonly PeerOutletFigures[],
  rules: PeerRules = DEFAULT_PEER_RULES,
): PeerJudgement[] {
  const groups = new Map<string, PeerOutletFigures[]>();
  for (const o of outlets) {
    const k = `${o.group}\u0000${o.factor}`;
    groups.set(k, [...(groups.get(k) ?? []), o]);
  }
  const out: PeerJudgement[] = [];
  for (const members of groups.values())
    for (const o of members)
      for (const metric of PEER_METRICS) {
        const value = o.figures[metric];
        if (value === null || !Number.isFinite(value)) continue;
        const others = members
          .filter((p) => p !== o)
          .map((p) => p.figures[metric])
          .filter((v): v is number => v !== null && Number.isFinite(v));
        const peers = robustBaseline(others, { minPoints: rules.minPeers, minMadShare: rules.minMadShare });
        const z = 'median' in peers ? robustZ(value, peers) : null;
        const dir = DIRECTION[metric];
        const flagged =
          z !== null &&
          ((dir !== 'high' && z <= -rules.zThreshold) || (dir !== 'low' && z >= rules.zThreshold));
        out.push({
          enterpriseId: o.enterpriseId,
          siteId: o.siteId,
          group: o.group,
          factor: o.factor,
          metric,
          value,
          peers,
          z,
          flagged,
          words: words(o, metric, value, peers, z, flagged),
        });
      }
  return out;
}

/** Risk points of the peers check for one enterprise: `perFinding` per flagged figure, at most `max`. */
export function peerRiskPoints(
  judgements: readonly PeerJudgement[],
  policy: { perFinding: number; max: number } = { perFinding: 10, max: 40 },
): number {
  return Math.min(policy.max, policy.perFinding * judgements.filter((j) => j.flagged).length);
}
