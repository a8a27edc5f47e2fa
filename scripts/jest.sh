#!/usr/bin/env bash
# Usage (from a workspace): bash ../../scripts/jest.sh unit|int|flow [jest args...]
set -euo pipefail
kind=${1:?unit, int or flow}; shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OFFSITE_TEST_KIND=$kind
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings=ExperimentalWarning"
# Servers' addresses for integration tests come from the file infra writes on `up`: .offsite/env, or
# OFFSITE_ENV_FILE for another set of servers (e.g. a private one started with OFFSITE_STATE_DIR and
# other ports; the kill flow restarts the servers of the state directory that holds this file).
export OFFSITE_ENV_FILE="${OFFSITE_ENV_FILE:-$root/.offsite/env}"
if [ "$kind" != unit ]; then
  if [ -f "$OFFSITE_ENV_FILE" ]; then set -a; . "$OFFSITE_ENV_FILE"; set +a
  elif [ "$OFFSITE_ENV_FILE" != "$root/.offsite/env" ]; then echo "jest.sh: OFFSITE_ENV_FILE=$OFFSITE_ENV_FILE does not exist" >&2; exit 1; fi
fi
# Each run also leaves a JSON summary that scripts/test-all.sh adds up into one closing line
# (OFFSITE_TEST_RUN names a second run of the same tests, e.g. the Kafka 3.9 compatibility job's), in
# OFFSITE_TEST_RESULTS_DIR: test-all.sh gives each Node version's pass its own.
results="${OFFSITE_TEST_RESULTS_DIR:-$root/.offsite/test-results}"
mkdir -p "$results"
name=$(realpath --relative-to="$root" "$PWD" | tr '/' '_')
exec node "$root/node_modules/jest/bin/jest.js" --config "$root/jest.base.mjs" --rootDir "$PWD" --passWithNoTests=false \
  --json --outputFile="$results/$kind-$name${OFFSITE_TEST_RUN:+-$OFFSITE_TEST_RUN}.json" "$@"
