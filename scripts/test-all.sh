#!/usr/bin/env bash
# The README's test command (`npm test`): sets up everything a fresh machine needs, starts the real
# servers, and runs lint, type checks, unit, integration and flow tests. Safe to run again: every
# step is idempotent and the second run reuses the caches under .offsite/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
step() { printf '\n\033[1m== %s (%ss)\033[0m\n' "$*" $(( $(date +%s) - start )); }

step "node packages"
bash scripts/ensure-node-modules.sh

step "servers (infra up)"
bash infra/bin/offsite-infra up

step "contracts drift"
npm run -s check:contracts --workspace @offsite/contracts

step "lint"
npm run -s lint

step "typecheck + unit tests"
npx turbo run typecheck test --concurrency=2 --output-logs=errors-only

step "integration tests (real servers)"
npx turbo run test:int --concurrency=1 --output-logs=errors-only

step "flow tests (test/)"
npm run -s test:flow --workspace @offsite/flows

step "Kafka 3.9 compatibility (@offsite/kafka integration tests on a private 3.9 broker)"
bash scripts/kafka-compat.sh

step "done in $(( $(date +%s) - start ))s"
# One closing line over every Jest run (unit, integration, flows), from the summaries scripts/jest.sh leaves.
node -e '
  const fs = require("node:fs"), path = require("node:path");
  const dir = path.join(process.argv[1], ".offsite", "test-results");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(failed > 0 ? 1 : 0);
' "$root"
