// What every rule needs besides its data: the configuration and registry of one engine, and how a rule's windows
// or runs become episodes (the deviation series they belong to, severity, evidence, resumption window).
import type { RangeCheck } from './aggregate.js';
import { rulesFor, type EngineConfig, type RulesConfig } from './config.js';
import { evaluateWindows, type RunEpisode, type WindowEpisode, type WindowFact } from './episodes.js';
import type { DeviceView, RuleName, Severity } from './model.js';
import { heldEvidence, type OfflineGap } from './offline.js';
import { inResumptionWindow, type RegistryIndex } from './registry.js';

export interface EpisodeOut {
  /** `siteId|rule|subject`: the deviation series this episode belongs to. */
  key: string;
  rule: RuleName;
  siteId: string;
  subject: string;
  factor?: string;
  start: number;
  end?: number;
  severity: Severity;
  suspected: boolean;
  inResumptionWindow: boolean;
  evidence: Record<string, unknown>;
}

/** What a rule section is evaluated for: the enterprise and the series keys open since before the horizon. */
export interface SectionInput {
  enterpriseId: string;
  carried: ReadonlySet<string>;
}

/** A window episode as made last time for its series key, and the episode it became. */
interface MadeEpisode {
  ep: WindowEpisode<Record<string, unknown>>;
  /** The window its `confirmWindows` evidence was judged from when it holds no window (else undefined). */
  first: WindowFact | undefined;
  out: EpisodeOut;
}

/**
 * Series key → the window episodes made last time (the workspace keeps one per section). A window rule's episode is a
 * function of its windows and the rule's fixed parameters, so one made again from the same window objects (same start,
 * end and confirmation) is the episode made last time, and that object is given again.
 */
export type EpisodeMemo = Map<string, MadeEpisode[]>;

function sameWindows(a: readonly WindowFact[], b: readonly WindowFact[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Suspected data falsification (domain-rules §3): supervisors only. */
const SUSPECTED: ReadonlySet<RuleName> = new Set([
  'flatline',
  'manual-flag',
  'clustered-below-limit',
  'o2-near-ambient',
]);

/** The offline episode of one gap. */
export function offlineEpisode(
  idx: RegistryIndex,
  enterpriseId: string,
  device: DeviceView,
  rules: RulesConfig,
  thr: number,
  g: OfflineGap,
  watermark: number,
): EpisodeOut {
  return {
    key: `${device.siteId}|offline|${device.id}`,
    rule: 'offline',
    siteId: device.siteId,
    subject: device.id,
    start: g.start,
    ...(g.end !== undefined ? { end: g.end } : {}),
    severity: rules.offline.severity,
    suspected: false,
    inResumptionWindow: inResumptionWindow(idx, enterpriseId, g.start),
    evidence: {
      deviceId: device.id,
      lastSeenAt: g.start,
      ...(g.end !== undefined ? { resumedAt: g.end } : {}),
      thresholdMs: thr,
      cadenceSeconds: device.cadenceSeconds,
      ...(g.held ? heldEvidence(g.held, watermark, thr) : {}),
    },
  };
}

export class RuleScope {
  constructor(
    readonly cfg: EngineConfig,
    readonly idx: RegistryIndex,
  ) {}

  rules(enterpriseId: string, siteId: string, factor?: string): RulesConfig {
    return rulesFor(this.cfg, enterpriseId, siteId, factor);
  }

  range(siteId: string, factor: string, rules: RulesConfig): RangeCheck {
    const r = this.idx.ranges.get(siteId)?.get(factor);
    return { min: r?.min, max: r?.max, nonNegative: !rules.outOfRange.mayBeNegative.includes(factor) };
  }

  isPollutant(siteId: string, factor: string): boolean {
    return this.cfg.pollutantFactors.includes(factor) || this.idx.limits.get(siteId)?.has(factor) === true;
  }

  /** The episode of one run of a point-run rule. */
  runEpisode(
    enterpriseId: string,
    rule: RuleName,
    siteId: string,
    factor: string,
    ep: RunEpisode,
    severity: Severity,
    params: Record<string, unknown>,
  ): EpisodeOut {
    return {
      key: `${siteId}|${rule}|${factor}`,
      rule,
      siteId,
      subject: factor,
      factor,
      start: ep.start,
      ...(ep.end !== undefined ? { end: ep.end } : {}),
      severity,
      suspected: SUSPECTED.has(rule),
      inResumptionWindow: inResumptionWindow(this.idx, enterpriseId, ep.start),
      evidence: {
        ...params,
        ...(ep.confirmedAt !== undefined ? { confirmedAt: ep.confirmedAt } : {}),
        // Last point and count only once the run ended, so a growing run does not update on every point.
        ...(ep.end !== undefined ? { lastAt: ep.lastT, count: ep.count } : {}),
      },
    };
  }

  /** Shared by every window rule: runs the anti-flapping machine and converts its episodes. */
  windowEpisodes(
    input: SectionInput,
    rule: RuleName,
    siteId: string,
    subject: string,
    factor: string | undefined,
    windows: WindowFact[],
    rc: { confirmWindows: number; clearWindows: number; confirm?: (w: WindowFact) => number },
    episodes: EpisodeOut[],
    severity: (windows: WindowFact[]) => Severity,
    params: Record<string, unknown>,
    memo?: EpisodeMemo,
  ): void {
    const key = `${siteId}|${rule}|${subject}`;
    const eps = evaluateWindows(windows, {
      confirm: rc.confirm ?? (() => rc.confirmWindows),
      clear: rc.clearWindows,
      carryOpen: input.carried.has(key),
    });
    const before = memo?.get(key);
    const made: MadeEpisode[] = [];
    let j = 0;
    for (const ep of eps) {
      const first = rc.confirm && ep.windows.length === 0 ? windows[0] : undefined;
      // Episodes come ordered by start: the one made last time with this start, if any.
      while (before && j < before.length && before[j]!.ep.start < ep.start) j++;
      const prev = before?.[j];
      if (
        prev &&
        prev.ep.start === ep.start &&
        prev.ep.end === ep.end &&
        prev.ep.confirmedAt === ep.confirmedAt &&
        prev.first === first &&
        sameWindows(prev.ep.windows, ep.windows)
      ) {
        made.push(prev);
        episodes.push(prev.out);
        continue;
      }
      const out: EpisodeOut = {
        key,
        rule,
        siteId,
        subject,
        ...(factor !== undefined ? { factor } : {}),
        start: ep.start,
        ...(ep.end !== undefined ? { end: ep.end } : {}),
        severity: ep.windows.length > 0 ? severity(ep.windows) : 'minor',
        suspected: SUSPECTED.has(rule),
        inResumptionWindow: inResumptionWindow(this.idx, input.enterpriseId, ep.start),
        evidence: {
          ...params,
          confirmWindows: rc.confirm ? rc.confirm(ep.windows[0] ?? windows[0]!) : rc.confirmWindows,
          clearWindows: rc.clearWindows,
          ...(ep.confirmedAt !== undefined ? { confirmedAt: ep.confirmedAt } : {}),
          windows: ep.windows.map((w) => ({ start: w.start, end: w.end, ...w.detail })),
        },
      };
      made.push({ ep, first, out });
      episodes.push(out);
    }
    if (memo) {
      if (made.length > 0) memo.set(key, made);
      else memo.delete(key);
    }
  }
}
