// The peers cross-check (大数据分析: 同行比对), pure: each outlet's figures for a factor over a period against the other
// outlets of its peer group (the same process in the city: the registry's `process` key, which names a process the
// permits treat alike — `coal-boiler` in thermal power and heat supply, `cement-kiln`), by median and MAD (`robust.ts`). The outlet
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
// The spread divided by has two floors besides the MAD (`robust.ts`): a share of the median and an absolute one per
// figure (`minMad`), so peers that all have the same value — 0 maintenance hours, say — still show an outlet with
// 200 hours as far off, while an outlet a little off such peers is not flagged.
// `peerFigures` computes an outlet's figures for one factor from its hourly aggregates; `peersDeviation` words the
// flagged figures of an outlet and factor as one deviation per Shanghai calendar month.
import { formatShanghai, monthRange, shanghaiDate } from './calendar.js';
import { defaultConfig, type RulesConfig } from './config.js';
import { deviationId } from './deviation-records.js';
import type { DeviationOutput } from './model.js';
import { median, robustBaseline, robustZ, type RobustBaseline } from './robust.js';

export const PEERS_RULE = 'peers';

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
  /** The peer group: the registry's process key of the outlet, e.g. `coal-boiler`. */
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
  /** The absolute MAD floor per figure, in its unit (share of the limit, ratio, share of hours, hours). */
  minMad: Record<PeerMetric, number>;
}

