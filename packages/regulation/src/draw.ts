// Differentiated random inspection (双随机、一公开, domain-rules §5). Pure and deterministic: the
// same seed and the same inputs give the same targets and the same inspectors, on any machine.
//
// Algorithm (recorded with each draw as DRAW_ALGORITHM):
// 1. Enterprises on the positive list form their own stratum and get off-site checks; the others are
//    stratified by supervision class. Each stratum is sorted by enterprise id.
// 2. Stratum sample size = round(rate × population), at least 1 when rate > 0 and the stratum is
//    not empty.
// 3. Weighted sampling without replacement (Efraimidis–Spirakis): each enterprise gets the key
//    ln(u) / weight with u uniform in (0, 1] from the seeded PRNG, in id order; the largest keys win.
//    weight = min(maxWeight, 1 + perOpenDeviation × open deviations + perViolation × violations
//                            + perRiskPoint × risk score), the risk score (0–100) being the big-data
//    cross-checks' (the analyzer's `analyzer_risk_v1`, recorded with the draw's inputs). A draw recorded
//    before the risk score (no `perRiskPoint` in its config) is re-run and digested as it was.
// 4. Targets in stratum order then rank; for each, inspectors are drawn one at a time, uniformly
//    among the eligible inspectors with the fewest assignments so far (conflicts excluded: declared
//    recusals, and the enterprise's own district when configured).
import { createHash } from 'node:crypto';
import { regulationError } from './errors.js';
import { seededPrng, type Prng } from './prng.js';

export const DRAW_ALGORITHM = 'xoshiro256**(sha256(seed))/efraimidis-spirakis/least-loaded-uniform/v1';

export type SupervisionClass = 'key' | 'special' | 'general';
export type Stratum = SupervisionClass | 'positive-list';
export const STRATA: readonly Stratum[] = ['key', 'special', 'general', 'positive-list'];

export interface DrawConfig {
  rates: Record<Stratum, number>;
  risk: {
    perOpenDeviation: number;
    perViolation: number;
    maxWeight: number;
    /** Weight per point of the risk score; absent in draws recorded before the score existed. */
    perRiskPoint?: number;
  };
  /** Exclude inspectors of the enterprise's own district. */
  excludeOwnDistrict: boolean;
  inspectorsPerTarget: number;
}

export const defaultDrawConfig: DrawConfig = Object.freeze({
  rates: { key: 0.25, special: 0.15, general: 0.05, 'positive-list': 0.05 },
  // A score of 50 (e.g. two or three days of emissions out of line with production) adds as much as two violations.
  risk: { perOpenDeviation: 0.5, perViolation: 1, maxWeight: 5, perRiskPoint: 0.04 },
  excludeOwnDistrict: false,
  inspectorsPerTarget: 2,
});

export interface DrawEnterprise {
  id: string;
  districtId: string;
  supervisionClass: SupervisionClass;
  positiveListed: boolean;
  openDeviations: number;
  /** Violations on record in the look-back the caller chose (the repository uses 3 years). */
  violations: number;
  /** The cross-checks' risk score (0–100); absent: 0. */
  riskScore?: number;
}

export interface DrawInspector {
  id: string;
  districtId: string | null;
  /** Enterprise ids the inspector declared a conflict of interest with. */
  recusals: readonly string[];
}

export interface DrawInput {
  period: string;
  seed: string;
  enterprises: readonly DrawEnterprise[];
  inspectors: readonly DrawInspector[];
  config: DrawConfig;
}

export interface DrawTarget {
  enterpriseId: string;
  districtId: string;
  stratum: Stratum;
  mode: 'on-site' | 'off-site';
  weight: number;
  /** 1-based position within the stratum (1 = largest key). */
  rank: number;
  inspectorIds: string[];
}

export interface StratumSummary {
  stratum: Stratum;
  population: number;
  rate: number;
  drawn: number;
}

export interface DrawResult {
  algorithm: string;
  inputsDigest: string;
  targets: DrawTarget[];
  strata: StratumSummary[];
}

export function riskWeight(e: DrawEnterprise, risk: DrawConfig['risk']): number {
  const w =
    1 +
    risk.perOpenDeviation * e.openDeviations +
    risk.perViolation * e.violations +
    (risk.perRiskPoint ?? 0) * (e.riskScore ?? 0);
  return Math.min(risk.maxWeight, Math.max(1, w));
}

export function sampleSize(population: number, rate: number): number {
  if (population === 0 || rate <= 0) return 0;
  return Math.min(population, Math.max(1, Math.round(rate * population)));
}

