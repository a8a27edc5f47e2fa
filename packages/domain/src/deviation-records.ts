// The deviation series the engine has emitted and the rules that take each one to its next revision: an episode of the
// rule table opens a series, changes it (`updated`) or ends it (`resolved`); a series the data no longer support is
// resolved as retracted. `resolved` is final: late data may still correct a resolved series (its window, evidence, or
// retract it) but never reopen it; an episode that runs on where a resolved series stood opens a new series, with its
// own id and `follows` naming the resolved one (mayStandFor, seriesIdFor). These are definitions the engine and its test oracle (test/naive-engine.ts) share; the
// hand-computed expectations of engine.test.ts pin them. Also the buffer's eviction at the lateness horizon and the
// rejection of readings the engine cannot take.
import { createHash } from 'node:crypto';
import type { EngineConfig } from './config.js';
import type {
  DeviationOutput,
  DeviationState,
  Reading,
  RejectedOutput,
  RuleName,
  Severity,
} from './model.js';
import type { HeldGap } from './offline.js';
import type { EpisodeOut } from './scope.js';
import { DomainError } from './errors.js';
import { fingerprint64 } from './fingerprint.js';
import { seenAt } from './series.js';
import { dayStart } from './time.js';

export interface DeviationRecord {
  id: string;
  key: string;
  enterpriseId: string;
  rule: RuleName;
  siteId: string;
  subject: string;
  factor?: string;
  windowStart: number;
  windowEnd?: number;
  state: DeviationState;
  revision: number;
  severity: Severity;
  suspected: boolean;
  inResumptionWindow: boolean;
  evidence: Record<string, unknown>;
  /** fingerprint.ts of the record's content (state version 3; before: the JSON itself). */
  fingerprint: string;
  retracted?: boolean;
  /**
   * The window start its id hashes (`deviationId`), when the window has moved away from it (late data moved the
   * series' start); absent: `windowStart`. Keeps the record until the horizon has passed it too (evictable).
   */
  idStart?: number;
}

/** One enterprise's buffer in the engine state. */
export interface EnterpriseState {
  /** Ordered by (dataTime, eventId). */
  readings: Reading[];
  /** Device id → last seen time among evicted readings. */
  seenBefore: Record<string, number>;
  /** Device id → outages closed by an arrival (offline judged by arrival, offline.ts); absent in older snapshots. */
  held?: Record<string, HeldGap[]>;
}

/** Before any watermark: no horizon. */
export const NO_TIME = -8.64e15;

/**
 * Deterministic deviation id: sha256 of enterprise, site, rule, subject and window start (first 32 hex digits). A
 * series opened where that id already names a resolved series is generation 2, 3, …: `#n` is hashed too.
 */
