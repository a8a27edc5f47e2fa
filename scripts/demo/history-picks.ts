/**
 * The demo's simulated history (run by scripts/demo.sh before the services start): picks the two enterprises whose
 * preceding months make them fail the positive list for one stated reason each — one with every 7th hour missing
 * (effective transmission below 90 %), one whose loggers went silent two days before the simulated day and stay
 * silent through it (not connected) — among the enterprises without a scenario that the registry alone would let
 * qualify (credit A/B, industry not excluded, no violation on record). And the enterprise whose history lies just
 * below its limits, to stand out among the peers of its process (the peers cross-check the summary runs): the first
 * other enterprise without a scenario whose outlets all have a process with at least 5 other outlets with a device.
 * Prints `<low-transmission> <silent> <silent since, ISO> <near-limit>`.
 *
 * Usage: history-picks.ts <registry> <simStart ISO> <scenario kinds>
 */
import { readFile } from 'node:fs/promises';
import { defaultEligibilityConfig } from '@offsite/regulation';
import { parseRegistryText, parseScenarioKinds, planRun } from '@offsite/simulator';

const [registryPath, simStart, kinds] = process.argv.slice(2);
if (!registryPath || !simStart || kinds === undefined) {
  process.stderr.write('usage: history-picks.ts <registry> <simStart ISO> <scenario kinds>\n');
  process.exit(64);
}
const registry = parseRegistryText(await readFile(registryPath, 'utf8'), registryPath);
const plan = planRun(registry, 0, Date.parse(simStart), parseScenarioKinds(kinds));
const taken = new Set(plan.scenarios.map((s) => s.enterpriseId));
const cfg = defaultEligibilityConfig;
const candidates = registry.enterprises.filter(
  (e) =>
    !taken.has(e.id) &&
    e.creditRating !== undefined &&
    e.creditRating !== null &&
    cfg.goodCreditRatings.includes(e.creditRating) &&
    !cfg.excludedIndustries.includes(e.industry) &&
    (e.violations ?? []).length === 0 &&
    e.outlets.some((o) => o.devices.some((d) => d.enabled !== false)),
);
if (candidates.length < 2) {
  process.stderr.write(`only ${candidates.length} enterprise(s) could qualify without a scenario: need 2\n`);
  process.exit(1);
}
const silentFrom = new Date(Date.parse(simStart) - 2 * 86_400_000).toISOString();
const monitored = registry.enterprises.flatMap((e) =>
  e.outlets.filter((o) => o.devices.some((d) => d.enabled !== false)),
);
const peers = (process: string) => monitored.filter((o) => o.process === process).length - 1;
const picked = new Set([candidates[0]!.id, candidates[1]!.id]);
const nearLimit = registry.enterprises.find((e) => {
  const outlets = e.outlets.filter((o) => o.devices.some((d) => d.enabled !== false));
  return (
    !taken.has(e.id) &&
    !picked.has(e.id) &&
    outlets.length > 0 &&
    outlets.every((o) => o.process !== undefined && peers(o.process) >= 5)
  );
});
if (!nearLimit) {
  process.stderr.write('no enterprise has a process with 5 peers: nobody to stand out among them\n');
  process.exit(1);
}
process.stdout.write(`${candidates[0]!.id} ${candidates[1]!.id} ${silentFrom} ${nearLimit.id}\n`);
