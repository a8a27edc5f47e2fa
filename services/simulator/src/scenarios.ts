/**
 * Scripted scenarios: faults and situations the pipeline must recognise. Each is a time window
 * (event time) on one enterprise and the effect the generators apply inside it.
 */
import { startOfShanghaiDay } from '@offsite/domain/calendar';
import type { Fleet, LoggerSpec, MeterSpec } from './fleet.js';

export type ScenarioKind =
  'treatment-off' | 'flatline' | 'exceedance' | 'offline' | 'maintenance' | 'emission-drop';
export const SCENARIO_KINDS: readonly ScenarioKind[] = [
  'treatment-off',
  'flatline',
  'exceedance',
  'offline',
  'maintenance',
  'emission-drop',
];

/** emission-drop: the outlet's flow (and so its loads) as a share of the usual, while production runs as usual. */
export const EMISSION_DROP_SHARE = 0.3;

export interface Scenario {
  readonly kind: ScenarioKind;
  readonly enterpriseId: string;
  /** Logger MN (flatline, exceedance, offline, maintenance, emission-drop) or treatment meter id (treatment-off). */
  readonly target: string;
  /** Factor code for flatline and exceedance. */
  readonly factor: string | null;
  /** Event-time window [from, to) in ms since the epoch. */
  readonly from: number;
  readonly to: number;
  /** exceedance: converted hourly mean as a multiple of the limit (default 1.8). */
  readonly ratio: number;
  /** What the pipeline is expected to report (rule names of deviation.v1), for summaries and flows. */
  readonly expect: readonly string[];
  readonly description: { readonly zh: string; readonly en: string };
}

const HOUR = 3_600_000;

export class ScenarioPlanError extends Error {
  readonly code = 'SCENARIO_UNPLANNABLE';
  readonly retryable = false;
}

/**
 * The standard set on distinct enterprises of the fleet, placed on the local day that contains
 * `start` (windows on whole hours so hourly rules see whole windows):
 * - treatment-off 09:00–12:00 on a resuming enterprise (or any) whose treatment meter serves a production meter,
 *   one whose facility reports its running state (SBn-RS) first;
 * - exceedance of NOx (a21002) 10:00–12:00 (two hourly windows);
 * - flatline of SO2 (a21026) 13:00–15:00;
 * - offline 14:00–16:00 with the cache replayed on reconnection;
 * - maintenance inside a maintenance window the registry declares (flag M, expected: no deviation);
 * - emission-drop for the whole day on a 2017 logger of an enterprise with production meters: its flow falls to
 *   EMISSION_DROP_SHARE of the usual while the meters draw as usual (judged by the emissions-against-production
 *   cross-check, which needs the logger's and the meters' history of the days before: `historyOutputs`).
 */