export function deviationId(
  enterpriseId: string,
  siteId: string,
  rule: string,
  subject: string,
  windowStart: number,
  generation = 1,
): string {
  const parts = [enterpriseId, siteId, rule, subject, String(windowStart)];
  if (generation > 1) parts.push(`#${generation}`);
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

/** Start of the evaluated range: the local day of the watermark less the lateness horizon. */
export function horizonStartOf(watermark: number | null, config: EngineConfig): number {
  return watermark === null
    ? NO_TIME
    : dayStart(watermark - config.latenessHorizonMs, config.timezoneOffsetMinutes);
}

/** Buffer order: (dataTime, eventId). */
export function cmpReading(a: Reading, b: Reading): number {
  if (a.dataTime !== b.dataTime) return a.dataTime - b.dataTime;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** Why the engine cannot take a reading (not a finite time, or before the horizon), or undefined. */
export function rejectReading(reading: Reading, horizonStart: number): RejectedOutput | undefined {
  if (!Number.isFinite(reading.dataTime))
    return {
      type: 'rejected',
      eventId: reading.eventId,
      code: 'invalid-reading',
      message: 'dataTime is not a finite epoch ms',
    };
  if (reading.dataTime < horizonStart)
    return {
      type: 'rejected',
      eventId: reading.eventId,
      code: 'too-late',
      message: `dataTime ${new Date(reading.dataTime).toISOString()} is before the lateness horizon ${new Date(horizonStart).toISOString()}`,
    };
  return undefined;
}

/**
 * Drops the readings before the horizon, keeping each device's last seen time in `seenBefore`, and the outages that
 * ended before it, whose end stays as the device's last alive instant.
 */
export function evictBuffer(ent: EnterpriseState, horizonStart: number, config: EngineConfig): void {
  let n = 0;
  while (n < ent.readings.length && ent.readings[n]!.dataTime < horizonStart) {
    const r = ent.readings[n]!;
    const t = seenAt(r, config);
    const prev = ent.seenBefore[r.deviceId];
    if (prev === undefined || t > prev) ent.seenBefore[r.deviceId] = t;
    n += 1;
  }
  if (n > 0) ent.readings.splice(0, n);
  for (const [deviceId, list] of Object.entries(ent.held ?? {})) {
    const keep = list.filter((h) => h.end >= horizonStart);
    for (const h of list) {
      if (h.end >= horizonStart) continue;
      const prev = ent.seenBefore[deviceId];
      if (prev === undefined || h.end > prev) ent.seenBefore[deviceId] = h.end;
    }
    if (keep.length === list.length) continue;
    if (keep.length > 0) ent.held![deviceId] = keep;
    else delete ent.held![deviceId];
  }
}

/**
 * Whether a record may leave the state at the horizon start `hs`: resolved, its window ended before `hs`, and the start
 * its id hashes before `hs` too. An episode starting at or after `hs` can have that start; while it can, the record
 * stays, so the episode finds the id resolved and opens the next generation (seriesIdFor) instead of the same id again
 * at revision 1. (Before `hs` nothing new starts: episodes there are carried series, which keep their record.)
 */
export function evictable(d: DeviationRecord, hs: number): boolean {
  return d.state === 'resolved' && (d.windowEnd ?? d.windowStart) < hs && (d.idStart ?? d.windowStart) < hs;
}

/** Whether a record may stand for an episode: same start, or overlapping windows. */
export function overlaps(rec: DeviationRecord, ep: EpisodeOut): boolean {
  if (rec.windowStart === ep.start) return true;
  return ep.start < (rec.windowEnd ?? Infinity) && rec.windowStart < (ep.end ?? Infinity);
}

/**
 * Whether a record may stand for an episode: overlapping (overlaps), and a resolved record only for an episode that has
 * ended too — a resolved series stays resolved (its later revisions can correct or retract it, never reopen it). Both
 * engines give an episode the first unused open record that overlaps it, else the first unused resolved one if it may
 * stand for it (so an episode that ended again goes to the series that continued it, not back to the resolved one).
 */
export function mayStandFor(rec: DeviationRecord, ep: EpisodeOut): boolean {
  return overlaps(rec, ep) && (ep.end !== undefined || rec.state !== 'resolved');
}

/**
 * The id for an episode no live record may stand for: its deterministic id (deviationId), unless an episode before it
 * in the same pass took that id, or the id names a resolved series and the episode is open (resolved is final); then
 * the first generation 2, 3, … free of both. `rec` is the series the id names, if any (an ended episode may revise a
 * resolved one that is no longer live, e.g. one before the horizon, which stays resolved). `follows` (for a new series
 * only) is the resolved series it continues: the generation before it, else `skipped` (a resolved record the episode
 * overlapped but could not take, mayStandFor).
 */
export function seriesIdFor(
  enterpriseId: string,
  ep: EpisodeOut,
  used: ReadonlySet<string>,
  lookup: (id: string) => DeviationRecord | undefined,
  skipped: DeviationRecord | undefined,
): { id: string; rec?: DeviationRecord; follows?: string } {
  let previous: string | undefined;
  for (let generation = 1; ; generation++) {
    const id = deviationId(enterpriseId, ep.siteId, ep.rule, ep.subject, ep.start, generation);
    const rec = used.has(id) ? undefined : lookup(id);
    if (used.has(id) || (rec?.state === 'resolved' && ep.end === undefined)) {
      previous = id;
      continue;
    }
    if (rec) return { id, rec };
    const follows = previous ?? skipped?.id;
    return follows === undefined ? { id } : { id, follows };
  }
}

export function deviationOutput(r: DeviationRecord): DeviationOutput {
  return {
    type: 'deviation',
    id: r.id,
    rule: r.rule,
    state: r.state,
    revision: r.revision,
    severity: r.severity,
    enterpriseId: r.enterpriseId,
    siteId: r.siteId,
    ...(r.factor !== undefined ? { factor: r.factor } : {}),
    subject: r.subject,
    windowStart: r.windowStart,
    ...(r.windowEnd !== undefined ? { windowEnd: r.windowEnd } : {}),
    suspectedFalsification: r.suspected,
    inResumptionWindow: r.inResumptionWindow,
    evidence: structuredClone(r.evidence),
  };
}

/**
 * The revisions an episode gives the series `rec` (undefined: a new series with this id, continuing the resolved series
 * `follows` if given), in emission order: opened (and resolved at once when the episode has ended), or the next
 * revision, or none when nothing changed. A resolved series is only ever given a resolved revision (the caller picks
 * records by mayStandFor; an open episode for a resolved record is a DomainError). A series carried over from before
 * the horizon keeps its start, its resumption-window mark, its windows before the horizon and its confirmation time;
 * every series keeps the `follows` it was opened with.
 */
export function revise(
  enterpriseId: string,
  key: string,
  id: string,
  rec: DeviationRecord | undefined,
  ep: EpisodeOut,
  horizonStart: number,
  follows?: string,
): DeviationRecord[] {
  if (rec?.state === 'resolved' && ep.end === undefined)
    throw new DomainError(
      'resolved-is-final',
      `deviation ${id} is resolved: an open episode cannot reopen it`,
    );
  const carried = rec !== undefined && rec.windowStart < horizonStart ? rec : undefined;
  let evidence = ep.evidence;
  const link = rec ? rec.evidence.follows : follows;
  if (link !== undefined) evidence = { ...evidence, follows: link };
  if (carried) {
    const old = Array.isArray(carried.evidence.windows)
      ? (carried.evidence.windows as { start: number }[])
      : [];
    const fresh = Array.isArray(ep.evidence.windows) ? (ep.evidence.windows as unknown[]) : undefined;
    evidence = { ...evidence };
    if (fresh) evidence.windows = [...old.filter((w) => w.start < horizonStart), ...fresh];
    if (carried.evidence.confirmedAt !== undefined) evidence.confirmedAt = carried.evidence.confirmedAt;
  }
  const windowStart = carried ? Math.min(carried.windowStart, ep.start) : ep.start;
  // A new series' window starts where its id says; a revision keeps the start its id hashes (idStart).
  const idStart = rec ? (rec.idStart ?? rec.windowStart) : windowStart;
  const inRes = carried ? carried.inResumptionWindow : ep.inResumptionWindow;
  const fingerprint = fingerprint64(
    JSON.stringify([windowStart, ep.end ?? null, ep.severity, ep.suspected, inRes, evidence]),
  );
  const base = {
    id,
    key,
    enterpriseId,
    rule: ep.rule,
    siteId: ep.siteId,
    subject: ep.subject,
    ...(ep.factor !== undefined ? { factor: ep.factor } : {}),
    windowStart,
    severity: ep.severity,
    suspected: ep.suspected,
    inResumptionWindow: inRes,
    evidence,
    fingerprint,
    ...(idStart !== windowStart ? { idStart } : {}),
  };
  if (!rec) {
    const opened: DeviationRecord = { ...base, state: 'opened', revision: 1 };
    if (ep.end === undefined) return [opened];
    return [opened, { ...base, windowEnd: ep.end, state: 'resolved', revision: 2 }];
  }
  if (rec.fingerprint === fingerprint && !rec.retracted) return [];
  return [
    {
      ...base,
      ...(ep.end !== undefined ? { windowEnd: ep.end } : {}),
      state: ep.end !== undefined ? 'resolved' : 'updated',
      revision: rec.revision + 1,
    },
  ];
}

/** A series the data no longer support (late data filled a gap, corrected a value): resolved as retracted. */
export function retract(rec: DeviationRecord): DeviationRecord {
  const windowEnd = rec.windowEnd ?? rec.windowStart;
  return {
    ...rec,
    windowEnd,
    state: 'resolved',
    revision: rec.revision + 1,
    evidence: { ...rec.evidence, retracted: true },
    retracted: true,
    fingerprint: fingerprint64(JSON.stringify(['retracted', windowEnd])),
  };
}
