// The peers cross-check round (`judgePeers` of the domain): each outlet with an enabled device and a process in the
// registry, per factor with a concentration limit, gets its four figures from the analyzer's hourly aggregates of
// the `windowDays` before the last Shanghai midnight (`peerFigures`), and is compared with the other outlets of the
// same process and factor in the city. Each outlet's judgement — or why it could not judge (no process, no data,
// too few peers) — is recorded in `analyzer_cross_checks` under the window's last day; flagged figures open one
// deviation per outlet, factor and Shanghai month (deviation.v1 first, then the deviation log, as the annual-load
// round hands off), and each enterprise's risk component of this check is rewritten from the round's findings.
// Judging again in the same month emits nothing: the deviation log already holds the id.
import {
  hasLoadUnit,
  judgePeers,
  outletLimits,
  peerFigures,
  peerRiskPoints,
  peersDeviation,
  peersDeviationId,
  PEERS_RULE,
  type PeerFigureCounts,
  type PeerHour,
  type PeerJudgement,
  type PeerOutletFigures,
} from '@offsite/domain';
import { formatShanghai, startOfShanghaiDay } from '@offsite/domain/calendar';
import { hourAggregatesQuery } from '@offsite/influx';
import type { RegistrySnapshot } from '@offsite/store';
import { deviationHeads } from './analyzer-db.js';
import type { AnnualLoadJobOptions } from './annual-load-job.js';
import { recordCrossCheck, writeRiskComponents, type RiskComponent } from './cross-check-db.js';
import {
  countVerdict,
  noCounts,
  handOffDeviation,
  recordCheckFailure,
  type CrossCheckCounts,
} from './cross-check-round.js';

const DAY_MS = 86_400_000;

/** The annual-load round's: the registry's outlets judged on InfluxDB's hours, deviations handed off the same way. */
export type PeersJobOptions = AnnualLoadJobOptions;

/** Why an outlet was not judged. */
export type PeersNotJudged =
  'disabled' | 'no-process' | 'no-concentration-limit' | 'no-data' | 'too-few-peers' | 'data-unavailable';

export interface PeersRound extends CrossCheckCounts {
  window: { start: number; end: number };
  outlets: number;
}

interface Candidate {
  enterpriseId: string;
  siteId: string;
  process: string | null;
  limits: { factor: string; value: number; converted: boolean }[];
}

function candidates(snapshot: RegistrySnapshot): Map<string, Candidate[]> {
  const out = new Map<string, Candidate[]>();
  for (const e of snapshot.enterprises)
    for (const o of e.outlets) {
      if (!o.devices.some((d) => d.enabled)) continue;
      const limits = outletLimits(o)
        .filter((l) => l.unit !== undefined && hasLoadUnit(l.unit) && l.value > 0)
        .map((l) => ({ factor: l.factor, value: l.value, converted: l.converted }));
      out.set(e.id, [
        ...(out.get(e.id) ?? []),
        { enterpriseId: e.id, siteId: o.id, process: o.process, limits },
      ]);
    }
  return out;
}

/** The hourly aggregates of an enterprise's outlets, by site and factor. */
async function enterpriseHours(
  opts: PeersJobOptions,
  enterpriseId: string,
  sites: readonly string[],
  window: { start: number; end: number },
): Promise<Map<string, PeerHour[]>> {
  const series = await opts.query(
    opts.bucket,
    hourAggregatesQuery(enterpriseId, sites, new Date(window.start), new Date(window.end)),
  );
  const out = new Map<string, PeerHour[]>();
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  for (const s of series) {
    const key = `${s.tags.site ?? ''}\u0000${s.tags.factor ?? ''}`;
    const hours = out.get(key) ?? [];
    for (const r of s.rows)
      hours.push({
        start: Number(r.time),
        value: num(r.value),
        converted: num(r.converted),
        valid: r.valid === true,
        flag: typeof r.flag === 'string' ? r.flag : 'N',
      });
    out.set(key, hours);
  }
  return out;
}

/** The words of an enterprise's reason, in both languages. */
function reasonWords(flagged: readonly PeerJudgement[], windowDays: number): { zh: string; en: string } {
  const where = (j: PeerJudgement) => j.siteId;
  return {
    zh:
      `同行比对：近 ${windowDays} 天有 ${flagged.length} 项指标与同工艺排口相比明显异常——` +
      flagged.map((j) => `${where(j)} ${j.words.zh}`).join('；'),
    en:
      `peers: ${flagged.length} figure${flagged.length === 1 ? '' : 's'} of the last ${windowDays} days far off the outlets of the same process — ` +
      flagged.map((j) => `${where(j)} ${j.words.en}`).join('; '),
  };
}

