// Remote sensing (遥感): hotspot and plume detections matched to the registry's positions. A detection within the
// configured radius of an enterprise that the registry says was shut down (停产) at that time, or of an outlet whose
// data show nothing around that time, is suspicious: one deviation per detection and enterprise, with the
// detection's time, position and confidence, the distance, and why — for supervisors (the enterprise is not tipped
// off). Distances are great-circle (haversine) on the mean Earth radius: at a city's scale and radii of a few
// kilometres its error against the WGS-84 ellipsoid is below 0.5 %, far less than a satellite pixel.
import { formatShanghai } from './calendar.js';
import { deviationId } from './deviation-records.js';
import type { DeviationOutput, Severity } from './model.js';

export const REMOTE_SENSING_RULE = 'remote-sensing';

/** IUGG mean Earth radius, metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

export interface LatLon {
  lat: number;
  lon: number;
}

/** Great-circle distance in metres between two WGS-84 positions (haversine formula, spherical Earth). */
export function haversineM(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** One detection as imported: its id is the provider's, or derived from its content (a re-import keeps it). */
export interface Detection extends LatLon {
  id: string;
  /** Detection time, epoch ms (UTC). */
  at: number;
  /** 0–1. */
  confidence: number;
  kind: 'hotspot' | 'plume';
}

/** What the matcher needs of an enterprise: its positions and its status timeline. */
export interface SensedEnterprise {
  id: string;
  location?: LatLon;
  /** Status entries in time order (`from` ISO 8601 UTC). */
  statusTimeline: readonly { status: 'shutdown' | 'resuming' | 'normal'; from: string }[];
  outlets: readonly { id: string; location?: LatLon }[];
}

export interface RemoteSensingRules {
  /** An enterprise or outlet within this many metres of a detection is matched (default 1000). */
  radiusM: number;
  /** Detections below this confidence are recorded, never judged (default 0.5). */
  minConfidence: number;
  /** An outlet "shows nothing" with no data in this many minutes either side of the detection (default 60). */
  silenceMinutes: number;
  severity: Severity;
}

export const DEFAULT_REMOTE_SENSING_RULES: RemoteSensingRules = {
  radiusM: 1000,
  minConfidence: 0.5,
  silenceMinutes: 60,
  severity: 'major',
};

/** The enterprise's registry position nearest the detection within the radius: its site or an outlet. */
export interface SensingMatch {
  enterpriseId: string;
  /** `site` for the enterprise's own position, else the outlet id. */
  nearest: string;
  distanceM: number;
  /** Outlets of the enterprise within the radius, nearest first. */
  outlets: { id: string; distanceM: number }[];
  /** The enterprise's status at the detection's time (its latest timeline entry not after it). */
  status: 'shutdown' | 'resuming' | 'normal';
}

/** Status at `at` per the timeline; `normal` before its first entry. */
export function statusAt(
  timeline: SensedEnterprise['statusTimeline'],
  at: number,
): 'shutdown' | 'resuming' | 'normal' {
  let s: 'shutdown' | 'resuming' | 'normal' = 'normal';
  for (const e of timeline) if (Date.parse(e.from) <= at) s = e.status;
  return s;
}

/** Every enterprise with a registry position within the radius of the detection, nearest first. */
export function matchDetection(
  d: Detection,
  enterprises: readonly SensedEnterprise[],
  radiusM: number,
): SensingMatch[] {
  const out: SensingMatch[] = [];
  for (const e of enterprises) {
    const outlets = e.outlets
      .filter((o) => o.location)
      .map((o) => ({ id: o.id, distanceM: haversineM(d, o.location!) }))
      .filter((o) => o.distanceM <= radiusM)
      .sort((a, b) => a.distanceM - b.distanceM);
    const site = e.location ? haversineM(d, e.location) : Infinity;
    const nearestOutlet = outlets[0];
    if (site > radiusM && !nearestOutlet) continue;
    const bySite = !nearestOutlet || site <= nearestOutlet.distanceM;
    out.push({
      enterpriseId: e.id,
      nearest: bySite ? 'site' : nearestOutlet.id,
      distanceM: bySite ? site : nearestOutlet.distanceM,
      outlets,
      status: statusAt(e.statusTimeline, d.at),
    });
  }
  return out.sort((a, b) => a.distanceM - b.distanceM);
}

export type SuspicionReason =
  | { kind: 'shutdown' }
  /** Outlets within the radius with no data in the window around the detection. */
  | { kind: 'silent-outlets'; outletIds: string[] };

/**
 * Why a matched detection is suspicious, or null: the enterprise was shut down at the time, or (when it ran) every
 * outlet of it within the radius sent nothing around the detection (`silent` says which outlets were silent).
 */
export function suspicion(m: SensingMatch, silent: ReadonlySet<string>): SuspicionReason | null {
  if (m.status === 'shutdown') return { kind: 'shutdown' };
  const quiet = m.outlets.filter((o) => silent.has(o.id)).map((o) => o.id);
  return quiet.length > 0 ? { kind: 'silent-outlets', outletIds: quiet } : null;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** The deviation's id: one per detection and enterprise, so importing a file again opens nothing new. */
export function remoteSensingDeviationId(enterpriseId: string, detectionId: string, at: number): string {
  return deviationId(enterpriseId, 'site', REMOTE_SENSING_RULE, detectionId, at);
}

/** The deviation a suspicious detection opens, with its evidence in words (zh, en). */
export function remoteSensingDeviation(
  d: Detection,
  m: SensingMatch,
  why: SuspicionReason,
  rules: RemoteSensingRules,
  source: { file: string; sha256: string },
): DeviationOutput {
  const when = formatShanghai(d.at);
  const kindZh = d.kind === 'plume' ? '烟羽' : '热点';
  const distance = Math.round(m.distanceM);
  const where = m.nearest === 'site' ? '厂区' : `排放口 ${m.nearest}`;
  const whereEn = m.nearest === 'site' ? 'the site' : `outlet ${m.nearest}`;
  const words =
    why.kind === 'shutdown'
      ? {
          zh: `遥感${kindZh}（${when}，置信度 ${d.confidence}）距${where} ${distance} 米，而该企业当时登记为停产`,
          en: `a remote-sensing ${d.kind} (${when}, confidence ${d.confidence}) ${distance} m from ${whereEn}, while the enterprise was registered as shut down`,
        }
      : {
          zh: `遥感${kindZh}（${when}，置信度 ${d.confidence}）距${where} ${distance} 米，而排放口 ${why.outletIds.join('、')} 前后 ${rules.silenceMinutes} 分钟无监测数据`,
          en: `a remote-sensing ${d.kind} (${when}, confidence ${d.confidence}) ${distance} m from ${whereEn}, while outlet${why.outletIds.length === 1 ? '' : 's'} ${why.outletIds.join(', ')} sent no data within ${rules.silenceMinutes} min of it`,
        };
  return {
    type: 'deviation',
    id: remoteSensingDeviationId(m.enterpriseId, d.id, d.at),
    rule: REMOTE_SENSING_RULE,
    state: 'opened',
    revision: 1,
    severity: rules.severity,
    enterpriseId: m.enterpriseId,
    siteId: m.nearest === 'site' ? m.enterpriseId : m.nearest,
    subject: d.id,
    windowStart: d.at,
    // Production while registered as stopped, or emitting while the monitors are silent: supervisors first.
    suspectedFalsification: true,
    inResumptionWindow: false,
    evidence: {
      confirmedAt: d.at,
      summary: words.en,
      zh: words.zh,
      en: words.en,
      detection: {
        id: d.id,
        kind: d.kind,
        at: new Date(d.at).toISOString(),
        atText: when,
        lat: d.lat,
        lon: d.lon,
        confidence: d.confidence,
      },
      distanceM: round1(m.distanceM),
      nearest: m.nearest,
      outlets: m.outlets.map((o) => ({ id: o.id, distanceM: round1(o.distanceM) })),
      status: m.status,
      reason: why,
      params: {
        radiusM: rules.radiusM,
        silenceMinutes: rules.silenceMinutes,
        minConfidence: rules.minConfidence,
      },
      source,
    },
  };
}
