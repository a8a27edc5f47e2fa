#!/usr/bin/env bash
# The cluster job (`npm run test:cluster`): starts the clustered topology beside the running set
# (`offsite-infra cluster up` in <state>/cluster: 3 Kafka controllers + 3 brokers, Redis with 2 replicas
# and 3 Sentinels, Postgres with a streaming replica, HAProxy, one InfluxDB/Mosquitto/SMTP sink), runs the
# `*.cluster.test.ts` tests against it one file at a time, and stops it (OFFSITE_CLUSTER_KEEP=1 keeps it
# running).
#
# Which tests: OFFSITE_CLUSTER_TESTS, jest path patterns separated by spaces, run in that order, one Jest
# run each (a pattern matches the whole path, so `chaos` alone would match every test of a checkout under a
# directory named so). Default, the CI job: `cluster/topology cluster/chaos` — the failover tests, then the
# chaos run (test/cluster/chaos.cluster.test.ts, 8–11 min on a loaded machine with its undisturbed run;
# docs/deploy.md#the-chaos-run). `npm run test:chaos` runs `cluster/chaos` alone. Each test leaves the
# cluster whole (members started, HAProxy's servers enabled, the service ports free) and first waits for what
# it needs, so the order is a choice, not a requirement. The chaos run's undisturbed comparison runs on the running single-node set
# (OFFSITE_CHAOS_BASELINE_ENV_FILE: its env file).
#
# Ports: from OFFSITE_CLUSTER_PORT_BASE (default 31000, saved by the first up; the layout is in
# infra/README.md#cluster-mode). The state directory is the running set's (OFFSITE_ENV_FILE, default
# .offsite/env) + /cluster.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
main_env=${OFFSITE_ENV_FILE:-$root/.offsite/env}
[ -f "$main_env" ] || { echo "[test-cluster] ERROR: $main_env does not exist: start the servers first (npm run infra -- up)" >&2; exit 1; }
export OFFSITE_STATE_DIR
OFFSITE_STATE_DIR=$(dirname "$main_env")
export OFFSITE_CLUSTER_DIR=$OFFSITE_STATE_DIR/cluster
cluster() { bash infra/bin/offsite-infra cluster "$@"; }
if [ "${OFFSITE_CLUSTER_KEEP:-0}" != 1 ]; then trap 'cluster down >/dev/null 2>&1 || cluster down' EXIT; fi

start=$(date +%s)
cluster up
failed=()
for pattern in ${OFFSITE_CLUSTER_TESTS:-cluster/topology cluster/chaos}; do
  printf '\n== cluster tests: %s (%ss)\n' "$pattern" $(( $(date +%s) - start ))
  # OFFSITE_TEST_RUN: each Jest run leaves its own summary for scripts/test-all.sh's closing line.
  OFFSITE_TEST_RUN=${pattern//\//-} OFFSITE_CHAOS_BASELINE_ENV_FILE=$main_env OFFSITE_ENV_FILE=$OFFSITE_CLUSTER_DIR/env \
    npm run -s test:cluster -w @offsite/flows -- "$pattern" || failed+=("$pattern")
done
printf '\n== cluster: %ss%s\n' $(( $(date +%s) - start )) "${failed[*]:+ (failed: ${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
