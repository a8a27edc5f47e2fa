// The run rules of one site/factor in the workspace: the folds of `RUN_RULES` over the factor's series, extended as
// points are appended, refolded from the nearest checkpoint (every 64 points) when a late point lands inside, and
// rebuilt when the series or the carried state changes.
import type { RuleScope, EpisodeOut } from './scope.js';
import type { RulesConfig } from './config.js';
import type { RunEpisode } from './episodes.js';
import { offlineThresholdMs, type RegistryIndex } from './registry.js';
import { openRun, pushFold, type Fold, type FoldState } from './run-rules.js';
import type { FactorSeries, Pt } from './series.js';

const CHECKPOINT_EVERY = 64;

/** Index of the first element with t > x. */
export function upper<T extends { t: number }>(list: readonly T[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.t <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Inserts `p` keeping `list` ordered by t with one point per t; of two points at the same t the one of the later
 * reading (dataTime, eventId) wins, as in buildSeries. Returns the index touched, or -1 when nothing changed.
 */
export function insertPoint(list: Pt[], p: Pt): number {
  const i = upper(list, p.t);
  const prev = list[i - 1];
  if (prev && prev.t === p.t) {
    if (prev.reading !== p.reading && prev.reading.eventId > p.reading.eventId) return -1;
    list[i - 1] = p;
    return i - 1;
  }
  list.splice(i, 0, p);
  return i;
}

/** Run rules of one site/factor over its main series (real-time if any, else minute means). */
export class RunSection {
  interval: 'realtime' | 'minute' = 'minute';
  folds: Fold[] = [];
  /** Points folded so far; -1: the folds are rebuilt on the next evaluation. */
  n = 0;
  checkpoints: FoldState[][] = [];
  thresholds = new Map<string, number>();

  constructor(
    readonly siteId: string,
    readonly factor: string,
  ) {}

  pts(s: FactorSeries): Pt[] {
    return this.interval === 'realtime' ? s.realtime : s.minute;
  }

  /** A point of the series changed at index `at`: appended (folded next), inside (refold from a checkpoint), or rebuild. */
  changedAt(at: number, rebuild: boolean): void {
    if (rebuild || (this.folds.length === 0 && this.n === 0)) {
      this.n = -1;
      return;
    }
    if (this.n < 0 || at >= this.n) return;
    const c = Math.floor(at / CHECKPOINT_EVERY);
    const cp = this.checkpoints[c];
    if (!cp) {
      this.n = -1;
      return;
    }
    this.folds.forEach((f, k) => {
      const st = cp[k]!;
      f.run = st.run ? { ...st.run } : undefined;
      f.confirmed = st.confirmed;
      f.out.length = st.outLen;
      if (f.eps.length > st.outLen) f.eps.length = st.outLen;
    });
    this.checkpoints.length = c + 1;
    this.n = c * CHECKPOINT_EVERY;
  }

  /** The offline threshold of a device: a longer gap between two points breaks every run. */
  private threshold(deviceId: string, rules: RulesConfig, idx: RegistryIndex): number {
    let thr = this.thresholds.get(deviceId);
    if (thr === undefined)
      this.thresholds.set(deviceId, (thr = offlineThresholdMs(rules, idx.devices.get(deviceId))));
    return thr;
  }

  /** Folds the points not folded yet. */
  fold(pts: readonly Pt[], rules: RulesConfig, idx: RegistryIndex): void {
    for (let i = this.n; i < pts.length; i++) {
      if (i % CHECKPOINT_EVERY === 0) {
        this.checkpoints[i / CHECKPOINT_EVERY] = this.folds.map((f) => ({
          run: f.run ? { ...f.run } : undefined,
          confirmed: f.confirmed,
          outLen: f.out.length,
        }));
      }
      const brk = i > 0 && pts[i]!.t - pts[i - 1]!.t >= this.threshold(pts[i]!.reading.deviceId, rules, idx);
      for (const f of this.folds) pushFold(f, pts[i]!, i, brk);
    }
    this.n = pts.length;
  }

  /** Pushes the episodes of every fold, reusing the objects built before for runs that did not change. */
  episodes(sc: RuleScope, enterpriseId: string, episodes: EpisodeOut[]): void {
    for (const f of this.folds) {
      for (let i = f.eps.length; i < f.out.length; i++)
        f.eps.push(this.episode(sc, enterpriseId, f, f.out[i]!));
      for (const e of f.eps) episodes.push(e);
      const run = f.run;
      const o = f.open;
      if (run && o && o.start === run.start && o.confirmedAt === run.confirmedAt && o.value === run.value) {
        // Still the run the open episode was built for (its evidence depends on these only).
        if (f.flat ? run.ok : f.confirmed) episodes.push(o.ep);
        continue;
      }
      const ep = openRun(f);
      if (!ep) continue;
      f.open = {
        start: ep.start,
        confirmedAt: ep.confirmedAt,
        value: ep.value,
        ep: this.episode(sc, enterpriseId, f, ep),
      };
      episodes.push(f.open.ep);
    }
  }

  private episode(
    sc: RuleScope,
    enterpriseId: string,
    f: Fold,
    ep: RunEpisode & { value?: number },
  ): EpisodeOut {
    return sc.runEpisode(enterpriseId, f.rule, this.siteId, this.factor, ep, f.severity, f.params(ep));
  }
}
