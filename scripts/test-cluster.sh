#!/usr/bin/env bash
# The cluster job (`npm run test:cluster`): starts the clustered topology beside the running set
# (`offsite-infra cluster up` in <state>/cluster: 3 Kafka controllers + 3 brokers, Redis with 2 replicas
# and 3 Sentinels, Postgres with a streaming replica, HAProxy, one InfluxDB/Mosquitto/SMTP sink), runs the
# `*.cluster.test.ts` tests against it one file at a time, and stops it (OFFSITE_CLUSTER_KEEP=1 keeps it
# running).
#
# Which tests: OFFSITE_CLUSTER_TESTS, a jest path pattern (default `topology`: the failover tests, the CI
# job). `npm run test:chaos` runs `chaos` (test/cluster/chaos.cluster.test.ts, ~6 min; docs/deploy.md#the-chaos-run):
# not in CI yet (docs/deploy.md#the-chaos-run says why).
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
printf '\n== cluster tests (%ss)\n' $(( $(date +%s) - start ))
OFFSITE_ENV_FILE=$OFFSITE_CLUSTER_DIR/env npm run -s test:cluster -w @offsite/flows -- "${OFFSITE_CLUSTER_TESTS:-topology}"
printf '\n== cluster: %ss\n' $(( $(date +%s) - start ))