/** One round as of `now`: the `windowDays` ending at the last Shanghai midnight before now − the allowed lateness. */
export async function runPeersJob(
  opts: PeersJobOptions,
  snapshot: RegistrySnapshot,
  now: number,
): Promise<PeersRound> {
  const log = opts.logger.child({ component: PEERS_RULE });
  const rules = opts.engineConfig.rules.peers;
  const end = startOfShanghaiDay(now - opts.allowedLatenessMs);
  const window = { start: end - rules.windowDays * DAY_MS, end };
  const dayStart = end - DAY_MS;
  const round: PeersRound = { window, outlets: 0, ...noCounts() };
  const byEnterprise = candidates(snapshot);

  const record = (
    c: Candidate,
    status: 'flagged' | 'clear' | 'not-judged',
    reason: PeersNotJudged | null,
    details: unknown,
    deviationId: string | null,
  ) =>
    recordCrossCheck(opts.db, {
      check: PEERS_RULE,
      enterpriseId: c.enterpriseId,
      siteId: c.siteId,
      dayStart,
      status,
      reason,
      details,
      deviationId,
    });
  const head = { window, fromText: formatShanghai(window.start), toText: formatShanghai(window.end) };

  // The figures of every outlet of a process (the groups span enterprises): all read before any is judged.
  const figures: PeerOutletFigures[] = [];
  const counts = new Map<string, PeerFigureCounts>();
  const notJudged: { c: Candidate; reason: PeersNotJudged; details: unknown }[] = [];
  const unavailable = new Set<string>();
  for (const [enterpriseId, outlets] of byEnterprise) {
    const judged = outlets.filter((c) => rules.enabled && c.process !== null && c.limits.length > 0);
    for (const c of outlets)
      if (!judged.includes(c))
        notJudged.push({
          c,
          reason: !rules.enabled ? 'disabled' : c.process === null ? 'no-process' : 'no-concentration-limit',
          details: { ...head, process: c.process },
        });
    if (judged.length === 0) continue;
    let hours: Map<string, PeerHour[]>;
    try {
      hours = await enterpriseHours(
        opts,
        enterpriseId,
        judged.map((c) => c.siteId),
        window,
      );
    } catch (err) {
      log.error({ err, enterpriseId }, 'peers: hourly aggregates unavailable');
      unavailable.add(enterpriseId);
      for (const c of judged)
        notJudged.push({
          c,
          reason: 'data-unavailable',
          details: { ...head, error: err instanceof Error ? err.message : String(err) },
        });
      continue;
    }
    for (const c of judged)
      for (const l of c.limits) {
        const f = peerFigures(hours.get(`${c.siteId}\u0000${l.factor}`) ?? [], l, rules);
        counts.set(`${c.siteId}\u0000${l.factor}`, f.counts);
        figures.push({
          enterpriseId,
          siteId: c.siteId,
          group: c.process!,
          factor: l.factor,
          figures: f.figures,
        });
      }
  }
  const judgements = judgePeers(figures, {
    minPeers: rules.minPeers,
    zThreshold: rules.zThreshold,
    minMadShare: rules.minMadShare,
    minMad: rules.minMad,
  });

  for (const n of notJudged) {
    round.outlets++;
    round.notJudged++;
    if (n.reason === 'data-unavailable') round.failed++;
    await record(n.c, 'not-judged', n.reason, n.details, null).catch((err: unknown) => {
      round.failed++;
      log.error({ err, siteId: n.c.siteId }, 'peers: cross-check record failed');
    });
  }

  const risk = new Map<string, PeerJudgement[]>();
  for (const [, outlets] of byEnterprise)
    for (const c of outlets) {
      if (!rules.enabled || c.process === null || c.limits.length === 0 || unavailable.has(c.enterpriseId))
        continue;
      round.outlets++;
      const mine = judgements.filter((j) => j.siteId === c.siteId);
      risk.set(c.enterpriseId, [...(risk.get(c.enterpriseId) ?? []), ...mine]);
      try {
        const deviationIds: string[] = [];
        for (const l of c.limits) {
          const js = mine.filter((j) => j.factor === l.factor);
          if (!js.some((j) => j.flagged)) continue;
          const id = peersDeviationId(c.enterpriseId, c.siteId, l.factor, window.end);
          deviationIds.push(id);
          const prev = (await deviationHeads(opts.db, [id])).get(id);
          const deviation = peersDeviation({
            enterpriseId: c.enterpriseId,
            siteId: c.siteId,
            factor: l.factor,
            window,
            judgements: js,
            counts: counts.get(`${c.siteId}\u0000${l.factor}`) ?? null,
            previous: prev ? { revision: prev.revision } : null,
            rules,
          });
          if (deviation) await handOffDeviation(opts, deviation, now, round);
        }
        const flagged = mine.some((j) => j.flagged);
        const compared = mine.some((j) => 'median' in j.peers);
        const status = flagged ? 'flagged' : compared ? 'clear' : 'not-judged';
        const reason: PeersNotJudged | null = compared
          ? null
          : mine.length === 0
            ? 'no-data'
            : 'too-few-peers';
        await record(
          c,
          status,
          reason,
          {
            ...head,
            process: c.process,
            deviationIds,
            factors: c.limits.map((l) => ({
              factor: l.factor,
              counts: counts.get(`${c.siteId}\u0000${l.factor}`) ?? null,
              figures: mine
                .filter((j) => j.factor === l.factor)
                .map((j) => ({
                  metric: j.metric,
                  value: j.value,
                  peers: j.peers,
                  z: j.z,
                  flagged: j.flagged,
                  zh: j.words.zh,
                  en: j.words.en,
                })),
            })),
          },
          deviationIds[0] ?? null,
        );
        countVerdict(round, status);
      } catch (err) {
        await recordCheckFailure(
          opts.db,
          log,
          round,
          { check: PEERS_RULE, enterpriseId: c.enterpriseId, siteId: c.siteId, dayStart, details: head },
          err,
        );
      }
    }

  // The risk component of every enterprise judged this round: 10 points per flagged figure (at most 40).
  const components: RiskComponent[] = [...risk].map(([id, js]) => {
    const flagged = js.filter((j) => j.flagged);
    const points = peerRiskPoints(js);
    return {
      id,
      points,
      reasons:
        flagged.length > 0
          ? [
              {
                check: PEERS_RULE,
                points,
                findings: flagged.length,
                lastDay: new Date(dayStart).toISOString(),
                ...reasonWords(flagged, rules.windowDays),
              },
            ]
          : [],
    };
  });
  await writeRiskComponents(opts.db, PEERS_RULE, components, window.end);
  log.info({ ...round, window: new Date(window.start).toISOString() }, 'peers cross-check done');
  return round;
}