export function planStandardScenarios(fleet: Fleet, start: number, kinds = SCENARIO_KINDS): Scenario[] {
  const day = startOfShanghaiDay(start);
  const used = new Set<string>();
  const out: Scenario[] = [];
  const free = (id: string) => !used.has(id);
  const take = (id: string) => used.add(id);

  const gasWith = (factor: string): LoggerSpec | undefined =>
    fleet.loggers.find(
      (l) =>
        free(l.enterpriseId) &&
        l.kind === 'gas' &&
        l.protocolVersion === 2017 &&
        l.limits[factor] !== undefined &&
        l.refO2Pct !== null,
    );

  for (const kind of kinds) {
    switch (kind) {
      case 'treatment-off': {
        const candidates = fleet.meters.filter(
          (m): m is MeterSpec & { serves: string } =>
            m.role === 'treatment' && m.serves !== null && free(m.enterpriseId),
        );
        // Best a resuming enterprise whose treatment meter's facility reports its running state (SBn-RS).
        const linked = new Set(fleet.loggers.flatMap((l) => l.facilities.map((f) => f.meterId)));
        const resuming = (m: MeterSpec) =>
          fleet.enterprises.find((e) => e.id === m.enterpriseId)?.status === 'resuming';
        const m =
          candidates.find((c) => resuming(c) && linked.has(c.meterId)) ??
          candidates.find(resuming) ??
          candidates.find((c) => linked.has(c.meterId)) ??
          candidates[0];
        if (!m) throw new ScenarioPlanError('no treatment meter that serves a production meter');
        take(m.enterpriseId);
        out.push({
          kind,
          enterpriseId: m.enterpriseId,
          target: m.meterId,
          factor: null,
          from: day + 9 * HOUR,
          to: day + 12 * HOUR,
          ratio: 1,
          expect: ['treatment-idle'],
          description: {
            zh: '复工复产后治污设施未运行',
            en: 'resumed production with the treatment facility off',
          },
        });
        break;
      }
      case 'exceedance': {
        const l = gasWith('a21002');
        if (!l) throw new ScenarioPlanError('no 2017 gas logger with a NOx limit and a reference O2');
        take(l.enterpriseId);
        out.push({
          kind,
          enterpriseId: l.enterpriseId,
          target: l.mn,
          factor: 'a21002',
          from: day + 10 * HOUR,
          to: day + 12 * HOUR,
          ratio: 1.8,
          expect: ['exceedance'],
          description: { zh: '氮氧化物折算浓度超标两小时', en: 'NOx above its limit for two hours' },
        });
        break;
      }
      case 'flatline': {
        const l = gasWith('a21026');
        if (!l) throw new ScenarioPlanError('no 2017 gas logger with an SO2 limit');
        take(l.enterpriseId);
        out.push({
          kind,
          enterpriseId: l.enterpriseId,
          target: l.mn,
          factor: 'a21026',
          from: day + 13 * HOUR,
          to: day + 15 * HOUR,
          ratio: 1,
          expect: ['flatline'],
          description: { zh: '二氧化硫数据恒值', en: 'SO2 flat-lined' },
        });
        break;
      }
      case 'offline': {
        const l = fleet.loggers.find((x) => free(x.enterpriseId) && x.protocolVersion !== 2005);
        if (!l) throw new ScenarioPlanError('no logger left for the offline scenario');
        take(l.enterpriseId);
        out.push({
          kind,
          enterpriseId: l.enterpriseId,
          target: l.mn,
          factor: null,
          from: day + 14 * HOUR,
          to: day + 16 * HOUR,
          ratio: 1,
          expect: ['offline'],
          description: {
            zh: '数采仪断线两小时后补传缓存数据',
            en: 'logger offline two hours, then replays its cache',
          },
        });
        break;
      }
      case 'maintenance': {
        const dayEnd = day + 24 * HOUR;
        for (const e of fleet.enterprises) {
          if (!free(e.id)) continue;
          const w = e.maintenanceWindows.find((x) => x.from < dayEnd && x.to > day);
          if (!w) continue;
          const logger = e.loggers.find((l) => l.mn === w.device || l.outletId === w.outlet);
          if (!logger) continue;
          take(e.id);
          out.push({
            kind,
            enterpriseId: e.id,
            target: logger.mn,
            factor: null,
            from: Math.max(w.from, day),
            to: Math.min(w.to, dayEnd),
            ratio: 1,
            expect: [],
            description: { zh: '申报运维期间数据标记为 M', en: 'declared maintenance, data flagged M' },
          });
          break;
        }
        if (!out.some((s) => s.kind === 'maintenance'))
          throw new ScenarioPlanError('no maintenance window declared in the registry on the simulated day');
        break;
      }
      case 'emission-drop': {
        const producing = new Set(
          fleet.meters.filter((m) => m.role === 'production').map((m) => m.enterpriseId),
        );
        const l = fleet.loggers.find(
          (x) =>
            free(x.enterpriseId) &&
            producing.has(x.enterpriseId) &&
            x.protocolVersion === 2017 &&
            x.factors.includes(x.kind === 'gas' ? 'a00000' : 'w00000'),
        );
        if (!l)
          throw new ScenarioPlanError(
            'no 2017 logger with a flow factor on an enterprise with production meters',
          );
        take(l.enterpriseId);
        out.push({
          kind,
          enterpriseId: l.enterpriseId,
          target: l.mn,
          factor: l.kind === 'gas' ? 'a00000' : 'w00000',
          from: day,
          to: day + 24 * HOUR,
          ratio: EMISSION_DROP_SHARE,
          expect: ['production-emission'],
          description: {
            zh: '排放量骤降而生产用电照常',
            en: 'emissions fall while production power stays high',
          },
        });
        break;
      }
    }
  }
  return out;
}

/** Active scenarios of a kind on a target at event time t. */
export function activeScenario(
  scenarios: readonly Scenario[],
  kind: ScenarioKind,
  target: string,
  t: number,
  factor?: string,
): Scenario | undefined {
  return scenarios.find(
    (s) =>
      s.kind === kind &&
      s.target === target &&
      t >= s.from &&
      t < s.to &&
      (factor === undefined || s.factor === factor),
  );
}
