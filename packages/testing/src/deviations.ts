// Comparing the deviation.v1 events of two runs over the same data (a disturbed run — faults, kills, late
// replays — against an undisturbed one). Pure: the flows and the cluster's chaos run read the events from Kafka.
//
// A deviation and the deviations that follow it are one episode here. A resolved deviation stays resolved
// (domain-rules §3, @offsite/domain `seriesIdFor`): where late data show the condition still holding, the engine
// retracts or corrects the resolved one and opens the next generation, whose `evidence.params.follows` names it. A
// disturbed run that judged a window before its late readings arrived can so hold `X` (retracted) and `X#2`
// (standing) where the undisturbed run holds `X` alone: the same episode, told in two ids.

/** The fields of a deviation.v1 event the comparison reads (structural, so this package needs no contracts). */
export interface DeviationEventLike {
  id: string;
  revision: number;
  state: string;
  rule: string;
  enterpriseId: string;
  siteId: string;
  factor?: string | null;
  windowStart: string | number;
  emittedAt?: unknown;
  evidence: unknown;
}

const params = (d: DeviationEventLike): Record<string, unknown> | undefined =>
  (d.evidence as { params?: Record<string, unknown> } | null)?.params;

/** Whether the event retracts its deviation (resolved because the data no longer support it). */
export const retracted = (d: DeviationEventLike): boolean => params(d)?.retracted === true;

/** The resolved deviation this one follows (`evidence.params.follows`), if any. */
export const followsOf = (d: DeviationEventLike): string | undefined => {
  const f = params(d)?.follows;
  return typeof f === 'string' ? f : undefined;
};

/** One line for a deviation event: rule, enterprise/site/factor, revision and state. */
export const describeDeviation = (d: DeviationEventLike): string =>
  `${d.rule}@${d.enterpriseId}/${d.siteId}/${d.factor ?? '-'} ${d.windowStart} r${d.revision} ${d.state}`;

/** The event as JSON without the fields named, and without `evidence.params.follows` when `follows` is false. */
function content(e: DeviationEventLike, drop: readonly string[], follows: boolean): string {
  const rest: Record<string, unknown> = { ...e };
  for (const k of drop) delete rest[k];
  const p = params(e);
  if (!follows && p && 'follows' in p) {
    const { follows: _f, ...others } = p;
    rest.evidence = { ...(e.evidence as object), params: others };
  }
  return JSON.stringify(rest);
}
/** The final revision as emitted, but for its number and `emittedAt`. */
const finalState = (e: DeviationEventLike) => content(e, ['emittedAt', 'revision'], true);
/** What a revision concluded: also without its id, state and the deviation it follows (an episode's, whichever id). */
const conclusion = (e: DeviationEventLike) => content(e, ['emittedAt', 'revision', 'state', 'id'], false);
/** Where a standing deviation ended up, whichever generation's id holds it. */
const standing = (e: DeviationEventLike) => content(e, ['emittedAt', 'revision', 'id'], false);

/** Per deviation id, its events in revision order, one per revision (the first of a replayed duplicate kept). */
function revisionsById<T extends DeviationEventLike>(events: readonly T[]): Map<string, T[]> {
  const m = new Map<string, Map<number, T>>();
  for (const e of events) {
    const r = m.get(e.id) ?? m.set(e.id, new Map()).get(e.id)!;
    if (!r.has(e.revision)) r.set(e.revision, e);
  }
  return new Map([...m].map(([id, r]) => [id, [...r.values()].sort((a, b) => a.revision - b.revision)]));
}

/**
 * Episodes: the ids of both runs joined by `follows` (in either run), each set of ids listed once. A set is keyed
 * by its first id in the order met (undisturbed run first).
 */
export function foldFollows(...runs: (readonly DeviationEventLike[])[]): Map<string, Set<string>> {
  /** id → its parent (itself for a root); ids in the order met. */
  const parent = new Map<string, string>();
  const order = new Map<string, number>();
  const add = (x: string) => {
    if (!order.has(x)) {
      order.set(x, order.size);
      parent.set(x, x);
    }
  };
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const run of runs)
    for (const e of run) {
      add(e.id);
      const f = followsOf(e);
      if (f === undefined) continue;
      add(f);
      const [a, b] = [find(e.id), find(f)].sort((x, y) => order.get(x)! - order.get(y)!);
      parent.set(b!, a!); // the root met first stays the root: the episode's key
    }
  const out = new Map<string, Set<string>>();
  for (const id of order.keys()) {
    const root = find(id);
    (out.get(root) ?? out.set(root, new Set()).get(root)!).add(id);
  }
  return out;
}

const sortedCounts = (xs: string[]) => JSON.stringify([...xs].sort());