/** The engine's defaults (`config.ts`, `rules.peers`). */
export const DEFAULT_PEER_RULES: PeerRules = {
  minPeers: defaultConfig.rules.peers.minPeers,
  zThreshold: defaultConfig.rules.peers.zThreshold,
  minMadShare: defaultConfig.rules.peers.minMadShare,
  minMad: defaultConfig.rules.peers.minMad,
};

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
      zh: `${o.factor} ${what.zh}为 ${show(metric, value)}；同工艺可比排口仅 ${peers.n} 个，未比对`,
      en: `${o.factor} ${what.en} ${show(metric, value)}; only ${peers.n} comparable peer outlet(s), not compared`,
    };
  const zt = z!.toFixed(2);
  const side =
    z! < 0 ? { zh: '明显偏低', en: 'far below its peers' } : { zh: '明显偏高', en: 'far above its peers' };
  return {
    zh:
      `${o.factor} ${what.zh}为 ${show(metric, value)}，同工艺 ${peers.n} 个排口中位数 ${show(metric, peers.median)}` +
      `（稳健 z = ${zt}）${flagged ? `，${side.zh}` : '，在正常范围内'}`,
    en:
      `${o.factor} ${what.en} ${show(metric, value)} against a median of ${show(metric, peers.median)} over ${peers.n} ` +
      `peer outlets of the same process (robust z ${zt})${flagged ? `: ${side.en}` : ': within the usual range'}`,
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
        const peers = robustBaseline(others, {
          minPoints: rules.minPeers,
          minMadShare: rules.minMadShare,
          minMad: rules.minMad[metric],
        });
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

// ---- the figures of one outlet and factor ----

/** One hourly aggregate of an outlet and factor (measurement `aggregate`, interval `hour`). */
export interface PeerHour {
  start: number;
  value: number | null;
  /** The converted (折算) value; null when none (no reference O2, water). */
  converted: number | null;
  valid: boolean;
  /** The hour's data flag (HJ 212): `M` is maintenance. */
  flag: string;
}

export type PeersRules = RulesConfig['peers'];

/** The figures and the counts they come from (the evidence). */
export interface PeerFigureCounts {
  /** Hours with an aggregate, valid hours with the compared value, valid hours with both values (the ratio). */
  hours: number;
  validHours: number;
  ratioHours: number;
  /** Valid hours in [nearShare × limit, limit); hours flagged M. */
  nearHours: number;
  maintenanceHours: number;
}

/**
 * An outlet's four figures for one factor over `windowDays` of hourly aggregates. The value compared with the limit
 * is the converted one when the limit applies to it, else the measured one. Concentration, 折算 ratio and
 * below-limit share need `minValidHours` valid hours (the ratio: hours with both values, a measured value above 0,
 * and only where the limit is on the converted value); maintenance hours need any hour with data, and are scaled to
 * 30 days. Unknown figures are null.
 */
export function peerFigures(
  hours: readonly PeerHour[],
  limit: { value: number; converted: boolean },
  rules: Pick<PeersRules, 'windowDays' | 'minValidHours' | 'nearShare'>,
): { figures: Record<PeerMetric, number | null>; counts: PeerFigureCounts } {
  const compared = (h: PeerHour) => (limit.converted ? h.converted : h.value);
  const valid = hours.filter((h) => h.valid && compared(h) !== null && Number.isFinite(compared(h)));
  const values = valid.map((h) => compared(h)!);
  const ratios = limit.converted
    ? valid.flatMap((h) =>
        h.value !== null && h.value > 0 && h.converted !== null ? [h.converted / h.value] : [],
      )
    : [];
  const near = values.filter((v) => v >= rules.nearShare * limit.value && v < limit.value).length;
  const maintenance = hours.filter((h) => h.flag === 'M').length;
  const enough = valid.length >= rules.minValidHours && limit.value > 0;
  const counts = {
    hours: hours.length,
    validHours: valid.length,
    ratioHours: ratios.length,
    nearHours: near,
    maintenanceHours: maintenance,
  };
  return {
    figures: {
      concentration: enough ? median(values)! / limit.value : null,
      'conversion-ratio': ratios.length >= rules.minValidHours ? median(ratios)! : null,
      'below-limit-share': enough ? near / valid.length : null,
      'maintenance-hours': hours.length > 0 ? (maintenance * 30) / rules.windowDays : null,
    },
    counts,
  };
}

// ---- the deviation of an outlet and factor ----

/** One deviation per outlet, factor and Shanghai calendar month of the judged window's last day. */
export function peersDeviationId(
  enterpriseId: string,
  siteId: string,
  factor: string,
  windowEnd: number,
): string {
  const month = shanghaiDate(windowEnd - 1).slice(0, 7);
  return deviationId(enterpriseId, siteId, PEERS_RULE, factor, monthRange(month).from.getTime());
}

export interface PeersDeviationInput {
  enterpriseId: string;
  siteId: string;
  factor: string;
  /** The judged hours [start, end). */
  window: { start: number; end: number };
  /** This outlet and factor's judgements (every figure). */
  judgements: readonly PeerJudgement[];
  counts: PeerFigureCounts | null;
  /** The deviation of this outlet, factor and month as the log holds it (null: none yet). */
  previous: { revision: number } | null;
  rules: PeersRules;
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/** The deviation the flagged figures open (once a month: null when the log holds it, or nothing was flagged). */
export function peersDeviation(i: PeersDeviationInput): DeviationOutput | null {
  const flagged = i.judgements.filter((j) => j.flagged);
  if (flagged.length === 0 || i.previous !== null) return null;
  const group = flagged[0]!.group;
  return {
    type: 'deviation',
    id: peersDeviationId(i.enterpriseId, i.siteId, i.factor, i.window.end),
    rule: PEERS_RULE,
    state: 'opened',
    revision: 1,
    severity: i.rules.severity,
    enterpriseId: i.enterpriseId,
    siteId: i.siteId,
    factor: i.factor,
    subject: i.factor,
    windowStart: i.window.start,
    windowEnd: i.window.end,
    // Data far lower than the peers, clustered under the limit or hidden by maintenance flags, or a 折算 ratio off
    // its peers: what falsification looks like, for supervisors first.
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      confirmedAt: i.window.end,
      fromText: formatShanghai(i.window.start),
      toText: formatShanghai(i.window.end),
      windowDays: i.rules.windowDays,
      group,
      counts: i.counts,
      findings: flagged.map((j) => j.metric),
      figures: i.judgements.map((j) => ({
        metric: j.metric,
        value: round4(j.value),
        peers:
          'median' in j.peers
            ? {
                n: j.peers.n,
                median: round4(j.peers.median),
                mad: round4(j.peers.mad),
                scale: round4(j.peers.scale),
              }
            : j.peers,
        z: j.z === null ? null : Math.round(j.z * 100) / 100,
        flagged: j.flagged,
        zh: j.words.zh,
        en: j.words.en,
      })),
      thresholds: {
        zThreshold: i.rules.zThreshold,
        minPeers: i.rules.minPeers,
        minMadShare: i.rules.minMadShare,
        minMad: i.rules.minMad,
        nearShare: i.rules.nearShare,
        minValidHours: i.rules.minValidHours,
      },
    },
  };
}

/** The English words of a peers finding (the deviation's summary; the console words it in both languages). */
export function peersText(evidence: Record<string, unknown>): string {
  const figures = Array.isArray(evidence.figures)
    ? (evidence.figures as { flagged?: boolean; en?: string }[])
    : [];
  return `${String(evidence.group)}, ${String(evidence.windowDays)} days to ${String(evidence.toText).slice(0, 10)}: ${figures
    .filter((f) => f.flagged)
    .map((f) => f.en)
    .join('; ')}`;
}
