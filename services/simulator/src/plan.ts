/** Everything a run needs from its settings: fleet, scenarios, start — shared by main and tests. */
import { startOfShanghaiDay } from '@offsite/domain/calendar';
import { parseRegistryFile, formatRegistryIssues, type RegistryFile } from '@offsite/store';
import { buildFleet, type Fleet } from './fleet.js';
import { generateRegistry } from './registry-gen.js';
import { planStandardScenarios, SCENARIO_KINDS, type Scenario, type ScenarioKind } from './scenarios.js';

export function parseRegistryText(text: string, path: string): RegistryFile {
  const parsed = parseRegistryFile(text, path.endsWith('.json') ? 'json' : 'yaml');
  if (!parsed.ok) throw new Error(`registry ${path} is invalid:\n${formatRegistryIssues(parsed.issues)}`);
  return parsed.registry;
}

export interface RunPlan {
  readonly fleet: Fleet;
  readonly scenarios: Scenario[];
  /** Scenario kinds that could not be placed on this fleet, with why. */
  readonly skipped: { kind: ScenarioKind; reason: string }[];
}

export function parseScenarioKinds(text: string): ScenarioKind[] {
  if (text.trim() === '' || text.trim() === 'none') return [];
  return text.split(',').map((k) => {
    const kind = k.trim() as ScenarioKind;
    if (!SCENARIO_KINDS.includes(kind))
      throw new Error(`unknown scenario "${k}" (known: ${SCENARIO_KINDS.join(', ')})`);
    return kind;
  });
}

export function planRun(
  registry: RegistryFile,
  count: number,
  start: number,
  kinds: readonly ScenarioKind[],
): RunPlan {
  const fleet = buildFleet(count > 0 ? generateRegistry(registry, { count }) : registry);
  const scenarios: Scenario[] = [];
  const skipped: RunPlan['skipped'] = [];
  for (const kind of kinds) {
    try {
      // Plan one kind at a time so a kind that does not fit this fleet does not stop the others.
      const taken = new Set(scenarios.map((s) => s.enterpriseId));
      const rest: Fleet = {
        enterprises: fleet.enterprises.filter((e) => !taken.has(e.id)),
        loggers: fleet.loggers.filter((l) => !taken.has(l.enterpriseId)),
        meters: fleet.meters.filter((m) => !taken.has(m.enterpriseId)),
      };
      scenarios.push(...planStandardScenarios(rest, start, [kind]));
    } catch (e) {
      skipped.push({ kind, reason: (e as Error).message });
    }
  }
  return { fleet, scenarios, skipped };
}

/**
 * The plan without the given enterprises: their loggers and meters never connect during the run (a disconnected
 * enterprise). An enterprise the fleet does not have, or one a scenario was placed on, is an error.
 */
export function withoutEnterprises(plan: RunPlan, ids: readonly string[]): RunPlan {
  const gone = new Set(ids);
  for (const id of gone) {
    if (!plan.fleet.enterprises.some((e) => e.id === id))
      throw new Error(`enterprise ${id} is not in the fleet`);
    const s = plan.scenarios.find((x) => x.enterpriseId === id);
    if (s) throw new Error(`enterprise ${id} has the ${s.kind} scenario: it cannot stay silent`);
  }
  return {
    ...plan,
    fleet: {
      enterprises: plan.fleet.enterprises.filter((e) => !gone.has(e.id)),
      loggers: plan.fleet.loggers.filter((l) => !gone.has(l.enterpriseId)),
      meters: plan.fleet.meters.filter((m) => !gone.has(m.enterpriseId)),
    },
  };
}

/** Yesterday 00:00 Asia/Shanghai: a whole simulated day that ends now-ish, not in the future. */
export function defaultStart(wallNow: number): number {
  return startOfShanghaiDay(wallNow) - 86_400_000;
}