/**
 * The deviations of a disturbed run against those of an undisturbed run over the same data (same registry ids, same
 * seeded simulation), deviations `apart` (offline: judged by arrival) left out of both. Compared per episode: a
 * deviation with the generations that follow it (foldFollows), in both runs together.
 *
 * - `exact`: episodes whose ids and every (id, revision, content) are the same in both runs (`emittedAt` left out).
 * - `corrected`: episodes the disturbed run revised more often or told in more generations: readings that arrived
 *   after the watermark had passed their window (loggers cached and replayed through the faults) were first judged
 *   without them, then the window was recomputed — a resolved deviation corrected or retracted, the condition that
 *   still held opened as the next generation. What each undisturbed deviation concluded last appears among the
 *   episode's disturbed revisions (whichever id; its earlier conclusions may be passed over by a run that judged
 *   several hours in one evaluation, and are counted), and the episode's standing deviations (last revision not
 *   retracted) end in the same states in both runs (ids and `follows` aside).
 * - `retractedOnly`: episodes only the disturbed run has, every deviation of them retracted at its last revision.
 * - `problems`: anything else — an episode missing, an undisturbed deviation's last conclusion absent, a standing
 *   deviation lost, doubled or in another state, an extra episode that stands.
 */
export function compareWithUndisturbed<T extends DeviationEventLike>(
  undisturbed: readonly T[],
  disturbed: readonly T[],
  apart: (d: T) => boolean,
): { exact: string[]; corrected: string[]; retractedOnly: string[]; problems: string[] } {
  const wantEvents = undisturbed.filter((d) => !apart(d));
  const gotEvents = disturbed.filter((d) => !apart(d));
  const want = revisionsById(wantEvents);
  const got = revisionsById(gotEvents);
  // The disturbed run's revisions in the order emitted (first occurrence), for the conclusions' order.
  const gotOrder = new Map(gotEvents.map((e, i) => [e, i]));
  const out = {
    exact: [] as string[],
    corrected: [] as string[],
    retractedOnly: [] as string[],
    problems: [] as string[],
  };
  const lastOf = (m: Map<string, T[]>, id: string) => m.get(id)!.at(-1)!;
  for (const ids of foldFollows(wantEvents, gotEvents).values()) {
    const w = [...ids].filter((id) => want.has(id));
    const g = [...ids].filter((id) => got.has(id));
    if (w.length === 0 && g.length === 0) continue; // only named by a follows of a deviation left apart
    const name =
      describeDeviation(w.length > 0 ? lastOf(want, w.at(-1)!) : lastOf(got, g.at(-1)!)) +
      (ids.size > 1 ? ` (episode of ${ids.size} ids: ${w.length} undisturbed, ${g.length} here)` : '');
    if (w.length === 0) {
      const stands = g.map((id) => lastOf(got, id)).filter((e) => !retracted(e));
      if (stands.length === 0) out.retractedOnly.push(name);
      else out.problems.push(`extra: ${stands.map(describeDeviation).join('; ')}`);
      continue;
    }
    if (g.length === 0) {
      out.problems.push(`missing: ${name}`);
      continue;
    }
    const exactly =
      w.length === g.length &&
      w.every((id) => {
        const a = want.get(id)!;
        const b = got.get(id);
        return (
          b !== undefined &&
          a.length === b.length &&
          a.every((e, i) => e.revision === b[i]!.revision && finalState(e) === finalState(b[i]!))
        );
      });
    if (exactly) {
      out.exact.push(name);
      continue;
    }
    // Each undisturbed deviation's last conclusion among the episode's disturbed revisions. Its earlier ones are
    // not required: a revision concludes what the data that had arrived at its evaluation say, and a run whose
    // readings came late, or whose analyzer caught up after a kill, judges several hours in one evaluation and
    // so passes over conclusions the undisturbed run reached hour by hour. They are counted in the result line.
    const episode = g.flatMap((id) => got.get(id)!).sort((a, b) => gotOrder.get(a)! - gotOrder.get(b)!);
    const concluded = new Set(episode.map(conclusion));
    const never = w.flatMap((id) => {
      const last = want.get(id)!.at(-1)!;
      return concluded.has(conclusion(last))
        ? []
        : [`revision ${last.revision} of ${describeDeviation(last)}`];
    });
    if (never.length > 0) {
      out.problems.push(`${name}: ${never.join(', ')} of the undisturbed run never concluded`);
      continue;
    }
    const passedOver = w.reduce(
      (n, id) => n + want.get(id)!.filter((e) => !concluded.has(conclusion(e))).length,
      0,
    );
    const standWant = w.map((id) => lastOf(want, id)).filter((e) => !retracted(e));
    const standGot = g.map((id) => lastOf(got, id)).filter((e) => !retracted(e));
    if (sortedCounts(standWant.map(standing)) !== sortedCounts(standGot.map(standing))) {
      const what =
        standGot.length > standWant.length
          ? 'doubled'
          : standGot.length < standWant.length
            ? 'lost'
            : 'a different final state';
      out.problems.push(
        `${name}: ${what} (standing here: ${standGot.map(describeDeviation).join('; ') || 'none'})`,
      );
      continue;
    }
    out.corrected.push(
      `${name} (${g.map((id) => `r${lastOf(got, id).revision}`).join(', ')} here` +
        (passedOver > 0 ? `; ${passedOver} earlier undisturbed conclusion(s) passed over` : '') +
        ')',
    );
  }
  return out;
}
