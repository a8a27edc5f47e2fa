// Anti-flapping state machines that turn condition series into episodes (confirmation and clear periods).

/** true: condition holds; false: clearly does not hold; null: unknown (no or invalid data, inhibited). */
export type Tri = boolean | null;

export interface WindowFact<D = Record<string, unknown>> {
  start: number;
  end: number;
  cond: Tri;
  detail?: D;
}

export interface WindowEpisode<D> {
  start: number;
  /** End of the last condition window, once resolved. */
  end?: number;
  /** End of the window that confirmed the episode (undefined for an episode carried open). */
  confirmedAt?: number;
  /** Windows in which the condition held. */
  windows: WindowFact<D>[];
}

export interface WindowMachineOptions<D> {
  /** Consecutive condition windows needed to open, given the first of them. */
  confirm: (first: WindowFact<D>) => number;
  /** Consecutive clear (false) windows needed to resolve. Unknown windows neither clear nor reset the count. */
  clear: number;
  /** The series starts inside an episode already confirmed earlier (state carried over an eviction). */
  carryOpen?: boolean;
}

/**
 * Windows must be contiguous and ordered. An episode opens when the condition held in `confirm` consecutive
 * windows (an unknown window breaks the sequence) and resolves after `clear` consecutive clear windows.
 */
export function evaluateWindows<D>(
  windows: readonly WindowFact<D>[],
  opt: WindowMachineOptions<D>,
): WindowEpisode<D>[] {
  const out: WindowEpisode<D>[] = [];
  let open: WindowEpisode<D> | undefined;
  let pending: WindowFact<D>[] = [];
  let clearCount = 0;
  if (opt.carryOpen && windows.length > 0) {
    open = { start: windows[0]!.start, windows: [] };
    out.push(open);
  }
  for (const w of windows) {
    if (open) {
      if (w.cond === true) {
        open.windows.push(w);
        clearCount = 0;
      } else if (w.cond === false) {
        clearCount += 1;
        if (clearCount >= opt.clear) {
          const last = open.windows[open.windows.length - 1];
          open.end = last ? last.end : open.start;
          open = undefined;
          clearCount = 0;
        }
      }
      continue;
    }
    if (w.cond === true) {
      pending.push(w);
      const first = pending[0]!;
      if (pending.length >= Math.max(1, opt.confirm(first))) {
        open = { start: first.start, confirmedAt: w.end, windows: pending };
        out.push(open);
        pending = [];
        clearCount = 0;
      }
    } else {
      pending = [];
    }
  }
  return out;
}

export interface RunEpisode {
  start: number;
  /** Time of the point that ended the run, or the last point of a run cut by a gap. */
  end?: number;
  /** Time of the point at which the run reached its threshold (undefined when carried open). */
  confirmedAt?: number;
  lastT: number;
  count: number;
}