/** sha256 of the canonical inputs (sorted, fixed key order), published with the seed. */
export function drawInputsDigest(input: DrawInput): string {
  // The risk score counts only in draws whose config weights it (those recorded before keep their digest).
  const scored = input.config.risk.perRiskPoint !== undefined;
  const canonical = {
    algorithm: DRAW_ALGORITHM,
    period: input.period,
    seed: input.seed,
    config: {
      rates: STRATA.map((s) => input.config.rates[s]),
      risk: [
        input.config.risk.perOpenDeviation,
        input.config.risk.perViolation,
        input.config.risk.maxWeight,
        ...(scored ? [input.config.risk.perRiskPoint] : []),
      ],
      excludeOwnDistrict: input.config.excludeOwnDistrict,
      inspectorsPerTarget: input.config.inspectorsPerTarget,
    },
    enterprises: [...input.enterprises]
      .sort(byId)
      .map((e) => [
        e.id,
        e.districtId,
        e.supervisionClass,
        e.positiveListed,
        e.openDeviations,
        e.violations,
        ...(scored ? [e.riskScore ?? 0] : []),
      ]),
    inspectors: [...input.inspectors].sort(byId).map((i) => [i.id, i.districtId, [...i.recusals].sort()]),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export function drawInspections(input: DrawInput): DrawResult {
  const { config } = input;
  for (const s of STRATA) {
    const r = config.rates[s];
    if (!(r >= 0 && r <= 1))
      throw regulationError('INVALID_INPUT', `rate of ${s} must be within [0, 1], got ${r}`);
  }
  if (!Number.isInteger(config.inspectorsPerTarget) || config.inspectorsPerTarget < 1) {
    throw regulationError('INVALID_INPUT', 'inspectorsPerTarget must be a positive integer');
  }
  const ids = new Set<string>();
  for (const e of input.enterprises) {
    if (ids.has(e.id)) throw regulationError('INVALID_INPUT', `enterprise ${e.id} listed twice`);
    ids.add(e.id);
  }
  const prng = seededPrng(`${input.period}\u0000${input.seed}`);
  const strata: StratumSummary[] = [];
  const targets: DrawTarget[] = [];
  for (const stratum of STRATA) {
    const members = input.enterprises
      .filter((e) =>
        stratum === 'positive-list' ? e.positiveListed : !e.positiveListed && e.supervisionClass === stratum,
      )
      .sort(byId);
    const rate = config.rates[stratum];
    const k = sampleSize(members.length, rate);
    const keyed = members.map((e) => {
      const weight = riskWeight(e, config.risk);
      const u = 1 - prng.nextFloat(); // (0, 1]
      return { e, weight, key: Math.log(u) / weight };
    });
    // Largest key first; ties (practically impossible) broken by id for determinism.
    keyed.sort((a, b) => b.key - a.key || byId(a.e, b.e));
    keyed.slice(0, k).forEach(({ e, weight }, i) =>
      targets.push({
        enterpriseId: e.id,
        districtId: e.districtId,
        stratum,
        mode: stratum === 'positive-list' ? 'off-site' : 'on-site',
        weight,
        rank: i + 1,
        inspectorIds: [],
      }),
    );
    strata.push({ stratum, population: members.length, rate, drawn: k });
  }
  assignInspectors(targets, input.inspectors, config, prng);
  return { algorithm: DRAW_ALGORITHM, inputsDigest: drawInputsDigest(input), targets, strata };
}

function assignInspectors(
  targets: DrawTarget[],
  inspectors: readonly DrawInspector[],
  config: DrawConfig,
  prng: Prng,
): void {
  const roster = [...inspectors].sort(byId);
  const load = new Map<string, number>(roster.map((i) => [i.id, 0]));
  const unstaffed: string[] = [];
  for (const t of targets) {
    const eligible = roster.filter(
      (i) =>
        !i.recusals.includes(t.enterpriseId) && !(config.excludeOwnDistrict && i.districtId === t.districtId),
    );
    const chosen: string[] = [];
    for (let n = 0; n < config.inspectorsPerTarget; n += 1) {
      const left = eligible.filter((i) => !chosen.includes(i.id));
      if (left.length === 0) break;
      const min = Math.min(...left.map((i) => load.get(i.id) ?? 0));
      const least = left.filter((i) => (load.get(i.id) ?? 0) === min);
      const pick = least[prng.nextInt(least.length)];
      if (!pick) break;
      chosen.push(pick.id);
      load.set(pick.id, min + 1);
    }
    if (chosen.length < config.inspectorsPerTarget) unstaffed.push(t.enterpriseId);
    t.inspectorIds = chosen;
  }
  if (unstaffed.length > 0) {
    throw regulationError(
      'INSUFFICIENT_INSPECTORS',
      `not enough conflict-free inspectors for ${unstaffed.length} target(s): ${unstaffed.join(', ')}`,
      { details: { unstaffed } },
    );
  }
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
