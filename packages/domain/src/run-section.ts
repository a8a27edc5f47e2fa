// The run rules of one site/factor folded over the factor's series, one point at a time: the fold of each rule of
// `RUN_RULES` (run-rules.ts) turns points into runs. The Evaluator folds a whole series once; the workspace extends
// the folds as points are appended, refolds from the nearest checkpoint (every 256 points) when a late point lands
// inside, and rebuilds them when the series or the carried state changes.
import type { RuleScope, EpisodeOut } from './scope.js';
import type { RulesConfig } from './config.js';
import type { RunEpisode } from './episodes.js';
import { offlineThresholdMs, type RegistryIndex } from './registry.js';
import type { RunRule, RunThreshold } from './run-rules.js';
import type { EngineConfig } from './config.js';
import type { PackedReading } from './packed.js';
import { Col, setPoint, SLOT_STAT, type FactorSeries, type Pt } from './series.js';

/** Points between two saved fold states: a late point refolds from the state before it; each state is one object per rule. */
const CHECKPOINT_EVERY = 256;

// ---- the fold: runs of one rule over a series, one point at a time -------------------------------------------

type OpenRun = RunEpisode & { value?: number; ok?: boolean };

/** The fold's state that a checkpoint saves. */
export interface FoldState {
  run: OpenRun | undefined;
  confirmed: boolean;
  outLen: number;
}

export interface Fold extends RunRule {
  /** The series starts inside a run confirmed before the horizon (its deviation is carried open). */
  carry: boolean;
  run: OpenRun | undefined;
  confirmed: boolean;
  /** Runs that ended confirmed. */
  out: (RunEpisode & { value?: number })[];
  /** Episodes built for `out[i]` (same objects while unchanged, so unchanged series are not reconciled again). */
  eps: EpisodeOut[];
  /** The episode built for the current (open) run, with what it depends on. */
  open:
    { start: number; confirmedAt: number | undefined; value: number | undefined; ep: EpisodeOut } | undefined;
}

export function newFold(r: RunRule, carry: boolean): Fold {
  // One literal with every field in one order: folds of every rule share one object shape (pushFold is hot).
  return {
    rule: r.rule,
    flat: r.flat,
    cond: r.cond,
    opt: r.opt,
    severity: r.severity,
    params: r.params,
    carry,
    run: undefined,
    confirmed: false,
    out: [],
    eps: [],
    open: undefined,
  };
}

function reached(run: RunEpisode, opt: RunThreshold): boolean {
  if (opt.minDurationMs !== undefined && run.lastT - run.start >= opt.minDurationMs) return true;
  if (opt.minCount !== undefined && run.count >= opt.minCount) return true;
  return opt.minDurationMs === undefined && opt.minCount === undefined;
}

/** Ends the fold's current run at `end` (kept when confirmed). No closures: this runs per point and factor. */
function closeFold(f: Fold, end: number): void {
  const run = f.run;
  if (run && (f.flat ? run.ok : f.confirmed)) {
    const ep: RunEpisode & { value?: number } = { start: run.start, lastT: run.lastT, count: run.count, end };
    if (run.confirmedAt !== undefined) ep.confirmedAt = run.confirmedAt;
    if (f.flat) ep.value = run.value;
    f.out.push(ep);
  }
  f.run = undefined;
  if (!f.flat) f.confirmed = false;
}

/**
 * Folds point `p`, the `i`-th of the series; `brk`: the series is broken before it (a gap longer than the device's
 * offline threshold breaks every run: inhibition while offline).
 */
function pushFold(f: Fold, p: Pt, i: number, brk: boolean): void {
  if (f.run && brk) closeFold(f, f.run.lastT);
  const v = f.cond(p);
  if (f.flat) {
    if (f.run && (!v || p.value !== f.run.value)) closeFold(f, p.t);
    if (!v) return;
    if (!f.run) f.run = { start: p.t, lastT: p.t, count: 1, value: p.value, ok: i === 0 && f.carry };
    else {
      f.run.lastT = p.t;
      f.run.count += 1;
    }
    const r =
      (f.opt.minDurationMs !== undefined && f.run.lastT - f.run.start >= f.opt.minDurationMs) ||
      (f.opt.minCount !== undefined && f.run.count >= f.opt.minCount);
    if (!f.run.ok && r) {
      f.run.ok = true;
      f.run.confirmedAt = p.t;
    }
    return;
  }
  if (!v) {
    if (f.run) closeFold(f, p.t);
    return;
  }
  if (!f.run) {
    f.run = { start: p.t, lastT: p.t, count: 1 };
    f.confirmed = i === 0 && f.carry;
  } else {
    f.run.lastT = p.t;
    f.run.count += 1;
  }
  if (!f.confirmed && reached(f.run, f.opt)) {
    f.confirmed = true;
    f.run.confirmedAt = p.t;
  }
}

/** The fold's current run when it is confirmed (an open episode), else undefined. */
function openRun(f: Fold): (RunEpisode & { value?: number }) | undefined {
  const run = f.run;
  if (!run || !(f.flat ? run.ok : f.confirmed)) return undefined;
  const ep: RunEpisode & { value?: number } = { start: run.start, lastT: run.lastT, count: run.count };
  if (run.confirmedAt !== undefined) ep.confirmedAt = run.confirmedAt;
  if (f.flat) ep.value = run.value;
  return ep;
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

  /** The rows of the series judged. */
  pts(s: FactorSeries): PackedReading[] {
    return this.interval === 'realtime' ? s.realtime : s.minute;
  }

  /** The column of the judged value in a row of `pts`. */
  col(): Col {
    const stat = SLOT_STAT[this.interval];
    if (this.cols?.stat !== stat) this.cols = new Col(this.factor, stat);
    return this.cols;
  }
  private cols: Col | undefined;

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

  /** Folds the points not folded yet (`rows` is `pts(series)`). */
  fold(rows: readonly PackedReading[], rules: RulesConfig, idx: RegistryIndex, cfg: EngineConfig): void {
    const folds = this.folds;
    const col = this.col();
    // One point object for the scan: the rules' conditions read it and keep nothing of it.
    const p = {} as Pt;
    let device: string | undefined;
    let thr = 0;
    for (let i = this.n; i < rows.length; i++) {
      if (i % CHECKPOINT_EVERY === 0) {
        this.checkpoints[i / CHECKPOINT_EVERY] = folds.map((f) => ({
          run: f.run ? { ...f.run } : undefined,
          confirmed: f.confirmed,
          outLen: f.out.length,
        }));
      }
      const row = rows[i]!;
      setPoint(p, row, col.of(row), cfg);
      let brk = false;
      if (i > 0) {
        if (row.deviceId !== device) {
          device = row.deviceId;
          thr = this.threshold(device, rules, idx);
        }
        brk = p.t - rows[i - 1]!.dataTime >= thr;
      }
      for (let k = 0; k < folds.length; k++) pushFold(folds[k]!, p, i, brk);
    }
    this.n = rows.length;
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
