#!/usr/bin/env bash
# Usage (from a workspace): bash ../../scripts/jest.sh unit|int|flow [jest args...]
set -euo pipefail
kind=${1:?unit, int or flow}; shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OFFSITE_TEST_KIND=$kind
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings=ExperimentalWarning"
# Servers' addresses for integration tests come from the file infra writes on `up`.
if [ "$kind" != unit ] && [ -f "$root/.offsite/env" ]; then set -a; . "$root/.offsite/env"; set +a; fi
# Each run also leaves a JSON summary that scripts/test-all.sh adds up into one closing line.
results="$root/.offsite/test-results"
mkdir -p "$results"
name=$(realpath --relative-to="$root" "$PWD" | tr '/' '_')
exec node "$root/node_modules/jest/bin/jest.js" --config "$root/jest.base.mjs" --rootDir "$PWD" --passWithNoTests=false \
  --json --outputFile="$results/$kind-$name.json" "$@"
